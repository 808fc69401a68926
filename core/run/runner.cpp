// Planning, executing, journaling and reporting one run; resuming one from its journal. execute_run
// reads as the run's data flow: resume (what the journal holds) -> profile -> devices -> plan -> open
// the run (directory, journal) -> locate the devices -> execute -> summarise -> report.
#include "core/run/runner.h"

#include "core/model/json_fields.h"

#include <barrier>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/ranges.h>

#include "core/profile/declared_specs.h"
#include "core/report/criteria.h"
#include "core/report/journal.h"
#include "core/report/report.h"
#include "core/report/summary.h"
#include "core/run/decode_bandwidth.h"
#include "core/util/clock.h"
#include "core/util/files.h"
#include "core/workloads/workload.h"

namespace cmeter::run {
namespace fs = std::filesystem;

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
    auto dev = device_from_json(d);
    if (!dev)
      return make_error(ErrorCode::kInvalidArgument, "cannot resume: {}:1: {}", journal_path,
                        dev.error().message);
    r.devices.push_back(std::move(dev).value());
  }
  for (size_t i = 0; i < contents->results.size(); ++i) {
    auto& res = contents->results[i];
    const int line = contents->result_lines[i];
    auto key = std::make_pair(res.device, res.case_id);
    if (auto seen = r.done_lines.find(key); seen != r.done_lines.end())
      return make_error(ErrorCode::kInvalidArgument,
                        "cannot resume: {}:{}: a second result for case {} on {} (the first is on line {})",
                        journal_path, line, res.case_id, res.device, seen->second);
    r.done_lines[key] = line;
    r.done.emplace(key, std::move(res));
  }
  r.events = std::move(contents->events);
  r.skipped_lines = contents->skipped_lines;
  r.journal_path = journal_path;
  r.chain_head = contents->chain_head;
  return r;
}

Status recheck_resumed(const Resumed& resumed, const std::vector<PlannedCase>& plan,
                       const std::vector<DeviceFacts>& live_devices) {
  std::set<std::pair<std::string, std::string>> planned;
  for (const auto& p : plan) planned.insert({p.device->id, p.spec->id});
  for (const auto& entry : resumed.done) {
    const auto& key = entry.first;
    const CaseResult& r = entry.second;  // not a structured binding: the lambda below captures it
    const std::string where = fmt::format("{}:{}", resumed.journal_path, resumed.done_lines.at(key));
    auto refuse = [&](const std::string& why) {
      return make_error(ErrorCode::kInvalidArgument, "cannot resume: {}: result {} on {}: {}", where,
                        r.case_id, r.device, why);
    };
    if (!planned.count(key)) return refuse("not a case this run plans");
    if (counts_in_summary(r.status) && (!r.validation || !r.validation->passed))
      return refuse(fmt::format("status {} without a passed validation", to_string(r.status)));
    if (r.peak_key.empty() || !r.peak) continue;
    const DeviceFacts* live = nullptr;
    for (const auto& d : live_devices)
      if (d.id == r.device) live = &d;
    if (live == nullptr) continue;  // the device is gone: its results stay as recorded (said on resume)
    const auto declared = get_number(live->attributes, r.peak_key);
    if (!declared || std::abs(*declared - *r.peak) > 1e-9 * std::abs(*declared))
      return refuse(fmt::format("recorded against {} = {:.6g}, but the device declares {} now", r.peak_key,
                                *r.peak, declared ? fmt::format("{:.6g}", *declared) : std::string("none")));
    if (counts_in_summary(r.status) && !r.metrics.empty() && r.metrics.front().higher_is_better &&
        r.metrics.front().stats.median > *declared * (1 + workloads::kPlausibilityMargin))
      return refuse(fmt::format("median {:.6g} {} exceeds the declared {} = {:.6g}: not a plausible result",
                                r.metrics.front().stats.median, r.metrics.front().unit, r.peak_key,
                                *declared));
  }
  return {};
}

