// Tests for comparison: verdicts from confidence intervals (overlapping = same within noise, disjoint =
// faster/slower, reversed for lower-is-better), alignment, ratios, normalisations and warnings, on
// synthetic reports whose intervals are chosen.
#include "core/report/compare.h"

#include <doctest/doctest.h>

#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

LoadedReport load(const testing::SyntheticReport& spec, const std::string& name) {
  auto r = load_report(testing::make_report(spec), name);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(*r);
}

const CompareRow* row(const CompareTable& t, const std::string& label) {
  for (const auto& r : t.cases)
    if (r.label == label) return &r;
  return nullptr;
}

bool warned(const Comparison& c, const std::string& needle) {
  for (const auto& w : c.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

testing::SyntheticCase gemm(double median, double half_width, std::string id = "gemm[dtype=f32]") {
  testing::SyntheticCase c;
  c.case_id = std::move(id);
  c.median = median;
  c.ci_low = median - half_width;
  c.ci_high = median + half_width;
  return c;
}

testing::SyntheticCase latency(double median, double half_width) {
  testing::SyntheticCase c;
  c.case_id = "launch";
  c.workload = "launch_latency";
  c.params = {{"form", std::string("throughput")}};
  c.metric = "latency_s";
  c.unit = "s";
  c.higher_is_better = false;
  c.median = median;
  c.ci_low = median - half_width;
  c.ci_high = median + half_width;
  return c;
}

TEST_CASE("compare: verdicts come from the intervals, not the medians") {
  CHECK(judge({100, 95, 105}, {120, 110, 130}, true) == CompareVerdict::kFaster);
  CHECK(judge({100, 95, 105}, {80, 70, 90}, true) == CompareVerdict::kSlower);
  CHECK(judge({100, 95, 105}, {104, 101, 112}, true) ==
        CompareVerdict::kSame);  // medians differ, CIs overlap
  CHECK(judge({100, 95, 105}, {110, 105, 115}, true) == CompareVerdict::kSame);  // touching counts as overlap
  CHECK(judge({100, 95, 105}, {120, 110, 130}, false) == CompareVerdict::kSlower);  // latency went up
  CHECK(judge({100, 95, 105}, {80, 70, 90}, false) == CompareVerdict::kFaster);
  CHECK(judge({100, NAN, 105}, {80, 70, 90}, true) == CompareVerdict::kNotComparable);
  CHECK(judge({100, 95, 105}, {80, 90, 70}, true) == CompareVerdict::kNotComparable);
}

TEST_CASE("compare: synthetic reports with overlapping and disjoint intervals") {
  testing::SyntheticReport a, b, c;
  a.cases = {gemm(100e9, 2e9), gemm(50e9, 1e9, "gemm-big"), latency(10e-6, 0.2e-6)};
  b.cases = {gemm(101e9, 2e9), gemm(60e9, 1e9, "gemm-big"), latency(12e-6, 0.2e-6)};
  c.cases = {gemm(80e9, 2e9), gemm(50.5e9, 1e9, "gemm-big")};
  // gemm-big has different params from gemm[dtype=f32] so the rows stay apart.
  for (auto* s : {&a, &b, &c}) s->cases[1].params["m"] = int64_t{4096};
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json"), load(c, "c.json")}, {});
  REQUIRE(cmp.ok());
  REQUIRE(cmp->tables.size() == 1);
  const auto& t = cmp->tables[0];
  const auto* g = row(t, "gemm[dtype=f32]");
  REQUIRE(g != nullptr);
  CHECK(g->cells[0].verdict == CompareVerdict::kBaseline);
  CHECK(g->cells[1].verdict == CompareVerdict::kSame);
  CHECK(g->cells[1].ratio.value() == doctest::Approx(1.01));
  CHECK(g->cells[2].verdict == CompareVerdict::kSlower);
  CHECK(g->cells[2].ratio.value() == doctest::Approx(0.8));
  const auto* big = row(t, "gemm-big");
  REQUIRE(big != nullptr);
  CHECK(big->cells[1].verdict == CompareVerdict::kFaster);
  CHECK(big->cells[2].verdict == CompareVerdict::kSame);
  const auto* lat = row(t, "launch");
  REQUIRE(lat != nullptr);
  CHECK_FALSE(lat->higher_is_better);
  CHECK(lat->cells[1].verdict == CompareVerdict::kSlower);
  CHECK(lat->cells[2].verdict == CompareVerdict::kMissing);
  // Headlines align too: fp32 from the best gemm of each report.
  REQUIRE_FALSE(t.headlines.empty());
  CHECK(t.headlines[0].metric == "fp32_flops_per_s");
  CHECK(t.headlines[0].cells[2].verdict == CompareVerdict::kSlower);
  CHECK(t.headlines[0].cells[0].efficiency.value() == doctest::Approx(0.25));
  CHECK(cmp->sides[1].label == "B");
  CHECK(cmp->aligned_by_position);
  CHECK(cmp->warnings.empty());
}

TEST_CASE("compare: invalid results are not comparable, single devices align by position") {
  testing::SyntheticReport a, b;
  a.cases = {gemm(100e9, 2e9)};
  b.devices = {{"cuda:0", {{"name", std::string("Test GPU")}}}};
  b.cases = {gemm(300e9, 2e9)};
  b.cases[0].device = "cuda:0";
  b.cases[0].status = CaseStatus::kInvalid;
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, {});
  REQUIRE(cmp.ok());
  const auto* g = row(cmp->tables[0], "gemm[dtype=f32]");
  REQUIRE(g != nullptr);
  CHECK(g->cells[1].device == "cuda:0");
  CHECK(g->cells[1].verdict == CompareVerdict::kNotComparable);
  CHECK(g->cells[1].note == "invalid");
  CHECK(warned(*cmp, "comparing A cpu:0 with B cuda:0"));
}

TEST_CASE("compare: several devices align by device id") {
  testing::SyntheticReport a, b;
  a.devices.push_back({"cpu:1", {}});
  a.cases = {gemm(100e9, 2e9), gemm(10e9, 1e9)};
  a.cases[1].device = "cpu:1";
  b.devices = a.devices;
  b.cases = {gemm(10e9, 1e9), gemm(100e9, 2e9)};
  b.cases[1].device = "cpu:1";
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, {});
  REQUIRE(cmp.ok());
  CHECK_FALSE(cmp->aligned_by_position);
  REQUIRE(cmp->tables[0].cases.size() == 2);
  CHECK(cmp->tables[0].cases[0].device_slot == "cpu:0");
  CHECK(cmp->tables[0].cases[0].cells[1].verdict == CompareVerdict::kSlower);
  CHECK(cmp->tables[0].cases[1].cells[1].verdict == CompareVerdict::kFaster);
}

