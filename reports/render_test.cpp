// Golden-file tests of the Markdown and CSV renderers on a fixed real report
// (tests/fixtures/reports/stub-run.json), and structural checks of the terminal and HTML views.
// Set CMETER_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "reports/compare_render.h"
#include "reports/csv.h"
#include "reports/format.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/terminal.h"
#include "tests/support/report_fixtures.h"

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

// --- LLM inference (schema 1.1) ---------------------------------------------------------------------

// The hand-made inference report (tests/fixtures/reports/inference-run.json): two devices, every
// scenario, a noisy 1B result, an invalid result whose accuracy failed, energy on some results only.
// Built by the same build_report() a run uses, with fixed tool and host facts, so the committed file
// is reproducible (CMETER_UPDATE_GOLDEN=1 rewrites it; the test below checks it is unchanged).
nlohmann::json inference_fixture() {
  testing::SyntheticReport spec;
  spec.run_id = "20260101T000000Z-llm";
  spec.profile = "llm";
  spec.devices = {
      {"cpu:0", {{"name", std::string("Test CPU")}, {"peak.flops.f32", 4e11}, {"peak.flops.bf16", 8e11}}},
      {"opencl:0", {{"name", std::string("pthread-Test CPU")}, {"peak.flops.f32", 4e11}}}};
  testing::SyntheticCase other_gemm;
  other_gemm.device = "opencl:0";
  other_gemm.median = 5e10;
  other_gemm.ci_low = 4.9e10;
  other_gemm.ci_high = 5.1e10;
  spec.cases = {testing::SyntheticCase{}, other_gemm};
  testing::SyntheticInference offline, single, server, big, cl_offline, cl_single;
  offline.joules_per_token = 0.21;
  single.scenario = "single_stream";
  single.output_tokens_per_s = 140;
  single.latency_p50_s = 0.46;
  single.ttft_p50_s = 0.012;
  single.tpot_p50_s = 0.0071;
  server.scenario = "server";
  server.joules_per_token = 0.25;
  server.avg_power_w = 45;
  server.output_tokens_per_s = 400;
  big.model = "llm-1b";
  big.parameters = 1'235'814'400;
  big.status = CaseStatus::kNoisy;
  big.output_tokens_per_s = 85;
  big.prompt_tokens_per_s = 610;
  big.latency_p50_s = 6.1;
  big.ttft_p50_s = 0.9;
  big.tpot_p50_s = 0.082;
  cl_offline.device = cl_single.device = "opencl:0";
  cl_offline.output_tokens_per_s = 420;
  cl_single.scenario = "single_stream";
  cl_single.status = CaseStatus::kInvalid;
  cl_single.accuracy_passed = false;
  cl_single.first_divergence = "layer 0 rope (q): logit NMSE 0.37 > 1e-3";
  spec.inference = {offline, single, server, big, cl_offline, cl_single};
  nlohmann::json report = testing::make_report(spec);
  report["tool"] = {{"name", "cmeter"},
                    {"version", "0.1.0"},
                    {"git_sha", "0123456789ab"},
                    {"git_dirty", false},
                    {"build_type", "RelWithDebInfo"},
                    {"compiler", "gcc 12.2.0"},
                    {"abi", "1.1"}};
  report["integrity"]["digest"] = report_digest(report);
  return report;
}

TEST_CASE("render: the inference fixture is the one this build makes, and reads") {
  const std::string path = kFixtures + "inference-run.json";
  const nlohmann::json made = inference_fixture();
  const char* update = std::getenv("CMETER_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") std::ofstream(path) << made.dump(2) << "\n";
  auto committed = nlohmann::json::parse(read(path), nullptr, false);
  REQUIRE_MESSAGE(!committed.is_discarded(), "missing or malformed " << path);
  CHECK_MESSAGE(committed == made, path << " differs from what the test builds (CMETER_UPDATE_GOLDEN=1)");
  auto r = fixture("inference-run.json");
  CHECK(r.version.text == kReportSchemaVersion);  // regenerated by each schema bump
  CHECK(r.inference.size() == 6);
  CHECK(report_digest(r.json) == r.digest);
}

TEST_CASE("render: Markdown and the inference CSV of the inference fixture match the golden files") {
  auto r = fixture("inference-run.json");
  check_golden("inference-run.md", render_markdown(r));
  check_golden("inference-run.inference.csv", render_inference_csv(r));
}