Result<DeviceChoice> select_devices(const std::string& selector, const std::vector<DeviceFacts>& found,
                                    const Resumed* resumed) {
  DeviceChoice choice;
  std::string available;
  for (const auto& d : found) {
    available += (available.empty() ? "" : ", ") + d.id;
    if (resumed == nullptr && device_matches(selector, d.id)) choice.selected.push_back(d);
  }
  if (resumed != nullptr) {
    for (const auto& was : resumed->devices) {
      bool present = false;
      for (const auto& d : found)
        if (d.id == was.id) present = true;
      if (!present)
        choice.warnings.push_back(
            fmt::format("{} was in the run but is not found now; its unfinished cases fail", was.id));
      choice.selected.push_back(was);  // attributes as recorded, so the report describes the run's devices
    }
  }
  if (choice.selected.empty())
    return make_error(ErrorCode::kInvalidArgument, "no device matches '--device {}'; devices found: {}",
                      selector, available.empty() ? "none" : available);
  return choice;
}

std::vector<PlannedCase> plan_cases(const std::vector<DeviceFacts>& devices,
                                    const profile::Profile& profile) {
  std::vector<PlannedCase> plan;
  for (const DeviceFacts& d : devices)
    for (const auto& c : profile.cases)
      // `collective` is not a device case: the cluster run does it over MPI (core/cluster).
      if (c.workload != "collective" && device_matches(c.devices, d.id)) plan.push_back({&d, &c});
  return plan;
}

profile::Profile concurrent_pass_profile(const profile::Profile& profile) {
  profile::Profile second = profile;
  for (auto& c : second.cases) c.id += kConcurrentPassSuffix;
  return second;
}

int count_done(const std::vector<PlannedCase>& plan, const ResumedResults& done) {
  int n = 0;
  for (const auto& p : plan)
    if (done.count({p.device->id, p.spec->id})) ++n;
  return n;
}

std::optional<CaseResult> take_done(const PlannedCase& planned, ResumedResults& done) {
  auto it = done.find({planned.device->id, planned.spec->id});
  if (it == done.end()) return std::nullopt;
  CaseResult r = std::move(it->second);
  done.erase(it);
  return r;
}

void apply_pue(double pue, std::vector<CaseResult>& results) {
  for (auto& r : results) {
    nlohmann::json& t = r.telemetry;
    if (!t.is_object() || !t.value("available", false)) continue;
    nlohmann::json facility = {{"pue", pue}, {"note", "device figures x declared PUE (not measured)"}};
    for (const char* key : {"energy_j", "avg_power_w", "energy_per_call_j"})
      if (t.contains(key) && t[key].is_number()) facility[key] = t[key].get<double>() * pue;
    if (t.contains("per_watt") && t["per_watt"].is_object() && t["per_watt"].contains("value"))
      facility["per_watt"] = {{"metric", t["per_watt"].value("metric", "")},
                              {"value", t["per_watt"]["value"].get<double>() / pue},
                              {"unit", t["per_watt"].value("unit", "")}};
    if (facility.size() > 2) t["facility"] = std::move(facility);
  }
}

