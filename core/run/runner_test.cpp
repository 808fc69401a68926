// Runner tests with a scripted executor (no plugins): the plan, and resume after an interruption -
// finished cases are neither lost nor run again, the torn case runs again, the report keeps its shape,
// and a changed profile is refused.
#include "core/run/runner.h"

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <doctest/doctest.h>

#include "core/report/journal.h"

namespace cmeter::run {
namespace {
namespace fs = std::filesystem;

constexpr const char* kProfile = R"(schema: 1
name: resume-test
version: 1.0.0
stats: {min_s: 0.05, max_s: 0.1, timeout_s: 5}
cases:
  - id: a
    workload: gemm
    params: {m: 8, n: 8, k: 8}
  - id: b
    workload: stream
  - id: c
    workload: launch_latency
    devices: "fake:1"
)";

// Runs nothing; answers each case with an ok result stamped by its call number.
class ScriptedExecutor : public CaseExecutor {
 public:
  ScriptedExecutor() {
    devices_ = {{"fake:0", {{"name", std::string("zero")}}}, {"fake:1", {{"name", std::string("one")}}}};
  }
  const std::vector<PluginRow>& plugins() const override { return rows_; }
  const std::vector<DeviceFacts>& devices() const override { return devices_; }
  CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                      const std::optional<topology::Locality>&) override {
    calls.push_back(device.id + "/" + spec.id);
    CaseResult r;
    r.case_id = spec.id;
    r.workload = spec.workload;
    r.device = device.id;
    r.params = spec.params;
    r.status = timeouts.count(calls.back()) ? CaseStatus::kTimeout : CaseStatus::kOk;
    if (r.status == CaseStatus::kOk) {
      Validation v;
      v.method = "scripted";
      v.passed = true;
      r.validation = v;
    }
    r.started_utc = fmt::format("call {} seed {}", calls.size(), seed);
    return r;
  }
  std::string execution() const override { return "scripted"; }
  std::vector<std::string> calls;
  std::set<std::string> timeouts;  // "device/case" answered as a timeout (a hung plugin)

 private:
  std::vector<PluginRow> rows_;
  std::vector<DeviceFacts> devices_;
};

std::vector<std::string> keys_of(const nlohmann::json& j) {
  std::vector<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
  return k;
}

}  // namespace

TEST_CASE("runner: --pue scales energy, power and per-watt into telemetry.facility, device figures kept") {
  std::vector<CaseResult> results(3);
  results[0].telemetry = {{"available", true},
                          {"energy_j", 10.0},
                          {"avg_power_w", 100.0},
                          {"energy_per_call_j", 0.5},
                          {"per_watt", {{"metric", "flops_per_s"}, {"value", 4e9}, {"unit", "FLOP/J"}}}};
  results[1].telemetry = {{"available", false}, {"reason", "no energy source: none"}};
  results[2].telemetry = nullptr;
  apply_pue(1.25, results);
  const auto& f = results[0].telemetry["facility"];
  CHECK(f["energy_j"].get<double>() == doctest::Approx(12.5));
  CHECK(f["avg_power_w"].get<double>() == doctest::Approx(125));
  CHECK(f["per_watt"]["value"].get<double>() == doctest::Approx(3.2e9));
  CHECK(results[0].telemetry["energy_j"].get<double>() == doctest::Approx(10));  // the device's own stays
  CHECK(!results[1].telemetry.contains("facility"));
  CHECK(results[2].telemetry.is_null());
}