TEST_CASE("render: every view has an LLM inference section per device with the figures") {
  auto r = fixture("inference-run.json");
  const std::string term = render_terminal(r, false);
  const std::string md = render_markdown(r);
  const std::string html = render_html(r);
  for (const auto* text : {&term, &md, &html}) {
    CHECK(text->find("LLM inference") != std::string::npos);
    CHECK(text->find("llm-tiny (12.3M parameters, bf16)") != std::string::npos);
    CHECK(text->find("llm-1b (1.24B parameters, bf16)") != std::string::npos);
    CHECK(text->find("SingleStream") != std::string::npos);
    // The Server rate with its bounds in plain milliseconds (escaped in HTML, backslashed in Markdown).
    CHECK((text->find(
               "3.12 query/s offered (2.5 query/s served) with TTFT p99 <= 2000 ms and TPOT p99 <= 100 ms") !=
               std::string::npos ||
           text->find("3.12 query/s offered (2.5 query/s served) with TTFT p99 \\<= 2000 ms and TPOT p99 "
                      "\\<= 100 ms") != std::string::npos ||
           text->find("3.12 query/s offered (2.5 query/s served) with TTFT p99 &lt;= 2000 ms and TPOT p99 "
                      "&lt;= 100 ms") != std::string::npos));
    CHECK(text->find("41.2% of peak.flops.bf16") != std::string::npos);
    const bool mbu_both =
        text->find("bytes_per_s; 84.0% of measured STREAM triad of this run") != std::string::npos ||
        text->find("bytes\\_per\\_s; 84.0% of measured STREAM triad of this run") != std::string::npos;
    CHECK(mbu_both);
    CHECK(text->find("0.21 J/token") != std::string::npos);
    CHECK(text->find("n/a (no energy telemetry)") != std::string::npos);
    CHECK(text->find("layer 0 rope (q)") != std::string::npos);
    CHECK(text->find("FAILED") != std::string::npos);
    CHECK(text->find("attention=composed (gemm.v1 + softmax.v1)") != std::string::npos);
  }
  // Terminal: the section sits in its device's block, after the cases; p50/p90/p99 in ms.
  const size_t cpu = term.find("\ncpu:0 — Test CPU\n"), cl = term.find("\nopencl:0 — pthread-Test CPU\n");
  REQUIRE(cpu != std::string::npos);
  REQUIRE(cl != std::string::npos);
  const size_t cpu_llm = term.find("LLM inference", cpu);
  CHECK(cpu_llm < cl);
  CHECK(term.find("LLM inference", cl) != std::string::npos);
  CHECK(term.find("llm-1b-offline  llm-1b (1.24B parameters, bf16), Offline: noisy") != std::string::npos);
  CHECK(term.find("    TPOT     7.1  8.52  10.7") != std::string::npos);  // 7.1 ms x 1 / 1.2 / 1.5
  CHECK(render_terminal(r, true).find("\x1b[31mFAILED\x1b[0m") != std::string::npos);
  // Markdown: latency percentiles in ms.
  CHECK(md.find("| 460 / 552 / 690 | 12 / 14.4 / 18 | 7.1 / 8.52 / 10.7 |") != std::string::npos);
}

TEST_CASE("render: HTML draws a latency CDF per device and tokens/s bars across devices") {
  auto r = fixture("inference-run.json");
  const std::string html = render_html(r);
  CHECK(html.find("class=\"chart bars llm-tokens\" id=\"llm-tokens\"") != std::string::npos);
  CHECK(html.find("class=\"chart cdf\" id=\"llm-cdf-cpu-0\"") != std::string::npos);
  CHECK(html.find("class=\"chart cdf\" id=\"llm-cdf-opencl-0\"") != std::string::npos);
  // cpu:0 has four counted results with a CDF; opencl:0 one (its invalid result is not drawn).
  const size_t cpu = html.find("id=\"llm-cdf-cpu-0\""), cl = html.find("id=\"llm-cdf-opencl-0\"");
  auto lines_between = [&](size_t from, size_t to) {
    size_t n = 0;
    for (size_t at = html.find("class=\"cdf-line\"", from); at < to;
         at = html.find("class=\"cdf-line\"", at + 1))
      ++n;
    return n;
  };
  CHECK(lines_between(cpu, cl) == 4);
  CHECK(lines_between(cl, html.find("</svg>", cl)) == 1);
  CHECK(html.find("llm-tiny Offline: 100.0% of queries within") != std::string::npos);
  // Bars: one per counted result; the invalid opencl:0 SingleStream has none.
  const size_t bars = html.find("id=\"llm-tokens\"");
  const size_t bars_end = html.find("</svg>", bars);
  size_t n_bars = 0;
  for (size_t at = html.find("<rect class=\"bar\"", bars); at < bars_end;
       at = html.find("<rect class=\"bar\"", at + 1))
    ++n_bars;
  CHECK(n_bars == 5);
  CHECK(html.find("<table class=\"inference\">") != std::string::npos);
  CHECK(html.find("<table class=\"server-search\">") != std::string::npos);
  CHECK(html.find("<script src") == std::string::npos);
}