Result<std::vector<std::string>> attach_declared_specs(const RunOptions& options,
                                                       std::vector<DeviceFacts>& devices) {
  std::vector<std::string> notes;
  if (options.declared_spec_files.empty() && options.declared_sku.empty()) return notes;
  auto specs = profile::load_declared_specs(options.declared_spec_files);
  CMETER_TRY(specs);
  const profile::DeclaredSku* forced = nullptr;
  if (!options.declared_sku.empty()) {
    forced = profile::find_declared_spec(*specs, options.declared_sku);
    if (forced == nullptr) {
      std::vector<std::string> names;
      for (const auto& s : *specs) names.push_back(s.sku);
      return make_error(ErrorCode::kInvalidArgument,
                        "--declared '{}': no such SKU in the spec files (known: {})", options.declared_sku,
                        fmt::join(names, "; "));
    }
  }
  for (auto& d : devices) {
    const profile::DeclaredSku* spec = forced;
    if (spec == nullptr) {
      const std::string bus = get_string(d.attributes, "pci.bus_id").value_or("");
      spec = profile::match_declared_spec(*specs, get_string(d.attributes, "name").value_or(""),
                                          profile::pci_id_of(bus));
    }
    if (spec != nullptr) {
      notes.push_back(profile::apply_declared_spec(d, *spec, forced != nullptr));
    } else {
      // No entry: the plugin's own peaks (if it gave any, with its reason) are all there is.
      bool plugin_peaks = false;
      for (const auto& [key, value] : d.attributes)
        plugin_peaks = plugin_peaks || key.rfind("peak.flops.", 0) == 0;
      d.attributes["declared.used"] = std::string(plugin_peaks ? "plugin" : "none");
    }
  }
  return notes;
}

int exit_code_for(const std::vector<CaseResult>& results, const std::string& verdict) {
  bool incomplete = false;
  for (const auto& r : results) incomplete = incomplete || makes_run_incomplete(r.status);
  if (verdict == "FAIL") return kExitFail;
  if (incomplete || verdict == "INCOMPLETE" || verdict == "INCONCLUSIVE") return kExitIncomplete;
  return kExitOk;
}

namespace {

// The run's profile: on resume, the one the run started with, unchanged.
Result<profile::Profile> load_run_profile(const RunOptions& options, const Resumed* resumed) {
  std::string profile_path;
  if (resumed != nullptr) {
    profile_path = resumed->run["profile"].value("path", "");
  } else {
    auto path = profile::resolve_profile_path(options.profile, options.profile_dirs);
    CMETER_TRY(path);
    profile_path = *path;
  }
  auto prof = profile::load_file(profile_path);
  if (!prof && resumed != nullptr)
    return make_error(prof.error().code, "cannot resume: the run's profile: {}", prof.error().message);
  CMETER_TRY(prof);
  if (resumed != nullptr) {
    std::string was = resumed->run["profile"].value("sha256", "");
    if (was != prof->sha256)
      return make_error(ErrorCode::kInvalidArgument,
                        "cannot resume: profile {} changed since the run started (sha256 {} then, {} now)",
                        profile_path, was, prof->sha256);
  }
  return prof;
}

// The run's directory, journal and run description: a new run gets a fresh id and journal header; a
// resumed one reopens its journal (cutting a torn last line) and records a resume event.
struct OpenedRun {
  nlohmann::json run;
  uint64_t seed = 0;
  std::optional<Journal> journal;
};

Result<OpenedRun> open_run(const RunOptions& options, const profile::Profile& prof,
                           const std::string& selector, const std::vector<DeviceFacts>& selected,
                           const std::vector<PlannedCase>& plan, const std::string& execution,
                           const std::string& mode, Resumed* resumed, RunOutcome& out) {
  OpenedRun opened;
  if (resumed != nullptr) {
    opened.run = resumed->run;
    opened.seed = json_fields::read_uint(opened.run, "seed");
    out.run_dir = options.resume_dir;
    out.journal_path = (fs::path(out.run_dir) / "journal.jsonl").string();
    size_t torn = 0;
    auto j = Journal::open_append(out.journal_path, resumed->chain_head, &torn);
    CMETER_TRY(j);
    opened.journal.emplace(std::move(j).value());
    if (torn > 0)
      out.warnings.push_back(
          fmt::format("{}: cut a torn last line of {} bytes (the case in flight when the run "
                      "was interrupted; it runs again)",
                      out.journal_path, torn));
    nlohmann::json event = {{"type", "resume"},
                            {"utc", utc_now_iso8601()},
                            {"argv", options.argv},
                            {"cases_done_before", count_done(plan, resumed->done)}};
    if (auto st = opened.journal->append_event(event); !st) out.warnings.push_back(st.error().message);
    resumed->events.push_back(event);
    return opened;
  }
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  opened.seed = options.seed.value_or(rng());
  const std::string run_id =
      fmt::format("{}-{:04x}", utc_now_compact(), static_cast<unsigned>(rng() & 0xffff));
  out.run_dir = (fs::path(options.output_dir) / run_id).string();
  std::error_code ec;
  fs::create_directories(out.run_dir, ec);
  if (ec)
    return make_error(ErrorCode::kIo, "cannot create output directory {}: {}", out.run_dir, ec.message());
  out.journal_path = out.run_dir + "/journal.jsonl";
  opened.run = {
      {"id", run_id},
      {"start_utc", utc_now_iso8601()},
      {"argv", options.argv},
      {"seed", opened.seed},
      {"device_selector", selector},
      {"profile",
       {{"name", prof.name}, {"version", prof.version}, {"path", prof.path}, {"sha256", prof.sha256}}},
      {"settings", {{"execution", execution}, {"execution_mode", mode}, {"planned_cases", plan.size()}}}};
  if (execution.find("all devices at once") != std::string::npos) opened.run["settings"]["concurrent"] = true;
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : selected) devices.push_back(device_to_json(d));
  auto j = Journal::create(out.journal_path, {{"type", "run"}, {"run", opened.run}, {"devices", devices}});
  CMETER_TRY(j);
  opened.journal.emplace(std::move(j).value());
  return opened;
}

