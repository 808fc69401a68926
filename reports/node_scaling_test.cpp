// Node scaling rows: node totals first, then each device's headlines, with units and ratios; nothing
// for a report without summary.node_scaling; a missing figure is "n/a", never 0.
#include "reports/node_scaling.h"

#include <doctest/doctest.h>

namespace cmeter::reports {

TEST_CASE("node scaling rows: totals, then devices, formatted; none without node_scaling") {
  nlohmann::json report = {{"summary", {{"devices", nlohmann::json::array()}}}};
  CHECK(node_scaling_rows(report).empty());
  CHECK(node_scaling_note(report).empty());
  report["summary"]["node_scaling"] = {{"note", "alone, then at once"},
                                       {"totals",
                                        {{{"key", "fp32_flops_per_s"},
                                          {"unit", "FLOP/s"},
                                          {"alone", 2e12},
                                          {"at_once", 1.5e12},
                                          {"ratio", 0.75}}}},
                                       {"devices",
                                        {{{"device", "cuda:0"},
                                          {"key", "mem_triad_bytes_per_s"},
                                          {"label", "STREAM triad"},
                                          {"unit", "B/s"},
                                          {"alone", 3e12},
                                          {"at_once", nullptr},
                                          {"ratio", nullptr}}}}};
  const auto rows = node_scaling_rows(report);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].scope == "node");
  CHECK(rows[0].what == "fp32_flops_per_s");
  CHECK(rows[0].alone == "2 TFLOP/s");
  CHECK(rows[0].at_once == "1.5 TFLOP/s");
  CHECK(rows[0].ratio == "x0.750");
  CHECK(rows[1].scope == "cuda:0");
  CHECK(rows[1].what == "STREAM triad");
  CHECK(rows[1].at_once == "n/a");
  CHECK(rows[1].ratio == "n/a");
  CHECK(node_scaling_note(report) == "alone, then at once");
}

}  // namespace cmeter::reports
