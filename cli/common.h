// Shared CLI pieces: plugin discovery options every subcommand takes, the executable's directory,
// and human formatting of figures with units (the CLI only parses and prints).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/plugin/plugin_host.h"
#include "core/util/executable_path.h"
#include "core/util/exit_codes.h"

namespace cmeter::cli {

struct PluginOptions {
  std::vector<std::string> plugin_files;
  std::vector<std::string> plugin_dirs;
  bool strict_plugins = false;
};

void add_plugin_options(CLI::App& app, PluginOptions& options);
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
  std::string formats;  // --format md,html,csv: written next to report.json (cli/report.cpp)
  // Isolation and resume (cli/run.cpp adds their options: add_run_isolation_options).
  bool in_process = false;
  std::string resume_dir;
  double worker_memory_limit_mib = -1;  // -1: half the physical memory; 0: no limit
  double worker_load_timeout_s = 60;
  bool show_worker_stderr = false;
};
void add_run_isolation_options(CLI::App& run, RunCommand& command);
int run_run(const PluginOptions& plugins, const RunCommand& command, const std::vector<std::string>& argv);
// The hidden `cmeter __worker --plugin FILE` (cli/worker.cpp): a plugin's worker process.
CLI::App* add_worker_command(CLI::App& app, std::string& plugin_path);
int run_worker(const std::string& plugin_path);

// `cmeter plugin check LIB` and its hidden worker process (cli/plugin_check.cpp).
struct PluginCheckCommand {
  std::string library;
  int device = 0;
  std::string level = "quick";
  std::string json_path;
  std::string md_path;
  double timeout_s = 120;
  std::vector<std::string> only;
  int64_t memory_limit_mib = 4096;
  bool in_process = false;
  bool quiet = false;
  bool verbose = false;
};
struct PluginCheckSubcommands {
  CLI::App* check;
  CLI::App* worker;
};
PluginCheckSubcommands add_plugin_check_command(CLI::App& app, PluginCheckCommand& command);
int run_plugin_check(const PluginCheckCommand& command);
int run_plugin_check_worker();

// Reports (cli/report.cpp, cli/compare.cpp, cli/keygen.cpp): `report show|md|html|csv|sign|verify|merge`,
// `compare` and `keygen`. run_report_commands() returns -1 when none of them was selected.
void add_report_commands(CLI::App& app);
int run_report_commands();
CLI::App* add_compare_command(CLI::App& app);
int run_compare();
CLI::App* add_keygen_command(CLI::App& app);
int run_keygen();
CLI::Validator report_formats_check();
// `cmeter run --format`: renders the run's report next to report_path (report.md, .html, .csv); false
// after printing an error.
bool write_report_formats(const nlohmann::json& report, const std::string& report_path,
                          const std::string& formats);

}  // namespace cmeter::cli
