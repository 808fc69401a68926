// Key/value facts as the core sees them: plugin attributes, op parameters and telemetry as an ordered
// map of plain C++ values, with their one JSON form (to_json / key_values_from_json). The ABI form
// (CMTR_KeyValue arrays) is core/plugin/abi_key_values.h; strings from a plugin are sanitised there
// with sanitize_utf8 (valid UTF-8, bounded length) because a plugin under adaptation may hand us garbage.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace cmeter {

using Value = std::variant<bool, int64_t, double, std::string>;
using KeyValues = std::map<std::string, Value>;

// Longest string accepted from a plugin; longer ones are cut and marked.
inline constexpr size_t kMaxPluginString = 4096;

// Valid UTF-8 copy of `bytes` (invalid sequences become U+FFFD), cut at kMaxPluginString.
std::string sanitize_utf8(std::string_view bytes);

std::optional<double> get_number(const KeyValues& values, const std::string& key);
std::optional<int64_t> get_int(const KeyValues& values, const std::string& key);
std::optional<std::string> get_string(const KeyValues& values, const std::string& key);
std::optional<bool> get_bool(const KeyValues& values, const std::string& key);

nlohmann::json to_json(const Value& value);
nlohmann::json to_json(const KeyValues& values);
// The one reading of a JSON object as KeyValues (journal, reports, worker messages, plugin check):
// booleans, integers (int64; an unsigned beyond int64 becomes a double), other numbers (double) and
// strings are kept; null, arrays and objects are skipped. Anything but an object gives an empty list.
KeyValues key_values_from_json(const nlohmann::json& j);
// Display form: 1024, 0.5, true, text.
std::string to_display(const Value& value);

}  // namespace cmeter
