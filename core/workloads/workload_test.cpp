// Tests for the workloads through the stub test plugins: correct devices give ok and validated
// results, a device returning wrong GEMM results gets `invalid`, one whose timer runs 1000x fast gets
// `implausible`, unknown parameters and unsupported ops are reported, never thrown.
#include "core/workloads/workload.h"

#include <doctest/doctest.h>

#include "core/plugin/plugin_host.h"

namespace cmeter::workloads {
namespace {

std::unique_ptr<PluginHost> load(const std::string& name) {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-" + name + ".so"};
  return PluginHost::load(discover_plugins(options));
}

profile::Case make_case(std::string workload, KeyValues params) {
  profile::Case c;
  c.id = workload;
  c.workload = std::move(workload);
  c.params = std::move(params);
  c.stats.warmup_min_runs = 1;
  c.stats.warmup_min_s = 0.0;
  c.stats.sample_min_s = 0.001;
  c.stats.min_samples = 5;
  c.stats.min_s = 0.01;
  c.stats.noise = 0.5;
  c.stats.max_s = 0.5;
  return c;
}

CaseResult run(PluginHost& host, const profile::Case& c) {
  REQUIRE(host.devices().size() == 1);
  return run_case(Context{host.devices()[0], c, 42});
}

TEST_CASE("workloads: gemm on a correct device is validated") {
  auto host = load("stub");
  for (bool ta : {false, true}) {
    auto c = make_case("gemm", {{"m", int64_t{33}},
                                {"n", int64_t{17}},
                                {"k", int64_t{65}},
                                {"dtype", std::string("f32")},
                                {"trans_a", ta},
                                {"trans_b", !ta},
                                {"alpha", 0.5},
                                {"beta", 0.25},
                                {"batch", int64_t{2}}});
    auto r = run(*host, c);
    CAPTURE(r.reason);
    CHECK((r.status == CaseStatus::kOk || r.status == CaseStatus::kNoisy));
    REQUIRE(r.validation.has_value());
    CHECK(r.validation->passed);
    CHECK(r.validation->points >= 33 * 17);  // small matrices: every element, both batch ends
    CHECK(r.method.flop_per_call == doctest::Approx(2.0 * 33 * 17 * 65 * 2));
    CHECK(r.method.rotation_sets >= 2);
    REQUIRE(r.metric("flops_per_s") != nullptr);
    CHECK(r.metric("flops_per_s")->stats.median > 0);
    CHECK(r.samples_s.size() >= 5);
  }
}

TEST_CASE("workloads: wrong GEMM results are invalid") {
  auto host = load("wronggemm");
  auto r = run(
      *host,
      make_case("gemm",
                {{"m", int64_t{64}}, {"n", int64_t{64}}, {"k", int64_t{64}}, {"dtype", std::string("f32")}}));
  CHECK(r.status == CaseStatus::kInvalid);
  CHECK(r.reason.find("outside tolerance") != std::string::npos);
  REQUIRE(r.validation.has_value());
  CHECK(r.validation->failures > 0);
}

TEST_CASE("workloads: a timer faster than physics is implausible") {
  auto host = load("toofast");
  // 8 MiB arrays: a sample is at most two calls (one output each); on these, samples are long enough
  // for the timer check's ratio rules (timer_check.h).
  auto r = run(*host, make_case("stream", {{"kind", std::string("triad")},
                                           {"dtype", std::string("f32")},
                                           {"bytes_per_array", int64_t{8 << 20}},
                                           {"max_bytes_per_array", int64_t{8 << 20}}}));
  CHECK(r.status == CaseStatus::kImplausible);
  // Its timer reports 1/1000 of the time that passed: the host clock catches it (timer_check.h).
  CHECK(r.reason.find("far below 1, a slow or scaled timer") != std::string::npos);
  REQUIRE(r.peak.has_value());
}

TEST_CASE("workloads: every workload runs on the stub device") {
  auto host = load("stub");
  std::vector<profile::Case> cases = {
      make_case("fma_peak", {{"dtype", std::string("f32")}, {"items", int64_t{256}}, {"iters", int64_t{64}}}),
      make_case("fma_peak", {{"dtype", std::string("f64")},
                             {"items", int64_t{256}},
                             {"iters", int64_t{64}},
                             {"lanes", int64_t{4}}}),
      make_case("stream", {{"kind", std::string("copy")},
                           {"dtype", std::string("f64")},
                           {"bytes_per_array", int64_t{1 << 20}}}),
      make_case("stream", {{"kind", std::string("scale")},
                           {"dtype", std::string("f32")},
                           {"bytes_per_array", int64_t{1 << 20}}}),
      make_case("stream", {{"kind", std::string("add")},
                           {"dtype", std::string("f32")},
                           {"bytes_per_array", int64_t{1 << 20}}}),
      make_case("copy", {{"bytes", int64_t{1 << 20}}}),
      make_case("transfer", {{"direction", std::string("h2d")},
                             {"memory", std::string("pinned")},
                             {"bytes", int64_t{1 << 20}}}),
      make_case("transfer", {{"direction", std::string("d2h")},
                             {"memory", std::string("pageable")},
                             {"bytes", int64_t{1 << 20}}}),
      make_case("launch_latency", {{"form", std::string("throughput")}}),
      make_case("launch_latency", {{"form", std::string("round_trip")}}),
  };
  for (const auto& c : cases) {
    auto r = run(*host, c);
    CAPTURE(c.workload);
    CAPTURE(r.reason);
    CHECK((r.status == CaseStatus::kOk || r.status == CaseStatus::kNoisy));
    REQUIRE(r.validation.has_value());
    CHECK(r.validation->passed);
    CHECK_FALSE(r.metrics.empty());
  }
}

TEST_CASE("workloads: bad params and unsupported ops are statuses with reasons") {
  auto host = load("stub");
  auto r = run(*host, make_case("gemm", {{"n", int64_t{16}}, {"dtyp", std::string("f32")}}));
  CHECK(r.status == CaseStatus::kFailed);
  CHECK(r.reason == "unknown parameter 'dtyp'");
  r = run(*host, make_case("gemm", {{"n", int64_t{16}}, {"dtype", std::string("bf16")}}));
  CHECK(r.status == CaseStatus::kUnsupported);
  CHECK_FALSE(r.reason.empty());
  r = run(*host, make_case("no_such_workload", {}));
  CHECK(r.status == CaseStatus::kFailed);
  CHECK(r.reason.find("unknown workload") != std::string::npos);
}

TEST_CASE("output rotation: each call of a sample its own set, every set poisoned, the sample's sets named") {
  OutputRotation r(3);
  std::vector<int64_t> poisoned;
  auto poison = [&](int64_t set) -> Status {
    poisoned.push_back(set);
    return {};
  };
  CHECK(r.set_of_call(0) == 0);  // warmup
  REQUIRE(r.before_sample(poison));
  CHECK(poisoned == std::vector<int64_t>{0, 1, 2});
  CHECK(r.set_of_call(1) == 1);
  CHECK(r.set_of_call(2) == 2);
  CHECK(r.last_sample_sets() == std::vector<int64_t>{1, 2});
  poisoned.clear();
  REQUIRE(r.before_sample(poison));
  CHECK(poisoned == std::vector<int64_t>{0, 1, 2});  // every set, not only those written
  CHECK(r.set_of_call(3) == 0);
  CHECK(r.last_sample_sets() == std::vector<int64_t>{0});
  // A failing poison write ends the sample's preparation with its error.
  CHECK_FALSE(r.before_sample([](int64_t) -> Status { return make_error(ErrorCode::kInternal, "no"); }));
  // Sets from memory: the first plus as many as fit, capped; at least one.
  CHECK(output_sets_for(100, 250, 64) == 3);
  CHECK(output_sets_for(100, 50, 64) == 1);
  CHECK(output_sets_for(1, 1000, 4) == 4);
  CHECK(output_sets_for(0, 1000, 4) == 1);
}

TEST_CASE("fresh_entropy_rng: every generator starts elsewhere (entropy, not a constant or the run seed)") {
  // Equal first draws of two 64-bit generators seeded from entropy: a chance of 2^-64.
  CHECK(fresh_entropy_rng()() != fresh_entropy_rng()());
}

}  // namespace
}  // namespace cmeter::workloads
