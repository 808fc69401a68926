// Golden-file tests of the Markdown and CSV renderers on a fixed real report
// (tests/fixtures/reports/stub-run.json), and structural checks of the terminal and HTML views.
// Set CMETER_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "reports/compare_render.h"
#include "reports/csv.h"
#include "reports/format.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/terminal.h"

namespace cmeter::reports {
namespace {

const std::string kFixtures = std::string(CMETER_SOURCE_DIR) + "/tests/fixtures/reports/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void check_golden(const std::string& name, const std::string& text) {
  const std::string path = kFixtures + name;
  const char* update = std::getenv("CMETER_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") std::ofstream(path) << text;
  const std::string expected = read(path);
  REQUIRE_MESSAGE(!expected.empty(), "missing golden file " << path);
  CHECK_MESSAGE(text == expected, "output differs from " << path << " (CMETER_UPDATE_GOLDEN=1 rewrites it)");
}

LoadedReport fixture(const std::string& name) {
  auto r = read_report_file(kFixtures + name);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(*r);
}

TEST_CASE("render: Markdown and CSV of a fixed report match the golden files") {
  auto r = fixture("stub-run.json");
  check_golden("stub-run.md", render_markdown(r));
  check_golden("stub-run.csv", render_csv(r));
}

TEST_CASE("render: terminal view puts the headline first and colours only when asked") {
  auto r = fixture("stub-run.json");
  std::string plain = render_terminal(r, false);
  std::string coloured = render_terminal(r, true);
  CHECK(plain.find("\x1b[") == std::string::npos);
  CHECK(coloured.find("\x1b[31mimplausible\x1b[0m") != std::string::npos);
  const std::string device_line = "\nstub:0 — cmeter stub device\n";
  auto device = plain.find(device_line);
  REQUIRE(device != std::string::npos);
  CHECK(plain.compare(device + device_line.size(), 10, "  headline") == 0);
  CHECK(plain.find("Verdict: INCOMPLETE") != std::string::npos);
}

// The headline labels of cpu-quick.json in the catalogue's order (FP16 compute first, then the other
// compute, memory, device copy, host link, latency): not the alphabetical order of the summary's JSON
// keys (bf16_flops_per_s, d2d_copy_bytes_per_s, ..., fp16_flops_per_s, ...).
const std::vector<std::string> kHeadlinesInOrder = {"FP16 GEMM (f32 accumulate)",
                                                    "BF16 GEMM (f32 accumulate)",
                                                    "FP32 GEMM",
                                                    "FP64 GEMM",
                                                    "FMA peak f32",
                                                    "FMA peak f64",
                                                    "Memory bandwidth (STREAM triad)",
                                                    "Memory bandwidth (STREAM copy)",
                                                    "Device copy",
                                                    "Host to device (pinned)",
                                                    "Device to host (pinned)",
                                                    "Host to device (pageable)",
                                                    "Device to host (pageable)",
                                                    "Launch latency (back to back)",
                                                    "Launch round trip"};

void check_in_order(const std::string& text, size_t from, const std::vector<std::string>& labels) {
  size_t previous = from;
  for (const auto& label : labels) {
    size_t at = text.find(label, from);
    REQUIRE_MESSAGE(at != std::string::npos, label);
    CHECK_MESSAGE(at > previous, label << " is out of order");
    previous = at;
  }
}

TEST_CASE("render: every view lists headlines in the catalogue's order, not JSON key order") {
  auto r = fixture("cpu-quick.json");
  REQUIRE(r.summaries.size() == 1);
  REQUIRE(r.summaries[0].metrics.size() == kHeadlinesInOrder.size());
  check_in_order(render_terminal(r, false), 0, kHeadlinesInOrder);
  const std::string md = render_markdown(r);
  check_in_order(md, md.find("Headline"), kHeadlinesInOrder);
  const std::string html = render_html(r);
  const size_t table = html.find("<table class=\"headlines\">");
  REQUIRE(table != std::string::npos);
  check_in_order(html, table, kHeadlinesInOrder);
  check_in_order(html, html.find("<div class=\"cards\">"), kHeadlinesInOrder);
  CHECK(headline_rank("fp16_flops_per_s") < headline_rank("bf16_flops_per_s"));
  CHECK(headline_rank("launch_round_trip_s") < headline_rank("not_a_headline"));
}

TEST_CASE("render: a comparison lists headlines in the catalogue's order within each device") {
  Comparison c;
  c.sides = {{"A", "a.json", "h", "r1", "1", "quick", {"cpu:0"}},
             {"B", "b.json", "h", "r2", "1", "quick", {"cpu:0"}}};
  CompareTable t;
  const std::vector<std::pair<std::string, std::string>> rows_out_of_order = {
      {"launch_latency_s", "HeadlineLatency"},
      {"mem_triad_bytes_per_s", "HeadlineMemory"},
      {"bf16_flops_per_s", "HeadlineBF16"},
      {"fp16_flops_per_s", "HeadlineFP16"}};
  for (const auto& [key, label] : rows_out_of_order) {
    CompareRow row;
    row.label = label;
    row.metric = key;
    row.unit = "x";
    row.device_slot = "cpu:0";
    row.cells.resize(2);
    t.headlines.push_back(row);
  }
  c.tables.push_back(t);
  const std::vector<std::string> order = {"HeadlineFP16", "HeadlineBF16", "HeadlineMemory",
                                          "HeadlineLatency"};
  check_in_order(render_comparison_terminal(c, false), 0, order);
  check_in_order(render_comparison_markdown(c), 0, order);
  const std::string html = render_comparison_html(c);
  check_in_order(html, html.find("<table"), order);
}

TEST_CASE("render: a finished case as the run's progress shows it") {
  auto r = fixture("stub-run.json");
  REQUIRE(!r.results.empty());
  for (const auto& c : r.results) {
    const std::string line = render_case_outcome(c, false);
    CHECK(line.rfind(std::string(to_string(c.status)), 0) == 0);
    if (!c.reason.empty()) CHECK(line.find("  (" + c.reason + ")") != std::string::npos);
    if (!c.metrics.empty())
      CHECK(line.find(format_quantity(c.metrics.front().stats.median, c.metrics.front().unit)) !=
            std::string::npos);
  }
}

TEST_CASE("render: HTML is self-contained and carries its data") {
  auto r = fixture("cpu-quick.json");
  std::string html = render_html(r);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("default-src 'none'") != std::string::npos);
  for (const char* needle :
       {"class=\"chart bars\"", "class=\"chart gemm-scaling\"", "class=\"chart roofline\"",
        "<table class=\"results\">", "id=\"cmeter-report-data\""})
    CHECK_MESSAGE(html.find(needle) != std::string::npos, needle);
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(json_for_script("{\"a\":\"</script><!--\"}") == "{\"a\":\"\\u003c/script>\\u003c!--\"}");
}

}  // namespace
}  // namespace cmeter::reports
