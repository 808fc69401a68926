// Shared CLI pieces: plugin discovery options every subcommand takes, the executable's directory,
// and human formatting of figures with units (the CLI only parses and prints).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/plugin/plugin_host.h"

namespace cmeter::cli {

struct PluginOptions {
  std::vector<std::string> plugin_files;
  std::vector<std::string> plugin_dirs;
  bool strict_plugins = false;
};

void add_plugin_options(CLI::App& app, PluginOptions& options);
std::string executable_dir();
// Loads plugins; prints a warning line per plugin that failed to load (stderr). With --strict-plugins
// a failed plugin is an error: returns nullptr after printing it.
std::unique_ptr<PluginHost> load_plugins(const PluginOptions& options, bool quiet = false);

// 1.23 TFLOP/s, 25.3 GB/s, 4.10 us: three significant digits with an SI prefix.
std::string format_si(double value, const std::string& unit);
bool stdout_is_terminal();

int run_devices(const PluginOptions& plugins, bool json);
int run_topo(bool json, const std::string& xml);
struct RunCommand {
  std::string profile = "quick";
  std::string device = "*";
  std::string output_dir = "results";
  bool json = false;
  bool quiet = false;
  std::string seed;
};
int run_run(const PluginOptions& plugins, const RunCommand& command, const std::vector<std::string>& argv);

}  // namespace cmeter::cli
