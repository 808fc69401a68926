// What every subcommand file shares: the one way a subcommand is registered (register_<name> adds it
// to the app and returns its runner), plugin discovery options, the executable's directory, and the
// one way output reaches stdout or a file. The CLI only parses, calls core/ and reports/, and prints.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/plugin/plugin_host.h"
#include "core/report/trusted_keys.h"
#include "core/util/executable_path.h"
#include "core/util/exit_codes.h"

namespace cmeter::cli {

// A registered subcommand: its CLI11 node and what runs when it is the one selected. The runner gets
// the whole command line (recorded in reports) and returns the exit code (docs/cli.md).
struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int(const std::vector<std::string>& argv)> run;
};

// One per file (cli/<name>.cpp); main.cpp registers them all and runs the selected one.
Subcommand register_devices(CLI::App& app);       // devices.cpp
Subcommand register_topo(CLI::App& app);          // topo.cpp
Subcommand register_run(CLI::App& app);           // run.cpp
Subcommand register_report(CLI::App& app);        // report.cpp: report show|md|html|csv|sign|verify|merge
Subcommand register_compare(CLI::App& app);       // compare.cpp
Subcommand register_keygen(CLI::App& app);        // keygen.cpp
Subcommand register_plugin(CLI::App& app);        // plugin.cpp: plugin check
Subcommand register_worker(CLI::App& app);        // worker.cpp: hidden, a plugin's worker process
Subcommand register_check_worker(CLI::App& app);  // check_worker.cpp: hidden, a conformance worker

struct PluginOptions {
  std::vector<std::string> plugin_files;
  std::vector<std::string> plugin_dirs;
  bool strict_plugins = false;
};
void add_plugin_options(CLI::App& app, PluginOptions& options);
// Finds plugin files as every subcommand does (--plugin, --plugin-dir, the defaults).
Discovery discover(const PluginOptions& options);
// Prints a warning line per plugin that failed to load and one when no plugin file was found (stderr;
// "error:" with --strict-plugins). Returns false when --strict-plugins and a plugin failed.
bool report_plugin_failures(const PluginOptions& options, const Discovery& discovery,
                            const std::vector<PluginRow>& rows, bool quiet = false);
// Loads plugins in this process; nullptr after printing the failure when --strict-plugins and one failed.
std::unique_ptr<PluginHost> load_plugins(const PluginOptions& options, bool quiet = false);

// Whom signatures are checked against (core/report/trusted_keys.h): --pubkey (repeatable), --trust-dir.
struct TrustOptions {
  std::vector<std::string> pubkeys;
  std::string trust_dir = default_trust_dir();
  bool require_signature = false;
};
void add_trust_options(CLI::App& app, TrustOptions& options);
Result<TrustPolicy> load_trust_policy(const TrustOptions& options);

bool stdout_is_terminal();
// The one output writer: `text` to stdout when path is empty or "-", else to the file (atomically,
// then "wrote PATH" on stderr). False after printing the error.
bool write_output(const std::string& text, const std::string& path);

}  // namespace cmeter::cli
