// `cmeter run`: progress on stderr while cases run, then the report as `cmeter report show` prints it
// (reports/terminal.h: the same view, read back from the file just written) and the report path; or
// the report JSON with --json. Plugins run in worker processes under a watchdog
// (core/isolation/worker_host.h) unless --in-process; --resume DIR continues an interrupted run from its
// journal.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/isolation/worker_host.h"
#include "core/profile/declared_specs.h"
#include "core/report/report_reader.h"
#include "core/run/runner.h"
#include "core/topology/topology.h"
#include "reports/render.h"
#include "reports/terminal.h"

#ifndef CMETER_SOURCE_PROFILES_DIR
#define CMETER_SOURCE_PROFILES_DIR "profiles"
#endif

namespace cmeter::cli {
namespace {

struct Options {
  PluginOptions plugins;
  std::string profile = "quick";
  std::string device = "*";
  std::string output_dir = "results";
  bool json = false;
  bool quiet = false;
  std::string seed;
  std::string formats;  // --format md,html,csv: written next to report.json
  // Isolation and resume.
  bool in_process = false;
  std::string resume_dir;
  double worker_memory_limit_mib = -1;  // -1: half the physical memory; 0: no limit
  double worker_load_timeout_s = 60;
  bool show_worker_stderr = false;
  int max_hangs = 2;
  int64_t max_cases = 10000;
  // Declared specs (profiles/devices): --declared SKU forces an entry, --declared-file adds files.
  std::string declared;
  std::vector<std::string> declared_files;
  double pue = 0;  // 0: none given
};

void add_isolation_options(CLI::App& run, Options& command) {
  run.add_flag(
      "--in-process", command.in_process,
      "Run plugins inside this process (debugging: a plugin crash or hang then ends or stalls the run)");
  run.add_option(
         "--resume", command.resume_dir,
         "Continue the interrupted run in this directory (results/<run id>): finished cases are kept, "
         "the rest run; profile, devices and seed are the run's own")
      ->check(CLI::ExistingDirectory);
  run.add_option("--worker-memory-limit", command.worker_memory_limit_mib,
                 "Stop a plugin worker whose resident memory exceeds this many MiB; the case fails (default: "
                 "half the physical memory; 0: no limit)")
      ->check(CLI::Range(-1.0, 1e12));
  run.add_option("--worker-load-timeout", command.worker_load_timeout_s,
                 "Seconds a plugin worker may take to load its plugin and list its devices")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  run.add_option("--max-hangs", command.max_hangs,
                 "After this many timeouts in a row on one device, its remaining cases are recorded as "
                 "timeouts without running (0: run every case)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  run.add_option("--max-cases", command.max_cases,
                 "Refuse a run planning more cases (profile cases x devices) than this (0: no cap)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  run.add_option("--declared", command.declared,
                 "Hold the selected devices against this declared-spec SKU (profiles/devices/*.yaml), "
                 "whatever their plugin declares; recorded in the report");
  run.add_option("--pue", command.pue,
                 "Facility PUE (e.g. 1.25), recorded as a declared factor: reports also state facility-level "
                 "energy, power and per-watt figures (device figures x PUE)")
      ->check(CLI::Range(1.0, 5.0));
  run.add_option("--declared-file", command.declared_files,
                 "A declared-spec file of your own (schema: profiles/devices/device-specs.schema.json), "
                 "read with the shipped ones; repeatable")
      ->check(CLI::ExistingFile);
  run.add_flag("--show-worker-stderr", command.show_worker_stderr,
               "Copy what plugin workers write to stderr to ours, prefixed [worker <plugin>]");
}

// Finds plugin files as every subcommand does, and starts a worker per file; prints a warning line per
// plugin that failed to load (stderr). With --strict-plugins a failed plugin is an error: nullptr.
std::unique_ptr<WorkerHost> start_workers(const Options& command) {
  auto discovery = discover(command.plugins);
  WorkerOptions w;
  w.load_timeout_s = command.worker_load_timeout_s;
  w.memory_limit_bytes = command.worker_memory_limit_mib < 0
                             ? default_worker_memory_limit_bytes()
                             : static_cast<uint64_t>(command.worker_memory_limit_mib * 1024 * 1024);
  w.forward_stderr = command.show_worker_stderr;
  auto host = WorkerHost::start(discovery, w);
  if (!report_plugin_failures(command.plugins, discovery, host->plugins())) return nullptr;
  return host;
}

// --format md,html,csv: the report rendered next to report.json (report.md, ...; csv also writes
// report.inference.csv when there are LLM inference results); false after printing an error.
bool write_formats(const LoadedReport& report, const std::string& report_path, const std::string& formats) {
  bool ok = true;
  std::stringstream list(formats);
  std::string format;
  const std::string base = std::filesystem::path(report_path).replace_extension().string();
  while (std::getline(list, format, ',')) {
    if (format == "json" || format.empty()) continue;  // report.json is always written
    auto files = reports::render_report_files(report, format);
    if (!files) {
      std::cerr << "error: --format: " << files.error().message << "\n";
      ok = false;
      continue;
    }
    for (const auto& file : *files) ok &= write_output(file.text, base + "." + file.extension);
  }
  return ok;
}

CLI::Validator formats_check() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::stringstream list(value);
        std::string format;
        while (std::getline(list, format, ','))
          if (format != "md" && format != "html" && format != "csv" && format != "json")
            return fmt::format("unknown format '{}' ({}; comma-separated)", format,
                               reports::kReportFileFormats);
        return {};
      },
      std::string(reports::kReportFileFormats));
}

