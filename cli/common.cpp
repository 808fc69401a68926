// Plugin options, executable location and unit formatting for the CLI.
#include "cli/common.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

namespace cmeter::cli {

void add_plugin_options(CLI::App& app, PluginOptions& options) {
  app.add_option("--plugin", options.plugin_files,
                 "Load this plugin file (repeatable; also CMETER_PLUGINS=a.so:b.so)");
  app.add_option("--plugin-dir", options.plugin_dirs,
                 "Search this directory for libcmeter-*.so instead of the defaults (repeatable; also "
                 "CMETER_PLUGIN_PATH)");
  app.add_flag("--strict-plugins", options.strict_plugins,
               "A plugin that fails to load is an error, not a warning");
}

std::unique_ptr<PluginHost> load_plugins(const PluginOptions& options, bool quiet) {
  DiscoveryOptions d;
  d.plugin_files = options.plugin_files;
  d.plugin_dirs = options.plugin_dirs;
  d.executable_dir = self_executable_dir();
  auto discovery = discover_plugins(d);
  auto host = PluginHost::load(discovery);
  for (const auto& row : host->plugins())
    if (!row.error.empty() && (!quiet || options.strict_plugins))
      std::cerr << fmt::format("{}: plugin {}: {}\n", options.strict_plugins ? "error" : "warning", row.name,
                               row.error);
  if (discovery.files.empty())
    std::cerr << fmt::format("warning: no plugins found (searched: {})\n",
                             discovery.searched_dirs.empty()
                                 ? "nothing"
                                 : fmt::format("{}", fmt::join(discovery.searched_dirs, ", ")));
  if (options.strict_plugins && host->any_failed()) return nullptr;
  return host;
}

std::string format_si(double value, const std::string& unit) {
  if (!std::isfinite(value)) return fmt::format("{} {}", value, unit);
  if (unit == "s") {
    double a = std::fabs(value);
    if (a < 1e-6) return fmt::format("{:.3g} ns", value * 1e9);
    if (a < 1e-3) return fmt::format("{:.3g} us", value * 1e6);
    if (a < 1) return fmt::format("{:.3g} ms", value * 1e3);
    return fmt::format("{:.3g} s", value);
  }
  std::string base = unit == "B/s" ? "B/s" : unit;
  const char* prefixes[] = {"", "K", "M", "G", "T", "P", "E"};
  int i = 0;
  double v = value;
  while (std::fabs(v) >= 1000 && i < 6) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, prefixes[i], base);
}

bool stdout_is_terminal() {
  return isatty(STDOUT_FILENO) == 1;
}

}  // namespace cmeter::cli
