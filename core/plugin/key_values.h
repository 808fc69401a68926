// Key/value facts as the core sees them. Plugin attributes, op parameters and telemetry cross the ABI
// as CMTR_KeyValue arrays; here they become an ordered map of plain C++ values, with every string
// sanitised (valid UTF-8, bounded length) because a plugin under adaptation may hand us garbage.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_sdk.hpp>
#include <nlohmann/json.hpp>

namespace cmeter {

using Value = std::variant<bool, int64_t, double, std::string>;
using KeyValues = std::map<std::string, Value>;

// Longest string accepted from a plugin; longer ones are cut and marked.
inline constexpr size_t kMaxPluginString = 4096;

// Valid UTF-8 copy of `bytes` (invalid sequences become U+FFFD), cut at kMaxPluginString.
std::string sanitize_utf8(std::string_view bytes);
std::string sanitize_plugin_string(CMTR_String s);

// Converts a plugin's array (which may be NULL with count 0). Unknown value types are kept as a
// string describing the problem rather than dropped silently.
KeyValues from_abi(const CMTR_KeyValue* items, size_t count);
// Builds an ABI array that owns its strings (valid while the returned list lives).
sdk::KeyValueList to_abi(const KeyValues& values);

std::optional<double> get_number(const KeyValues& values, const std::string& key);
std::optional<int64_t> get_int(const KeyValues& values, const std::string& key);
std::optional<std::string> get_string(const KeyValues& values, const std::string& key);
std::optional<bool> get_bool(const KeyValues& values, const std::string& key);

nlohmann::json to_json(const Value& value);
nlohmann::json to_json(const KeyValues& values);
// Display form: 1024, 0.5, true, text.
std::string to_display(const Value& value);

}  // namespace cmeter
