// Synthetic, schema-valid reports for the report tests (reader, integrity, compare, merge): built by
// the same build_report() a run uses, from results whose medians and confidence intervals the tests
// choose, so verdicts and totals can be checked against known answers. Test-only (header-only).
#pragma once

#include <optional>
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

// An LLM inference result (schema 1.1): the case with its metrics, and the `inference` member, both
// from the figures chosen here (percentiles p90 = 1.2 x p50, p99 = 1.5 x p50).
struct SyntheticInference {
  std::string device = "cpu:0";
  std::string model = "llm-tiny";
  int64_t parameters = 12'345'678;
  std::string scenario = "offline";  // offline | single_stream | server
  CaseStatus status = CaseStatus::kOk;
  double output_tokens_per_s = 1000, prompt_tokens_per_s = 8000;
  double rate_half_width = 0.02;  // CI half width of the rates, relative
  double latency_p50_s = 0.5, ttft_p50_s = 0.05, tpot_p50_s = 0.007;
  double latency_half_width = 0.03;  // relative
  double server_qps = 2.5;           // Server only
  std::optional<double> joules_per_token;
  std::optional<double> avg_power_w;
  bool accuracy_passed = true;
  std::string first_divergence;
  int cdf_points = 20;

  std::string case_id() const { return model + "-" + scenario; }
};

inline CaseResult make_inference_case(const SyntheticInference& s) {
  CaseResult r;
  r.case_id = s.case_id();
  r.workload = "inference";
  r.device = s.device;
  r.params = {{"model", s.model}, {"scenario", s.scenario}};
  r.status = s.status;
  if (s.status != CaseStatus::kOk) r.reason = "synthetic " + std::string(to_string(s.status));
  auto metric = [](const char* name, const char* unit, bool higher, double median, double half) {
    measure::Statistics st;
    st.n = 64;
    st.median = st.mean = median;
    st.ci_low = median * (1 - half);
    st.ci_high = median * (1 + half);
    st.min = median * 0.8;
    st.max = median * 1.6;
    st.p5 = median * 0.9;
    st.p95 = median * 1.4;
    st.ci_exact = true;
    st.ci_coverage = 0.95;
    return Metric{name, unit, higher, st};
  };
  if (s.scenario == "single_stream") {
    r.metrics.push_back(metric("latency_s", "s", false, s.latency_p50_s, s.latency_half_width));
    r.metrics.push_back(metric("ttft_s", "s", false, s.ttft_p50_s, s.latency_half_width));
    r.metrics.push_back(metric("tpot_s", "s", false, s.tpot_p50_s, s.latency_half_width));
  }
  if (s.scenario == "server") r.metrics.push_back(metric("server_qps", "query/s", true, s.server_qps, 0));
  r.metrics.push_back(metric("output_tokens_per_s", "tok/s", true, s.output_tokens_per_s, s.rate_half_width));
  r.metrics.push_back(metric("prompt_tokens_per_s", "tok/s", true, s.prompt_tokens_per_s, s.rate_half_width));
  if (s.scenario != "single_stream") {
    r.metrics.push_back(metric("latency_s", "s", false, s.latency_p50_s, s.latency_half_width));
    r.metrics.push_back(metric("ttft_s", "s", false, s.ttft_p50_s, s.latency_half_width));
    r.metrics.push_back(metric("tpot_s", "s", false, s.tpot_p50_s, s.latency_half_width));
  }
  r.method.timer = "host";
  r.method.impl = "core decoder over ABI ops";
  Validation v;
  v.method = "teacher-forced host reference (synthetic)";
  v.points = 4096;
  v.passed = s.accuracy_passed;
  r.validation = v;
  if (s.avg_power_w) r.telemetry = {{"avg_power_w", *s.avg_power_w}};
  r.started_utc = "2026-01-01T00:00:00Z";
  r.wall_s = 12.5;
  return r;
}

