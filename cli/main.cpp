// cmeter: the command-line entry point. Parses arguments with CLI11 and hands each subcommand to its
// file (devices.cpp, topo.cpp, run.cpp). Exit codes: 0 ok/PASS, 1 criteria FAIL, 2 usage or input
// error, 3 incomplete (see docs/cli.md).
#include <iostream>

#include <cmeter/plugin_abi.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "core/util/version.h"

int main(int argc, char** argv) {
  using namespace cmeter::cli;
  CLI::App app{"cmeter: compute metering for CPUs, GPUs and NPUs through one plugin ABI"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("cmeter {} (plugin ABI {}.{})", cmeter::tool_version(),
                                                CMTR_ABI_MAJOR, CMTR_ABI_MINOR));

  PluginOptions plugins;
  bool json = false;
  auto* devices = app.add_subcommand("devices", "List plugins (loaded or why not) and their devices");
  add_plugin_options(*devices, plugins);
  devices->add_flag("--json", json, "Print JSON");

  std::string xml;
  auto* topo = app.add_subcommand(
      "topo", "Show the machine topology (hwloc): packages, NUMA nodes, caches, PCI devices");
  topo->add_flag("--json", json, "Print JSON");
  topo->add_option("--xml", xml, "Read a saved hwloc XML topology instead of this machine");

  RunCommand run;
  auto* run_cmd = app.add_subcommand("run", "Run a profile on the selected devices and write a report");
  add_plugin_options(*run_cmd, plugins);
  run_cmd->add_option("--profile,-p", run.profile, "Profile name (profiles/<name>.yaml) or path")
      ->capture_default_str();
  run_cmd
      ->add_option("--device,-d", run.device,
                   "Device selector: ids or globs, comma-separated (cpu:0, opencl:*)")
      ->capture_default_str();
  run_cmd->add_option("--output,-o", run.output_dir, "Directory for results/<run id>/")
      ->capture_default_str();
  run_cmd->add_flag("--json", run.json, "Print the report JSON to stdout instead of the summary table");
  run_cmd->add_flag("--quiet,-q", run.quiet, "No progress on stderr");
  run_cmd->add_option("--seed", run.seed, "Input seed (default: random, recorded in the report)");
  run_cmd
      ->add_option("--format", run.formats, "Also write the report as md, html and/or csv (comma-separated)")
      ->check(report_formats_check());
  add_report_commands(app);
  add_run_isolation_options(*run_cmd, run);
  std::string worker_plugin;
  auto* worker_cmd = add_worker_command(app, worker_plugin);
  PluginCheckCommand plugin_check;
  auto plugin_check_cmds = add_plugin_check_command(app, plugin_check);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? cmeter::kExitOk : cmeter::kExitUsage;
  }
  std::vector<std::string> args(argv, argv + argc);
  if (*devices) return run_devices(plugins, json);
  if (*topo) return run_topo(json, xml);
  if (*run_cmd) return run_run(plugins, run, args);
  if (int code = run_report_commands(); code >= 0) return code;
  if (*worker_cmd) return run_worker(worker_plugin);
  if (*plugin_check_cmds.check) return run_plugin_check(plugin_check);
  if (*plugin_check_cmds.worker) return run_plugin_check_worker();
  return cmeter::kExitUsage;
}
