// Tests for merging: colliding device ids are qualified by node, totals per node and over all nodes,
// the merged report is schema-valid with a fresh digest, and a changed input is refused.
#include "core/report/merge.h"

#include <doctest/doctest.h>

#include "core/report/integrity.h"
#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

LoadedReport load(const nlohmann::json& j, const std::string& name) {
  auto r = load_report(j, name);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(*r);
}

TEST_CASE("merge: two nodes with the same device ids") {
  testing::SyntheticReport a, b;
  a.hostname = "node1";
  b.hostname = "node2";
  b.run_id = "run-b";
  b.cases[0].median = 2e11;
  b.cases[0].ci_low = 1.9e11;
  b.cases[0].ci_high = 2.1e11;
  profile::Criterion crit;
  crit.id = "fp32";
  crit.metric = "summary.fp32_flops_per_s";
  crit.comparison = ">=";
  crit.threshold = 1.5e11;
  a.criteria = b.criteria = {crit};
  MergeOptions options;
  options.argv = {"cmeter", "report", "merge"};
  options.now_utc = "2026-01-02T00:00:00Z";
  auto merged = merge_reports(
      {load(testing::make_report(a), "a.json"), load(testing::make_report(b), "b.json")}, options);
  REQUIRE_MESSAGE(merged.ok(), (merged.ok() ? "" : merged.error().message));
  auto r = load(merged->report, "merged.json");  // schema-valid
  REQUIRE(r.devices.size() == 2);
  CHECK(r.devices[0].id == "node1/cpu:0");
  CHECK(r.devices[1].id == "node2/cpu:0");
  CHECK(r.results[1].device == "node2/cpu:0");
  CHECK(r.summaries[1].device == "node2/cpu:0");
  REQUIRE(r.node_totals.size() == 1);
  CHECK(r.node_totals[0].value == doctest::Approx(3e11));
  CHECK(r.node_totals[0].devices == 2);
  const auto& nodes = merged->report["summary"]["nodes"];
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[1]["node"] == "node2");
  CHECK(nodes[1]["totals"]["fp32_flops_per_s"]["value"].get<double>() == doctest::Approx(2e11));
  CHECK(r.criteria.outcomes.size() == 2);
  CHECK(r.criteria.outcomes[0].device == "node1/cpu:0");
  CHECK(r.criteria.verdict == "FAIL");  // node1's 1e11 is below 1.5e11
  CHECK(r.host.hostname == "node1,node2");
  CHECK(r.host.logical_cpus == 16);
  CHECK(merged->report["topology"].is_null());
  CHECK(merged->report["merge"]["inputs"][1]["devices"][0]["original_id"] == "cpu:0");
  CHECK(verify_report(merged->report, TrustPolicy{}).ok());
}

TEST_CASE("merge: devices of one node keep their ids; changed inputs are refused") {
  testing::SyntheticReport a, b;
  b.run_id = "run-b";
  b.devices = {{"cuda:0", {}}};
  b.cases[0].device = "cuda:0";
  b.tool_version = "0.0.1";
  auto ra = testing::make_report(a);
  auto merged = merge_reports({load(ra, "a.json"), load(testing::make_report(b), "b.json")}, {});
  REQUIRE(merged.ok());
  CHECK(merged->report["devices"][1]["id"] == "cuda:0");
  CHECK(merged->report["summary"]["nodes"].size() == 1);
  CHECK(merged->report["host"]["hostname"] == "node1");
  REQUIRE(merged->warnings.size() == 1);
  CHECK(merged->warnings[0].find("tool versions differ") != std::string::npos);

  auto same = merge_reports({load(ra, "a.json"), load(ra, "a2.json")}, {});  // one node, same device twice
  REQUIRE(same.ok());
  CHECK(same->report["devices"][0]["id"].get<std::string>().find("node1@") == 0);

  auto changed = ra;
  changed["results"][0]["reason"] = "edited";
  auto refused = merge_reports({load(changed, "changed.json"), load(ra, "a.json")}, {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("changed.json") != std::string::npos);
  auto again = merge_reports({load(merged->report, "m.json"), load(ra, "a.json")}, {});
  CHECK(again.error().message.find("already a merged report") != std::string::npos);
}

}  // namespace
}  // namespace cmeter
