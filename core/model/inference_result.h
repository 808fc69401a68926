// InferenceResult: what the `inference` workload adds to a CaseResult (the model it ran, the scenario,
// the latency/TTFT/TPOT percentiles, throughput, the Server search, utilisation, the path each op took
// and the accuracy numbers). Plain data with one JSON form, which the report schema and renderers read
// under "inference"; absent for every other workload.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace cmeter {

struct InferenceModelInfo {
  std::string name;
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0;
  bool tied_lm_head = false;
  std::string dtype;
  int64_t parameters = 0;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0;
};

struct ServerSearchStep {
  double qps = 0;
  double ttft_p99_s = 0;
  double tpot_p99_s = 0;
  bool passed = false;
  // Seconds of TTFT gained per second of the probe (schema 1.3; absent in older reports): the queue's
  // growth, > 0.1 when the device did not keep up with the offered rate.
  std::optional<double> ttft_growth;
};

struct ServerResult {
  double target_qps = 0;
  double achieved_qps = 0;
  double ttft_bound_s = 0;
  double tpot_bound_s = 0;
  std::vector<ServerSearchStep> search;
};

struct InferenceAccuracy {
  int64_t tokens_checked = 0;
  double logit_nmse_max = 0;
  double top1_agreement = 0;
  int64_t top1_clear_margin_tokens = 0;
  double kl_mean = 0;
  int64_t audit_queries = 0;
  int64_t audit_mismatches = 0;
  bool passed = false;
  std::string first_divergence;  // "" when nothing diverged; else e.g. "layer 0 rope (q)"
};

struct InferenceResult {
  InferenceModelInfo model;
  std::string scenario;  // offline | single_stream | server
  int64_t queries = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
  int64_t max_batch = 0;
  double duration_s = 0;
  Percentiles latency_s, ttft_s, tpot_s;
  double output_tokens_per_s = 0;
  double prompt_tokens_per_s = 0;
  std::optional<ServerResult> server;
  std::optional<double> mfu_prefill;
  std::string mfu_peak_key;
  std::optional<double> mbu_decode;
  std::string mbu_bandwidth_source;
  // Weight + KV bytes per decode step over the time inside decode steps: the raw figure MBU divides.
  std::optional<double> decode_bytes_per_s;
  // decode_bytes_per_s over the same device's STREAM triad measured in the same run
  // (core/run/decode_bandwidth.h); null when the run measured no triad on the device.
  std::optional<double> mbu_decode_measured;
  std::string mbu_measured_source;
  std::optional<double> joules_per_token;
  std::map<std::string, std::string> op_paths;  // "attention": "fused"|"composed", op name: impl
  InferenceAccuracy accuracy;
  std::vector<std::pair<double, double>> latency_cdf;  // (latency_s, fraction), at most 100 points
};

nlohmann::json to_json(const InferenceResult& r);
Result<InferenceResult> inference_result_from_json(const nlohmann::json& j);

}  // namespace cmeter
