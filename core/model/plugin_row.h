// PluginRow: what the run records about one plugin file (loaded or why not, ABI version, digest,
// attributes, device count), with its one JSON form (report, worker messages).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/key_values.h"
#include "core/util/result.h"

namespace cmeter {

struct PluginRow {
  std::string path;
  std::string name;
  bool loaded = false;
  std::string error;  // why it did not load
  int abi_major = 0;
  int abi_minor = 0;
  std::string sha256;
  KeyValues attributes;
  size_t device_count = 0;
};

nlohmann::json plugin_row_to_json(const PluginRow& row);
// Errors name the missing or mistyped field.
Result<PluginRow> plugin_row_from_json(const nlohmann::json& j);

}  // namespace cmeter
