// `cmeter devices [--json]`: one row per plugin (loaded, or the reason it did not load) and per device
// with its key attributes in human units (reports/devices.h); --json keeps the raw values.
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "reports/devices.h"

namespace cmeter::cli {

Subcommand register_devices(CLI::App& app) {
  struct DevicesOptions {
    PluginOptions plugins;
    bool json = false;
  };
  auto options = std::make_shared<DevicesOptions>();
  auto* cmd = app.add_subcommand("devices", "List plugins (loaded or why not) and their devices");
  add_plugin_options(*cmd, options->plugins);
  cmd->add_flag("--json", options->json, "Print JSON with the raw attribute values");
  return {cmd, [options](const std::vector<std::string>&) {
            auto host = load_plugins(options->plugins, /*quiet=*/true);
            if (!host) return kExitUsage;
            std::vector<DeviceFacts> devices;
            for (const auto& d : host->devices()) devices.push_back({d.id(), d.attributes()});
            if (options->json)
              std::cout << reports::render_devices_json(host->plugins(), devices).dump(2) << "\n";
            else
              std::cout << reports::render_devices_terminal(host->plugins(), devices);
            return kExitOk;
          }};
}

}  // namespace cmeter::cli
