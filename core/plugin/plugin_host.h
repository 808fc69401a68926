// PluginHost: finds plugin files (explicit files, then directories), loads each one and keeps a row
// per plugin saying loaded or why not, and exposes the devices of the loaded ones as `<plugin>:<i>`.
// One failing plugin is a row with its reason, never the end of the run. This is the in-process host;
// the worker-process host (one process per plugin, watchdog) will present the same plugin rows and
// device list, and the runner talks to it through the same case-level seam (run/executor.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/device_facts.h"
#include "core/model/plugin_row.h"
#include "core/plugin/device.h"
#include "core/plugin/plugin_library.h"
#include "core/util/result.h"

namespace cmeter {

struct DiscoveryOptions {
  std::vector<std::string> plugin_files;  // --plugin (repeatable)
  std::vector<std::string> plugin_dirs;   // --plugin-dir (replaces the defaults)
  bool use_environment = true;            // CMETER_PLUGINS, CMETER_PLUGIN_PATH
  std::string executable_dir;             // for <exe>/../lib/cmeter/plugins
};

struct Discovery {
  std::vector<std::string> files;          // in load order, de-duplicated
  std::vector<std::string> searched_dirs;  // for messages
};

// Files first (--plugin, then CMETER_PLUGINS=a.so:b.so), then libcmeter-*.so in the directories
// (--plugin-dir, else CMETER_PLUGIN_PATH, else <exe>/../lib/cmeter/plugins and the install dir).
Discovery discover_plugins(const DiscoveryOptions& options);

class PluginHost {
 public:
  // Loads every discovered plugin; never fails as a whole.
  static std::unique_ptr<PluginHost> load(const Discovery& discovery);
  const std::vector<PluginRow>& plugins() const { return rows_; }
  std::vector<Device>& devices() { return devices_; }
  const std::vector<Device>& devices() const { return devices_; }
  bool any_failed() const;

 private:
  std::vector<std::unique_ptr<PluginLibrary>> libraries_;
  std::vector<PluginRow> rows_;
  std::vector<Device> devices_;
};

}  // namespace cmeter
