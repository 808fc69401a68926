// Tests for reading reports back: typed views, the 1.x gate (2.x and non-reports refused with a message
// naming the file), shape errors, and robustness against truncated and mutated input (the reader is
// fuzzed later; here it must already never throw).
#include "core/report/report_reader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("report_reader: a report reads back with its typed views") {
  testing::SyntheticReport spec;
  spec.cases.push_back({.case_id = "stream",
                        .workload = "stream",
                        .params = {{"kind", std::string("triad")}},
                        .metric = "bytes_per_s",
                        .unit = "B/s",
                        .median = 2e10,
                        .ci_low = 1.9e10,
                        .ci_high = 2.1e10});
  auto text = testing::make_report(spec).dump(2);
  auto r = parse_report(text, "a.json");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->source == "a.json");
  CHECK(r->version.major == 1);
  CHECK_FALSE(r->newer_minor);
  CHECK(r->host.hostname == "node1");
  CHECK(r->run.id == spec.run_id);
  CHECK(r->run.has_seed);
  CHECK(r->run.seed == 42);
  CHECK(r->run.profile_name == "quick");
  REQUIRE(r->results.size() == 2);
  CHECK(r->results[1].metric("bytes_per_s")->stats.median == 2e10);
  REQUIRE(r->summaries.size() == 1);
  REQUIRE(r->summaries[0].metrics.size() == 2);
  CHECK(r->summaries[0].metrics[0].key == "fp32_flops_per_s");  // headline order, not alphabetical
  CHECK(r->summaries[0].metrics[1].key == "mem_triad_bytes_per_s");
  CHECK(r->summaries[0].metrics[0].efficiency.value() == doctest::Approx(0.25));
  CHECK(r->node_totals.size() == 1);
  CHECK(r->device_name("cpu:0") == "Test CPU");
  CHECK(r->digest.size() == 64);
  CHECK_FALSE(r->signed_report);
}

TEST_CASE("report_reader: schema versions: any 1.x is read, 2.x is refused naming the file") {
  auto report = testing::make_report({});
  report["schema_version"] = "2.0.0";
  auto r = load_report(report, "future.json");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "future.json"));
  CHECK(contains(r.error().message, "report schema version 2.0.0 is not supported"));
  CHECK(contains(r.error().message, "reads cmeter.report 1.x"));
  report["schema_version"] = "0.9.0";
  CHECK(contains(load_report(report, "old.json").error().message, "older"));

  report = testing::make_report({});
  report["schema_version"] = "1.7.2";
  report["results"][0]["energy_per_call_j"] = 0.5;  // a member a later 1.x might add
  report["brand_new_section"] = {{"x", 1}};
  auto newer = load_report(report, "newer.json");
  REQUIRE_MESSAGE(newer.ok(), (newer.ok() ? "" : newer.error().message));
  CHECK(newer->newer_minor);
  report["schema_version"] = "1.0.0";
  auto strict = load_report(report, "strict.json");
  REQUIRE_FALSE(strict.ok());
  CHECK(contains(strict.error().message, "strict.json: not a valid cmeter.report 1.0.0"));
  CHECK(contains(strict.error().message, "unknown member"));
  report["schema_version"] = "1.x";
  CHECK(contains(load_report(report, "v.json").error().message, "not a MAJOR.MINOR.PATCH version"));
}

TEST_CASE("report_reader: what is not a report is refused with the file named") {
  CHECK(contains(parse_report("[1, 2]", "arr.json").error().message,
                 "arr.json: not a cmeter report: the top level is array"));
  CHECK(contains(parse_report("{\"a\": 1}", "o.json").error().message,
                 "o.json: not a cmeter report: expected \"schema\""));
  CHECK(contains(parse_report("{\"schema\": \"other\"}", "x.json").error().message, "found \"other\""));
  CHECK(
      contains(parse_report("{\"schema\": \"cmeter.report\"}", "x.json").error().message, "schema_version"));
  CHECK(contains(parse_report("", "empty.json").error().message,
                 "empty.json: not a cmeter report: not valid JSON"));
  CHECK(contains(parse_report("{\"schema\": ", "t.json").error().message, "not valid JSON"));
  CHECK(
      contains(read_report_file("/nonexistent/r.json").error().message, "/nonexistent/r.json: cannot open"));
  std::string deep(100000, '[');
  CHECK(
      contains(parse_report(deep + std::string(100000, ']'), "deep.json").error().message, "nested deeper"));
}