TEST_CASE("runner: resume runs only the unfinished cases and keeps the report's shape") {
  fs::path dir = fs::temp_directory_path() / fmt::format("cmeter-runner-test-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string profile_path = (dir / "p.yaml").string();
  std::ofstream(profile_path) << kProfile;

  RunOptions options;
  options.profile = profile_path;
  options.output_dir = (dir / "out").string();
  options.seed = 77;
  ScriptedExecutor first;
  auto full = execute_run(options, first, nullptr);
  REQUIRE_MESSAGE(full.ok(), (full.ok() ? "" : full.error().message));
  const std::vector<std::string> plan = {"fake:0/a", "fake:0/b", "fake:1/a", "fake:1/b", "fake:1/c"};
  CHECK(first.calls == plan);
  CHECK(full->exit_code == kExitOk);
  REQUIRE(full->report["results"].size() == 5);

  // The parent was killed while writing the third result: two whole lines and a torn one.
  std::ifstream in(full->journal_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  in.close();
  REQUIRE(lines.size() == 6);
  {
    std::ofstream out(full->journal_path, std::ios::trunc);
    out << lines[0] << "\n" << lines[1] << "\n" << lines[2] << "\n" << lines[3].substr(0, 25);
  }
  fs::remove(full->report_path);

  RunOptions resume;
  resume.resume_dir = full->run_dir;
  resume.argv = {"cmeter", "run", "--resume", full->run_dir};
  ScriptedExecutor second;
  auto resumed = execute_run(resume, second, nullptr);
  REQUIRE_MESSAGE(resumed.ok(), (resumed.ok() ? "" : resumed.error().message));
  CHECK(second.calls == std::vector<std::string>{"fake:1/a", "fake:1/b", "fake:1/c"});
  CHECK(resumed->cases_resumed == 2);
  CHECK(resumed->cases_run == 3);
  CHECK(resumed->run_dir == full->run_dir);
  CHECK(fs::exists(resumed->report_path));
  const auto& before = full->report;
  const auto& after = resumed->report;
  CHECK(keys_of(after) == keys_of(before));
  REQUIRE(after["results"].size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(after["results"][i]["device"] == before["results"][i]["device"]);
    CHECK(after["results"][i]["case_id"] == before["results"][i]["case_id"]);
    CHECK(keys_of(after["results"][i]) == keys_of(before["results"][i]));
  }
  // Finished results are the journal's, untouched; the seed is the run's.
  CHECK(after["results"][0]["started_utc"] == "call 1 seed 77");
  CHECK(after["results"][1]["started_utc"] == "call 2 seed 77");
  CHECK(after["results"][2]["started_utc"] == "call 1 seed 77");
  CHECK(after["run"]["id"] == before["run"]["id"]);
  CHECK(after["run"]["start_utc"] == before["run"]["start_utc"]);
  REQUIRE(after["run"]["settings"]["resumed"].size() == 1);
  CHECK(after["run"]["settings"]["resumed"][0]["cases_done_before"] == 2);
  bool warned_torn = false;
  for (const auto& w : resumed->warnings)
    warned_torn = warned_torn || w.find("torn last line") != std::string::npos;
  CHECK(warned_torn);
  auto journal = read_journal(resumed->journal_path);
  REQUIRE(journal.ok());
  CHECK(journal->results.size() == 5);
  CHECK(journal->skipped_lines == 0);

  // Resuming a finished run runs nothing and rebuilds the same results.
  ScriptedExecutor third;
  auto again = execute_run(resume, third, nullptr);
  REQUIRE(again.ok());
  CHECK(third.calls.empty());
  CHECK(again->cases_resumed == 5);
  CHECK(again->report["results"] == after["results"]);
  CHECK(again->report["run"]["settings"]["resumed"].size() == 2);

  // A profile edited since the run started is refused.
  std::ofstream(profile_path, std::ios::app) << "# edited\n";
  ScriptedExecutor fourth;
  auto changed = execute_run(resume, fourth, nullptr);
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.error().message.find("changed since the run started") != std::string::npos);
  CHECK(fourth.calls.empty());

  // Not a run directory.
  resume.resume_dir = dir.string();
  auto nothing = execute_run(resume, fourth, nullptr);
  REQUIRE_FALSE(nothing.ok());
  CHECK(nothing.error().message.find("journal.jsonl") != std::string::npos);
  fs::remove_all(dir);
}

// A profile of `n` cases of one kind, written to a fresh directory; the options to run it there.
RunOptions options_for_cases(const std::string& label, int n) {
  fs::path dir = fs::temp_directory_path() / fmt::format("cmeter-runner-{}-{}", label, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string text = "schema: 1\nname: hangs\nversion: 1.0.0\nstats: {timeout_s: 5}\ncases:\n";
  for (int i = 0; i < n; ++i) text += fmt::format("  - id: c{}\n    workload: launch_latency\n", i);
  std::ofstream(dir / "p.yaml") << text;
  RunOptions options;
  options.profile = (dir / "p.yaml").string();
  options.output_dir = (dir / "out").string();
  options.seed = 1;
  options.device_selector = "fake:0";
  return options;
}

TEST_CASE("runner: a device that hangs twice in a row has its remaining cases skipped as timeouts") {
  RunOptions options = options_for_cases("hangs", 5);
  ScriptedExecutor hanging;
  hanging.timeouts = {"fake:0/c0", "fake:0/c1", "fake:0/c2", "fake:0/c3", "fake:0/c4"};
  auto out = execute_run(options, hanging, nullptr);
  REQUIRE(out.ok());
  CHECK(hanging.calls == std::vector<std::string>{"fake:0/c0", "fake:0/c1"});  // two watchdogs, not five
  const auto& results = out->report["results"];
  REQUIRE(results.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(results[i]["status"] == "timeout");
  const std::string reason = results[2]["reason"];
  CHECK(reason.find("skipped after 2 timeouts in a row on fake:0 (c0, c1)") != std::string::npos);
  CHECK(out->exit_code == kExitIncomplete);

  // A success in between resets the count; --max-hangs 0 never skips.
  ScriptedExecutor flaky;
  flaky.timeouts = {"fake:0/c0", "fake:0/c2", "fake:0/c3"};
  options = options_for_cases("flaky", 5);
  REQUIRE(execute_run(options, flaky, nullptr).ok());
  CHECK(flaky.calls.size() == 4);  // c0 hang, c1 ok, c2 and c3 hang, c4 skipped
  ScriptedExecutor patient;
  patient.timeouts = hanging.timeouts;
  options = options_for_cases("patient", 5);
  options.max_consecutive_timeouts = 0;
  REQUIRE(execute_run(options, patient, nullptr).ok());
  CHECK(patient.calls.size() == 5);
}

TEST_CASE("runner: more planned cases than the cap is refused before anything runs, naming the profile") {
  RunOptions options = options_for_cases("cap", 4);
  options.device_selector = "*";  // 4 cases x 2 devices = 8
  options.max_planned_cases = 7;
  ScriptedExecutor executor;
  auto out = execute_run(options, executor, nullptr);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message.find("8 planned cases (4 cases x 2 devices) exceed the cap of 7") !=
        std::string::npos);
  CHECK(out.error().message.find("p.yaml") != std::string::npos);
  CHECK(executor.calls.empty());
  options.max_planned_cases = 8;
  CHECK(execute_run(options, executor, nullptr).ok());
}

// Appends `r` to the journal of a finished run (a well-chained line: what a forger with the code could
// write), then resumes that run; the resume's error message, or "" when it was accepted.
std::string resume_with_appended(const RunOutcome& run, const CaseResult& r) {
  auto contents = read_journal(run.journal_path);
  REQUIRE(contents.ok());
  {
    auto j = Journal::open_append(run.journal_path, contents->chain_head);
    REQUIRE(j.ok());
    REQUIRE(j->append(r).ok());
  }
  RunOptions resume;
  resume.resume_dir = run.run_dir;
  ScriptedExecutor again;
  auto out = execute_run(resume, again, nullptr);
  return out.ok() ? "" : out.error().message;
}

TEST_CASE(
    "runner: a resumed journal is re-checked; duplicates, unplanned, unvalidated and unbacked results are "
    "refused") {
  auto fresh_run = [](const std::string& label) {
    RunOptions options = options_for_cases(label, 2);
    ScriptedExecutor executor;
    auto out = execute_run(options, executor, nullptr);
    REQUIRE(out.ok());
    CHECK(out->report["run"]["settings"]["journal_chain"].is_string());
    return std::move(out).value();
  };
  auto scripted = [](const std::string& case_id) {
    CaseResult r;
    r.case_id = case_id;
    r.workload = "launch_latency";
    r.device = "fake:0";
    r.status = CaseStatus::kOk;
    Validation v;
    v.passed = true;
    r.validation = v;
    return r;
  };
  RunOutcome run = fresh_run("dup");
  std::string error = resume_with_appended(run, scripted("c1"));
  CHECK(error.find("journal.jsonl:4: a second result for case c1 on fake:0 (the first is on line 3)") !=
        std::string::npos);
  run = fresh_run("unplanned");
  error = resume_with_appended(run, scripted("zz"));
  CHECK(error.find("journal.jsonl:4: result zz on fake:0: not a case this run plans") != std::string::npos);
  // A result that says ok without a passed validation: the first line rewritten through the API.
  run = fresh_run("unvalidated");
  {
    auto contents = read_journal(run.journal_path);
    REQUIRE(contents.ok());
    std::ifstream in(run.journal_path);
    std::string header;
    std::getline(in, header);
    in.close();
    auto j = Journal::create(run.journal_path, nlohmann::json::parse(header));
    REQUIRE(j.ok());
    CaseResult bare = contents->results[0];
    bare.validation.reset();
    REQUIRE(j->append(bare).ok());
  }
  RunOptions resume;
  resume.resume_dir = run.run_dir;
  ScriptedExecutor again;
  auto out = execute_run(resume, again, nullptr);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message.find(
            "journal.jsonl:2: result c0 on fake:0: status ok without a passed validation") !=
        std::string::npos);
  // A result recorded against a peak the live device does not declare.
  run = fresh_run("peak");
  {
    std::ifstream in(run.journal_path);
    std::string header;
    std::getline(in, header);
    in.close();
    auto j = Journal::create(run.journal_path, nlohmann::json::parse(header));
    REQUIRE(j.ok());
    CaseResult fast = scripted("c0");
    fast.peak = 1e12;
    fast.peak_key = "peak.flops.f32";
    REQUIRE(j->append(fast).ok());
  }
  ScriptedExecutor third;
  resume.resume_dir = run.run_dir;
  out = execute_run(resume, third, nullptr);
  REQUIRE_FALSE(out.ok());
  CHECK(
      out.error().message.find("recorded against peak.flops.f32 = 1e+12, but the device declares none now") !=
      std::string::npos);
}

TEST_CASE("runner: the watchdog deadline is the profile's timeout_s, else scaled by the case's budget") {
  profile::StatsSettings s;
  s.timeout_s = 12;
  CHECK(case_timeout_s(s) == 12);
  s.timeout_s = 0;
  s.warmup_min_s = 0.05;
  s.max_s = 2;
  CHECK(case_timeout_s(s) == doctest::Approx(kTimeoutBaseS + kTimeoutBudgetFactor * 2.05));
  s.max_s = 600;
  CHECK(case_timeout_s(s) > 2400);
  s.max_s = 0;
  s.warmup_min_s = 0;
  CHECK(case_timeout_s(s) == kTimeoutMinS);
}

}  // namespace cmeter::run

