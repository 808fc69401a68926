// Tests for the report pieces: journal append/read (a torn last line is skipped), case result JSON
// round trip, summary selection (invalid results never count), criteria verdicts, digest.
#include "core/report/report.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/report/journal.h"
#include "core/report/schema_check.h"

namespace cmeter {
namespace {

CaseResult make_result(std::string device, std::string case_id, CaseStatus status, double flops,
                       std::string dtype = "f32") {
  CaseResult r;
  r.case_id = std::move(case_id);
  r.workload = "gemm";
  r.device = std::move(device);
  r.status = status;
  r.params = {{"dtype_a", dtype}, {"compute", std::string("f32")}, {"m", int64_t{64}}};
  measure::Statistics s;
  s.n = 5;
  s.median = flops;
  s.ci_low = flops * 0.99;
  s.ci_high = flops * 1.01;
  r.metrics.push_back({"flops_per_s", "FLOP/s", true, s});
  r.samples_s = {1e-3, 1.1e-3};
  r.method.timer = "device";
  Validation v;
  v.points = 10;
  v.passed = status != CaseStatus::kInvalid;
  r.validation = v;
  return r;
}

TEST_CASE("report: case results round trip through JSON") {
  CaseResult r = make_result("cpu:0", "gemm", CaseStatus::kNoisy, 1e11);
  auto back = case_result_from_json(to_json(r));
  REQUIRE(back.ok());
  CHECK(back->case_id == "gemm");
  CHECK(back->status == CaseStatus::kNoisy);
  CHECK(back->params == r.params);
  CHECK(back->metric("flops_per_s")->stats.median == 1e11);
  CHECK(back->samples_s == r.samples_s);
  CHECK(back->validation->points == 10);
  CHECK_FALSE(case_result_from_json(nlohmann::json{{"case_id", 3}}).ok());
}

TEST_CASE("report: the journal keeps every appended case and skips a torn line") {
  auto dir = std::filesystem::temp_directory_path() / "cmeter-journal-test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "journal.jsonl").string();
  {
    auto j = Journal::create(path, {{"type", "run"}, {"id", "x"}});
    REQUIRE(j.ok());
    CHECK(j->append(make_result("cpu:0", "a", CaseStatus::kOk, 1)).ok());
    CHECK(j->append(make_result("cpu:0", "b", CaseStatus::kOk, 2)).ok());
  }
  std::ofstream(path, std::ios::app) << "{\"case_id\": \"c\", \"trunc";  // killed mid-write
  auto contents = read_journal(path);
  REQUIRE(contents.ok());
  CHECK(contents->header["id"] == "x");
  REQUIRE(contents->results.size() == 2);
  CHECK(contents->results[1].case_id == "b");
  CHECK(contents->skipped_lines == 1);
  CHECK_FALSE(read_journal((dir / "missing.jsonl").string()).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: summary takes the best valid result and never an invalid one") {
  std::vector<DeviceFacts> devices = {{"cpu:0", {{"peak.flops.f32", 4e11}}}};
  std::vector<CaseResult> results = {make_result("cpu:0", "g1", CaseStatus::kOk, 1e11),
                                     make_result("cpu:0", "g2", CaseStatus::kOk, 2e11),
                                     make_result("cpu:0", "g3", CaseStatus::kInvalid, 9e11),
                                     make_result("cpu:0", "g4", CaseStatus::kImplausible, 8e11)};
  auto s = summarize(results, devices);
  REQUIRE(s.size() == 1);
  const auto* fp32 = s[0].find("fp32_flops_per_s");
  REQUIRE(fp32 != nullptr);
  CHECK(fp32->value == 2e11);
  CHECK(fp32->case_id == "g2");
  CHECK(fp32->efficiency.value() == doctest::Approx(0.5));
  CHECK(s[0].find("fp16_flops_per_s") == nullptr);
  auto totals = node_totals(s, devices);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].value == 2e11);
}

TEST_CASE("report: node totals count each physical device once, and say which devices they left out") {
  // cpu:0 and an OpenCL CPU device (PoCL) run on the same package; cuda:0 is silicon of its own, and
  // opencl:1 is the same GPU seen through OpenCL (same PCI function, identity derived from the bus id).
  std::vector<DeviceFacts> devices = {{"cpu:0", {{"physical.id", std::string("host-cpu:package=0")}}},
                                      {"opencl:0", {{"physical.id", std::string("host-cpu:package=0")}}},
                                      {"cuda:0", {{"physical.id", std::string("pci:0000:3b:00.0")}}},
                                      {"opencl:1", {{"pci.bus_id", std::string("0000:3B:00.0")}}}};
  std::vector<CaseResult> results = {
      make_result("cpu:0", "g", CaseStatus::kOk, 2e11), make_result("opencl:0", "g", CaseStatus::kOk, 1.5e11),
      make_result("cuda:0", "g", CaseStatus::kOk, 5e13), make_result("opencl:1", "g", CaseStatus::kOk, 6e13)};
  auto s = summarize(results, devices);
  std::vector<TotalExclusion> excluded;
  auto totals = node_totals(s, devices, &excluded);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].value == doctest::Approx(2e11 + 6e13));  // not 2e11 + 1.5e11 + 5e13 + 6e13
  CHECK(totals[0].devices == 2);
  CHECK(totals[0].counted == std::vector<std::string>{"cpu:0", "opencl:1"});
  REQUIRE(excluded.size() == 2);
  CHECK(excluded[0].device == "opencl:0");
  CHECK(excluded[0].counted_instead == "cpu:0");
  CHECK(excluded[0].physical_id == "host-cpu:package=0");
  CHECK(excluded[0].reason.find("same silicon as cpu:0") != std::string::npos);
  CHECK(excluded[1].device == "cuda:0");
  CHECK(excluded[1].counted_instead == "opencl:1");
  // A device that failed every case leaves nothing to exclude: the one with a figure counts.
  std::vector<TotalExclusion> none;
  auto only_pocl = node_totals(summarize({results[1]}, devices), devices, &none);
  REQUIRE(only_pocl.size() == 1);
  CHECK(only_pocl[0].counted == std::vector<std::string>{"opencl:0"});
  CHECK(none.empty());
  // The JSON form the report carries.
  auto j = to_json(s, totals, excluded);
  CHECK(j["node_totals"]["fp32_flops_per_s"]["counted"].size() == 2);
  CHECK(j["excluded_from_totals"][0]["total"] == "fp32_flops_per_s");
}

