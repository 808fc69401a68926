// DeviceFacts: a device as the run knows it (its id, e.g. "cpu:0", and the attributes its plugin
// reported: name, declared peaks, PCI bus id, ...), with its one JSON form (journal header, report,
// worker messages), and the device selector every command takes.
#pragma once

#include <string>
#include <vector>

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

// The silicon a device runs on (docs/abi-keys.md, `physical.id`): the plugin's `physical.id` when it
// set one; else derived from `pci.bus_id` (`pci:<bus>`), `uuid` (`uuid:<uuid>`), or, for a CPU device
// whose memory is host memory, `host-cpu:package=0`; else the device id itself (`device:<id>`, a device
// of its own). `source` says which ("plugin", "pci.bus_id", "uuid", "kind=cpu", "device id").
struct PhysicalIdentity {
  std::string id;
  std::string source;
};
PhysicalIdentity physical_identity(const DeviceFacts& device);

// Devices grouped by the silicon they share: two devices share silicon when their identities are
// equal or, for `host-cpu:package=...`, when their package lists overlap. Each group lists indices
// into `devices`, in input order; groups are in the order of their first device.
std::vector<std::vector<size_t>> group_by_silicon(const std::vector<DeviceFacts>& devices);

// True when `id` matches the selector: comma-separated globs (fnmatch), e.g. "cpu:*,opencl:0";
// "all", "*" and "" match everything.
bool device_matches(const std::string& selector, const std::string& id);

}  // namespace cmeter
