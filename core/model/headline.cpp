// The headline catalogue: which workload, params and metric feed each headline, in display order.
#include "core/model/headline.h"

namespace cmeter {

const std::vector<HeadlineRule>& headline_rules() {
  static const std::vector<HeadlineRule> kRules = {
      {"fp16_flops_per_s",
       "FP16 GEMM (f32 accumulate)",
       "gemm",
       {{"dtype_a", "f16"}},
       "flops_per_s",
       true,
       "peak.flops.f16"},
      {"bf16_flops_per_s",
       "BF16 GEMM (f32 accumulate)",
       "gemm",
       {{"dtype_a", "bf16"}},
       "flops_per_s",
       true,
       "peak.flops.bf16"},
      {"fp32_flops_per_s",
       "FP32 GEMM",
       "gemm",
       {{"dtype_a", "f32"}, {"compute", "f32"}},
       "flops_per_s",
       true,
       "peak.flops.f32"},
      {"tf32_flops_per_s",
       "TF32 GEMM",
       "gemm",
       {{"dtype_a", "f32"}, {"compute", "tf32"}},
       "flops_per_s",
       true,
       "peak.flops.tf32"},
      {"fp64_flops_per_s", "FP64 GEMM", "gemm", {{"dtype_a", "f64"}}, "flops_per_s", true, "peak.flops.f64"},
      {"i8_ops_per_s", "INT8 GEMM", "gemm", {{"dtype_a", "i8"}}, "flops_per_s", true, "peak.flops.i8"},
      {"fma_f16_flops_per_s",
       "FMA peak f16",
       "fma_peak",
       {{"dtype", "f16"}},
       "flops_per_s",
       true,
       "peak.flops.f16"},
      {"fma_f32_flops_per_s",
       "FMA peak f32",
       "fma_peak",
       {{"dtype", "f32"}},
       "flops_per_s",
       true,
       "peak.flops.f32"},
      {"fma_f64_flops_per_s",
       "FMA peak f64",
       "fma_peak",
       {{"dtype", "f64"}},
       "flops_per_s",
       true,
       "peak.flops.f64"},
      {"mem_triad_bytes_per_s",
       "Memory bandwidth (STREAM triad)",
       "stream",
       {{"kind", "triad"}},
       "bytes_per_s",
       true,
       "peak.mem.bytes_per_s"},
      {"mem_copy_bytes_per_s",
       "Memory bandwidth (STREAM copy)",
       "stream",
       {{"kind", "copy"}},
       "bytes_per_s",
       true,
       "peak.mem.bytes_per_s"},
      {"d2d_copy_bytes_per_s", "Device copy", "copy", {}, "bytes_per_s", true, "peak.mem.bytes_per_s"},
      {"h2d_pinned_bytes_per_s",
       "Host to device (pinned)",
       "transfer",
       {{"direction", "h2d"}, {"memory", "pinned"}},
       "bytes_per_s",
       true,
       "peak.link.bytes_per_s"},
      {"d2h_pinned_bytes_per_s",
       "Device to host (pinned)",
       "transfer",
       {{"direction", "d2h"}, {"memory", "pinned"}},
       "bytes_per_s",
       true,
       "peak.link.bytes_per_s"},
      {"h2d_pageable_bytes_per_s",
       "Host to device (pageable)",
       "transfer",
       {{"direction", "h2d"}, {"memory", "pageable"}},
       "bytes_per_s",
       true,
       ""},
      {"d2h_pageable_bytes_per_s",
       "Device to host (pageable)",
       "transfer",
       {{"direction", "d2h"}, {"memory", "pageable"}},
       "bytes_per_s",
       true,
       ""},
      // LLM serving throughput after the kernel figures it is built from (prefill is compute, decode is
      // memory bandwidth) and before every latency; one headline per model (split_by).
      {"llm_offline_output_tokens_per_s",
       "LLM output tokens/s (Offline)",
       "inference",
       {{"scenario", "offline"}},
       "output_tokens_per_s",
       true,
       "",
       "model"},
      {"llm_server_qps",
       "LLM Server rate (TTFT/TPOT p99 within bounds)",
       "inference",
       {{"scenario", "server"}},
       "server_qps",
       true,
       "",
       "model"},
      {"launch_latency_s",
       "Launch latency (back to back)",
       "launch_latency",
       {{"form", "throughput"}},
       "latency_s",
       false,
       ""},
      {"launch_round_trip_s",
       "Launch round trip",
       "launch_latency",
       {{"form", "round_trip"}},
       "latency_s",
       false,
       ""},
      // LLM latencies last: a query's latency is built on launch latency (each decode step launches
      // kernels), so the primitive comes first, as in the throughput figures above. Medians with their
      // CI (the metrics' statistics); p90/p99 are in the inference section of every view.
      {"llm_single_stream_latency_s",
       "LLM latency median (SingleStream)",
       "inference",
       {{"scenario", "single_stream"}},
       "latency_s",
       false,
       "",
       "model"},
      {"llm_single_stream_ttft_s",
       "LLM TTFT median (SingleStream)",
       "inference",
       {{"scenario", "single_stream"}},
       "ttft_s",
       false,
       "",
       "model"},
      {"llm_single_stream_tpot_s",
       "LLM TPOT median (SingleStream)",
       "inference",
       {{"scenario", "single_stream"}},
       "tpot_s",
       false,
       "",
       "model"},
  };
  return kRules;
}

int headline_rank(std::string_view key) {
  const auto& rules = headline_rules();
  const HeadlineRule* rule = find_headline_rule(key);
  return rule == nullptr ? static_cast<int>(rules.size()) : static_cast<int>(rule - rules.data());
}

const HeadlineRule* find_headline_rule(std::string_view key) {
  const std::string_view base = key.substr(0, key.find('@'));
  for (const auto& rule : headline_rules())
    if (base == rule.key && (base.size() == key.size() || *rule.split_by != '\0')) return &rule;
  return nullptr;
}

const HeadlineMetric* DeviceSummary::find(std::string_view key) const {
  for (const auto& m : metrics)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace cmeter