// Each device's locality (the executor binds the device's host thread there), and the topology as
// the report records it.
struct Located {
  nlohmann::json topology;  // null without a topology
  nlohmann::json locality = nlohmann::json::object();
};

Located locate_devices(const topology::Topology* topology, const std::vector<DeviceFacts>& selected,
                       std::vector<std::string>& warnings) {
  Located where;
  where.topology = topology ? topology->to_json() : nlohmann::json(nullptr);
  for (const DeviceFacts& d : selected) {
    if (topology == nullptr) continue;
    topology::Locality l = topology->whole_machine();
    if (auto bus = get_string(d.attributes, "pci.bus_id")) {
      if (auto found = topology->locate_pci(*bus))
        l = *found;
      else
        warnings.push_back(fmt::format("{}: {}", d.id, found.error().message));
    }
    where.locality[d.id] = l;
  }
  if (where.topology.is_object()) where.topology["device_locality"] = where.locality;
  return where;
}

// A planned case whose device is gone on resume: failed, not run.
CaseResult not_run(const PlannedCase& p) {
  CaseResult r;
  r.case_id = p.spec->id;
  r.workload = p.spec->workload;
  r.device = p.device->id;
  r.params = p.spec->params;
  r.started_utc = utc_now_iso8601();
  r.status = CaseStatus::kFailed;
  r.reason = fmt::format("not run: device {} is not found on resume", p.device->id);
  return r;
}

// A case not run because its device hung on the cases before it (RunOptions::max_consecutive_timeouts).
CaseResult skipped_after_hangs(const PlannedCase& p, const std::vector<std::string>& hung_cases) {
  CaseResult r = not_run(p);
  r.status = CaseStatus::kTimeout;
  r.reason = fmt::format(
      "not run: skipped after {} timeouts in a row on {} ({}); --max-hangs 0 runs every case whatever "
      "happens",
      hung_cases.size(), p.device->id, fmt::join(hung_cases, ", "));
  return r;
}

