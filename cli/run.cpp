// `cmeter run`: progress on stderr while cases run, then the report as `cmeter report show` prints it
// (reports/terminal.h: the same view, read back from the file just written) and the report path; or
// the report JSON with --json. Plugins run in worker processes under a watchdog
// (core/isolation/worker_host.h) unless --in-process; --resume DIR continues an interrupted run from its
// journal.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/cluster/mpi_session.h"
#include "core/isolation/worker_host.h"
#include "core/profile/declared_specs.h"
#include "core/report/cluster.h"
#include "core/report/report_reader.h"
#include "core/run/runner.h"
#include "core/topology/topology.h"
#include "core/util/clock.h"
#include "core/util/files.h"
#include "reports/render.h"
#include "reports/terminal.h"

#ifndef CMETER_SOURCE_PROFILES_DIR
#define CMETER_SOURCE_PROFILES_DIR "profiles"
#endif

namespace cmeter::cli {
namespace {

struct RunCommandOptions {
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
  // Node metering: each case on all devices at once (default: the profile's `execution`).
  bool concurrent = false;
  bool sequential = false;
  bool both = false;
  // Cluster metering over MPI (docs/cluster.md).
  bool mpi = false;
  double mpi_timeout_s = 600;
};

void add_isolation_options(CLI::App& run, RunCommandOptions& command) {
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
  auto* conc = run.add_flag("--concurrent", command.concurrent,
                            "Node metering: run each case on all selected devices at once (one worker per "
                            "plugin, released together by a barrier); node totals are then concurrent "
                            "(default: the profile's `execution`, e.g. profiles/node.yaml)");
  auto* seq =
      run.add_flag("--sequential", command.sequential, "Devices one after another, whatever the profile says")
          ->excludes(conc);
  run.add_flag("--both", command.both,
               "Node scaling: each case on each device alone, then on all selected devices at once; the "
               "report sets the two side by side (summary.node_scaling) and its node totals are the "
               "concurrent ones")
      ->excludes(conc)
      ->excludes(seq);
  run.add_flag("--mpi", command.mpi,
               "Cluster metering: run under mpirun or srun, one rank per node; ranks start each case "
               "together and rank 0 writes one cluster report (docs/cluster.md)");
  run.add_option("--mpi-timeout", command.mpi_timeout_s,
                 "Seconds a rank waits for the others at a barrier, a collective or the report gather before "
                 "it names the missing ones and goes on (longer than the slowest case)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  run.add_flag("--show-worker-stderr", command.show_worker_stderr,
               "Copy what plugin workers write to stderr to ours, prefixed [worker <plugin>]");
}

// Finds plugin files as every subcommand does, and starts a worker per file; prints a warning line per
// plugin that failed to load (stderr). With --strict-plugins a failed plugin is an error: nullptr.
std::unique_ptr<WorkerHost> start_workers(const RunCommandOptions& command) {
  auto discovery = discover(command.plugins);
  WorkerOptions w;
  w.load_timeout_s = command.worker_load_timeout_s;
  w.memory_limit_bytes = command.worker_memory_limit_mib < 0
                             ? default_worker_memory_limit_bytes()
                             : static_cast<uint64_t>(command.worker_memory_limit_mib * 1024 * 1024);
  w.forward_stderr = command.show_worker_stderr;
  w.forward_progress = !command.quiet;  // a long case's progress (inference, training) unless -q
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

// What a cluster run needs beyond a node run: the MPI session, where this rank writes, the barrier
// hook's state.
struct ClusterRun {
  std::unique_ptr<cluster::MpiSession> mpi;
  std::string base_dir;  // <output>/<cluster id>/
  std::string sync_broken;
  int barriers = 0;
  std::vector<std::string> profile_dirs;
};

// Starts MPI, agrees on the cluster id, points this rank's node run at <output>/<id>/nodes/<node>, gives
// each of several ranks on one node its share of the devices, and installs the per-case barrier.
Status start_cluster(const RunCommandOptions& command, run::CaseExecutor& executor, run::RunOptions& options,
                     ClusterRun& cr) {
  auto session = cluster::MpiSession::start();
  CMETER_TRY(session);
  cr.mpi = std::move(session).value();
  cr.profile_dirs = options.profile_dirs;
  auto& mpi = *cr.mpi;
  std::random_device rd;
  const std::string id = mpi.broadcast(
      mpi.rank() == 0 ? fmt::format("cluster-{}-{:04x}", utc_now_compact(), rd() & 0xffff) : "");
  cr.base_dir = (std::filesystem::path(command.output_dir) / id).string();
  const std::string& node = mpi.node_names()[static_cast<size_t>(mpi.rank())];
  std::vector<int> local;  // ranks on this node
  for (int r = 0; r < mpi.size(); ++r)
    if (mpi.node_names()[static_cast<size_t>(r)] == node) local.push_back(r);
  const auto mine = std::find(local.begin(), local.end(), mpi.rank()) - local.begin();
  options.output_dir = (std::filesystem::path(cr.base_dir) / "nodes" /
                        (local.size() > 1 ? fmt::format("{}-rank{}", node, mpi.rank()) : node))
                           .string();
  if (local.size() > 1) {
    // Several ranks on one node split its devices round-robin (said in the run's warnings and report).
    std::vector<std::string> share;
    size_t i = 0;
    for (const auto& d : executor.devices())
      if (device_matches(options.device_selector, d.id) && i++ % local.size() == static_cast<size_t>(mine))
        share.push_back(d.id);
    if (share.empty())
      return make_error(ErrorCode::kInvalidArgument,
                        "rank {}: {} ranks on node {} and too few devices for each to have one", mpi.rank(),
                        local.size(), node);
    options.device_selector = fmt::format("{}", fmt::join(share, ","));
  }
  ClusterRun* state = &cr;
  const double timeout_s = command.mpi_timeout_s;
  options.before_case = [state, timeout_s](const std::string& case_id) {
    ++state->barriers;
    if (!state->sync_broken.empty()) return;
    if (auto st = state->mpi->barrier(timeout_s); !st)
      state->sync_broken = fmt::format("case {}: {}; this rank ran the remaining cases without barriers",
                                       case_id, st.error().message);
  };
  return {};
}

// After the node run: the collective cases, the gather of node reports on rank 0 and the cluster
// report it writes. Returns the exit code.
int finish_cluster(const RunCommandOptions& command, const std::vector<std::string>& argv, ClusterRun& cr,
                   const Result<run::RunOutcome>& outcome) {
  auto& mpi = *cr.mpi;
  const double timeout_s = command.mpi_timeout_s;
  // The collective cases of the profile, on every rank together.
  nlohmann::json collective = nlohmann::json::array();
  auto path = profile::resolve_profile_path(command.profile, cr.profile_dirs);
  auto prof = path ? profile::load_file(*path) : Result<profile::Profile>(path.error());
  if (prof)
    for (const auto& c : prof->cases) {
      if (c.workload != "collective") continue;
      if (!cr.sync_broken.empty()) {
        collective.push_back({{"case_id", c.id},
                              {"op", "allreduce"},
                              {"bytes", 1},
                              {"ranks", mpi.size()},
                              {"iters", 0},
                              {"time_s", nullptr},
                              {"algbw_bytes_per_s", nullptr},
                              {"busbw_bytes_per_s", nullptr},
                              {"validated", false},
                              {"reason", "not run: " + cr.sync_broken}});
        continue;
      }
      auto row = mpi.run_collective(c, timeout_s);
      if (row.contains("reason") && row["reason"].get<std::string>().find("did not") != std::string::npos)
        cr.sync_broken = "collective " + c.id + ": " + row["reason"].get<std::string>();
      collective.push_back(std::move(row));
    }
  std::string mine;
  if (outcome) {
    auto text = read_file(outcome->report_path);
    mine = text ? *text : "";
  }
  auto texts = mpi.gather_to_root(mine, timeout_s);
  if (mpi.rank() != 0) {
    if (!mpi.agree_complete(false, timeout_s) || !cr.sync_broken.empty()) mpi.abandon();
    if (outcome) std::cerr << fmt::format("rank {}: node report {}\n", mpi.rank(), outcome->report_path);
    return outcome ? outcome->exit_code : kExitUsage;
  }
  ClusterInputs in;
  for (int r = 0; r < mpi.size(); ++r) {
    ClusterNode n{mpi.node_names()[static_cast<size_t>(r)], {r}, "", ""};
    const auto& got = texts[static_cast<size_t>(r)];
    if (got && !got->empty())
      n.report_text = *got;
    else
      n.missing_reason =
          got ? fmt::format("rank {} ran no report (its run failed)", r)
              : fmt::format("rank {} sent no report within {:g} s (it died or hangs)", r, timeout_s);
    in.nodes.push_back(std::move(n));
  }
  in.launch = mpi.launch_facts();
  in.synchronisation = {
      {"barriers", cr.barriers},
      {"timeout_s", timeout_s},
      {"broken", cr.sync_broken.empty() ? nlohmann::json(nullptr) : nlohmann::json(cr.sync_broken)}};
  in.collective = collective;
  in.merge.argv = argv;
  in.merge.now_utc = utc_now_iso8601();
  in.merge.run_id = std::filesystem::path(cr.base_dir).filename().string();
  in.merge.execution = fmt::format("cluster run over MPI: {} ranks, a barrier before each case", mpi.size());
  auto cluster_report = build_cluster_report(in);
  const bool complete = cluster_report && cluster_report->report["cluster"]["missing"].empty();
  if (!mpi.agree_complete(complete, timeout_s) || !complete || !cr.sync_broken.empty()) mpi.abandon();
  if (!cluster_report) {
    std::cerr << "error: cluster report: " << cluster_report.error().message << "\n";
    return kExitIncomplete;
  }
  for (const auto& w : cluster_report->warnings) std::cerr << "warning: " << w << "\n";
  const std::string report_path = cr.base_dir + "/report.json";
  if (auto st = write_file_atomically(report_path, cluster_report->report.dump(2) + "\n"); !st) {
    std::cerr << "error: " << st.error().message << "\n";
    return kExitUsage;
  }
  auto loaded = read_report_file(report_path);
  if (!loaded) {
    std::cerr << "error: " << loaded.error().message << "\n";
    return kExitUsage;
  }
  if (!command.formats.empty()) write_formats(*loaded, report_path, command.formats);
  if (!command.json) std::cout << reports::render_terminal(*loaded, stdout_is_terminal());
  std::cout << fmt::format("\nCluster report: {}\n", report_path);
  const int node_code = outcome ? outcome->exit_code : kExitUsage;
  return !complete ? kExitIncomplete : node_code;
}

int run_run(const RunCommandOptions& command, const std::vector<std::string>& argv) {
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
  if (command.concurrent) options.execution = "concurrent";
  if (command.sequential) options.execution = "sequential";
  if (command.both) options.execution = "both";
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
  ClusterRun cluster_run;
  if (command.mpi) {
    if (!command.resume_dir.empty()) {
      std::cerr
          << "error: --mpi does not resume; resume a node's run on its own (results/<id>/nodes/<node>)\n";
      return kExitUsage;
    }
    if (auto st = start_cluster(command, *executor, options, cluster_run); !st) {
      std::cerr << "error: --mpi: " << st.error().message << "\n";
      return kExitUsage;
    }
  }
  auto outcome = run::execute_run(options, *executor, topo ? &*topo : nullptr);
  if (command.mpi) {
    if (!outcome)
      std::cerr << "error: " << outcome.error().message << "\n";
    else
      for (const auto& w : outcome->warnings) std::cerr << "warning: " << w << "\n";
    return finish_cluster(command, argv, cluster_run, outcome);
  }
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
  auto options = std::make_shared<RunCommandOptions>();
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
