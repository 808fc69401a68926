// Synthetic, schema-valid reports for the report tests (reader, integrity, compare, merge): built by
// the same build_report() a run uses, from results whose medians and confidence intervals the tests
// choose, so verdicts and totals can be checked against known answers. Test-only (header-only).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/report.h"

namespace cmeter::testing {

struct SyntheticCase {
  std::string device = "cpu:0";
  std::string case_id = "gemm[dtype=f32]";
  std::string workload = "gemm";
  KeyValues params = {{"dtype_a", std::string("f32")}, {"compute", std::string("f32")}, {"m", int64_t{512}}};
  CaseStatus status = CaseStatus::kOk;
  std::string metric = "flops_per_s";
  std::string unit = "FLOP/s";
  bool higher_is_better = true;
  double median = 1e11, ci_low = 0.98e11, ci_high = 1.02e11;
  nlohmann::json telemetry = nullptr;
};

inline CaseResult make_case(const SyntheticCase& c) {
  CaseResult r;
  r.case_id = c.case_id;
  r.workload = c.workload;
  r.device = c.device;
  r.params = c.params;
  r.status = c.status;
  if (c.status != CaseStatus::kOk) r.reason = "synthetic " + std::string(to_string(c.status));
  if (c.status != CaseStatus::kUnsupported && c.status != CaseStatus::kFailed) {
    measure::Statistics s;
    s.n = 20;
    s.median = c.median;
    s.mean = c.median;
    s.min = c.ci_low * 0.9;
    s.max = c.ci_high * 1.1;
    s.p5 = c.ci_low;
    s.p95 = c.ci_high;
    s.ci_low = c.ci_low;
    s.ci_high = c.ci_high;
    s.ci_exact = true;
    s.ci_coverage = 0.96;
    r.metrics.push_back({c.metric, c.unit, c.higher_is_better, s});
    r.samples_s = {1e-3, 1.1e-3, 0.9e-3};
    r.method.timer = "device";
    r.method.batch = 4;
    r.method.flop_per_call = c.workload == "gemm" ? 2.0 * 512 * 512 * 512 : 0;
    r.method.bytes_per_call = c.workload == "gemm" ? 3.0 * 512 * 512 * 4 : 1e8;
    r.method.settings = {{"noise", 0.03}, {"max_s", 2.0}};
    Validation v;
    v.method = "synthetic";
    v.points = 16;
    v.passed = c.status != CaseStatus::kInvalid;
    r.validation = v;
  }
  r.telemetry = c.telemetry;
  r.started_utc = "2026-01-01T00:00:00Z";
  r.wall_s = 1.5;
  return r;
}

struct SyntheticReport {
  std::string run_id = "20260101T000000Z-test";
  std::string hostname = "node1";
  std::string tool_version;  // "" = this build's
  std::string profile = "quick";
  nlohmann::json run_settings = {{"execution", "in-process"}};
  std::vector<DeviceFacts> devices = {
      {"cpu:0", {{"name", std::string("Test CPU")}, {"peak.flops.f32", 4e11}}}};
  std::vector<SyntheticCase> cases = {SyntheticCase{}};
  std::vector<profile::Criterion> criteria;
};

inline nlohmann::json make_report(const SyntheticReport& s) {
  ReportParts parts;
  parts.run = {{"id", s.run_id},
               {"start_utc", "2026-01-01T00:00:00Z"},
               {"end_utc", "2026-01-01T00:01:00Z"},
               {"wall_s", 60.0},
               {"argv", {"cmeter", "run"}},
               {"seed", 42},
               {"device_selector", "*"},
               {"profile",
                {{"name", s.profile},
                 {"version", "1.0.0"},
                 {"path", "profiles/x.yaml"},
                 {"sha256", std::string(64, 'a')}}},
               {"settings", s.run_settings}};
  parts.devices = s.devices;
  for (const auto& c : s.cases) parts.results.push_back(make_case(c));
  parts.summaries = summarize(parts.results, parts.devices);
  parts.criteria = evaluate_criteria(s.criteria, parts.results, parts.summaries, parts.devices);
  nlohmann::json report = build_report(parts);
  // Fixed host facts (not this machine's), so tests are reproducible; the digest is recomputed.
  report["host"] = {{"hostname", s.hostname}, {"os", "TestOS"},          {"kernel", "Linux 6"},
                    {"arch", "x86_64"},       {"cpu_model", "Test CPU"}, {"logical_cpus", 8},
                    {"memory_bytes", 1 << 30}};
  if (!s.tool_version.empty()) report["tool"]["version"] = s.tool_version;
  report["integrity"]["digest"] = report_digest(report);
  return report;
}

}  // namespace cmeter::testing
