// Key/value lists across the ABI: the conversion between a plugin's CMTR_KeyValue arrays and the
// model's KeyValues (core/model/key_values.h). It lives with the plugin host, not in the model,
// because only the host speaks the ABI.
#pragma once

#include <cstddef>
#include <string>

#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_sdk.hpp>

#include "core/model/key_values.h"

namespace cmeter {

// A plugin's string, sanitised (sanitize_utf8); NULL data gives "".
std::string sanitize_plugin_string(CMTR_String s);

// Converts a plugin's array (which may be NULL with count 0). Unknown value types are kept as a
// string describing the problem rather than dropped silently.
KeyValues from_abi(const CMTR_KeyValue* items, size_t count);
// Builds an ABI array that owns its strings (valid while the returned list lives).
sdk::KeyValueList to_abi(const KeyValues& values);

}  // namespace cmeter