TEST_CASE("compare: warnings name tool, profile, settings and params differences") {
  testing::SyntheticReport a, b;
  b.tool_version = "9.9.9";
  b.profile = "standard";
  b.run_settings = {{"execution", "worker processes"}};
  b.cases = {gemm(100e9, 2e9)};
  b.cases[0].params["m"] = int64_t{1024};
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, {});
  REQUIRE(cmp.ok());
  CHECK(warned(*cmp, "tool versions differ"));
  CHECK(warned(*cmp, "9.9.9"));
  CHECK(warned(*cmp, "profiles differ"));
  CHECK(warned(*cmp, "run settings differ"));
  CHECK(warned(*cmp, "execution \"in-process\" vs \"worker processes\""));
  CHECK(warned(*cmp, "case 'gemm[dtype=f32]' has different params"));
  CHECK(compare_reports({load(a, "a.json")}, {}).error().message.find("at least two") != std::string::npos);
}

TEST_CASE("compare: per watt and per price") {
  testing::SyntheticReport a, b;
  a.cases = {gemm(100e9, 2e9)};
  a.cases[0].telemetry = {{"avg_power_w", 100.0}};
  b.cases = {gemm(150e9, 2e9)};
  b.cases[0].telemetry = {{"avg_power_w", 300.0}};
  CompareOptions options;
  options.per_watt = true;
  auto p1 = parse_price("1/cpu:0=1000");
  auto p2 = parse_price("2/cpu:0=1000");
  REQUIRE(p1.ok());
  REQUIRE(p2.ok());
  options.prices = {*p1, *p2};
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, options);
  REQUIRE(cmp.ok());
  REQUIRE(cmp->tables.size() == 3);
  CHECK(cmp->tables[0].cases[0].cells[1].verdict == CompareVerdict::kFaster);
  const auto& watt = cmp->tables[1];
  CHECK(watt.normalisation == "per watt");
  REQUIRE(watt.cases.size() == 1);
  CHECK(watt.cases[0].unit == "FLOP/s/W");
  CHECK(watt.cases[0].cells[0].value == doctest::Approx(1e9));
  CHECK(watt.cases[0].cells[1].value == doctest::Approx(0.5e9));
  CHECK(watt.cases[0].cells[1].verdict == CompareVerdict::kSlower);  // faster, but not per watt
  const auto& price = cmp->tables[2];
  CHECK(price.cases[0].cells[1].verdict == CompareVerdict::kFaster);
  CHECK(price.cases[0].cells[1].ratio.value() == doctest::Approx(1.5));

  CHECK_FALSE(parse_price("cuda:0").ok());
  CHECK_FALSE(parse_price("cuda:0=-5").ok());
  CHECK_FALSE(parse_price("cuda:0=12x").ok());
  CHECK(parse_price("Test GPU=2.5e4")->amount == 25000);
  options.per_watt = true;
  options.prices = {*parse_price("tpu:0=5")};
  a.cases[0].telemetry = nullptr;
  b.cases[0].telemetry = nullptr;
  cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, options);
  REQUIRE(cmp.ok());
  CHECK(warned(*cmp, "no result in these reports has power telemetry"));
  CHECK(warned(*cmp, "--price tpu:0: matches no device"));
}