// Runs the plan's cases (those not already done), journaling each result as it finishes.
std::vector<CaseResult> execute_plan(const RunOptions& options, const std::vector<PlannedCase>& plan,
                                     ResumedResults* done, CaseExecutor& executor, Journal& journal,
                                     const nlohmann::json& locality, uint64_t seed, RunOutcome& out) {
  std::vector<CaseResult> results;
  results.reserve(plan.size());
  const auto run_start = SteadyClock::now();
  int index = 0;
  int ran = 0;
  const int to_run = static_cast<int>(plan.size()) - (done ? count_done(plan, *done) : 0);
  std::map<std::string, std::vector<std::string>> hung_in_a_row;  // device id -> its latest timeouts
  for (const auto& p : plan) {
    ++index;
    const DeviceFacts& d = *p.device;
    if (done != nullptr) {
      if (auto r = take_done(p, *done)) {
        results.push_back(std::move(*r));
        ++out.cases_resumed;
        continue;
      }
    }
    double elapsed = seconds_since(run_start);
    Progress progress{index,   static_cast<int>(plan.size()),
                      d.id,    p.spec->id,
                      elapsed, ran > 0 ? elapsed / ran * (to_run - ran) : -1,
                      nullptr};
    if (options.progress) options.progress(progress);
    std::optional<topology::Locality> bind;
    if (locality.contains(d.id)) bind = locality[d.id].get<topology::Locality>();
    bool present = false;
    for (const auto& e : executor.devices())
      if (e.id == d.id) present = true;
    auto& hung = hung_in_a_row[d.id];
    const bool skip = options.max_consecutive_timeouts > 0 &&
                      static_cast<int>(hung.size()) >= options.max_consecutive_timeouts;
    CaseResult r = skip      ? skipped_after_hangs(p, hung)
                   : present ? executor.run_case(d, *p.spec, seed, bind)
                             : not_run(p);
    if (!skip) {
      if (r.status == CaseStatus::kTimeout)
        hung.push_back(r.case_id);
      else
        hung.clear();
    }
    ++ran;
    for (auto& w : executor.take_warnings()) out.warnings.push_back(std::move(w));
    if (auto st = journal.append(r); !st) out.warnings.push_back(st.error().message);
    results.push_back(std::move(r));
    progress.finished = &results.back();
    progress.elapsed_s = seconds_since(run_start);
    if (options.progress) options.progress(progress);
  }
  out.cases_run = ran;
  return results;
}

// The plugin a device id belongs to (`opencl:0` -> `opencl`): one thread, one worker per plugin.
std::string plugin_of(const std::string& device_id) {
  return device_id.substr(0, device_id.find(':'));
}

