// Planning, executing, journaling and reporting one run.
#include "core/run/runner.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

#include "core/report/criteria.h"
#include "core/report/journal.h"
#include "core/report/report.h"
#include "core/report/summary.h"
#include "core/workloads/workload.h"

namespace cmeter::run {
namespace fs = std::filesystem;
namespace {

std::string make_run_id(std::mt19937_64& rng) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return fmt::format("{}-{:04x}", buf, static_cast<unsigned>(rng() & 0xffff));
}

}  // namespace

CaseResult run_in_process(const Device& device, const profile::Case& spec, uint64_t seed) {
  return workloads::run_case(workloads::Context{device, spec, seed});
}

Result<RunOutcome> execute_run(const RunOptions& options, PluginHost& host,
                               const topology::Topology* topology) {
  auto path = profile::resolve_profile_path(options.profile, options.profile_dirs);
  CMETER_TRY(path);
  auto prof = profile::load_file(*path);
  CMETER_TRY(prof);

  // Devices.
  std::vector<const Device*> selected;
  std::string available;
  for (const auto& d : host.devices()) {
    available += (available.empty() ? "" : ", ") + d.id();
    if (device_matches(options.device_selector, d.id())) selected.push_back(&d);
  }
  if (selected.empty())
    return make_error(ErrorCode::kInvalidArgument, "no device matches '--device {}'; devices found: {}",
                      options.device_selector, available.empty() ? "none" : available);

  // Plan: for each device, the cases whose selector matches it.
  struct Planned {
    const Device* device;
    const profile::Case* spec;
  };
  std::vector<Planned> plan;
  for (const Device* d : selected)
    for (const auto& c : prof->cases)
      if (device_matches(c.devices, d->id())) plan.push_back({d, &c});

  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const uint64_t seed = options.seed.value_or(rng());
  RunOutcome out;
  const std::string run_id = make_run_id(rng);
  out.run_dir = (fs::path(options.output_dir) / run_id).string();
  std::error_code ec;
  fs::create_directories(out.run_dir, ec);
  if (ec)
    return make_error(ErrorCode::kIo, "cannot create output directory {}: {}", out.run_dir, ec.message());
  out.journal_path = out.run_dir + "/journal.jsonl";
  out.report_path = out.run_dir + "/report.json";

  nlohmann::json run = {
      {"id", run_id},
      {"start_utc", workloads::utc_now_iso8601()},
      {"argv", options.argv},
      {"seed", seed},
      {"device_selector", options.device_selector},
      {"profile",
       {{"name", prof->name}, {"version", prof->version}, {"path", prof->path}, {"sha256", prof->sha256}}},
      {"settings", {{"execution", "in-process, devices one after another"}, {"planned_cases", plan.size()}}}};
  auto journal = Journal::create(out.journal_path, {{"type", "run"}, {"run", run}});
  CMETER_TRY(journal);

  // Topology: each device's locality, and binding of its host thread there.
  nlohmann::json topo_json = topology ? topology->to_json() : nlohmann::json(nullptr);
  nlohmann::json locality = nlohmann::json::object();
  std::vector<DeviceFacts> facts;
  for (const Device* d : selected) {
    facts.push_back({d->id(), d->attributes()});
    if (topology == nullptr) continue;
    topology::Locality where = topology->whole_machine();
    if (auto bus = get_string(d->attributes(), "pci.bus_id")) {
      if (auto l = topology->locate_pci(*bus))
        where = *l;
      else
        out.warnings.push_back(fmt::format("{}: {}", d->id(), l.error().message));
    }
    locality[d->id()] = where;
  }
  if (topo_json.is_object()) topo_json["device_locality"] = locality;

  std::vector<CaseResult> results;
  auto run_start = std::chrono::steady_clock::now();
  size_t index = 0;
  for (const Device* d : selected) {
    // One thread per device, bound near it; results are journaled as each case finishes.
    std::thread worker([&] {
      if (topology != nullptr && locality.contains(d->id())) {
        topology::Locality where = locality[d->id()].get<topology::Locality>();
        if (auto st = topology->bind_current_thread(where); !st)
          out.warnings.push_back(
              fmt::format("{}: could not bind host thread: {}", d->id(), st.error().message));
      }
      for (const auto& p : plan) {
        if (p.device != d) continue;
        ++index;
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
        Progress progress{static_cast<int>(index),
                          static_cast<int>(plan.size()),
                          d->id(),
                          p.spec->id,
                          elapsed,
                          index > 1 ? elapsed / static_cast<double>(index - 1) *
                                          static_cast<double>(plan.size() - index + 1)
                                    : -1,
                          nullptr};
        if (options.progress) options.progress(progress);
        CaseResult r = options.executor(*d, *p.spec, seed);
        if (auto st = journal->append(r); !st) out.warnings.push_back(st.error().message);
        results.push_back(std::move(r));
        progress.finished = &results.back();
        progress.elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
        if (options.progress) options.progress(progress);
      }
    });
    worker.join();
  }
  run["end_utc"] = workloads::utc_now_iso8601();
  run["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();

  ReportParts parts;
  parts.run = run;
  parts.topology = topo_json;
  parts.plugins = host.plugins();
  parts.devices = facts;
  parts.results = results;
  parts.summaries = summarize(results, facts);
  parts.criteria = evaluate_criteria(prof->criteria, results, parts.summaries, facts);
  out.report = build_report(parts);
  CMETER_TRY(write_file_atomically(
      out.report_path, out.report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));

  bool incomplete = false;
  for (const auto& r : results) incomplete = incomplete || makes_run_incomplete(r.status);
  if (parts.criteria.verdict == "FAIL")
    out.exit_code = kExitCriteriaFail;
  else if (incomplete || parts.criteria.verdict == "INCOMPLETE")
    out.exit_code = kExitIncomplete;
  else
    out.exit_code = kExitOk;
  return out;
}

}  // namespace cmeter::run
