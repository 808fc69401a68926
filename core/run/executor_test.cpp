// Tests of the two executors, the runner's seam to the plugins: the same cases run in process and in
// worker processes give the same verdicts; a failing case (bad parameters, a wrong kernel, a device
// that is not there, a plugin that crashes) is that case's status and reason, and the next case runs;
// and the watchdog's deadline comes from the case's settings.
#include "core/run/executor.h"
#include "tests/support/plugin_paths.h"

#include <chrono>
#include <filesystem>

#include <doctest/doctest.h>

namespace cmeter::run {
namespace {

using test_support::fault_plugin;
using test_support::test_plugin;

profile::Case make_case(const std::string& id, const std::string& workload,
                        std::map<std::string, profile::ParamValue> params) {
  profile::Case c;
  c.id = id;
  c.workload = workload;
  c.params = std::move(params);
  c.stats.warmup_min_runs = 1;
  c.stats.warmup_min_s = 0.01;
  c.stats.sample_min_s = 0.002;
  c.stats.min_samples = 5;
  c.stats.min_s = 0.05;
  c.stats.noise = 0.05;
  c.stats.max_s = 0.3;
  c.stats.timeout_s = 30;
  return c;
}

profile::Case gemm_case() {
  return make_case("gemm", "gemm", {{"m", int64_t{32}}, {"n", int64_t{24}}, {"k", int64_t{40}}});
}
profile::Case stream_case() {
  return make_case("stream", "stream",
                   {{"bytes_per_array", int64_t{1 << 20}}, {"kind", std::string("triad")}});
}

const DeviceFacts& device(const CaseExecutor& executor, const std::string& id) {
  for (const auto& d : executor.devices())
    if (d.id == id) return d;
  FAIL("no device " << id);
  return executor.devices().front();
}

bool ran_ok(const CaseResult& r) {
  return r.status == CaseStatus::kOk || r.status == CaseStatus::kNoisy;
}

// The cases every executor must get right, one after another on the same executor.
void check_failures_stay_with_their_case(CaseExecutor& executor) {
  const DeviceFacts& stub = device(executor, "stub:0");
  const DeviceFacts& wrong = device(executor, "wronggemm:0");

  CaseResult first = executor.run_case(stub, gemm_case(), 42, std::nullopt);
  CHECK_MESSAGE(ran_ok(first), first.reason);
  CHECK(first.case_id == "gemm");
  CHECK(first.device == "stub:0");
  REQUIRE(first.validation);
  CHECK(first.validation->passed);

  profile::Case bad = gemm_case();
  bad.params["no_such_param"] = int64_t{1};
  CaseResult rejected = executor.run_case(stub, bad, 42, std::nullopt);
  CHECK(rejected.status == CaseStatus::kFailed);
  CHECK(rejected.reason == "unknown parameter 'no_such_param'");

  CaseResult invalid = executor.run_case(wrong, gemm_case(), 42, std::nullopt);
  CHECK(invalid.status == CaseStatus::kInvalid);
  CHECK(invalid.reason.find("outside tolerance") != std::string::npos);

  CaseResult after = executor.run_case(stub, stream_case(), 42, std::nullopt);
  CHECK_MESSAGE(ran_ok(after), after.reason);
  CHECK(after.case_id == "stream");
}

TEST_CASE("executor: the watchdog deadline follows the case's settings") {
  profile::StatsSettings s;
  s.timeout_s = 7;
  CHECK(case_timeout_s(s) == 7);
  s.timeout_s = 0;
  s.warmup_min_s = 0.05;
  s.max_s = 2;
  CHECK(case_timeout_s(s) == doctest::Approx(kTimeoutBaseS + kTimeoutBudgetFactor * 2.05));
  s.max_s = 0;
  s.warmup_min_s = 0;
  CHECK(case_timeout_s(s) == kTimeoutMinS);
  s.max_s = 100;
  CHECK(case_timeout_s(s) == doctest::Approx(60 + 4 * 100));
}

TEST_CASE("executor: in process, a failing case is its own result and the run goes on") {
  Discovery d;
  d.files = {test_plugin("stub"), test_plugin("wronggemm")};
  auto host = PluginHost::load(d);
  InProcessExecutor executor(*host, nullptr);
  REQUIRE(executor.devices().size() == 2);
  CHECK(executor.plugins().size() == 2);
  CHECK(executor.execution().find("in-process") == 0);
  check_failures_stay_with_their_case(executor);

  DeviceFacts absent{"nowhere:3", {}};
  CaseResult missing = executor.run_case(absent, gemm_case(), 42, std::nullopt);
  CHECK(missing.status == CaseStatus::kFailed);
  CHECK(missing.reason == "no device nowhere:3 in this process");
  CHECK(missing.case_id == "gemm");
  CHECK(missing.device == "nowhere:3");
  CHECK(executor.take_warnings().empty());
}

TEST_CASE("executor: in worker processes, the same verdicts; a crash ends only its case") {
  REQUIRE_MESSAGE(std::filesystem::exists(CMETER_BINARY), "build the cmeter binary first: " CMETER_BINARY);
  Discovery d;
  d.files = {test_plugin("stub"), test_plugin("wronggemm"), fault_plugin("crashlater")};
  WorkerOptions o;
  o.executable = CMETER_BINARY;
  o.load_timeout_s = 30;
  o.grace_s = 0.5;
  auto host = WorkerHost::start(d, o);
  WorkerExecutor executor(*host);
  REQUIRE(executor.devices().size() == 3);
  CHECK(executor.execution().find("worker process per plugin") == 0);
  check_failures_stay_with_their_case(executor);

  // crashlater dies in stream.v1: that case is crashed, the plugin's next case runs in a new worker.
  const DeviceFacts& crashing = device(executor, "crashlater:0");
  CaseResult crashed = executor.run_case(crashing, stream_case(), 42, std::nullopt);
  CHECK(crashed.status == CaseStatus::kCrashed);
  CHECK_FALSE(crashed.reason.empty());
  CaseResult next = executor.run_case(crashing, gemm_case(), 42, std::nullopt);
  CHECK_MESSAGE(ran_ok(next), next.reason);
  CHECK_FALSE(executor.take_warnings().empty());  // the restart is noted
}

TEST_CASE("executor: the worker's deadline is the case's timeout") {
  REQUIRE_MESSAGE(std::filesystem::exists(CMETER_BINARY), "build the cmeter binary first: " CMETER_BINARY);
  Discovery d;
  d.files = {fault_plugin("hang")};
  WorkerOptions o;
  o.executable = CMETER_BINARY;
  o.load_timeout_s = 30;
  o.grace_s = 0.5;
  auto host = WorkerHost::start(d, o);
  WorkerExecutor executor(*host);
  REQUIRE(executor.devices().size() == 1);
  profile::Case c = gemm_case();
  c.stats.timeout_s = 1.5;
  const auto start = std::chrono::steady_clock::now();
  CaseResult hung = executor.run_case(executor.devices().front(), c, 42, std::nullopt);
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(hung.status == CaseStatus::kTimeout);
  CHECK(took_s >= 1.4);
  CHECK(took_s < 10);
}

}  // namespace
}  // namespace cmeter::run