// Node metering: each case of the plan on all its devices at once. One thread per device where the
// executor runs a plugin's devices at once (a worker process each), else one per plugin (its devices one
// after another); all threads wait on a barrier and are released together. Each device's window (steady-clock
// seconds since the run began) is recorded, and each case's overlap: the time all its devices ran together
// over the time any ran. Results are journaled in plan order once the case has finished on every device.
std::vector<CaseResult> execute_plan_concurrent(const RunOptions& options, const profile::Profile& prof,
                                                bool devices_at_once, const std::vector<PlannedCase>& plan,
                                                ResumedResults* done, CaseExecutor& executor,
                                                Journal& journal, const nlohmann::json& locality,
                                                uint64_t seed, RunOutcome& out, nlohmann::json& concurrency) {
  std::vector<CaseResult> results;
  results.reserve(plan.size());
  const auto run_start = SteadyClock::now();
  concurrency = {{"cases", nlohmann::json::array()}};
  std::map<std::string, std::vector<const PlannedCase*>> by_case;
  for (const auto& p : plan) by_case[p.spec->id].push_back(&p);
  int index = 0;
  int ran = 0;
  for (const auto& spec : prof.cases) {
    const std::string& case_id = spec.id;
    if (spec.workload == "collective") continue;
    if (options.before_case) options.before_case(case_id);
    std::vector<const PlannedCase*> to_run;
    std::vector<CaseResult> case_results;
    for (const PlannedCase* p : by_case[case_id]) {
      if (done != nullptr)
        if (auto r = take_done(*p, *done)) {
          results.push_back(std::move(*r));
          ++out.cases_resumed;
          continue;
        }
      bool present = false;
      for (const auto& e : executor.devices())
        if (e.id == p->device->id) present = true;
      if (present)
        to_run.push_back(p);
      else
        case_results.push_back(not_run(*p));
    }
    // A lane per device (or per plugin, its devices in plan order), or one lane for a sequential run.
    const bool per_device = executor.runs_devices_concurrently();
    std::map<std::string, std::vector<size_t>> lanes;
    for (size_t i = 0; i < to_run.size(); ++i) {
      const std::string& id = to_run[i]->device->id;
      lanes[!devices_at_once ? std::string() : per_device ? id : plugin_of(id)].push_back(i);
    }
    std::vector<CaseResult> lane_results(to_run.size());
    std::vector<std::pair<double, double>> windows(to_run.size());
    if (options.progress && !to_run.empty())
      options.progress(Progress{index + 1, static_cast<int>(plan.size()),
                                fmt::format("{} devices at once", to_run.size()), case_id,
                                seconds_since(run_start), -1, nullptr});
    std::barrier start_together(static_cast<std::ptrdiff_t>(std::max<size_t>(1, lanes.size())));
    std::vector<std::thread> threads;
    for (const auto& [plugin, members] : lanes)
      threads.emplace_back([&, members = members] {
        start_together.arrive_and_wait();
        for (size_t i : members) {
          const DeviceFacts& d = *to_run[i]->device;
          std::optional<topology::Locality> bind;
          if (locality.contains(d.id)) bind = locality[d.id].get<topology::Locality>();
          const double begin = seconds_since(run_start);
          lane_results[i] = executor.run_case(d, *to_run[i]->spec, seed, bind);
          windows[i] = {begin, seconds_since(run_start)};
        }
      });
    for (auto& t : threads) t.join();
    nlohmann::json record = {{"case", case_id}, {"devices", nlohmann::json::object()}};
    for (size_t i = 0; i < to_run.size(); ++i) {
      record["devices"][to_run[i]->device->id] = {{"start_s", windows[i].first},
                                                  {"end_s", windows[i].second}};
      case_results.push_back(std::move(lane_results[i]));
    }
    if (devices_at_once && !to_run.empty()) {
      // Overlap over the lanes: the time every lane was running the case over the time any was (where a
      // lane is a plugin, its devices run in turn inside its window).
      double first_start = 0, last_start = 0, first_end = 0, last_end = 0;
      bool first = true;
      for (const auto& [plugin, members] : lanes) {
        const double begin = windows[members.front()].first, end = windows[members.back()].second;
        first_start = first ? begin : std::min(first_start, begin);
        last_start = first ? begin : std::max(last_start, begin);
        first_end = first ? end : std::min(first_end, end);
        last_end = first ? end : std::max(last_end, end);
        first = false;
      }
      const double span = last_end - first_start;
      record["overlap_fraction"] = span > 0 ? std::max(0.0, first_end - last_start) / span : 0.0;
      concurrency["cases"].push_back(std::move(record));
    }
    for (auto& w : executor.take_warnings()) out.warnings.push_back(std::move(w));
    for (auto& r : case_results) {
      ++index;
      ++ran;
      if (auto st = journal.append(r); !st) out.warnings.push_back(st.error().message);
      results.push_back(std::move(r));
      if (options.progress) {
        Progress progress{index,          static_cast<int>(plan.size()), results.back().device,
                          case_id,        seconds_since(run_start),      -1,
                          &results.back()};
        options.progress(progress);
      }
    }
  }
  out.cases_run = ran;
  return results;
}

}  // namespace

