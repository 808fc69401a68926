// Tests for the shared words and figures of an LLM inference result: human units for parameters,
// milliseconds without exponents, n/a (never 0) for what was not measured, and the Server, MFU/MBU,
// energy, accuracy and op path texts every renderer prints.
#include "reports/inference_text.h"

#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/report_fixtures.h"

namespace cmeter::reports {
namespace {

InferenceView view(const testing::SyntheticInference& s) {
  auto v = inference_view_from_json(testing::make_inference_member(s));
  REQUIRE(v.has_value());
  return *v;
}

TEST_CASE("inference_text: counts and milliseconds") {
  CHECK(format_count(1'235'814'400) == "1.24B");
  CHECK(format_count(8.03e9) == "8.03B");
  CHECK(format_count(124e6) == "124M");
  CHECK(format_count(950e3) == "950K");
  CHECK(format_count(999'600) == "1M");
  CHECK(format_count(12) == "12");
  CHECK(format_count(NAN) == "n/a");
  CHECK(format_ms(0.0123) == "12.3");
  CHECK(format_ms(0.1) == "100");
  CHECK(format_ms(2.0) == "2000");
  CHECK(format_ms(6.1) == "6100");
  CHECK(format_ms(4.12e-5) == "0.0412");
  CHECK(format_ms(NAN) == "n/a");
}

TEST_CASE("inference_text: the texts of a Server result") {
  testing::SyntheticInference s;
  s.scenario = "server";
  s.joules_per_token = 0.25;
  auto v = view(s);
  CHECK(model_text(v) == "llm-tiny (12.3M parameters, bf16)");
  CHECK(
      model_shape_text(v) ==
      "llm-tiny: 4 layers, hidden 256, 8 heads (2 KV heads, head dim 32), FFN 704, vocab 4096, tied lm_head");
  CHECK(workload_text(v) == "64 queries, 128 prompt + 64 output tokens each, batch up to 16, 12.5 s");
  // The report's counts are totals (64 x 128, 64 x 64); ones that do not divide are shown as totals.
  CHECK(v.prompt_tokens == 64 * 128);
  v.prompt_tokens += 1;
  CHECK(workload_text(v) == "64 queries, 8193 prompt + 4096 output tokens in all, batch up to 16, 12.5 s");
  v.prompt_tokens -= 1;
  CHECK(
      server_text(v) ==
      "3.12 query/s offered (2.5 query/s served) with TTFT p99 <= 2000 ms and TPOT p99 <= 100 ms (4 probes)");
  // No rate met the bounds: no rate is shown as if it were one.
  const double target = v.server->target_qps;
  v.server->target_qps = 0;
  CHECK(server_text(v) == "none: no probed rate met TTFT p99 <= 2000 ms and TPOT p99 <= 100 ms (4 probes)");
  v.server->target_qps = target;
  CHECK(mfu_text(v) == "41.2% of peak.flops.bf16");
  REQUIRE(v.server);
  REQUIRE(v.server->search.size() == 4);
  CHECK(search_step_outcome(*v.server, v.server->search[0]) ==
        "TTFT p99 over the bound; TPOT p99 over the bound");
  CHECK(search_step_outcome(*v.server, v.server->search[1]) == "did not keep up: TTFT grew 0.42 s per s");
  CHECK(search_step_outcome(*v.server, v.server->search[2]) == "TTFT p99 over the bound");
  CHECK(search_step_outcome(*v.server, v.server->search[3]) == "within bounds");
  // A probe at a rate probed before is a re-run (the confirmation of a pass).
  ServerResult rerun = *v.server;
  rerun.search.push_back(rerun.search[3]);
  rerun.search.back().passed = false;
  rerun.search.back().tpot_p99_s = 1.0;
  CHECK(search_step_outcome(rerun, rerun.search[3]) == "within bounds");
  CHECK(search_step_outcome(rerun, rerun.search[4]) == "re-run: TPOT p99 over the bound");
  CHECK(mbu_text(v) ==
        "63.0% of declared peak.mem.bytes_per_s; 84.0% of measured STREAM triad of this run, case stream "
        "(30.0 GB/s, "
        "256 MiB arrays)");
  CHECK(energy_text(v) == "0.25 J/token");
  CHECK(accuracy_verdict(v) == "passed");
  CHECK(accuracy_numbers(v) ==
        "4096 tokens checked, logit NMSE max 1.2e-05, top-1 agreement 100.0% on 4000 clear-margin tokens, KL "
        "mean "
        "3e-06, audit 16 queries 0 mismatches");
  CHECK(op_paths_text(v) ==
        "attention=composed (gemm.v1 + softmax.v1), gemm=onednn-bf16, rmsnorm=avx512, rope=avx512, "
        "swiglu=avx512");
}

TEST_CASE("inference_text: MBU against a declared bandwidth shows the run's measured triad beside it") {
  testing::SyntheticInference s;
  auto j = testing::make_inference_member(s);
  j["mbu_decode"] = 0.25;
  j["mbu_bandwidth_source"] = "declared peak.mem.bytes_per_s";
  j["decode_bytes_per_s"] = 12.5e9;
  j["mbu_decode_measured"] = 0.5;
  j["mbu_measured_source"] =
      "measured STREAM triad of this run, case stream[kind=triad] (25.0 GB/s, 128 MiB arrays)";
  auto v = inference_view_from_json(j);
  REQUIRE(v.has_value());
  CHECK(mbu_text(*v) ==
        "25.0% of declared peak.mem.bytes_per_s; 50.0% of measured STREAM triad of this run, case "
        "stream[kind=triad] (25.0 GB/s, 128 MiB arrays)");
  // No triad in the run: the declared figure alone.
  j["mbu_decode_measured"] = nullptr;
  j["mbu_measured_source"] = "none (this run measured no STREAM triad on cpu:0)";
  v = inference_view_from_json(j);
  REQUIRE(v.has_value());
  CHECK(mbu_text(*v) == "25.0% of declared peak.mem.bytes_per_s");
}

TEST_CASE("inference_text: what was not measured is n/a, a failure names where it diverged") {
  testing::SyntheticInference s;
  s.accuracy_passed = false;
  s.first_divergence = "layer 0 rope (q)";
  auto j = testing::make_inference_member(s);
  j["mfu_prefill"] = nullptr;
  j["mbu_decode"] = nullptr;
  j["mbu_bandwidth_source"] = "";
  j["mbu_decode_measured"] = nullptr;
  j["mbu_measured_source"] = "none (this run measured no STREAM triad on cpu:0)";
  j["accuracy"]["kl_mean"] = nullptr;
  j["op_paths"] = {{"attention", "fused"}};
  auto v = inference_view_from_json(j);
  REQUIRE(v.has_value());
  CHECK(server_text(*v).empty());
  CHECK(mfu_text(*v) == "n/a (peak.flops.bf16)");
  CHECK(mbu_text(*v) == "n/a (no bandwidth known)");
  CHECK(energy_text(*v) == "n/a (no energy telemetry)");
  CHECK(accuracy_verdict(*v) == "FAILED");
  CHECK(accuracy_numbers(*v).find("KL mean n/a") != std::string::npos);
  CHECK(accuracy_numbers(*v).find("9 mismatches, first divergence: layer 0 rope (q)") != std::string::npos);
  CHECK(op_paths_text(*v) == "attention=fused");
}

}  // namespace
}  // namespace cmeter::reports
