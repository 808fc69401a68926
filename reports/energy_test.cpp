// Unit tests of the energy and per-watt view and its sections in the Markdown and HTML renderers.
#include "reports/energy.h"

#include <doctest/doctest.h>

#include "reports/html.h"
#include "reports/markdown.h"

namespace cmeter::reports {
namespace {

CaseResult result_with(const std::string& device, const std::string& case_id, nlohmann::json telemetry) {
  CaseResult c;
  c.device = device;
  c.case_id = case_id;
  c.telemetry = std::move(telemetry);
  return c;
}

LoadedReport report_with_energy(std::optional<double> pue) {
  LoadedReport r;
  r.json = {{"run", {{"settings", nlohmann::json::object()}}}};
  if (pue) r.json["run"]["settings"]["pue"] = {{"kind", "declared facility factor"}, {"value", *pue}};
  r.devices = {{"gpu:0", {}}, {"cpu:0", {}}, {"stub:0", {}}};
  nlohmann::json gpu = {{"available", true},
                        {"avg_power_w", 350.0},
                        {"energy_per_call_j", 0.7},
                        {"energy_source", "plugin energy counter"},
                        {"throttled", true},
                        {"per_watt", {{"metric", "flops_per_s"}, {"value", 2.5e11}, {"unit", "FLOP/J"}}}};
  if (pue) gpu["facility"] = {{"pue", *pue}, {"per_watt", {{"value", 2.5e11 / *pue}}}};
  r.results = {result_with("gpu:0", "gemm", gpu),
               result_with("cpu:0", "gemm",
                           {{"available", false}, {"reason", "no energy source: no RAPL package zone"}}),
               result_with("stub:0", "gemm", nullptr)};
  return r;
}

TEST_CASE("energy view: cases with energy, and every device without it with its reason") {
  const EnergyView v = energy_view(report_with_energy(std::nullopt));
  REQUIRE(v.rows.size() == 1);
  CHECK(v.rows[0].device == "gpu:0");
  CHECK(*v.rows[0].avg_power_w == 350.0);
  CHECK(*v.rows[0].per_watt == 2.5e11);
  CHECK(v.rows[0].per_watt_unit == "FLOP/J");
  CHECK(v.rows[0].throttled);
  CHECK(v.rows[0].source == "plugin energy counter");
  CHECK_FALSE(v.rows[0].facility_per_watt);
  REQUIRE(v.without.size() == 2);
  CHECK(v.without[0].device == "cpu:0");
  CHECK(v.without[0].reason == "no energy source: no RAPL package zone");
  CHECK(v.without[1].device == "stub:0");
  CHECK(v.without[1].reason == "the plugin offers no telemetry");
  const auto cells = energy_cells(v.rows[0], false);
  CHECK(cells[2] == "350 W");
  CHECK(cells[4] == "250 GFLOP/J");
  CHECK(cells[5] == "yes");
  CHECK(pue_note(v).empty());
}

TEST_CASE("energy view: a declared PUE adds the facility column and says it is not measured") {
  const EnergyView v = energy_view(report_with_energy(1.25));
  REQUIRE(v.pue);
  REQUIRE(v.rows.size() == 1);
  CHECK(*v.rows[0].facility_per_watt == doctest::Approx(2e11));
  CHECK(energy_headers(true).size() == energy_headers(false).size() + 1);
  CHECK(energy_cells(v.rows[0], true)[5] == "200 GFLOP/J");
  CHECK(pue_note(v).find("not a measurement") != std::string::npos);
}

TEST_CASE("energy view: Markdown and HTML show the section, and say plainly where a device has none") {
  const LoadedReport r = report_with_energy(1.25);
  const std::string md = render_markdown(r);
  CHECK(md.find("## Energy and per watt") != std::string::npos);
  CHECK(md.find("| gpu:0 | gemm | 350 W |") != std::string::npos);
  CHECK(md.find("- **cpu:0**: no energy source: no RAPL package zone") != std::string::npos);
  CHECK(md.find("declared PUE 1.25") != std::string::npos);
  const std::string html = render_html(r);
  CHECK(html.find("<h2>Energy and per watt</h2>") != std::string::npos);
  CHECK(html.find("250 GFLOP/J") != std::string::npos);
  CHECK(html.find("<li><b>stub:0</b>: the plugin offers no telemetry</li>") != std::string::npos);
  // No telemetry anywhere: still one plain line per device, not an empty table.
  LoadedReport none = r;
  none.results.erase(none.results.begin());
  const std::string md_none = render_markdown(none);
  CHECK(md_none.find("| Average power |") == std::string::npos);
  CHECK(md_none.find("No energy figures:") != std::string::npos);
}

}  // namespace
}  // namespace cmeter::reports