namespace cmeter::run {
namespace {

profile::Case case_for(const std::string& id, const std::string& devices) {
  profile::Case c;
  c.id = id;
  c.workload = "gemm";
  c.devices = devices;
  return c;
}

CaseResult result_for(const std::string& device, const std::string& id, CaseStatus status = CaseStatus::kOk) {
  CaseResult r;
  r.device = device;
  r.case_id = id;
  r.status = status;
  return r;
}

TEST_CASE("runner steps: plan is devices x matching cases, in order") {
  profile::Profile prof;
  prof.cases = {case_for("a", "*"), case_for("b", "cpu:*"), case_for("c", "opencl:0")};
  std::vector<DeviceFacts> devices{{"cpu:0", {}}, {"opencl:0", {}}};
  auto plan = plan_cases(devices, prof);
  std::vector<std::string> got;
  for (const auto& p : plan) got.push_back(p.device->id + "/" + p.spec->id);
  CHECK(got == std::vector<std::string>{"cpu:0/a", "cpu:0/b", "opencl:0/a", "opencl:0/c"});
  CHECK(plan_cases({}, prof).empty());
}

TEST_CASE("runner steps: device selection, fresh and on resume") {
  std::vector<DeviceFacts> found{{"cpu:0", {}}, {"opencl:0", {}}};
  auto cpu = select_devices("cpu:*", found, nullptr);
  REQUIRE(cpu);
  REQUIRE(cpu->selected.size() == 1);
  CHECK(cpu->selected[0].id == "cpu:0");
  auto none = select_devices("cuda:*", found, nullptr);
  REQUIRE_FALSE(none);
  CHECK(none.error().message == "no device matches '--device cuda:*'; devices found: cpu:0, opencl:0");
  // On resume: the run's devices as recorded (attributes included), whatever the selector; a device
  // gone since is kept, with a warning.
  Resumed resumed;
  resumed.devices = {{"opencl:0", {{"name", std::string("then")}}}, {"cuda:0", {}}};
  auto again = select_devices("*", found, &resumed);
  REQUIRE(again);
  REQUIRE(again->selected.size() == 2);
  CHECK(get_string(again->selected[0].attributes, "name") == "then");
  CHECK(again->selected[1].id == "cuda:0");
  REQUIRE(again->warnings.size() == 1);
  CHECK(again->warnings[0].find("cuda:0 was in the run but is not found now") == 0);
}

TEST_CASE("runner steps: resume matching takes each finished case once, by device and case id") {
  profile::Profile prof;
  prof.cases = {case_for("a", "*"), case_for("b", "*")};
  std::vector<DeviceFacts> devices{{"cpu:0", {}}, {"opencl:0", {}}};
  auto plan = plan_cases(devices, prof);
  ResumedResults done;
  done[{"cpu:0", "b"}] = result_for("cpu:0", "b");
  done[{"opencl:0", "a"}] = result_for("opencl:0", "a");
  done[{"cuda:0", "a"}] = result_for("cuda:0", "a");  // not in the plan
  CHECK(count_done(plan, done) == 2);
  CHECK_FALSE(take_done(plan[0], done));  // cpu:0/a still to run
  auto b = take_done(plan[1], done);
  REQUIRE(b);
  CHECK(b->case_id == "b");
  CHECK_FALSE(take_done(plan[1], done));  // taken once
  CHECK(count_done(plan, done) == 1);
  REQUIRE(done.size() == 2);  // what is left over is not lost
}

TEST_CASE("runner steps: exit code from results and verdict") {
  std::vector<CaseResult> fine{result_for("d", "a"), result_for("d", "b", CaseStatus::kNoisy),
                               result_for("d", "c", CaseStatus::kUnsupported)};
  CHECK(exit_code_for(fine, "") == kExitOk);
  CHECK(exit_code_for(fine, "PASS") == kExitOk);
  CHECK(exit_code_for(fine, "FAIL") == kExitFail);
  CHECK(exit_code_for(fine, "INCOMPLETE") == kExitIncomplete);
  auto crashed = fine;
  crashed.push_back(result_for("d", "e", CaseStatus::kCrashed));
  CHECK(exit_code_for(crashed, "PASS") == kExitIncomplete);
  CHECK(exit_code_for(crashed, "FAIL") == kExitFail);
}

}  // namespace
}  // namespace cmeter::run

