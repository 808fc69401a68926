// cmeter/plugin_sdk.hpp - optional C++17 helpers for plugin authors.
//
// Why this file exists: every plugin needs the same chores around the C ABI (error objects, owned
// key/value lists, typed parameter parsing with unknown-key rejection, struct_size checks). Doing
// them once here keeps plugins short and keeps their behaviour on bad input identical. Header-only;
// nothing here crosses the ABI except through the C types of plugin_abi.h.
#ifndef CMETER_PLUGIN_SDK_HPP_
#define CMETER_PLUGIN_SDK_HPP_

#include <cmeter/plugin_abi.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The plugin's private error type; the ABI only sees an opaque pointer.
struct CMTR_Error {
  int32_t code;
  std::string message;
};

namespace cmeter::sdk {

inline CMTR_Error* make_error(CMTR_ErrorCode code, std::string message) noexcept {
  try {
    return new CMTR_Error{code, std::move(message)};
  } catch (...) {
    static CMTR_Error oom{CMTR_ERROR_RESOURCE_EXHAUSTED, "out of memory creating an error"};
    return &oom;  // never freed: error_destroy recognises it
  }
}

inline void error_info(CMTR_Error_Info_Args* args) {
  if (args == nullptr || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message) ||
      args->error == nullptr)
    return;
  args->code = args->error->code;
  args->message = CMTR_String{args->error->message.data(), args->error->message.size()};
}

inline void error_destroy(CMTR_Error_Destroy_Args* args) {
  if (args == nullptr || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error)) return;
  if (args->error != nullptr && args->error->code == CMTR_ERROR_RESOURCE_EXHAUSTED &&
      args->error->message == "out of memory creating an error")
    return;
  delete args->error;
}

// Returns an INVALID_ARGUMENT error when `args` is null or smaller than the fields this call needs.
#define CMTR_SDK_CHECK_ARGS(args, type, last_field)                                                    \
  do {                                                                                                 \
    if ((args) == nullptr)                                                                             \
      return ::cmeter::sdk::make_error(CMTR_ERROR_INVALID_ARGUMENT, #type ": args is NULL");           \
    if ((args)->struct_size < CMTR_STRUCT_SIZE(type, last_field))                                      \
      return ::cmeter::sdk::make_error(CMTR_ERROR_INVALID_ARGUMENT,                                    \
                                       std::string(#type ": struct_size ") +                           \
                                           std::to_string((args)->struct_size) + " is smaller than " + \
                                           std::to_string(CMTR_STRUCT_SIZE(type, last_field)));        \
  } while (0)

// Runs `body`, turning any C++ exception into an error object (no exception crosses the ABI).
template <class F>
CMTR_Error* guarded(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "out of host memory");
  } catch (const std::exception& e) {
    return make_error(CMTR_ERROR_INTERNAL, e.what());
  } catch (...) {
    return make_error(CMTR_ERROR_INTERNAL, "unknown C++ exception");
  }
}

inline std::string_view view(CMTR_String s) {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}

// A key/value list that owns its strings; `data()` stays valid while the list lives and is not
// modified (strings live in a deque, so growing the list never moves them).
class KeyValueList {
 public:
  KeyValueList& set(std::string key, std::string value) {
    auto& k = store(std::move(key));
    auto& v = store(std::move(value));
    items_.push_back(entry(k, CMTR_VALUE_STRING));
    items_.back().string_value = CMTR_String{v.data(), v.size()};
    return *this;
  }
  KeyValueList& set(std::string key, const char* value) { return set(std::move(key), std::string(value)); }
  KeyValueList& set(std::string key, int64_t value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_INT64));
    items_.back().int_value = value;
    return *this;
  }
  KeyValueList& set(std::string key, int value) { return set(std::move(key), static_cast<int64_t>(value)); }
  KeyValueList& set(std::string key, double value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_DOUBLE));
    items_.back().double_value = value;
    return *this;
  }
  KeyValueList& set_bool(std::string key, bool value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_BOOL));
    items_.back().int_value = value ? 1 : 0;
    return *this;
  }
  void clear() {
    items_.clear();
    strings_.clear();
  }
  const CMTR_KeyValue* data() const { return items_.data(); }
  size_t size() const { return items_.size(); }

 private:
  const std::string& store(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back();
  }
  static CMTR_KeyValue entry(const std::string& key, CMTR_ValueType type) {
    CMTR_KeyValue kv{};
    kv.key = CMTR_String{key.data(), key.size()};
    kv.type = type;
    return kv;
  }
  std::deque<std::string> strings_;
  std::vector<CMTR_KeyValue> items_;
};

