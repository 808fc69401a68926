// Reading and writing the figures of a result's JSON members (inference, training): one set of rules.
// Writing: a non-finite number, or an empty optional, becomes null. Reading never throws: a figure the
// JSON holds as null (or not as a number) reads as NaN or nullopt, never as zero, so a renderer can say
// "n/a" instead of printing a number nobody measured; a missing text reads as "", a missing flag as false.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace cmeter::json_fields {

inline nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) return num(*v);
  return *v;
}
inline const nlohmann::json& at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
inline double read_num(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_number() ? v.get<double>() : NAN;
}
inline std::optional<double> read_opt(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (!v.is_number()) return std::nullopt;
  const double x = v.get<double>();
  return std::isfinite(x) ? std::optional<double>(x) : std::nullopt;
}
inline int64_t read_int(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (v.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}
// An unsigned integer (a seed, a byte count): the whole uint64 range; 0 when negative, a float or absent.
inline uint64_t read_uint(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return v.is_number_integer() && v.get<int64_t>() > 0 ? static_cast<uint64_t>(v.get<int64_t>()) : 0;
}
// An int-sized integer (a version, a line number, a count of runs): read_int clamped to int's range.
inline int read_int32(const nlohmann::json& j, const char* key) {
  return static_cast<int>(std::clamp<int64_t>(read_int(j, key), INT32_MIN, INT32_MAX));
}
inline std::string read_text(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
inline bool read_flag(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace cmeter::json_fields
