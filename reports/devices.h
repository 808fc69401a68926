// The `cmeter devices` view: every plugin (loaded, or the reason it did not load) and every device
// with its key attributes in human units (GiB, GHz, TFLOP/s, GB/s; long texts wrapped), and the raw
// JSON form (`cmeter devices --json`) that keeps the values as the plugins gave them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/key_values.h"
#include "core/plugin/plugin_host.h"
#include "core/report/summary.h"

namespace cmeter::reports {

std::string render_devices_terminal(const std::vector<PluginRow>& plugins,
                                    const std::vector<DeviceFacts>& devices);
nlohmann::json render_devices_json(const std::vector<PluginRow>& plugins,
                                   const std::vector<DeviceFacts>& devices);

// One attribute in human units by its key (docs/abi-keys.md): *.bytes in GiB, *.mhz in GHz,
// peak.flops.* in FLOP/s and *.bytes_per_s in B/s with SI prefixes; anything else as given.
std::string format_attribute(const std::string& key, const Value& value);

}  // namespace cmeter::reports
