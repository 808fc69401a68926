// `cmeter run`: progress on stderr while cases run, then a summary table per device (headline first,
// statuses coloured on a terminal) and the report path; or the report JSON with --json. Plugins run in
// worker processes under a watchdog (core/isolation/worker_host.h) unless --in-process; --resume DIR
// continues an interrupted run from its journal.
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/isolation/worker_host.h"
#include "core/run/runner.h"
#include "core/topology/topology.h"

#ifndef CMETER_SOURCE_PROFILES_DIR
#define CMETER_SOURCE_PROFILES_DIR "profiles"
#endif

namespace cmeter::cli {
namespace {

std::string colour(const std::string& status, bool tty) {
  if (!tty) return status;
  const char* code = status == "ok" || status == "PASS"            ? "32"
                     : status == "unsupported"                     ? "90"
                     : status == "noisy" || status == "INCOMPLETE" ? "33"
                                                                   : "31";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, status);
}

std::string main_figure(const CaseResult& r) {
  if (r.metrics.empty()) return "";
  const Metric& m = r.metrics.front();
  double half = (m.stats.ci_high - m.stats.ci_low) / 2;
  return fmt::format("{} ±{:.1f}%", format_si(m.stats.median, m.unit),
                     m.stats.median != 0 ? 100 * half / std::fabs(m.stats.median) : 0.0);
}

}  // namespace

void add_run_isolation_options(CLI::App& run, RunCommand& command) {
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
  run.add_flag("--show-worker-stderr", command.show_worker_stderr,
               "Copy what plugin workers write to stderr to ours, prefixed [worker <plugin>]");
}

namespace {

// Finds plugin files as every subcommand does, and starts a worker per file; prints a warning line per
// plugin that failed to load (stderr). With --strict-plugins a failed plugin is an error: nullptr.
std::unique_ptr<WorkerHost> start_workers(const PluginOptions& plugins, const RunCommand& command) {
  DiscoveryOptions d;
  d.plugin_files = plugins.plugin_files;
  d.plugin_dirs = plugins.plugin_dirs;
  d.executable_dir = self_executable_dir();
  auto discovery = discover_plugins(d);
  WorkerOptions w;
  w.load_timeout_s = command.worker_load_timeout_s;
  w.memory_limit_bytes = command.worker_memory_limit_mib < 0
                             ? default_worker_memory_limit_bytes()
                             : static_cast<uint64_t>(command.worker_memory_limit_mib * 1024 * 1024);
  w.forward_stderr = command.show_worker_stderr;
  auto host = WorkerHost::start(discovery, w);
  for (const auto& row : host->plugins())
    if (!row.error.empty())
      std::cerr << fmt::format("{}: plugin {}: {}\n", plugins.strict_plugins ? "error" : "warning", row.name,
                               row.error);
  if (discovery.files.empty())
    std::cerr << fmt::format("warning: no plugins found (searched: {})\n",
                             discovery.searched_dirs.empty()
                                 ? "nothing"
                                 : fmt::format("{}", fmt::join(discovery.searched_dirs, ", ")));
  if (plugins.strict_plugins && host->any_failed()) return nullptr;
  return host;
}

}  // namespace

int run_run(const PluginOptions& plugins, const RunCommand& command, const std::vector<std::string>& argv) {
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
    in_process_host = load_plugins(plugins);
    if (!in_process_host) return kExitUsage;
    executor = std::make_unique<run::InProcessExecutor>(*in_process_host, topo ? &*topo : nullptr);
  } else {
    worker_host = start_workers(plugins, command);
    if (!worker_host) return kExitUsage;
    executor = std::make_unique<run::WorkerExecutor>(*worker_host);
  }

  run::RunOptions options;
  options.resume_dir = command.resume_dir;
  options.profile = command.profile;
  options.profile_dirs = {
      (std::filesystem::path(self_executable_dir()) / ".." / "share" / "cmeter" / "profiles")
          .lexically_normal()
          .string(),
      CMETER_SOURCE_PROFILES_DIR, "profiles"};
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
        const CaseResult& r = *p.finished;
        std::cerr << fmt::format("[{}/{}]   {} {}{}\n", p.index, p.total,
                                 colour(std::string(to_string(r.status)), tty_err), main_figure(r),
                                 r.reason.empty() ? "" : "  (" + r.reason + ")");
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
  write_report_formats(outcome->report, outcome->report_path, command.formats);  // --format (cli/report.cpp)
  const auto& report = outcome->report;
  if (command.json) {
    std::cout << report.dump(2) << "\n";
    return outcome->exit_code;
  }
  const bool tty = stdout_is_terminal();
  for (const auto& dev : report["summary"]["devices"]) {
    std::string id = dev["device"].get<std::string>();
    std::string name;
    for (const auto& d : report["devices"])
      if (d["id"] == id) name = d["attributes"].value("name", "");
    std::cout << fmt::format("\n{} — {}\n", id, name);
    std::cout << fmt::format("  {:<34} {:>16} {:>10}  {}\n", "headline", "median", "of peak", "from case");
    for (const auto& [key, m] : dev["metrics"].items()) {
      std::string eff =
          m["efficiency"].is_number() ? fmt::format("{:.1f}%", 100 * m["efficiency"].get<double>()) : "-";
      std::cout << fmt::format("  {:<34} {:>16} {:>10}  {}{}\n", m["label"].get<std::string>(),
                               format_si(m["value"].get<double>(), m["unit"].get<std::string>()), eff,
                               m["case_id"].get<std::string>(), m["noisy"].get<bool>() ? " (noisy)" : "");
    }
    std::cout << fmt::format("  {:<34} {:>16} {:>10}  {}\n", "case", "median ±CI95", "status", "reason");
    for (const auto& r : report["results"]) {
      if (r["device"] != id) continue;
      std::string figure;
      if (!r["metrics"].empty()) {
        const auto& m = r["metrics"][0];
        double med = m["statistics"]["median"].is_number() ? m["statistics"]["median"].get<double>() : 0;
        double lo = m["statistics"]["ci95_low"].is_number() ? m["statistics"]["ci95_low"].get<double>() : 0;
        double hi = m["statistics"]["ci95_high"].is_number() ? m["statistics"]["ci95_high"].get<double>() : 0;
        figure = fmt::format("{} ±{:.1f}%", format_si(med, m["unit"].get<std::string>()),
                             med != 0 ? 50 * (hi - lo) / std::fabs(med) : 0.0);
      }
      std::string status = r["status"].get<std::string>();
      std::string pad(status.size() < 10 ? 10 - status.size() : 0, ' ');
      std::cout << fmt::format("  {:<34} {:>16} {}{}  {}\n", r["case_id"].get<std::string>(), figure, pad,
                               colour(status, tty), r["reason"].get<std::string>());
    }
  }
  if (!report["criteria"].empty()) {
    std::cout << "\nCriteria\n";
    for (const auto& c : report["criteria"])
      std::cout << fmt::format("  {:<10} {:<30} {:<10} {}\n", colour(c["verdict"].get<std::string>(), tty),
                               c["id"].get<std::string>(), c["device"].get<std::string>(),
                               c["reason"].get<std::string>());
    std::cout << "Verdict: " << colour(report["verdict"].get<std::string>(), tty) << "\n";
  }
  std::cout << fmt::format("\nReport: {}\nJournal: {}\n", outcome->report_path, outcome->journal_path);
  if (outcome->exit_code == kExitIncomplete)
    std::cout << "Run incomplete: some cases failed or were not valid (exit 3).\n";
  return outcome->exit_code;
}

}  // namespace cmeter::cli
