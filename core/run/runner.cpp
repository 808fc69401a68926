// Planning, executing, journaling and reporting one run; resuming one from its journal.
#include "core/run/runner.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>

#include "core/plugin/worker_protocol.h"
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

// What a resumed run takes from its journal.
struct Resumed {
  nlohmann::json run;                                              // the header's run object
  std::vector<DeviceFacts> devices;                                // as selected when the run started
  std::map<std::pair<std::string, std::string>, CaseResult> done;  // (device, case id) -> result
  std::vector<nlohmann::json> events;
  int skipped_lines = 0;
};

Result<Resumed> read_for_resume(const std::string& journal_path) {
  if (!fs::exists(journal_path))
    return make_error(ErrorCode::kNotFound, "cannot resume: {} does not exist (is it a run directory?)",
                      journal_path);
  auto contents = read_journal(journal_path);
  if (!contents)
    return make_error(ErrorCode::kInvalidArgument, "cannot resume: {}", contents.error().message);
  Resumed r;
  const auto& h = contents->header;
  if (!h.is_object() || !h.contains("run") || !h["run"].is_object() || !h["run"].contains("profile"))
    return make_error(ErrorCode::kInvalidArgument, "cannot resume: {}:1: the header has no run description",
                      journal_path);
  r.run = h["run"];
  for (const auto& d : h.value("devices", nlohmann::json::array())) {
    auto dev = worker::device_from_json(d);
    if (!dev)
      return make_error(ErrorCode::kInvalidArgument, "cannot resume: {}:1: {}", journal_path,
                        dev.error().message);
    r.devices.push_back(std::move(dev).value());
  }
  for (auto& res : contents->results) {
    auto key = std::make_pair(res.device, res.case_id);
    r.done.insert_or_assign(key, std::move(res));
  }
  r.events = std::move(contents->events);
  r.skipped_lines = contents->skipped_lines;
  return r;
}

}  // namespace