inline nlohmann::json make_inference_member(const SyntheticInference& s) {
  auto pct = [](double p50) { return nlohmann::json{{"p50", p50}, {"p90", p50 * 1.2}, {"p99", p50 * 1.5}}; };
  nlohmann::json cdf = nlohmann::json::array();
  for (int i = 1; i <= s.cdf_points; ++i) {
    const double f = static_cast<double>(i) / s.cdf_points;
    cdf.push_back({s.latency_p50_s * (0.6 + 0.9 * f * f), f});
  }
  nlohmann::json server = nullptr;
  if (s.scenario == "server")
    server = {{"target_qps", s.server_qps * 1.25},
              {"achieved_qps", s.server_qps},
              {"ttft_bound_s", 2.0},
              {"tpot_bound_s", 0.1},
              {"search",
               {{{"qps", s.server_qps * 2},
                 {"ttft_p99_s", 3.5},
                 {"tpot_p99_s", 0.2},
                 {"passed", false},
                 {"ttft_growth", 1.9}},
                {{"qps", s.server_qps * 1.5},
                 {"ttft_p99_s", 1.6},
                 {"tpot_p99_s", 0.08},
                 {"passed", false},
                 {"ttft_growth", 0.42}},
                {{"qps", s.server_qps * 1.25}, {"ttft_p99_s", 2.4}, {"tpot_p99_s", 0.09}, {"passed", false}},
                {{"qps", s.server_qps},
                 {"ttft_p99_s", 1.1},
                 {"tpot_p99_s", 0.06},
                 {"passed", true},
                 {"ttft_growth", 0.01}}}}};
  const int64_t queries = s.scenario == "single_stream" ? 16 : 64;
  return {
      {"model",
       {{"name", s.model},
        {"layers", 4},
        {"hidden", 256},
        {"heads", 8},
        {"kv_heads", 2},
        {"head_dim", 32},
        {"ffn", 704},
        {"vocab", 4096},
        {"tied_lm_head", true},
        {"dtype", "bf16"},
        {"parameters", s.parameters}}},
      {"scenario", s.scenario},
      {"queries", queries},
      {"prompt_tokens", queries * 128},  // the run's totals: 128 + 64 tokens a query
      {"output_tokens", queries * 64},
      {"max_batch", s.scenario == "single_stream" ? 1 : 16},
      {"duration_s", 12.5},
      {"latency_s", pct(s.latency_p50_s)},
      {"ttft_s", pct(s.ttft_p50_s)},
      {"tpot_s", pct(s.tpot_p50_s)},
      {"output_tokens_per_s", s.output_tokens_per_s},
      {"prompt_tokens_per_s", s.prompt_tokens_per_s},
      {"server", server},
      {"mfu_prefill", 0.412},
      {"mfu_peak_key", "peak.flops.bf16"},
      {"mbu_decode", 0.63},
      {"mbu_bandwidth_source", "declared peak.mem.bytes_per_s"},
      {"decode_bytes_per_s", 2.52e10},
      {"mbu_decode_measured", 0.84},
      {"mbu_measured_source", "measured STREAM triad of this run, case stream (30.0 GB/s, 256 MiB arrays)"},
      {"joules_per_token",
       s.joules_per_token ? nlohmann::json(*s.joules_per_token) : nlohmann::json(nullptr)},
      {"op_paths",
       {{"attention", "composed (gemm.v1 + softmax.v1)"},
        {"gemm", "onednn-bf16"},
        {"rmsnorm", "avx512"},
        {"rope", "avx512"},
        {"swiglu", "avx512"}}},
      {"accuracy",
       {{"tokens_checked", 4096},
        {"logit_nmse_max", s.accuracy_passed ? 1.2e-5 : 0.37},
        {"top1_agreement", s.accuracy_passed ? 1.0 : 0.41},
        {"top1_clear_margin_tokens", 4000},
        {"kl_mean", s.accuracy_passed ? 3e-6 : 0.8},
        {"audit_queries", 16},
        {"audit_mismatches", s.accuracy_passed ? 0 : 9},
        {"passed", s.accuracy_passed},
        {"first_divergence", s.first_divergence}}},
      {"latency_cdf", cdf}};
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
  std::vector<SyntheticInference> inference;  // results after `cases`, with their inference member
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
  for (const auto& c : s.inference) parts.results.push_back(make_inference_case(c));
  parts.summaries = summarize(parts.results, parts.devices);
  parts.criteria = evaluate_criteria(s.criteria, parts.results, parts.summaries, parts.devices);
  nlohmann::json report = build_report(parts);
  // Fixed host facts (not this machine's), so tests are reproducible; the digest is recomputed.
  report["host"] = {{"hostname", s.hostname}, {"os", "TestOS"},          {"kernel", "Linux 6"},
                    {"arch", "x86_64"},       {"cpu_model", "Test CPU"}, {"logical_cpus", 8},
                    {"memory_bytes", 1 << 30}};
  if (!s.tool_version.empty()) report["tool"]["version"] = s.tool_version;
  for (size_t i = 0; i < s.inference.size(); ++i)
    report["results"][s.cases.size() + i]["inference"] = make_inference_member(s.inference[i]);
  report["integrity"]["digest"] = report_digest(report);
  return report;
}

}  // namespace cmeter::testing
