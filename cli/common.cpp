// Plugin options, plugin load warnings, the executable's location and the output writer for the CLI.
#include "cli/common.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "core/util/files.h"

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

Discovery discover(const PluginOptions& options) {
  DiscoveryOptions d;
  d.plugin_files = options.plugin_files;
  d.plugin_dirs = options.plugin_dirs;
  d.executable_dir = self_executable_dir();
  return discover_plugins(d);
}

bool report_plugin_failures(const PluginOptions& options, const Discovery& discovery,
                            const std::vector<PluginRow>& rows, bool quiet) {
  bool any_failed = false;
  for (const auto& row : rows) {
    any_failed = any_failed || !row.loaded;
    if (!row.error.empty() && (!quiet || options.strict_plugins))
      std::cerr << fmt::format("{}: plugin {}: {}\n", options.strict_plugins ? "error" : "warning", row.name,
                               row.error);
  }
  if (discovery.files.empty())
    std::cerr << fmt::format("warning: no plugins found (searched: {})\n",
                             discovery.searched_dirs.empty()
                                 ? "nothing"
                                 : fmt::format("{}", fmt::join(discovery.searched_dirs, ", ")));
  return !(options.strict_plugins && any_failed);
}

std::unique_ptr<PluginHost> load_plugins(const PluginOptions& options, bool quiet) {
  auto discovery = discover(options);
  auto host = PluginHost::load(discovery);
  if (!report_plugin_failures(options, discovery, host->plugins(), quiet)) return nullptr;
  return host;
}

bool stdout_is_terminal() {
  return isatty(STDOUT_FILENO) == 1;
}

bool write_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    return true;
  }
  if (auto st = write_file_atomically(path, text); !st) {
    std::cerr << "error: " << st.error().message << "\n";
    return false;
  }
  std::cerr << "wrote " << path << "\n";
  return true;
}

void add_trust_options(CLI::App& app, TrustOptions& options) {
  app.add_option("--pubkey", options.pubkeys,
                 "Public key file (.pub) to trust for signatures, besides the trust directory (repeatable)");
  app.add_option("--trust-dir", options.trust_dir,
                 "Directory of trusted public keys (*.pub); a signature by any other key does not verify")
      ->capture_default_str();
}

Result<TrustPolicy> load_trust_policy(const TrustOptions& options) {
  return cmeter::load_trust_policy(options.pubkeys, options.trust_dir, options.require_signature);
}

}  // namespace cmeter::cli
