// InferenceResult's JSON form: every field survives a round trip, optional figures are null when
// unknown, and the field names are the ones the report schema reads.
#include "core/model/inference_result.h"

#include <doctest/doctest.h>

#include "core/model/case_result.h"

namespace cmeter {
namespace {

InferenceResult sample() {
  InferenceResult r;
  r.model = {"llm-tiny", 2, 256, 4, 2, 64, 512, 2048, true, "bf16", 1234567};
  r.scenario = "server";
  r.queries = 10;
  r.prompt_tokens = 320;
  r.output_tokens = 160;
  r.max_batch = 4;
  r.duration_s = 1.5;
  r.latency_s = {0.1, 0.2, 0.3};
  r.ttft_s = {0.01, 0.02, 0.03};
  r.tpot_s = {0.001, 0.002, 0.003};
  r.output_tokens_per_s = 106.7;
  r.prompt_tokens_per_s = 213.3;
  r.server = ServerResult{5.0, 4.8, 2.0, 0.1, {{2.0, 0.02, 0.002, true}, {8.0, 3.0, 0.2, false}}};
  r.mfu_prefill = 0.4;
  r.mfu_peak_key = "peak.flops.bf16";
  r.mbu_decode = std::nullopt;
  r.mbu_bandwidth_source = "none";
  r.op_paths = {{"attention", "composed"}, {"gemm.v1", "openblas"}};
  r.accuracy = {12, 1e-5, 1.0, 11, 1e-6, 2, 0, true, ""};
  r.latency_cdf = {{0.1, 0.5}, {0.3, 1.0}};
  return r;
}

TEST_CASE("inference result: JSON round trip keeps every field") {
  const InferenceResult r = sample();
  const nlohmann::json j = to_json(r);
  CHECK(j["model"]["parameters"] == 1234567);
  CHECK(j["server"]["search"].size() == 2);
  CHECK(j["mbu_decode"].is_null());
  CHECK(j["joules_per_token"].is_null());
  CHECK(j["latency_cdf"][1][0] == 0.3);
  auto back = inference_result_from_json(j);
  REQUIRE(back);
  CHECK(to_json(*back) == j);
  CHECK(back->server->search[1].passed == false);
  CHECK(back->mfu_prefill.value() == doctest::Approx(0.4));
  CHECK(!back->mbu_decode);
}

TEST_CASE("inference result: server null for other scenarios; malformed input is an error") {
  InferenceResult r = sample();
  r.server.reset();
  CHECK(to_json(r)["server"].is_null());
  CHECK(!inference_result_from_json(nlohmann::json::array()));
  CHECK(!inference_result_from_json(nlohmann::json{{"scenario", "offline"}}));  // no model
}

TEST_CASE("case result: the inference member round-trips and is absent for other workloads") {
  CaseResult c;
  c.case_id = "llm";
  c.workload = "inference";
  c.device = "cpu:0";
  c.status = CaseStatus::kOk;
  c.inference = sample();
  const nlohmann::json j = to_json(c);
  REQUIRE(j.contains("inference"));
  auto back = case_result_from_json(j);
  REQUIRE(back);
  REQUIRE(back->inference);
  CHECK(to_json(*back->inference) == to_json(*c.inference));
  c.inference.reset();
  CHECK(!to_json(c).contains("inference"));
  auto plain = case_result_from_json(to_json(c));
  REQUIRE(plain);
  CHECK(!plain->inference);
}

}  // namespace
}  // namespace cmeter