const CompareRow* inference_row(const CompareTable& t, const std::string& label) {
  for (const auto& r : t.inference)
    if (r.label == label) return &r;
  return nullptr;
}

TEST_CASE("compare: LLM inference results align by case id, model and scenario") {
  testing::SyntheticReport a, b;
  testing::SyntheticInference offline, single, server;
  single.scenario = "single_stream";
  server.scenario = "server";
  server.joules_per_token = 0.5;
  a.inference = {offline, single, server};
  // B: 1.5x the tokens/s (disjoint CIs), the same latency within noise, a lower TPOT (disjoint), half
  // the energy per token; its llm-1b result has no counterpart in A.
  auto faster = offline;
  faster.output_tokens_per_s = 1500;
  auto single_b = single;
  single_b.latency_p50_s = 0.505;
  single_b.tpot_p50_s = 0.005;
  auto server_b = server;
  server_b.joules_per_token = 0.25;
  auto big = offline;
  big.model = "llm-1b";
  b.inference = {faster, single_b, server_b, big};
  CompareOptions options;
  options.per_watt = true;
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, options);
  REQUIRE(cmp.ok());
  const auto& t = cmp->tables[0];
  const auto* tokens = inference_row(t, "llm-tiny-offline output tokens/s");
  REQUIRE(tokens != nullptr);
  CHECK(tokens->unit == "tok/s");
  CHECK(tokens->higher_is_better);
  CHECK(tokens->params == "model=llm-tiny scenario=offline");
  CHECK(tokens->cells[1].ratio.value() == doctest::Approx(1.5));
  CHECK(tokens->cells[1].verdict == CompareVerdict::kFaster);
  const auto* latency = inference_row(t, "llm-tiny-single_stream latency p50");
  REQUIRE(latency != nullptr);
  CHECK_FALSE(latency->higher_is_better);
  CHECK(latency->unit == "s");
  CHECK(latency->cells[1].verdict == CompareVerdict::kSame);  // from the metric's CI
  const auto* tpot = inference_row(t, "llm-tiny-single_stream TPOT p50");
  REQUIRE(tpot != nullptr);
  CHECK(tpot->cells[1].ratio.value() == doctest::Approx(5.0 / 7.0));
  CHECK(tpot->cells[1].verdict == CompareVerdict::kFaster);  // lower is better
  // p99 has no confidence interval: a ratio, never faster/slower.
  const auto* p99 = inference_row(t, "llm-tiny-single_stream TPOT p99");
  REQUIRE(p99 != nullptr);
  CHECK(p99->cells[1].ratio.value() == doctest::Approx(5.0 / 7.0));
  CHECK(p99->cells[1].verdict == CompareVerdict::kNotComparable);
  CHECK(p99->cells[1].note == "no confidence interval");
  const auto* rate = inference_row(t, "llm-tiny-server Server rate");
  REQUIRE(rate != nullptr);
  CHECK(rate->unit == "query/s");
  CHECK(inference_row(t, "llm-tiny-offline Server rate") == nullptr);  // no Server figure: no row
  const auto* energy = inference_row(t, "llm-tiny-server energy per token");
  REQUIRE(energy != nullptr);
  CHECK_FALSE(energy->higher_is_better);
  CHECK(energy->cells[1].ratio.value() == doctest::Approx(0.5));
  CHECK(inference_row(t, "llm-tiny-offline energy per token") == nullptr);  // no energy anywhere
  const auto* missing = inference_row(t, "llm-1b-offline output tokens/s");
  REQUIRE(missing != nullptr);
  CHECK_FALSE(missing->cells[0].present);
  CHECK(missing->cells[1].verdict == CompareVerdict::kNotComparable);
  // Per watt: tokens per joule from the energy per token (no power telemetry needed).
  REQUIRE(cmp->tables.size() == 2);
  const auto* per_joule = inference_row(cmp->tables[1], "llm-tiny-server tokens per joule");
  REQUIRE(per_joule != nullptr);
  CHECK(per_joule->higher_is_better);
  CHECK(per_joule->unit == "tok/J");
  CHECK(per_joule->cells[0].value == doctest::Approx(2.0));
  CHECK(per_joule->cells[1].value == doctest::Approx(4.0));
  CHECK(per_joule->cells[1].ratio.value() == doctest::Approx(2.0));
  CHECK_FALSE(warned(*cmp, "--per-watt"));
}

