// Tests for the compiled-in schema checker: the schema only uses honoured keywords, real reports pass,
// each kind of shape error is named with its path, and unknown members pass only when allowed.
#include "core/report/schema_check.h"

#include <doctest/doctest.h>

#include <functional>

#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

bool any_contains(const std::vector<std::string>& errors, const std::string& needle) {
  for (const auto& e : errors)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

TEST_CASE("schema_check: the compiled-in schema parses and uses only honoured keywords") {
  REQUIRE(report_schema_v1().is_object());
  CHECK(report_schema_v1()["$schema"] == "http://json-schema.org/draft-07/schema#");
  CHECK(unknown_schema_keywords(report_schema_v1()).empty());
  CHECK(unknown_schema_keywords(
            nlohmann::json::parse(R"({"oneOf": [], "properties": {"a": {"maxLength": 3}}})")) ==
        std::vector<std::string>{"maxLength", "oneOf"});
}

TEST_CASE("schema_check: a built report conforms") {
  auto report = testing::make_report({});
  auto errors = check_against_schema(report_schema_v1(), report);
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors[0]));
}

TEST_CASE("schema_check: errors name the member path and what is wrong") {
  const auto& schema = report_schema_v1();
  auto report = testing::make_report({});
  auto wrong_type = report;
  wrong_type["results"][0]["metrics"][0]["statistics"]["median"] = "fast";
  CHECK(any_contains(check_against_schema(schema, wrong_type),
                     "results[0].metrics[0].statistics.median: expected number or null, got string"));
  auto missing = report;
  missing["results"][0].erase("status");
  CHECK(any_contains(check_against_schema(schema, missing), "results[0]: missing member 'status'"));
  auto bad_enum = report;
  bad_enum["results"][0]["status"] = "great";
  CHECK(any_contains(check_against_schema(schema, bad_enum), "results[0].status: expected one of"));
  auto unknown = report;
  unknown["tool"]["colour"] = "blue";
  CHECK(any_contains(check_against_schema(schema, unknown), "tool: unknown member 'colour'"));
  SchemaCheckOptions lenient;
  lenient.allow_unknown_members = true;
  CHECK(check_against_schema(schema, unknown, lenient).empty());
  auto bad_branch = report;
  bad_branch["results"][0]["validation"] = {{"points", 3}};
  CHECK(any_contains(check_against_schema(schema, bad_branch),
                     "results[0].validation: missing member 'method'"));
  bad_branch["results"][0]["validation"] = 7;
  CHECK(any_contains(check_against_schema(schema, bad_branch),
                     "results[0].validation: expected null or object"));
  auto integer = report;
  integer["results"][0]["metrics"][0]["statistics"]["n"] = 2.5;
  CHECK(any_contains(check_against_schema(schema, integer), "statistics.n: expected integer, got number"));
  integer["results"][0]["metrics"][0]["statistics"]["n"] = -1;
  CHECK(any_contains(check_against_schema(schema, integer), "statistics.n: -1 is below the minimum 0"));
  auto odd_key = report;
  odd_key["devices"][0]["attributes"]["we ird"] = nlohmann::json::array();
  CHECK(any_contains(check_against_schema(schema, odd_key), "devices[0].attributes[\"we ird\"]: expected"));
}

// Schema 1.1: a report with an inference result of each scenario conforms; the inference member is
// strict (types, enums, unknown members, bounds) like every fixed shape.
nlohmann::json inference_report() {
  testing::SyntheticReport spec;
  for (const char* scenario : {"offline", "single_stream", "server"}) {
    testing::SyntheticInference s;
    s.scenario = scenario;
    spec.inference.push_back(s);
  }
  spec.inference[2].joules_per_token = 0.3;
  return testing::make_report(spec);
}

TEST_CASE("schema_check: inference results of every scenario conform (schema 1.1)") {
  const auto& schema = report_schema_v1();
  auto report = inference_report();
  REQUIRE(report["results"].size() == 4);
  auto errors = check_against_schema(schema, report);
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors[0]));
  // Nulls where a figure was not measured (not finite, no peak, no energy) conform too.
  report["results"][1]["inference"]["mfu_prefill"] = nullptr;
  report["results"][1]["inference"]["latency_s"]["p99"] = nullptr;
  report["results"][1]["inference"]["latency_cdf"] = nlohmann::json::array();
  errors = check_against_schema(schema, report);
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors[0]));
}

