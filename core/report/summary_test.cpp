// Tests for the headline selection: the LLM figures get one headline per model (a tiny model's
// tokens/s never stands for a 1B model's), latencies pick the lowest median, only counted results
// feed them, they state no efficiency against a FLOP/s peak, and the catalogue orders them after the
// kernel throughputs (LLM throughput) and after launch latency (LLM latencies).
#include "core/report/summary.h"

#include <doctest/doctest.h>

#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

testing::SyntheticInference llm(const std::string& model, const std::string& scenario, double tokens_per_s) {
  testing::SyntheticInference s;
  s.model = model;
  s.scenario = scenario;
  s.output_tokens_per_s = tokens_per_s;
  return s;
}

std::vector<CaseResult> results_of(const std::vector<testing::SyntheticInference>& specs) {
  std::vector<CaseResult> out = {testing::make_case({})};  // an f32 GEMM
  for (const auto& s : specs) out.push_back(testing::make_inference_case(s));
  return out;
}

const std::vector<DeviceFacts> kDevices = {{"cpu:0", {{"peak.flops.f32", 4e11}, {"peak.flops.bf16", 8e11}}}};

TEST_CASE("summary: LLM headlines, one per model, in the catalogue's place") {
  auto tiny_single = llm("llm-tiny", "single_stream", 90);
  tiny_single.tpot_p50_s = 0.004;
  auto tiny_single_slow = llm("llm-tiny", "single_stream", 80);
  tiny_single_slow.tpot_p50_s = 0.009;
  tiny_single_slow.model = "llm-tiny";
  auto results = results_of({llm("llm-tiny", "offline", 5000), llm("llm-1b", "offline", 300),
                             llm("llm-tiny", "server", 1000), tiny_single_slow, tiny_single});
  results.back().case_id = "llm-tiny-single_stream-2";
  auto summaries = summarize(results, kDevices);
  REQUIRE(summaries.size() == 1);
  const auto& s = summaries[0];
  const auto* tiny = s.find("llm_offline_output_tokens_per_s@llm-tiny");
  const auto* big = s.find("llm_offline_output_tokens_per_s@llm-1b");
  REQUIRE(tiny != nullptr);
  REQUIRE(big != nullptr);
  CHECK(tiny->value == 5000);
  CHECK(big->value == 300);  // its own headline, not beaten by the tiny model
  CHECK(big->label == "LLM output tokens/s (Offline), llm-1b");
  CHECK(big->unit == "tok/s");
  CHECK_FALSE(big->efficiency.has_value());  // tokens/s against a FLOP/s peak means nothing
  CHECK(s.find("llm_offline_output_tokens_per_s") == nullptr);
  const auto* rate = s.find("llm_server_qps@llm-tiny");
  REQUIRE(rate != nullptr);
  CHECK(rate->value == 2.5);
  CHECK(rate->unit == "query/s");
  const auto* tpot = s.find("llm_single_stream_tpot_s@llm-tiny");
  REQUIRE(tpot != nullptr);
  CHECK(tpot->value == doctest::Approx(0.004));  // lower is better: the lowest median
  CHECK(tpot->case_id == "llm-tiny-single_stream-2");
  CHECK(s.find("llm_single_stream_latency_s@llm-tiny") != nullptr);
  CHECK(s.find("llm_single_stream_ttft_s@llm-tiny") != nullptr);
  CHECK(s.find("llm_single_stream_tpot_s@llm-1b") == nullptr);  // llm-1b ran no SingleStream

  // The catalogue's order: compute first, LLM throughput after the kernel throughputs and before
  // every latency, LLM latencies after launch latency.
  CHECK(headline_rank("fp32_flops_per_s") < headline_rank("d2h_pageable_bytes_per_s"));
  CHECK(headline_rank("d2h_pageable_bytes_per_s") < headline_rank("llm_offline_output_tokens_per_s@x"));
  CHECK(headline_rank("llm_offline_output_tokens_per_s@x") < headline_rank("llm_server_qps"));
  CHECK(headline_rank("llm_server_qps@llm-1b") < headline_rank("launch_latency_s"));
  CHECK(headline_rank("launch_round_trip_s") < headline_rank("llm_single_stream_latency_s@a"));
  CHECK(headline_rank("llm_single_stream_latency_s@a") < headline_rank("llm_single_stream_ttft_s@a"));
  CHECK(headline_rank("llm_single_stream_ttft_s@a") < headline_rank("llm_single_stream_tpot_s@a"));
  CHECK(headline_rank("llm_single_stream_tpot_s") < headline_rank("not_a_headline"));
  // Only split rules take a suffix; an unknown suffix on another rule is not that rule.
  CHECK(find_headline_rule("fp32_flops_per_s@x") == nullptr);
  REQUIRE(find_headline_rule("llm_single_stream_tpot_s@llm-1b") != nullptr);
  CHECK_FALSE(find_headline_rule("llm_single_stream_tpot_s@llm-1b")->higher_is_better);
}

TEST_CASE("summary: invalid or unsupported LLM results feed no headline") {
  auto wrong = llm("llm-tiny", "offline", 1e9);  // a wrong but fast result
  wrong.status = CaseStatus::kInvalid;
  auto good = llm("llm-tiny", "offline", 900);
  good.model = "llm-tiny";
  auto results = results_of({wrong, good});
  results.back().case_id = "llm-tiny-offline-2";
  auto s = summarize(results, kDevices);
  const auto* h = s[0].find("llm_offline_output_tokens_per_s@llm-tiny");
  REQUIRE(h != nullptr);
  CHECK(h->value == 900);
  results.pop_back();
  CHECK(summarize(results, kDevices)[0].find("llm_offline_output_tokens_per_s@llm-tiny") == nullptr);
  // Without a `model` param the figure is one headline under the plain key.
  auto unnamed = results_of({good});
  unnamed.back().params.erase("model");
  const auto unnamed_summaries = summarize(unnamed, kDevices);
  const auto* plain = unnamed_summaries[0].find("llm_offline_output_tokens_per_s");
  REQUIRE(plain != nullptr);
  CHECK(plain->label == "LLM output tokens/s (Offline)");
}

}  // namespace
}  // namespace cmeter
