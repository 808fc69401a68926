// Result<T>: failures are values in the core. g++ 12 has no std::expected, so this is ours: either a
// value or an Error (a code and a message that names what failed). One failing device, plugin or
// case yields an Error that the caller records; nothing in the core throws across a component.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace cmeter {

enum class ErrorCode {
  kInvalidArgument,  // bad input: usage, profile, report file
  kNotFound,
  kUnimplemented,
  kResourceExhausted,
  kUnavailable,
  kDeviceLost,
  kInternal,
  kIo,
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <class... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace cmeter

// Propagates an error: CMETER_TRY(expr) returns expr's Error from the enclosing function.
#define CMETER_TRY(expr)                                             \
  do {                                                               \
    auto&& cmeter_try_result_ = (expr);                              \
    if (!cmeter_try_result_.ok()) return cmeter_try_result_.error(); \
  } while (0)
