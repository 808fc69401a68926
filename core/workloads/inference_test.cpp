// The inference workload on real plugins: a plugin without the 1.1 op set (the stub) is `unsupported`
// naming what is missing; the CPU plugin runs llm-tiny end to end (ok, accuracy passed, every number
// filled) once it implements the op set, else it too is `unsupported` naming the ops it lacks.
#include <doctest/doctest.h>

#include "core/plugin/plugin_host.h"
#include "core/workloads/workload.h"

namespace cmeter::workloads {
namespace {

std::unique_ptr<PluginHost> load_file(const std::string& path) {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {path};
  return PluginHost::load(discover_plugins(options));
}

profile::Case tiny_case(const std::string& scenario) {
  profile::Case c;
  c.id = "llm-tiny";
  c.workload = "inference";
  c.params = {{"model", std::string("llm-tiny")}, {"scenario", scenario},       {"prompt_len", int64_t{8}},
              {"output_len", int64_t{4}},         {"max_batch", int64_t{2}},    {"queries", int64_t{2}},
              {"min_duration_s", 0.05},           {"server_steps", int64_t{2}}, {"layers", int64_t{1}}};
  return c;
}

TEST_CASE("inference: a plugin without the inference op set is unsupported, naming the ops") {
  auto host = load_file(std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so");
  REQUIRE(host->devices().size() == 1);
  const CaseResult r = run_case(Context{host->devices()[0], tiny_case("offline"), 42});
  CAPTURE(r.reason);
  CHECK(r.status == CaseStatus::kUnsupported);
  CHECK((r.reason.find("rmsnorm.v1") != std::string::npos || r.reason.find("ABI 1.0") != std::string::npos));
  CHECK(!r.inference.has_value());
}

TEST_CASE("inference: bad params fail before the device is touched") {
  auto host = load_file(std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so");
  auto c = tiny_case("offline");
  c.params["scenario"] = std::string("batch");
  CHECK(run_case(Context{host->devices()[0], c, 42}).status == CaseStatus::kFailed);
  c = tiny_case("offline");
  c.params["heads"] = int64_t{3};
  const CaseResult r = run_case(Context{host->devices()[0], c, 42});
  CHECK(r.status == CaseStatus::kFailed);
  CHECK(r.reason.find("kv_heads") != std::string::npos);
}

TEST_CASE("inference: llm-tiny on the CPU plugin, every scenario") {
  auto host = load_file(std::string(CMETER_PLUGIN_DIR) + "/libcmeter-cpu.so");
  REQUIRE(!host->devices().empty());
  for (const char* scenario : {"offline", "single_stream", "server"}) {
    CAPTURE(scenario);
    const CaseResult r = run_case(Context{host->devices()[0], tiny_case(scenario), 42});
    CAPTURE(r.reason);
    if (r.status == CaseStatus::kUnsupported) {
      // The CPU plugin without the 1.1 ops: the reason lists what is missing.
      CHECK(r.reason.find("missing mandatory ops") != std::string::npos);
      continue;
    }
    REQUIRE(r.status == CaseStatus::kOk);
    REQUIRE(r.inference.has_value());
    const InferenceResult& inf = *r.inference;
    CHECK(inf.accuracy.passed);
    CHECK(inf.accuracy.tokens_checked == 2 * 4);
    CHECK(inf.accuracy.audit_queries == 2);
    CHECK(inf.queries >= 2);
    CHECK(inf.output_tokens == inf.queries * 4);
    CHECK(inf.output_tokens_per_s > 0);
    CHECK(inf.latency_s.p99 >= inf.latency_s.p50);
    CHECK(inf.ttft_s.p50 > 0);
    CHECK(inf.op_paths.count("gemm.v1") == 1);
    CHECK(!inf.latency_cdf.empty());
    CHECK((inf.scenario == "server") == inf.server.has_value());
  }
}

TEST_CASE("inference: the Server search plans its probes within the case's timeout") {
  auto host = load_file(std::string(CMETER_PLUGIN_DIR) + "/libcmeter-cpu.so");
  REQUIRE(!host->devices().empty());
  // Probes of at least 3 s (~3.8 s expected with the margin), each started only with time kept for a
  // re-run: a 12 s timeout (10.8 s usable, less the set-up and the audit) holds two or three of them,
  // not the five the case asks for.
  auto c = tiny_case("server");
  c.params["min_duration_s"] = 3.0;
  c.params["server_steps"] = int64_t{5};
  c.stats.timeout_s = 12;
  const CaseResult r = run_case(Context{host->devices()[0], c, 42});
  CAPTURE(r.reason);
  if (r.status == CaseStatus::kUnsupported) return;  // no 1.1 op set: the test above checks the reason
  REQUIRE(r.status == CaseStatus::kOk);
  REQUIRE(r.inference.has_value());
  REQUIRE(r.inference->server.has_value());
  const auto& search = r.inference->server->search;
  CHECK(search.size() < 5);  // the search's and re-runs' probes together
  CHECK(r.reason.find("the rate search stopped after") != std::string::npos);
  CHECK(r.reason.find("the next search probe at") != std::string::npos);
  // A timeout that leaves no time for one probe: failed up front, saying what to raise.
  c.stats.timeout_s = 4;
  const CaseResult none = run_case(Context{host->devices()[0], c, 42});
  CAPTURE(none.reason);
  CHECK(none.status == CaseStatus::kFailed);
  CHECK(none.reason.find("no time for a Server probe") != std::string::npos);
  CHECK(none.reason.find("raise the case's timeout_s") != std::string::npos);
}

}  // namespace
}  // namespace cmeter::workloads
