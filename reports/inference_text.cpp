// Words and figures of an LLM inference result, shared by the renderers.
#include "reports/inference_text.h"

#include <cmath>

#include <fmt/format.h>

#include "reports/format.h"

namespace cmeter::reports {
namespace {

std::string g2(double v) {
  return std::isfinite(v) ? fmt::format("{:.2g}", v) : "n/a";
}

}  // namespace

std::string format_count(double count) {
  if (!std::isfinite(count)) return "n/a";
  static const char* kSuffixes[] = {"", "K", "M", "B", "T"};
  int i = 0;
  double v = count;
  while (std::fabs(v) >= 999.5 && i < 4) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.3g}{}", v, kSuffixes[i]);
}

std::string format_ms(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  const double ms = seconds * 1e3;
  // Whole milliseconds from 100 ms up (2000, not 2e+03); 3 significant digits below.
  return std::fabs(ms) >= 99.95 ? fmt::format("{:.0f}", ms) : fmt::format("{:.3g}", ms);
}

std::string percentiles_ms(const Percentiles& p) {
  return fmt::format("{} / {} / {}", format_ms(p.p50), format_ms(p.p90), format_ms(p.p99));
}

std::string model_text(const InferenceView& v) {
  return fmt::format("{} ({} parameters, {})", v.model.name,
                     format_count(static_cast<double>(v.model.parameters)), v.model.dtype);
}

std::string model_shape_text(const InferenceView& v) {
  const auto& m = v.model;
  return fmt::format(
      "{}: {} layers, hidden {}, {} heads ({} KV heads, head dim {}), FFN {}, vocab {}, {} lm_head", m.name,
      m.layers, m.hidden, m.heads, m.kv_heads, m.head_dim, m.ffn, m.vocab,
      m.tied_lm_head ? "tied" : "untied");
}

std::string workload_text(const InferenceView& v) {
  // The report's token counts are the run's totals; per query where they divide evenly (the core's
  // queries all have one prompt and one output length).
  const bool even = v.queries > 0 && v.prompt_tokens % v.queries == 0 && v.output_tokens % v.queries == 0;
  const std::string tokens =
      even ? fmt::format("{} prompt + {} output tokens each", v.prompt_tokens / v.queries,
                         v.output_tokens / v.queries)
           : fmt::format("{} prompt + {} output tokens in all", v.prompt_tokens, v.output_tokens);
  return fmt::format("{} queries, {}, batch up to {}, {}", v.queries, tokens, v.max_batch,
                     format_quantity(v.duration_s, "s"));
}

std::string server_text(const InferenceView& v) {
  if (!v.server) return "";
  const auto& s = *v.server;
  // The rate is the offered one (MLPerf's scheduled rate; the `server_qps` metric, the headline and
  // compare use it); what the device served in that run comes second.
  const std::string probes = fmt::format("{} probe{}", s.search.size(), s.search.size() == 1 ? "" : "s");
  if (!(s.target_qps > 0))
    return fmt::format("none: no probed rate met TTFT p99 <= {} ms and TPOT p99 <= {} ms ({})",
                       format_ms(s.ttft_bound_s), format_ms(s.tpot_bound_s), probes);
  return fmt::format("{} offered ({} served) with TTFT p99 <= {} ms and TPOT p99 <= {} ms ({})",
                     format_quantity(s.target_qps, "query/s"), format_quantity(s.achieved_qps, "query/s"),
                     format_ms(s.ttft_bound_s), format_ms(s.tpot_bound_s), probes);
}

std::string search_step_outcome(const ServerResult& s, const ServerSearchStep& step) {
  // A probe at a rate probed before is the re-run that confirms (or not) a pass (docs/measurement.md).
  bool rerun = false;
  for (const ServerSearchStep& earlier : s.search) {
    if (&earlier == &step) break;
    rerun |= earlier.qps == step.qps;
  }
  const std::string outcome = search_step_result(s, step);
  return rerun ? "re-run: " + outcome : outcome;
}

std::string search_step_result(const ServerResult& s, const ServerSearchStep& step) {
  if (step.passed) return "within bounds";
  std::vector<std::string> why;
  if (step.ttft_p99_s > s.ttft_bound_s) why.push_back("TTFT p99 over the bound");
  if (step.tpot_p99_s > s.tpot_bound_s) why.push_back("TPOT p99 over the bound");
  if (why.empty() && step.ttft_growth)
    why.push_back(fmt::format("did not keep up: TTFT grew {:.3g} s per s", *step.ttft_growth));
  if (why.empty()) return "over a bound";
  return fmt::format("{}", fmt::join(why, "; "));
}

std::string mfu_text(const InferenceView& v) {
  if (!v.mfu_prefill)
    return v.mfu_peak_key.empty() ? "n/a (no declared peak)" : "n/a (" + v.mfu_peak_key + ")";
  return format_percent(*v.mfu_prefill) + " of " + (v.mfu_peak_key.empty() ? "?" : v.mfu_peak_key);
}

std::string mbu_text(const InferenceView& v) {
  std::string text;
  if (!v.mbu_decode)
    text =
        v.mbu_bandwidth_source.empty() ? "n/a (no bandwidth known)" : "n/a (" + v.mbu_bandwidth_source + ")";
  else
    text = format_percent(*v.mbu_decode) + " of " +
           (v.mbu_bandwidth_source.empty() ? "?" : v.mbu_bandwidth_source);
  // The measured ratio beside a declared one (where there is no declared one, it is the MBU itself).
  if (v.mbu_decode_measured && v.mbu_measured_source != v.mbu_bandwidth_source)
    text += "; " + format_percent(*v.mbu_decode_measured) + " of " + v.mbu_measured_source;
  return text;
}

std::string energy_text(const InferenceView& v) {
  if (!v.joules_per_token) return "n/a (no energy telemetry)";
  return fmt::format("{:.3g} J/token", *v.joules_per_token);
}

std::string accuracy_verdict(const InferenceView& v) {
  return v.accuracy.passed ? "passed" : "FAILED";
}

std::string accuracy_numbers(const InferenceView& v) {
  const auto& a = v.accuracy;
  std::string out = fmt::format(
      "{} tokens checked, logit NMSE max {}, top-1 agreement {} on {} clear-margin tokens, KL mean {}, "
      "audit {} queries {} mismatches",
      a.tokens_checked, g2(a.logit_nmse_max), format_percent(a.top1_agreement), a.top1_clear_margin_tokens,
      g2(a.kl_mean), a.audit_queries, a.audit_mismatches);
  if (!a.first_divergence.empty()) out += ", first divergence: " + a.first_divergence;
  return out;
}

std::string op_paths_text(const InferenceView& v) {
  std::string out;
  if (auto it = v.op_paths.find("attention"); it != v.op_paths.end()) out = "attention=" + it->second;
  for (const auto& [op, path] : v.op_paths)  // by op name, attention first
    if (op != "attention") out += (out.empty() ? "" : ", ") + op + "=" + path;
  return out.empty() ? "n/a" : out;
}

}  // namespace cmeter::reports