Result<RunOutcome> execute_run(const RunOptions& options, CaseExecutor& executor,
                               const topology::Topology* topology) {
  RunOutcome out;
  const bool resuming = !options.resume_dir.empty();
  std::optional<Resumed> resumed;
  if (resuming) {
    auto r = read_for_resume((fs::path(options.resume_dir) / "journal.jsonl").string());
    CMETER_TRY(r);
    resumed = std::move(r).value();
  }

  // Profile: on resume, the one the run started with, unchanged.
  std::string profile_path;
  if (resuming) {
    profile_path = resumed->run["profile"].value("path", "");
  } else {
    auto path = profile::resolve_profile_path(options.profile, options.profile_dirs);
    CMETER_TRY(path);
    profile_path = *path;
  }
  auto prof = profile::load_file(profile_path);
  if (!prof && resuming)
    return make_error(prof.error().code, "cannot resume: the run's profile: {}", prof.error().message);
  CMETER_TRY(prof);
  if (resuming) {
    std::string was = resumed->run["profile"].value("sha256", "");
    if (was != prof->sha256)
      return make_error(ErrorCode::kInvalidArgument,
                        "cannot resume: profile {} changed since the run started (sha256 {} then, {} now)",
                        profile_path, was, prof->sha256);
  }
  const std::string selector =
      resuming ? resumed->run.value("device_selector", std::string("*")) : options.device_selector;

  // Devices: those selected now; on resume, those selected when the run started.
  std::vector<DeviceFacts> selected;
  std::string available;
  for (const auto& d : executor.devices()) {
    available += (available.empty() ? "" : ", ") + d.id;
    if (!resuming && device_matches(selector, d.id)) selected.push_back(d);
  }
  if (resuming) {
    for (const auto& was : resumed->devices) {
      bool present = false;
      for (const auto& d : executor.devices())
        if (d.id == was.id) present = true;
      if (!present)
        out.warnings.push_back(
            fmt::format("{} was in the run but is not found now; its unfinished cases fail", was.id));
      selected.push_back(was);  // attributes as recorded, so the report describes the run's devices
    }
  }
  if (selected.empty())
    return make_error(ErrorCode::kInvalidArgument, "no device matches '--device {}'; devices found: {}",
                      selector, available.empty() ? "none" : available);

  // Plan: for each device, the cases whose selector matches it.
  struct Planned {
    const DeviceFacts* device;
    const profile::Case* spec;
  };
  std::vector<Planned> plan;
  for (const DeviceFacts& d : selected)
    for (const auto& c : prof->cases)
      if (device_matches(c.devices, d.id)) plan.push_back({&d, &c});

  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t seed = 0;
  nlohmann::json run;
  std::optional<Journal> journal;
  if (resuming) {
    run = resumed->run;
    seed = run.value("seed", uint64_t{0});
    out.run_dir = options.resume_dir;
    out.journal_path = (fs::path(out.run_dir) / "journal.jsonl").string();
    size_t torn = 0;
    auto j = Journal::open_append(out.journal_path, &torn);
    CMETER_TRY(j);
    journal.emplace(std::move(j).value());
    if (torn > 0)
      out.warnings.push_back(
          fmt::format("{}: cut a torn last line of {} bytes (the case in flight when the run "
                      "was interrupted; it runs again)",
                      out.journal_path, torn));
    int done = 0;
    for (const auto& p : plan)
      if (resumed->done.count({p.device->id, p.spec->id})) ++done;
    nlohmann::json event = {{"type", "resume"},
                            {"utc", workloads::utc_now_iso8601()},
                            {"argv", options.argv},
                            {"cases_done_before", done}};
    if (auto st = journal->append_event(event); !st) out.warnings.push_back(st.error().message);
    resumed->events.push_back(event);
  } else {
    seed = options.seed.value_or(rng());
    const std::string run_id = make_run_id(rng);
    out.run_dir = (fs::path(options.output_dir) / run_id).string();
    std::error_code ec;
    fs::create_directories(out.run_dir, ec);
    if (ec)
      return make_error(ErrorCode::kIo, "cannot create output directory {}: {}", out.run_dir, ec.message());
    out.journal_path = out.run_dir + "/journal.jsonl";
    run = {
        {"id", run_id},
        {"start_utc", workloads::utc_now_iso8601()},
        {"argv", options.argv},
        {"seed", seed},
        {"device_selector", selector},
        {"profile",
         {{"name", prof->name}, {"version", prof->version}, {"path", prof->path}, {"sha256", prof->sha256}}},
        {"settings", {{"execution", executor.execution()}, {"planned_cases", plan.size()}}}};
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : selected) devices.push_back(worker::device_to_json(d));
    auto j = Journal::create(out.journal_path, {{"type", "run"}, {"run", run}, {"devices", devices}});
    CMETER_TRY(j);
    journal.emplace(std::move(j).value());
  }
  out.report_path = out.run_dir + "/report.json";

  // Topology: each device's locality; the executor binds the device's host thread there.
  nlohmann::json topo_json = topology ? topology->to_json() : nlohmann::json(nullptr);
  nlohmann::json locality = nlohmann::json::object();
  for (const DeviceFacts& d : selected) {
    if (topology == nullptr) continue;
    topology::Locality where = topology->whole_machine();
    if (auto bus = get_string(d.attributes, "pci.bus_id")) {
      if (auto l = topology->locate_pci(*bus))
        where = *l;
      else
        out.warnings.push_back(fmt::format("{}: {}", d.id, l.error().message));
    }
    locality[d.id] = where;
  }
  if (topo_json.is_object()) topo_json["device_locality"] = locality;

  std::vector<CaseResult> results;
  results.reserve(plan.size());
  auto run_start = std::chrono::steady_clock::now();
  int index = 0;
  int ran = 0;
  int to_run = 0;
  for (const auto& p : plan)
    if (!resuming || !resumed->done.count({p.device->id, p.spec->id})) ++to_run;
  for (const auto& p : plan) {
    ++index;
    const DeviceFacts& d = *p.device;
    if (resuming) {
      auto it = resumed->done.find({d.id, p.spec->id});
      if (it != resumed->done.end()) {
        results.push_back(std::move(it->second));
        resumed->done.erase(it);
        ++out.cases_resumed;
        continue;
      }
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    Progress progress{index,   static_cast<int>(plan.size()),
                      d.id,    p.spec->id,
                      elapsed, ran > 0 ? elapsed / ran * (to_run - ran) : -1,
                      nullptr};
    if (options.progress) options.progress(progress);
    std::optional<topology::Locality> bind;
    if (locality.contains(d.id)) bind = locality[d.id].get<topology::Locality>();
    CaseResult r;
    bool present = false;
    for (const auto& e : executor.devices())
      if (e.id == d.id) present = true;
    if (present) {
      r = executor.run_case(d, *p.spec, seed, bind);
    } else {
      r.case_id = p.spec->id;
      r.workload = p.spec->workload;
      r.device = d.id;
      r.params = p.spec->params;
      r.started_utc = workloads::utc_now_iso8601();
      r.status = CaseStatus::kFailed;
      r.reason = fmt::format("not run: device {} is not found on resume", d.id);
    }
    ++ran;
    for (auto& w : executor.take_warnings()) out.warnings.push_back(std::move(w));
    if (auto st = journal->append(r); !st) out.warnings.push_back(st.error().message);
    results.push_back(std::move(r));
    progress.finished = &results.back();
    progress.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    if (options.progress) options.progress(progress);
  }
  out.cases_run = ran;
  if (resuming) {
    // Results the journal holds for cases no longer planned (cannot happen with an unchanged profile
    // and device list; kept rather than lost if it does).
    for (auto& [key, r] : resumed->done) {
      out.warnings.push_back(
          fmt::format("journal result {} on {} is not in the plan; kept", key.second, key.first));
      results.push_back(std::move(r));
    }
    nlohmann::json resumes = nlohmann::json::array();
    for (const auto& e : resumed->events)
      if (e.value("type", "") == "resume")
        resumes.push_back(
            {{"utc", e.value("utc", "")}, {"cases_done_before", e.value("cases_done_before", 0)}});
    run["settings"]["resumed"] = resumes;
  }
  run["end_utc"] = workloads::utc_now_iso8601();
  run["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();

  ReportParts parts;
  parts.run = run;
  parts.topology = topo_json;
  parts.plugins = executor.plugins();
  parts.devices = selected;
  parts.results = results;
  parts.summaries = summarize(results, selected);
  parts.criteria = evaluate_criteria(prof->criteria, results, parts.summaries, selected);
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