TEST_CASE("report_reader: a report file round trip") {
  auto path = std::filesystem::temp_directory_path() / "cmeter-reader-test.json";
  std::ofstream(path) << testing::make_report({}).dump(2);
  auto r = read_report_file(path.string());
  CHECK(r.ok());
  std::filesystem::remove(path);
}

// Random JSON values of every type, for the mutation test.
nlohmann::json random_value(std::mt19937& rng) {
  switch (rng() % 8) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int64_t>(rng()) - (1ll << 31);
    case 3:
      return 1e300 * ((rng() % 3) - 1.0);
    case 4:
      return std::string(rng() % 5, 'x');
    case 5:
      return nlohmann::json::array({1, "a"});
    case 6:
      return nlohmann::json::object({{"k", 1}});
    default:
      return static_cast<uint64_t>(-1);
  }
}

// Every JSON pointer of `j`.
void pointers(const nlohmann::json& j, const std::string& at, std::vector<std::string>& out) {
  out.push_back(at);
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) pointers(it.value(), at + "/" + it.key(), out);
  else if (j.is_array())
    for (size_t i = 0; i < j.size() && i < 4; ++i) pointers(j[i], at + "/" + std::to_string(i), out);
}

TEST_CASE("report_reader: mutated and truncated reports never throw") {
  testing::SyntheticReport spec;
  spec.cases.push_back({.status = CaseStatus::kInvalid});
  spec.cases.push_back({.case_id = "x", .status = CaseStatus::kUnsupported});
  const auto report = testing::make_report(spec);
  std::vector<std::string> all;
  pointers(report, "", all);
  std::mt19937 rng(1234);
  int refused = 0;
  for (const auto& p : all) {
    if (p.empty()) continue;
    for (int k = 0; k < 3; ++k) {
      auto mutated = report;
      mutated[nlohmann::json::json_pointer(p)] = random_value(rng);
      bool ok = true;
      CHECK_NOTHROW(ok = load_report(mutated, "m.json").ok());
      refused += ok ? 0 : 1;
    }
    auto removed = report;
    auto ptr = nlohmann::json::json_pointer(p);
    if (removed[ptr.parent_pointer()].is_object()) removed[ptr.parent_pointer()].erase(ptr.back());
    CHECK_NOTHROW((void)load_report(removed, "r.json"));
  }
  CHECK(refused > 100);  // most random replacements break the shape and are refused
  const std::string text = report.dump();
  for (size_t cut = 0; cut < text.size(); cut += 97) {
    auto r = parse_report(std::string_view(text).substr(0, cut), "cut.json");
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("report_reader: summary.node_scaling reads in a 1.5 report and is refused in a 1.4 one") {
  nlohmann::json report = testing::make_report({});
  report["summary"]["node_scaling"] = {{"note", "alone, then at once"},
                                       {"devices_at_once", nlohmann::json::array()},
                                       {"alone_node_totals", nlohmann::json::object()},
                                       {"totals", nlohmann::json::array()},
                                       {"devices", nlohmann::json::array()}};
  report["schema_version"] = "1.5.0";
  auto current = load_report(report, "both.json");
  REQUIRE_MESSAGE(current.ok(), (current.ok() ? "" : current.error().message));
  report["schema_version"] = "1.4.0";
  auto old = load_report(report, "old.json");
  REQUIRE_FALSE(old.ok());
  CHECK(contains(old.error().message,
                 "old.json: not a valid cmeter.report 1.4.0: summary: unknown member "
                 "'node_scaling' (added in schema 1.5)"));
  // Its shape is checked like any other member.
  report["schema_version"] = "1.5.0";
  report["summary"]["node_scaling"]["totals"] = {{{"key", "fp32_flops_per_s"}}};
  auto malformed = load_report(report, "bad.json");
  REQUIRE_FALSE(malformed.ok());
  CHECK(contains(malformed.error().message, "summary.node_scaling.totals[0]"));
}

}  // namespace
}  // namespace cmeter