TEST_CASE("report: a headline's efficiency is against the peak its case's plausibility gate used") {
  // fma_peak f64 on an H200 is gated against peak.flops.f64.vector (34 TFLOP/s), not the f64 tensor
  // peak (67): the headline must say 95%, as the case does, not 48%.
  std::vector<DeviceFacts> devices = {
      {"cuda:0", {{"peak.flops.f64", 67e12}, {"peak.flops.f64.vector", 34e12}}}};
  auto r = make_result("cuda:0", "fma", CaseStatus::kOk, 32.3e12);
  r.workload = "fma_peak";
  r.params = {{"dtype", std::string("f64")}};
  r.peak = 34e12;
  r.peak_key = "peak.flops.f64.vector";
  auto s = summarize({r}, devices);
  REQUIRE(s.size() == 1);
  const auto* fma = s[0].find("fma_f64_flops_per_s");
  REQUIRE(fma != nullptr);
  CHECK(fma->peak_key == "peak.flops.f64.vector");
  CHECK(fma->efficiency.value() == doctest::Approx(32.3 / 34));
}

TEST_CASE("report: criteria verdicts") {
  std::vector<DeviceFacts> devices = {{"cpu:0", {{"peak.flops.f32", 4e11}}}};
  std::vector<CaseResult> results = {make_result("cpu:0", "g", CaseStatus::kOk, 2e11),
                                     make_result("cpu:0", "bad", CaseStatus::kInvalid, 2e11)};
  auto s = summarize(results, devices);
  auto criterion = [](std::string metric, std::string op, double threshold, std::string relative_to) {
    profile::Criterion c;
    c.id = metric;
    c.metric = std::move(metric);
    c.comparison = std::move(op);
    c.threshold = threshold;
    c.relative_to = std::move(relative_to);
    return c;
  };
  CHECK(evaluate_criteria({criterion("g.flops_per_s", ">=", 0.4, "peak.flops.f32")}, results, s, devices)
            .verdict == "PASS");
  CHECK(evaluate_criteria({criterion("g.flops_per_s", ">=", 0.6, "peak.flops.f32")}, results, s, devices)
            .verdict == "FAIL");
  CHECK(evaluate_criteria({criterion("summary.fp32_flops_per_s", "<", 1e12, "")}, results, s, devices)
            .verdict == "PASS");
  auto incomplete = evaluate_criteria({criterion("bad.flops_per_s", ">=", 1, "")}, results, s, devices);
  CHECK(incomplete.verdict == "INCOMPLETE");
  CHECK(incomplete.outcomes[0].reason.find("invalid") != std::string::npos);
  CHECK(evaluate_criteria({criterion("g.flops_per_s", ">=", 0.1, "peak.flops.f16")}, results, s, devices)
            .verdict == "INCOMPLETE");
  CHECK(evaluate_criteria({}, results, s, devices).verdict.empty());
}

