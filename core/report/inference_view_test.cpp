// Tests for reading the `inference` member (schema 1.1): every figure comes back as written, nulls
// come back as NaN/nullopt (never 0), the reader collects the members with their result's position,
// and a report that claims 1.0 but carries the 1.1 member is refused as a 1.0 reader would.
#include "core/report/inference_view.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/report/report.h"
#include "core/report/report_reader.h"
#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

testing::SyntheticInference server_case() {
  testing::SyntheticInference s;
  s.scenario = "server";
  s.joules_per_token = 0.25;
  return s;
}

TEST_CASE("inference_view: every figure of the member reads back") {
  auto v = inference_view_from_json(testing::make_inference_member(server_case()));
  REQUIRE(v.has_value());
  CHECK(v->model.name == "llm-tiny");
  CHECK(v->model.parameters == 12'345'678);
  CHECK(v->model.layers == 4);
  CHECK(v->model.kv_heads == 2);
  CHECK(v->model.tied_lm_head);
  CHECK(v->model.dtype == "bf16");
  CHECK(v->scenario == "server");
  CHECK(v->queries == 64);
  CHECK(v->max_batch == 16);
  CHECK(v->latency_s.p50 == doctest::Approx(0.5));
  CHECK(v->latency_s.p99 == doctest::Approx(0.75));
  CHECK(v->tpot_s.p90 == doctest::Approx(0.0084));
  CHECK(v->output_tokens_per_s == 1000);
  REQUIRE(v->server.has_value());
  CHECK(v->server->achieved_qps == 2.5);
  CHECK(v->server->tpot_bound_s == 0.1);
  REQUIRE(v->server->search.size() == 4);
  CHECK_FALSE(v->server->search[0].passed);
  CHECK(v->server->search[3].passed);
  // ttft_growth (1.3) reads back where written and stays absent where not.
  CHECK(v->server->search[1].ttft_growth.value() == doctest::Approx(0.42));
  CHECK_FALSE(v->server->search[2].ttft_growth.has_value());
  CHECK(v->mbu_decode_measured.value() == doctest::Approx(0.84));
  CHECK(v->decode_bytes_per_s.value() == doctest::Approx(2.52e10));
  CHECK(v->mfu_prefill.value() == doctest::Approx(0.412));
  CHECK(v->mfu_peak_key == "peak.flops.bf16");
  CHECK(v->joules_per_token.value() == 0.25);
  REQUIRE(v->op_paths.size() == 5);
  CHECK(v->op_paths.count("attention") == 1);
  CHECK(v->op_paths.at("gemm") == "onednn-bf16");
  CHECK(v->accuracy.passed);
  CHECK(v->accuracy.tokens_checked == 4096);
  REQUIRE(v->latency_cdf.size() == 20);
  CHECK(v->latency_cdf.back().second == 1.0);
  CHECK(scenario_label(v->scenario) == "Server");
  CHECK(scenario_label("single_stream") == "SingleStream");
  CHECK(scenario_label("offline") == "Offline");
}

TEST_CASE("inference_view: nulls read as unknown, never as zero") {
  auto j = testing::make_inference_member({});
  j["latency_s"]["p99"] = nullptr;
  j["output_tokens_per_s"] = nullptr;
  j["mfu_prefill"] = nullptr;
  j["mbu_decode"] = nullptr;
  auto v = inference_view_from_json(j);
  REQUIRE(v.has_value());
  CHECK(std::isnan(v->latency_s.p99));
  CHECK(std::isnan(v->output_tokens_per_s));
  CHECK_FALSE(v->mfu_prefill.has_value());
  CHECK_FALSE(v->mbu_decode.has_value());
  CHECK_FALSE(v->joules_per_token.has_value());
  CHECK_FALSE(v->server.has_value());
  CHECK_FALSE(inference_view_from_json(nullptr).has_value());
  CHECK_FALSE(inference_view_from_json(nlohmann::json::array()).has_value());
  // No model object: refused (the journal reader reports it); garbage elsewhere reads as empty, no throw.
  CHECK_FALSE(inference_view_from_json({{"model", 3}}).has_value());
  auto odd = inference_view_from_json(
      {{"model", {{"name", 7}}}, {"latency_cdf", {1, {2}, {"a", 1}}}, {"op_paths", 7}, {"queries", "x"}});
  REQUIRE(odd.has_value());
  CHECK(odd->model.name.empty());
  CHECK(odd->latency_cdf.empty());
  CHECK(odd->op_paths.empty());
  CHECK(odd->queries == 0);
  CHECK(std::isnan(odd->duration_s));
}

TEST_CASE("inference_view: the reader collects inference results with their position") {
  testing::SyntheticReport spec;
  spec.inference = {testing::SyntheticInference{}, server_case()};
  spec.inference[1].device = "cpu:0";
  auto report = testing::make_report(spec);
  CHECK(report["schema_version"] == kReportSchemaVersion);
  auto r = load_report(report, "llm.json");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  REQUIRE(r->results.size() == 3);
  REQUIRE(r->inference.size() == 2);
  CHECK(r->inference[0].result_index == 1);
  CHECK(r->inference[0].case_id == "llm-tiny-offline");
  CHECK(r->inference[0].device == "cpu:0");
  CHECK(r->inference[0].status == CaseStatus::kOk);
  CHECK(r->inference[1].result_index == 2);
  CHECK(r->inference[1].scenario == "server");
  CHECK(r->results[r->inference[1].result_index].case_id == r->inference[1].case_id);
}

TEST_CASE("inference_view: 1.0 reports read as before; a 1.0 report with the 1.1 member is refused") {
  auto plain = testing::make_report({});
  plain["schema_version"] = "1.0.0";
  auto old = load_report(plain, "old.json");
  REQUIRE_MESSAGE(old.ok(), (old.ok() ? "" : old.error().message));
  CHECK(old->inference.empty());
  CHECK_FALSE(old->newer_minor);

  testing::SyntheticReport spec;
  spec.inference = {testing::SyntheticInference{}};
  auto report = testing::make_report(spec);
  report["schema_version"] = "1.0.0";
  auto refused = load_report(report, "mislabelled.json");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("mislabelled.json: not a valid cmeter.report 1.0.0: results[1]: unknown "
                                     "member 'inference' (added in schema 1.1)") != std::string::npos);
  // A newer minor may carry members this build does not know, inside inference too.
  report["schema_version"] = "1.99.0";  // newer than this build
  report["results"][1]["inference"]["speculative_tokens"] = 4;
  auto newer = load_report(report, "newer.json");
  REQUIRE_MESSAGE(newer.ok(), (newer.ok() ? "" : newer.error().message));
  CHECK(newer->newer_minor);
  CHECK(newer->inference.size() == 1);
}

}  // namespace
}  // namespace cmeter