TEST_CASE("compare: an inference result that does not count is not comparable; power divides tokens/s") {
  testing::SyntheticReport a, b;
  testing::SyntheticInference good;
  good.avg_power_w = 100;
  auto wrong = good;
  wrong.status = CaseStatus::kInvalid;
  wrong.accuracy_passed = false;
  wrong.output_tokens_per_s = 1e6;  // fast and wrong
  wrong.avg_power_w = 200;
  a.inference = {good};
  b.inference = {wrong};
  CompareOptions options;
  options.per_watt = true;
  auto cmp = compare_reports({load(a, "a.json"), load(b, "b.json")}, options);
  REQUIRE(cmp.ok());
  const auto* tokens = inference_row(cmp->tables[0], "llm-tiny-offline output tokens/s");
  REQUIRE(tokens != nullptr);
  CHECK(tokens->cells[1].verdict == CompareVerdict::kNotComparable);
  CHECK(tokens->cells[1].note == "invalid");
  CHECK_FALSE(tokens->cells[1].ratio.has_value());
  const auto* watt = inference_row(cmp->tables[1], "llm-tiny-offline output tokens/s");
  REQUIRE(watt != nullptr);
  CHECK(watt->unit == "tok/s/W");
  CHECK(watt->cells[0].value == doctest::Approx(10.0));
  CHECK(inference_row(cmp->tables[1], "llm-tiny-offline latency p50") == nullptr);  // lower is better
}

}  // namespace
}  // namespace cmeter