Result<RunOutcome> execute_run(const RunOptions& options, CaseExecutor& executor,
                               const topology::Topology* topology) {
  RunOutcome out;
  // Resume: what the journal holds.
  std::optional<Resumed> resumed;
  if (!options.resume_dir.empty()) {
    auto r = read_for_resume((fs::path(options.resume_dir) / "journal.jsonl").string());
    CMETER_TRY(r);
    resumed = std::move(r).value();
  }
  Resumed* resuming = resumed ? &*resumed : nullptr;

  // Plan: profile x devices.
  auto prof = load_run_profile(options, resuming);
  CMETER_TRY(prof);
  const std::string selector =
      resuming ? resuming->run.value("device_selector", std::string("*")) : options.device_selector;
  auto choice = select_devices(selector, executor.devices(), resuming);
  CMETER_TRY(choice);
  for (auto& w : choice->warnings) out.warnings.push_back(std::move(w));
  if (!resuming) {
    auto notes = attach_declared_specs(options, choice->selected);
    CMETER_TRY(notes);
  }
  const std::vector<DeviceFacts>& selected = choice->selected;

  // How the devices run: asked, or as the profile declares; a resumed run keeps the mode it started with
  // (runs journaled before execution_mode existed said only whether they were concurrent).
  std::string mode = options.execution.value_or(prof->execution);
  if (resuming) {
    const nlohmann::json& settings = resuming->run["settings"];
    mode = settings.value("execution_mode",
                          std::string(settings.value("concurrent", false) ? "concurrent" : "sequential"));
  }
  if (mode != "sequential" && mode != "concurrent" && mode != "both")
    return make_error(ErrorCode::kInvalidArgument,
                      "execution '{}' is not one of sequential, concurrent, both", mode);
  const bool concurrent = mode != "sequential";  // some pass runs every device at once
  const bool both = mode == "both";
  if (concurrent && !executor.runs_plugins_concurrently())
    return make_error(
        ErrorCode::kInvalidArgument,
        "a concurrent run (--concurrent or --both, or a profile with `execution: concurrent` or `both`) "
        "needs a worker process per plugin; it cannot run --in-process (use --sequential)");

  // Plan: the profile's cases on each device; a `both` run plans them again, suffixed, for its
  // concurrent pass.
  const std::vector<PlannedCase> plan = plan_cases(selected, *prof);
  const profile::Profile second_profile = both ? concurrent_pass_profile(*prof) : profile::Profile{};
  const std::vector<PlannedCase> second_plan =
      both ? plan_cases(selected, second_profile) : std::vector<PlannedCase>{};
  std::vector<PlannedCase> all_planned = plan;
  all_planned.insert(all_planned.end(), second_plan.begin(), second_plan.end());
  if (resuming) CMETER_TRY(recheck_resumed(*resuming, all_planned, executor.devices()));
  if (options.max_planned_cases > 0 && static_cast<int64_t>(all_planned.size()) > options.max_planned_cases)
    return make_error(
        ErrorCode::kInvalidArgument,
        "{}: {} planned cases ({} cases x {} devices{}) exceed the cap of {}; narrow the sweeps or "
        "--device, or raise the cap with --max-cases",
        prof->path, all_planned.size(), prof->cases.size(), selected.size(),
        both ? ", twice: alone and at once" : "", options.max_planned_cases);

  const std::string at_once_text =
      executor.runs_devices_concurrently()
          ? "all devices at once (one thread per device, released together by a barrier)"
          : "all devices at once (one thread per plugin, released together by a barrier; a plugin's own "
            "devices one after another)";
  const std::string workers = executor.runs_devices_concurrently()
                                  ? "worker processes per plugin (one per device running at once)"
                                  : "worker process per plugin";
  const std::string execution =
      !concurrent ? executor.execution()
      : both      ? fmt::format(
                        "{}, watchdog per case, each case on each device alone (devices one after "
                             "another), then on {}",
                        workers, at_once_text)
             : fmt::format("{}, watchdog per case, each case on {}", workers, at_once_text);
  auto opened = open_run(options, *prof, selector, selected, all_planned, execution, mode, resuming, out);
  CMETER_TRY(opened);
  nlohmann::json run = std::move(opened->run);
  out.report_path = out.run_dir + "/report.json";
  Located located = locate_devices(topology, selected, out.warnings);

  // Execute.
  const auto run_start = SteadyClock::now();
  nlohmann::json concurrency;
  for (const auto& c : prof->cases)
    if (c.workload == "collective" && !options.before_case)
      out.warnings.push_back(
          fmt::format("case {} (collective) runs only in a cluster run (cmeter run --mpi); skipped", c.id));
  // One pass over a plan; its progress numbered within the whole run (a `both` run has two passes).
  int cases_run = 0;
  auto run_pass = [&](const profile::Profile& pass_profile, const std::vector<PlannedCase>& pass_plan,
                      bool at_once, int index_offset) {
    RunOptions pass_options = options;
    if (options.progress)
      pass_options.progress = [&options, index_offset,
                               total = static_cast<int>(all_planned.size())](const Progress& p) {
        Progress numbered = p;
        numbered.index += index_offset;
        numbered.total = total;
        options.progress(numbered);
      };
    // A worker per device before the first case at once, so that case starts on every device together.
    if (at_once && executor.runs_devices_concurrently()) {
      executor.prepare_devices_at_once();
      for (auto& w : executor.take_warnings()) out.warnings.push_back(std::move(w));
    }
    ResumedResults* done = resuming ? &resuming->done : nullptr;
    std::vector<CaseResult> pass_results =
        at_once || options.before_case
            ? execute_plan_concurrent(pass_options, pass_profile, at_once, pass_plan, done, executor,
                                      *opened->journal, located.locality, opened->seed, out, concurrency)
            : execute_plan(pass_options, pass_plan, done, executor, *opened->journal, located.locality,
                           opened->seed, out);
    cases_run += out.cases_run;
    return pass_results;
  };
  std::vector<CaseResult> results = run_pass(*prof, plan, concurrent && !both, 0);
  if (both) {
    std::vector<CaseResult> at_once =
        run_pass(second_profile, second_plan, true, static_cast<int>(plan.size()));
    results.insert(results.end(), std::make_move_iterator(at_once.begin()),
                   std::make_move_iterator(at_once.end()));
  }
  out.cases_run = cases_run;
  if (concurrent) run["settings"]["concurrency"] = concurrency;
  run["settings"]["journal_chain"] = opened->journal->chain_head();
  if (resuming) {
    // Which results came from the resumed journal (every one re-checked by recheck_resumed).
    nlohmann::json from_journal = nlohmann::json::array();
    for (const auto& [key, line] : resuming->done_lines) from_journal.push_back({key.first, key.second});
    run["settings"]["resumed_results"] = from_journal;
    nlohmann::json resumes = nlohmann::json::array();
    for (const auto& e : resuming->events)
      if (e.value("type", "") == "resume")
        resumes.push_back({{"utc", e.value("utc", "")},
                           {"cases_done_before", json_fields::read_int(e, "cases_done_before")}});
    run["settings"]["resumed"] = resumes;
  }
  run["end_utc"] = utc_now_iso8601();
  run["wall_s"] = seconds_since(run_start);
  relate_decode_to_stream(results);
  if (options.pue) {
    run["settings"]["pue"] = {
        {"value", *options.pue},
        {"kind", "declared facility factor (power usage effectiveness), not a measurement"}};
    apply_pue(*options.pue, results);
  }

  // Summarise.
  ReportParts parts;
  parts.run = run;
  parts.topology = located.topology;
  parts.plugins = executor.plugins();
  parts.devices = selected;
  parts.results = results;
  // Each device's headlines: from its results alone (a `both` run's concurrent pass is summarised in
  // the report's node scaling, core/report/report.cpp).
  parts.summaries = summarize(results, selected, both ? SummaryPass::kAlone : SummaryPass::kAll);
  parts.criteria = evaluate_criteria(prof->criteria, results, parts.summaries, selected);
  parts.concurrent = concurrent;
  parts.both = both;

  // Report.
  out.report = build_report(parts);
  CMETER_TRY(write_file_atomically(
      out.report_path, out.report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  out.exit_code = exit_code_for(results, parts.criteria.verdict);
  return out;
}

}  // namespace cmeter::run
