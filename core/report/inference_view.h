// The `inference` member of a report's results (schema 1.1), read back as plain data for the renderers
// and `cmeter compare`. It is read from the report's JSON, not from CaseResult, so reading needs nothing
// from the workload that wrote it; figures the report stores as null (not finite, not known) read as NaN
// or nullopt, never as zero, so a renderer can say "n/a" instead of printing a number nobody measured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"

namespace cmeter {

struct InferenceView {
  struct Model {
    std::string name, dtype;
    int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0;
    int64_t parameters = 0;
    bool tied_lm_head = false;
  };
  struct Percentiles {
    double p50 = 0, p90 = 0, p99 = 0;  // seconds; NaN where the report has null
  };
  struct SearchStep {
    double qps = 0, ttft_p99_s = 0, tpot_p99_s = 0;
    bool passed = false;
  };
  struct Server {
    double target_qps = 0, achieved_qps = 0, ttft_bound_s = 0, tpot_bound_s = 0;
    std::vector<SearchStep> search;
  };
  struct Accuracy {
    int64_t tokens_checked = 0, top1_clear_margin_tokens = 0, audit_queries = 0, audit_mismatches = 0;
    double logit_nmse_max = 0, top1_agreement = 0, kl_mean = 0;
    bool passed = false;
    std::string first_divergence;
  };

  size_t result_index = 0;  // position of the result in LoadedReport::results (and in the JSON)
  std::string device, case_id;
  CaseStatus status = CaseStatus::kFailed;
  Model model;
  std::string scenario;  // offline | single_stream | server
  int64_t queries = 0, prompt_tokens = 0, output_tokens = 0, max_batch = 0;
  double duration_s = 0;
  Percentiles latency_s, ttft_s, tpot_s;
  double output_tokens_per_s = 0, prompt_tokens_per_s = 0;
  std::optional<Server> server;
  std::optional<double> mfu_prefill, mbu_decode, joules_per_token;
  std::string mfu_peak_key, mbu_bandwidth_source;
  std::vector<std::pair<std::string, std::string>> op_paths;  // attention first, then by op name
  Accuracy accuracy;
  std::vector<std::pair<double, double>> latency_cdf;  // (latency_s, fraction at or below)
};

// The member as plain data; nullopt when `j` is not an object.
std::optional<InferenceView> inference_view_from_json(const nlohmann::json& j);

// "Offline", "SingleStream", "Server" (MLPerf's names) for offline, single_stream, server; else as given.
std::string scenario_label(std::string_view scenario);

}  // namespace cmeter
