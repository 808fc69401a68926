// `cmeter devices`: one row per plugin (loaded, or the reason it did not load) and per device with its
// key attributes.
#include <iostream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/report.h"

namespace cmeter::cli {

int run_devices(const PluginOptions& plugins, bool json) {
  auto host = load_plugins(plugins, /*quiet=*/true);
  if (!host) return kExitUsage;
  if (json) {
    nlohmann::json out = {{"plugins", nlohmann::json::array()}, {"devices", nlohmann::json::array()}};
    for (const auto& row : host->plugins()) out["plugins"].push_back(to_json(row));
    for (const auto& d : host->devices())
      out["devices"].push_back({{"id", d.id()}, {"attributes", to_json(d.attributes())}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "Plugins\n";
  for (const auto& row : host->plugins()) {
    std::string status = row.loaded ? fmt::format("loaded, ABI {}.{}, {} device(s)", row.abi_major,
                                                  row.abi_minor, row.device_count)
                                    : "NOT LOADED";
    std::cout << fmt::format("  {:<12} {:<40} {}\n", row.name, status, row.path);
    if (!row.error.empty()) std::cout << fmt::format("  {:<12} reason: {}\n", "", row.error);
    if (auto why = get_string(row.attributes, "plugin.status"); why && !why->empty())
      std::cout << fmt::format("  {:<12} status: {}\n", "", *why);
  }
  std::cout << "\nDevices\n";
  if (host->devices().empty()) std::cout << "  (none)\n";
  for (const auto& d : host->devices()) {
    std::cout << fmt::format("  {:<10} {}\n", d.id(), d.name());
    for (const char* key : {"kind", "compute_units", "clock.core.mhz", "mem.bytes", "pci.bus_id", "numa.node",
                            "peak.flops.f32", "peak.flops.f16", "peak.mem.bytes_per_s", "peak.source"}) {
      auto it = d.attributes().find(key);
      if (it != d.attributes().end())
        std::cout << fmt::format("  {:<10}   {:<22} {}\n", "", key, to_display(it->second));
    }
  }
  return kExitOk;
}

}  // namespace cmeter::cli