// Typed reading of op parameters. Construct with the allowed keys; `error()` is set on the first
// unknown key (other than `hint.*`), duplicate, wrong type or missing required key.
class Params {
 public:
  Params(const CMTR_KeyValue* kv, size_t count, std::initializer_list<const char*> allowed) {
    if (count > 0 && kv == nullptr) {
      error_ = "params is NULL but num_params is " + std::to_string(count);
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      std::string key(view(kv[i].key));
      if (key.rfind("hint.", 0) == 0) continue;
      bool ok = false;
      for (const char* a : allowed) ok = ok || key == a;
      if (!ok) {
        fail("unknown parameter '" + key + "'");
        continue;
      }
      if (!values_.emplace(key, kv[i]).second) fail("parameter '" + key + "' given twice");
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::optional<int64_t> get_int(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_INT64) return it->second.int_value;
    if (it->second.type == CMTR_VALUE_DOUBLE &&
        it->second.double_value == static_cast<double>(static_cast<int64_t>(it->second.double_value)))
      return static_cast<int64_t>(it->second.double_value);
    fail(std::string("parameter '") + key + "' must be an integer");
    return std::nullopt;
  }
  int64_t int_or(const char* key, int64_t fallback) { return get_int(key).value_or(fallback); }
  int64_t require_int(const char* key) {
    auto v = get_int(key);
    if (!v && !values_.count(key)) fail(std::string("missing required parameter '") + key + "'");
    return v.value_or(0);
  }
  std::optional<double> get_double(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_DOUBLE) return it->second.double_value;
    if (it->second.type == CMTR_VALUE_INT64) return static_cast<double>(it->second.int_value);
    fail(std::string("parameter '") + key + "' must be a number");
    return std::nullopt;
  }
  double double_or(const char* key, double fallback) { return get_double(key).value_or(fallback); }
  std::optional<std::string> get_string(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_STRING) return std::string(view(it->second.string_value));
    fail(std::string("parameter '") + key + "' must be a string");
    return std::nullopt;
  }
  std::string string_or(const char* key, std::string fallback) {
    return get_string(key).value_or(std::move(fallback));
  }
  std::string require_string(const char* key) {
    auto v = get_string(key);
    if (!v && !values_.count(key)) fail(std::string("missing required parameter '") + key + "'");
    return v.value_or("");
  }
  bool bool_or(const char* key, bool fallback) {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (it->second.type == CMTR_VALUE_BOOL || it->second.type == CMTR_VALUE_INT64)
      return it->second.int_value != 0;
    fail(std::string("parameter '") + key + "' must be a bool");
    return fallback;
  }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

 private:
  std::map<std::string, CMTR_KeyValue> values_;
  std::string error_;
};

// Writes `reason` into an op_query reason buffer (truncating), setting reason_size.
inline void write_reason(CMTR_Op_Query_Args* args, std::string_view reason) {
  size_t n = 0;
  if (args->reason_buffer != nullptr && args->reason_buffer_size > 0) {
    n = reason.size() < args->reason_buffer_size ? reason.size() : args->reason_buffer_size;
    std::memcpy(args->reason_buffer, reason.data(), n);
  }
  args->reason_size = n;
}

}  // namespace cmeter::sdk

#endif  // CMETER_PLUGIN_SDK_HPP_