TEST_CASE("report: a criterion passes only on its CI's conservative side") {
  std::vector<DeviceFacts> devices = {{"cpu:0", {{"peak.flops.f32", 1e12}}}};
  // median 5e11, CI 4.95e11 .. 5.05e11 (make_result's +-1%).
  std::vector<CaseResult> results = {make_result("cpu:0", "g", CaseStatus::kOk, 5e11)};
  auto s = summarize(results, devices);
  auto criterion = [](std::string op, double threshold) {
    profile::Criterion c;
    c.id = "gemm_fraction";
    c.metric = "g.flops_per_s";
    c.comparison = std::move(op);
    c.threshold = threshold;
    c.relative_to = "peak.flops.f32";
    return c;
  };
  // Whole CI above 0.49 x peak: PASS.
  auto pass = evaluate_criteria({criterion(">=", 0.49)}, results, s, devices);
  CHECK(pass.verdict == "PASS");
  CHECK(pass.outcomes[0].measured_ci_low.value() == doctest::Approx(4.95e11));
  // Median above 0.498 x peak, CI low end (4.95e11) below it: INCONCLUSIVE, not PASS.
  auto crossing = evaluate_criteria({criterion(">=", 0.498)}, results, s, devices);
  CHECK(crossing.verdict == "INCONCLUSIVE");
  CHECK(crossing.outcomes[0].reason.find("CI crosses") != std::string::npos);
  // Median below the threshold: FAIL naming the measured value and its CI.
  auto fail = evaluate_criteria({criterion(">=", 0.502)}, results, s, devices);
  CHECK(fail.verdict == "FAIL");
  CHECK(fail.outcomes[0].reason.find("measured 5e+11") != std::string::npos);
  CHECK(fail.outcomes[0].reason.find("95% CI") != std::string::npos);
  // Lower-is-better: the CI's high end is the conservative one.
  CHECK(evaluate_criteria({criterion("<=", 0.51)}, results, s, devices).verdict == "PASS");
  CHECK(evaluate_criteria({criterion("<=", 0.502)}, results, s, devices).verdict == "INCONCLUSIVE");
  // Summary figures carry their case's CI too.
  profile::Criterion summary_criterion = criterion(">=", 0.498);
  summary_criterion.metric = "summary.fp32_flops_per_s";
  CHECK(evaluate_criteria({summary_criterion}, results, s, devices).verdict == "INCONCLUSIVE");
  // The verdict order: FAIL over INCOMPLETE over INCONCLUSIVE over PASS.
  CHECK(combine_verdicts({"PASS", "INCONCLUSIVE"}) == "INCONCLUSIVE");
  CHECK(combine_verdicts({"INCONCLUSIVE", "INCOMPLETE"}) == "INCOMPLETE");
  CHECK(combine_verdicts({"INCOMPLETE", "FAIL", "PASS"}) == "FAIL");
  CHECK(combine_verdicts({"PASS", "bogus"}) == "INCOMPLETE");
  CHECK(combine_verdicts({"PASS"}) == "PASS");
}

TEST_CASE("report: the digest covers everything but itself") {
  ReportParts parts;
  parts.run = {{"id", "r1"}, {"seed", 7}};
  parts.results = {make_result("cpu:0", "g", CaseStatus::kOk, 1e11)};
  auto report = build_report(parts);
  CHECK(report["schema"] == kReportSchema);
  CHECK(report["integrity"]["digest"] == report_digest(report));
  auto tampered = report;
  tampered["results"][0]["metrics"][0]["statistics"]["median"] = 2e11;
  CHECK(report_digest(tampered) != report["integrity"]["digest"].get<std::string>());
  auto reordered = nlohmann::json::parse(report.dump(4));  // whitespace and key order do not matter
  CHECK(report_digest(reordered) == report["integrity"]["digest"].get<std::string>());
}

TEST_CASE("report: declared peaks hold the numeric peak attributes only (peak.sku is text)") {
  ReportParts parts;
  parts.run = {{"id", "r1"}, {"seed", 7}};
  DeviceFacts d;
  d.id = "cuda:0";
  d.attributes = {{"peak.flops.f16", 989.5e12},
                  {"peak.cores", int64_t{132}},
                  {"peak.sku", std::string("NVIDIA H200 SXM")},
                  {"peak.source", std::string("datasheet")}};
  parts.devices = {d};
  auto report = build_report(parts);
  const auto& peaks = report["devices"][0]["declared_peaks"];
  CHECK(peaks.size() == 2);
  CHECK(peaks["peak.flops.f16"] == 989.5e12);
  CHECK(peaks["peak.cores"] == 132);
  CHECK(report["devices"][0]["attributes"].contains("peak.sku"));
  CHECK(report["devices"][0]["peak_source"] == "datasheet");
  // The run facts here are partial; no error may be about the devices.
  for (const auto& error : check_against_schema(report_schema_v1(), report, {false, 100})) {
    INFO(error);
    CHECK(error.find("devices") == std::string::npos);
  }
  CHECK(peaks.dump().find("NVIDIA") == std::string::npos);
}

}  // namespace
}  // namespace cmeter
