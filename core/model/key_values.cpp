// Conversion between CMTR_KeyValue arrays and the core's KeyValues, with UTF-8 sanitising.
#include "core/model/key_values.h"

#include <cstdint>

#include <fmt/format.h>

namespace cmeter {

std::string sanitize_utf8(std::string_view in) {
  std::string out;
  const bool cut = in.size() > kMaxPluginString;
  if (cut) in = in.substr(0, kMaxPluginString);
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = len > 0 && i + len <= in.size();
    for (size_t j = 1; valid && j < len; ++j) valid = (s[i + j] & 0xC0) == 0x80;
    if (valid && len > 1) {
      uint32_t cp = c & (0xFF >> (len + 1));
      for (size_t j = 1; j < len; ++j) cp = (cp << 6) | (s[i + j] & 0x3F);
      const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (valid && len == 1 && c == 0) valid = false;  // embedded NUL
    if (valid) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  if (cut) out += "...[cut]";
  return out;
}

std::optional<double> get_number(const KeyValues& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<int64_t> get_int(const KeyValues& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
  if (auto* d = std::get_if<double>(&it->second)) return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<std::string> get_string(const KeyValues& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return std::nullopt;
}

std::optional<bool> get_bool(const KeyValues& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  if (auto* b = std::get_if<bool>(&it->second)) return *b;
  return std::nullopt;
}

nlohmann::json to_json(const Value& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

nlohmann::json to_json(const KeyValues& values) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : values) j[k] = to_json(v);
  return j;
}

KeyValues key_values_from_json(const nlohmann::json& j) {
  KeyValues out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    if (v.is_boolean())
      out[it.key()] = v.get<bool>();
    else if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      out[it.key()] = v.get<double>();
    else if (v.is_number_integer())
      out[it.key()] = v.get<int64_t>();
    else if (v.is_number())
      out[it.key()] = v.get<double>();
    else if (v.is_string())
      out[it.key()] = v.get<std::string>();
  }
  return out;
}

std::string to_display(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>)
          return v;
        else
          return fmt::format("{}", v);
      },
      value);
}

}  // namespace cmeter