namespace cmeter::run {
namespace {

// Two plugins (a, b) with one device each, and a second device on a: counts how many cases are inside
// run_case at once.
class OverlapExecutor : public CaseExecutor {
 public:
  OverlapExecutor() { devices_ = {{"a:0", {}}, {"a:1", {}}, {"b:0", {}}}; }
  const std::vector<PluginRow>& plugins() const override { return rows_; }
  const std::vector<DeviceFacts>& devices() const override { return devices_; }
  CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t,
                      const std::optional<topology::Locality>&) override {
    const int now = ++inside;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    --inside;
    CaseResult r;
    r.case_id = spec.id;
    r.workload = spec.workload;
    r.device = device.id;
    r.status = CaseStatus::kFailed;
    r.reason = "scripted";
    return r;
  }
  std::string execution() const override { return "overlap"; }
  bool runs_plugins_concurrently() const override { return concurrent_ok; }
  bool runs_devices_concurrently() const override { return devices_ok; }
  std::atomic<int> inside{0}, most{0};
  bool concurrent_ok = true;
  bool devices_ok = false;

 private:
  std::vector<PluginRow> rows_;
  std::vector<DeviceFacts> devices_;
};

}  // namespace

TEST_CASE(
    "runner: a concurrent run starts each case on every plugin at once, a plugin's devices in turn "
    "unless the executor runs them at once") {
  fs::path dir = fs::temp_directory_path() / fmt::format("cmeter-runner-conc-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string profile_path = (dir / "p.yaml").string();
  std::ofstream(profile_path)
      << "schema: 1\nname: node\nversion: 1.0.0\nexecution: concurrent\n"
         "cases:\n  - id: s\n    workload: stream\n  - id: l\n    workload: launch_latency\n";
  RunOptions options;
  options.profile = profile_path;
  options.output_dir = (dir / "out").string();
  OverlapExecutor executor;
  auto run = execute_run(options, executor, nullptr);  // concurrent: the profile says so
  REQUIRE_MESSAGE(run.ok(), (run.ok() ? "" : run.error().message));
  CHECK(executor.most.load() == 2);  // a and b together, never a:0 with a:1
  const auto& settings = run->report["run"]["settings"];
  CHECK(settings["concurrent"] == true);
  REQUIRE(settings["concurrency"]["cases"].size() == 2);
  const auto& first = settings["concurrency"]["cases"][0];
  CHECK(first["case"] == "s");
  CHECK(first["devices"].size() == 3);
  // a runs two devices in turn (~120 ms), b one (~60 ms): they overlap for about half the span.
  CHECK(first["overlap_fraction"].get<double>() > 0.2);
  CHECK(first["overlap_fraction"].get<double>() < 0.8);
  CHECK(run->report["results"].size() == 6);

  // --sequential overrides the profile: one case at a time.
  OverlapExecutor one_by_one;
  options.execution = "sequential";
  REQUIRE(execute_run(options, one_by_one, nullptr).ok());
  CHECK(one_by_one.most.load() == 1);

  // An executor that runs a plugin's devices at once (a worker each): all three together, overlapping
  // for most of the span (a plugin's devices in turn give ~0.5 here), and the report says so.
  OverlapExecutor per_device;
  per_device.devices_ok = true;
  options.execution = "concurrent";
  auto together = execute_run(options, per_device, nullptr);
  REQUIRE(together.ok());
  CHECK(per_device.most.load() == 3);
  const auto& all = together->report["run"]["settings"]["concurrency"]["cases"][0];
  CHECK(all["overlap_fraction"].get<double>() > 0.6);
  CHECK(together->report["run"]["settings"]["execution"].get<std::string>().find("one thread per device") !=
        std::string::npos);

  // An executor that cannot run plugins at once (in-process) refuses a concurrent run.
  OverlapExecutor in_process;
  in_process.concurrent_ok = false;
  options.execution = "concurrent";
  auto refused = execute_run(options, in_process, nullptr);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("--in-process") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace cmeter::run

namespace cmeter::run {
namespace {

// Two plugins with a device each, answering an FP32 GEMM case with 100 GFLOP/s alone and 80 GFLOP/s in
// the concurrent pass (its case ids end in kConcurrentPassSuffix); records how many ran at once.
class ScalingExecutor : public CaseExecutor {
 public:
  ScalingExecutor() { devices_ = {{"a:0", {}}, {"b:0", {}}}; }
  const std::vector<PluginRow>& plugins() const override { return rows_; }
  const std::vector<DeviceFacts>& devices() const override { return devices_; }
  CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t,
                      const std::optional<topology::Locality>&) override {
    const int now = ++inside;
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    {
      std::lock_guard<std::mutex> lock(mutex);
      calls.push_back(device.id + "/" + spec.id);
      most_at_once[spec.id] = std::max(most_at_once[spec.id], now);
    }
    --inside;
    CaseResult r;
    r.case_id = spec.id;
    r.workload = spec.workload;
    r.device = device.id;
    r.params = spec.params;
    r.params["dtype_a"] = std::string("f32");
    r.params["compute"] = std::string("f32");
    r.status = CaseStatus::kOk;
    Validation v;
    v.method = "scripted";
    v.passed = true;
    r.validation = v;
    Metric m{"flops_per_s", "FLOP/s", true, {}};
    m.stats.n = 5;
    m.stats.median = in_concurrent_pass(spec.id) ? 80e9 : 100e9;
    m.stats.ci_low = m.stats.ci_high = m.stats.median;
    r.metrics.push_back(m);
    return r;
  }
  std::string execution() const override { return "scaling"; }
  bool runs_plugins_concurrently() const override { return true; }
  std::atomic<int> inside{0};
  std::mutex mutex;
  std::vector<std::string> calls;
  std::map<std::string, int> most_at_once;  // case id -> most devices inside it at once

 private:
  std::vector<PluginRow> rows_;
  std::vector<DeviceFacts> devices_;
};

}  // namespace

TEST_CASE(
    "runner: --both runs each case on each device alone, then on all at once; the report sets them side "
    "by side, and a resumed run keeps the mode") {
  fs::path dir = fs::temp_directory_path() / fmt::format("cmeter-runner-both-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string profile_path = (dir / "p.yaml").string();
  std::ofstream(profile_path) << "schema: 1\nname: node\nversion: 1.0.0\nexecution: both\n"
                                 "cases:\n  - id: g\n    workload: gemm\n    params: {m: 8, n: 8, k: 8}\n";
  RunOptions options;
  options.profile = profile_path;
  options.output_dir = (dir / "out").string();
  ScalingExecutor executor;
  auto run = execute_run(options, executor, nullptr);  // both: the profile says so
  REQUIRE_MESSAGE(run.ok(), (run.ok() ? "" : run.error().message));
  // Alone first, one device at a time; then both devices together.
  REQUIRE(executor.calls.size() == 4);
  CHECK(executor.calls[0] == "a:0/g");
  CHECK(executor.calls[1] == "b:0/g");
  CHECK(executor.most_at_once["g"] == 1);
  CHECK(executor.most_at_once["g@concurrent"] == 2);
  const nlohmann::json& report = run->report;
  CHECK(report["run"]["settings"]["execution_mode"] == "both");
  CHECK(report["run"]["settings"]["planned_cases"] == 4);
  REQUIRE(report["results"].size() == 4);
  CHECK(report["results"][2]["case_id"] == "g@concurrent");
  // Each device's headline is its figure alone; the node total is the concurrent one.
  const nlohmann::json& summary = report["summary"];
  CHECK(summary["devices"][0]["metrics"]["fp32_flops_per_s"]["value"].get<double>() ==
        doctest::Approx(100e9));
  CHECK(summary["node_totals"]["fp32_flops_per_s"]["value"].get<double>() == doctest::Approx(160e9));
  const nlohmann::json& scaling = summary["node_scaling"];
  REQUIRE(scaling["totals"].size() == 1);
  CHECK(scaling["totals"][0]["alone"].get<double>() == doctest::Approx(200e9));
  CHECK(scaling["totals"][0]["at_once"].get<double>() == doctest::Approx(160e9));
  CHECK(scaling["totals"][0]["ratio"].get<double>() == doctest::Approx(0.8));
  REQUIRE(scaling["devices"].size() == 2);
  CHECK(scaling["devices"][1]["device"] == "b:0");
  CHECK(scaling["devices"][1]["at_once_case_id"] == "g@concurrent");
  CHECK(scaling["alone_node_totals"]["fp32_flops_per_s"]["value"].get<double>() == doctest::Approx(200e9));

  // Interrupted after the alone pass: the resumed run (asked for --sequential, which a resume ignores)
  // runs only the concurrent pass, at once, and the report is the same shape.
  std::ifstream in(run->journal_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  in.close();
  REQUIRE(lines.size() == 5);
  {
    std::ofstream out(run->journal_path, std::ios::trunc);
    out << lines[0] << "\n" << lines[1] << "\n" << lines[2] << "\n";
  }
  RunOptions resume;
  resume.resume_dir = run->run_dir;
  resume.execution = "sequential";
  ScalingExecutor second;
  auto resumed = execute_run(resume, second, nullptr);
  REQUIRE_MESSAGE(resumed.ok(), (resumed.ok() ? "" : resumed.error().message));
  CHECK(second.calls.size() == 2);
  CHECK(second.most_at_once["g@concurrent"] == 2);
  CHECK(resumed->report["results"].size() == 4);
  CHECK(resumed->report["summary"]["node_scaling"]["totals"][0]["ratio"].get<double>() ==
        doctest::Approx(0.8));
  fs::remove_all(dir);
}

}  // namespace cmeter::run