int run_run(const Options& command, const std::vector<std::string>& argv) {
  if (!command.resume_dir.empty() &&
      (command.profile != "quick" || command.device != "*" || !command.seed.empty())) {
    std::cerr << "error: --resume continues a run with its own profile, devices and seed; do not pass "
                 "--profile, --device or --seed with it\n";
    return kExitUsage;
  }
  // The parent never runs plugin code unless asked to (--in-process).
  std::unique_ptr<PluginHost> in_process_host;
  std::unique_ptr<WorkerHost> worker_host;
  std::unique_ptr<run::CaseExecutor> executor;
  auto topo = topology::Topology::load_system();
  if (!topo) std::cerr << "warning: topology unavailable: " << topo.error().message << "\n";
  if (command.in_process) {
    in_process_host = load_plugins(command.plugins);
    if (!in_process_host) return kExitUsage;
    executor = std::make_unique<run::InProcessExecutor>(*in_process_host, topo ? &*topo : nullptr);
  } else {
    worker_host = start_workers(command);
    if (!worker_host) return kExitUsage;
    executor = std::make_unique<run::WorkerExecutor>(*worker_host);
  }

  run::RunOptions options;
  options.resume_dir = command.resume_dir;
  options.max_consecutive_timeouts = command.max_hangs;
  options.max_planned_cases = command.max_cases;
  options.profile = command.profile;
  options.profile_dirs = {
      (std::filesystem::path(self_executable_dir()) / ".." / "share" / "cmeter" / "profiles")
          .lexically_normal()
          .string(),
      CMETER_SOURCE_PROFILES_DIR, "profiles"};
  for (const auto& dir : options.profile_dirs) {
    auto files = profile::declared_spec_files((std::filesystem::path(dir) / "devices").string());
    if (!files.empty()) {
      options.declared_spec_files = std::move(files);
      break;
    }
  }
  for (const auto& file : command.declared_files) options.declared_spec_files.push_back(file);
  options.declared_sku = command.declared;
  if (command.pue > 0) options.pue = command.pue;
  options.device_selector = command.device;
  options.output_dir = command.output_dir;
  options.argv = argv;
  if (!command.seed.empty()) {
    try {
      options.seed = std::stoull(command.seed);
    } catch (...) {
      std::cerr << "error: --seed must be an unsigned integer, got '" << command.seed << "'\n";
      return kExitUsage;
    }
  }
  const bool tty_err = isatty(STDERR_FILENO) == 1;
  if (!command.quiet) {
    options.progress = [&](const run::Progress& p) {
      if (p.finished == nullptr) {
        std::string eta = p.eta_s >= 0 ? fmt::format(", ETA {:.0f} s", p.eta_s) : "";
        std::cerr << fmt::format("[{}/{}] {} {} (elapsed {:.1f} s{}) ...\n", p.index, p.total, p.device,
                                 p.case_id, p.elapsed_s, eta);
      } else {
        std::cerr << fmt::format("[{}/{}]   {}\n", p.index, p.total,
                                 reports::render_case_outcome(*p.finished, tty_err));
      }
    };
  }
  auto outcome = run::execute_run(options, *executor, topo ? &*topo : nullptr);
  if (!outcome) {
    std::cerr << "error: " << outcome.error().message << "\n";
    return kExitUsage;
  }
  if (!command.resume_dir.empty())
    std::cerr << fmt::format("resumed {}: {} finished case(s) kept from the journal, {} run now\n",
                             outcome->run_dir, outcome->cases_resumed, outcome->cases_run);
  for (const auto& w : outcome->warnings) std::cerr << "warning: " << w << "\n";
  // The summary and --format files render the report as written: `cmeter report show` prints the same
  // for this file.
  auto report = read_report_file(outcome->report_path);
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitUsage;
  }
  if (!command.formats.empty()) write_formats(*report, outcome->report_path, command.formats);
  if (command.json) {
    std::cout << outcome->report.dump(2) << "\n";
    return outcome->exit_code;
  }
  std::cout << reports::render_terminal(*report, stdout_is_terminal());
  std::cout << fmt::format("\nReport: {}\nJournal: {}\n", outcome->report_path, outcome->journal_path);
  if (outcome->exit_code == kExitIncomplete)
    std::cout << "Run incomplete: some cases failed or were not valid (exit 3).\n";
  return outcome->exit_code;
}

}  // namespace

Subcommand register_run(CLI::App& app) {
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("run", "Run a profile on the selected devices and write a report");
  add_plugin_options(*cmd, options->plugins);
  cmd->add_option("--profile,-p", options->profile, "Profile name (profiles/<name>.yaml) or path")
      ->capture_default_str();
  cmd->add_option("--device,-d", options->device,
                  "Device selector: ids or globs, comma-separated (cpu:0, opencl:*)")
      ->capture_default_str();
  cmd->add_option("--output,-o", options->output_dir, "Directory for results/<run id>/")
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "Print the report JSON to stdout instead of the summary table");
  cmd->add_flag("--quiet,-q", options->quiet, "No progress on stderr");
  cmd->add_option("--seed", options->seed, "Input seed (default: random, recorded in the report)");
  cmd->add_option("--format", options->formats,
                  "Also write the report as md, html and/or csv (comma-separated)")
      ->check(formats_check());
  add_isolation_options(*cmd, *options);
  return {cmd, [options](const std::vector<std::string>& argv) { return run_run(*options, argv); }};
}

}  // namespace cmeter::cli