TEST_CASE("schema_check: a malformed inference member is named") {
  const auto& schema = report_schema_v1();
  const auto report = inference_report();
  auto expect = [&](const std::function<void(nlohmann::json&)>& change, const std::string& message) {
    auto bad = report;
    change(bad["results"][3]["inference"]);
    auto errors = check_against_schema(schema, bad);
    CHECK_MESSAGE(any_contains(errors, message),
                  message << " not among: " << (errors.empty() ? std::string("(no error)") : errors[0]));
  };
  expect([](auto& j) { j["queries"] = "many"; },
         "results[3].inference.queries: expected integer, got string");
  expect([](auto& j) { j["queries"] = 2.5; }, "results[3].inference.queries: expected integer, got number");
  expect([](auto& j) { j["tokens_per_watt"] = 3; }, "results[3].inference: unknown member 'tokens_per_watt'");
  expect([](auto& j) { j["model"]["experts"] = 8; }, "results[3].inference.model: unknown member 'experts'");
  expect([](auto& j) { j["accuracy"]["vibes"] = "good"; },
         "results[3].inference.accuracy: unknown member 'vibes'");
  expect([](auto& j) { j["server"]["search"][0]["note"] = "x"; },
         "results[3].inference.server.search[0]: unknown member 'note'");
  expect([](auto& j) { j["server"] = 3; }, "results[3].inference.server: expected null or object");
  expect([](auto& j) { j["scenario"] = "batch"; }, "results[3].inference.scenario: expected one of");
  expect([](auto& j) { j["latency_s"].erase("p99"); },
         "results[3].inference.latency_s: missing member 'p99'");
  expect([](auto& j) { j["ttft_s"]["p50"] = "fast"; },
         "results[3].inference.ttft_s.p50: expected number or null, got string");
  expect([](auto& j) { j["output_tokens_per_s"] = -5.0; },
         "output_tokens_per_s: -5.0 is below the minimum 0");
  expect([](auto& j) { j["accuracy"]["top1_agreement"] = 1.5; },
         "accuracy.top1_agreement: 1.5 is above the maximum 1");
  expect([](auto& j) { j["op_paths"]["gemm"] = 3; }, "results[3].inference.op_paths.gemm: expected string");
  expect([](auto& j) { j["op_paths"].erase("attention"); },
         "results[3].inference.op_paths: missing member 'attention'");
  expect([](auto& j) { j["latency_cdf"][0] = {0.1}; }, "latency_cdf[0]: 1 items, fewer than the minimum 2");
  expect(
      [](auto& j) {
        for (int i = 0; i < 90; ++i) j["latency_cdf"].push_back({0.1, 0.5});
      },
      "results[3].inference.latency_cdf: 110 items, more than the maximum 100");
  expect([](auto& j) { j.erase("accuracy"); }, "results[3].inference: missing member 'accuracy'");
  expect([](auto& j) { j["joules_per_token"] = "0.3"; }, "joules_per_token: expected number or null");
}

TEST_CASE("schema_check: stops at max_errors and survives any value") {
  SchemaCheckOptions options;
  options.max_errors = 2;
  CHECK(check_against_schema(report_schema_v1(), nlohmann::json::object(), options).size() == 2);
  for (const auto& doc :
       {nlohmann::json(nullptr), nlohmann::json(3), nlohmann::json::array({1, 2}), nlohmann::json("x"),
        nlohmann::json::parse(R"({"results": [[[[[]]]]], "tool": {}})")})
    CHECK_FALSE(check_against_schema(report_schema_v1(), doc).empty());
  // A schema with a $ref cycle ends with an error, not a stack overflow.
  auto cyclic = nlohmann::json::parse(
      R"({"definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"})");
  CHECK(any_contains(check_against_schema(cyclic, 1), "too deep"));
}

}  // namespace
}  // namespace cmeter
