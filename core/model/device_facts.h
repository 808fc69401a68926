// DeviceFacts: a device as the run knows it (its id, e.g. "cpu:0", and the attributes its plugin
// reported: name, declared peaks, PCI bus id, ...), with its one JSON form (journal header, report,
// worker messages), and the device selector every command takes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/model/key_values.h"
#include "core/util/result.h"

namespace cmeter {

struct DeviceFacts {
  std::string id;
  KeyValues attributes;
};

// {"id": ..., "attributes": {...}}
nlohmann::json device_to_json(const DeviceFacts& device);
// Fails when there is no string "id"; attributes are read with key_values_from_json.
Result<DeviceFacts> device_from_json(const nlohmann::json& j);

// True when `id` matches the selector: comma-separated globs (fnmatch), e.g. "cpu:*,opencl:0";
// "all", "*" and "" match everything.
bool device_matches(const std::string& selector, const std::string& id);

}  // namespace cmeter
