// Tests for the compiled-in schema checker: the schema only uses honoured keywords, real reports pass,
// each kind of shape error is named with its path, and unknown members pass only when allowed.
#include "core/report/schema_check.h"

#include <doctest/doctest.h>

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
            nlohmann::json::parse(R"({"oneOf": [], "properties": {"a": {"maxItems": 3}}})")) ==
        std::vector<std::string>{"maxItems", "oneOf"});
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