TEST_CASE("render: CSV has one inference row per inference result; the main CSV is unchanged in shape") {
  auto r = fixture("inference-run.json");
  const std::string csv = render_inference_csv(r);
  std::vector<std::string> lines;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 1 + 6);
  auto columns = [](const std::string& line) { return std::count(line.begin(), line.end(), ',') + 1; };
  for (const auto& line : lines)
    if (line.find('"') == std::string::npos) CHECK(columns(line) == columns(lines[0]));
  CHECK(lines[0].rfind("run_id,host,device,device_name,case_id,status,model,parameters,", 0) == 0);
  CHECK(lines[4].find(",llm-1b,1235814400,bf16,") != std::string::npos);
  CHECK(lines[3].find(",server,") != std::string::npos);
  CHECK(lines[3].find(",3.125,2.5,2,0.1,") != std::string::npos);  // target, achieved, bounds
  CHECK(lines[1].find(",,,,") != std::string::npos);               // no Server figures offline
  // The results CSV keeps one row per result x metric.
  size_t rows = 0;
  for (const auto& c : r.results) rows += std::max<size_t>(1, c.metrics.size());
  const std::string main_csv = render_csv(r);
  CHECK(static_cast<size_t>(std::count(main_csv.begin(), main_csv.end(), '\n')) == rows + 1);
  CHECK(render_inference_csv(fixture("stub-run.json")).find('\n') == csv.find('\n'));  // header only
}

TEST_CASE("render: LLM headlines follow the kernel figures in every view") {
  auto r = fixture("inference-run.json");
  const std::vector<std::string> order = {"FP32 GEMM",
                                          "LLM output tokens/s (Offline), llm-1b",
                                          "LLM output tokens/s (Offline), llm-tiny",
                                          "LLM Server rate (TTFT/TPOT p99 within bounds), llm-tiny",
                                          "LLM latency median (SingleStream), llm-tiny",
                                          "LLM TTFT median (SingleStream), llm-tiny",
                                          "LLM TPOT median (SingleStream), llm-tiny"};
  check_in_order(render_terminal(r, false), 0, order);
  const std::string md = render_markdown(r);
  check_in_order(md, md.find("Headline"), order);
  const std::string html = render_html(r);
  check_in_order(html, html.find("<table class=\"headlines\">"), order);
}

TEST_CASE("render: a comparison shows the LLM inference rows in every format") {
  auto a = fixture("inference-run.json");
  auto b = fixture("inference-run.json");
  auto cmp = compare_reports({a, b}, {});
  REQUIRE(cmp.ok());
  REQUIRE_FALSE(cmp->tables[0].inference.empty());
  const std::string term = render_comparison_terminal(*cmp, false);
  CHECK(term.find("inference figure") != std::string::npos);
  CHECK(term.find("cpu:0 llm-tiny-offline output tokens/s") != std::string::npos);
  CHECK(term.find("cpu:0 llm-tiny-single_stream TPOT p99") != std::string::npos);
  CHECK(render_comparison_markdown(*cmp).find("### LLM inference") != std::string::npos);
  const std::string html = render_comparison_html(*cmp);
  CHECK(html.find("<h3>LLM inference</h3>") != std::string::npos);
  CHECK(html.find("LLM inference relative to A") != std::string::npos);
}

}  // namespace
}  // namespace cmeter::reports
