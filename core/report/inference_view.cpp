// Reading a result's `inference` member (schema 1.1) into InferenceView, null-safe and non-throwing.
#include "core/report/inference_view.h"

#include <algorithm>
#include <cmath>

namespace cmeter {
namespace {

const nlohmann::json& at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
double number(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_number() ? v.get<double>() : NAN;
}
std::optional<double> optional_number(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (!v.is_number()) return std::nullopt;
  double x = v.get<double>();
  return std::isfinite(x) ? std::optional<double>(x) : std::nullopt;
}
int64_t integer(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (v.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}
std::string text(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
bool flag(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}
InferenceView::Percentiles percentiles(const nlohmann::json& j) {
  return {number(j, "p50"), number(j, "p90"), number(j, "p99")};
}

}  // namespace

std::optional<InferenceView> inference_view_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  InferenceView v;
  const auto& m = at(j, "model");
  v.model.name = text(m, "name");
  v.model.dtype = text(m, "dtype");
  v.model.layers = integer(m, "layers");
  v.model.hidden = integer(m, "hidden");
  v.model.heads = integer(m, "heads");
  v.model.kv_heads = integer(m, "kv_heads");
  v.model.head_dim = integer(m, "head_dim");
  v.model.ffn = integer(m, "ffn");
  v.model.vocab = integer(m, "vocab");
  v.model.parameters = integer(m, "parameters");
  v.model.tied_lm_head = flag(m, "tied_lm_head");
  v.scenario = text(j, "scenario");
  v.queries = integer(j, "queries");
  v.prompt_tokens = integer(j, "prompt_tokens");
  v.output_tokens = integer(j, "output_tokens");
  v.max_batch = integer(j, "max_batch");
  v.duration_s = number(j, "duration_s");
  v.latency_s = percentiles(at(j, "latency_s"));
  v.ttft_s = percentiles(at(j, "ttft_s"));
  v.tpot_s = percentiles(at(j, "tpot_s"));
  v.output_tokens_per_s = number(j, "output_tokens_per_s");
  v.prompt_tokens_per_s = number(j, "prompt_tokens_per_s");
  if (const auto& s = at(j, "server"); s.is_object()) {
    InferenceView::Server server{number(s, "target_qps"),
                                 number(s, "achieved_qps"),
                                 number(s, "ttft_bound_s"),
                                 number(s, "tpot_bound_s"),
                                 {}};
    for (const auto& step : at(s, "search"))
      server.search.push_back({number(step, "qps"), number(step, "ttft_p99_s"), number(step, "tpot_p99_s"),
                               flag(step, "passed")});
    v.server = std::move(server);
  }
  v.mfu_prefill = optional_number(j, "mfu_prefill");
  v.mfu_peak_key = text(j, "mfu_peak_key");
  v.mbu_decode = optional_number(j, "mbu_decode");
  v.mbu_bandwidth_source = text(j, "mbu_bandwidth_source");
  v.joules_per_token = optional_number(j, "joules_per_token");
  if (const auto& paths = at(j, "op_paths"); paths.is_object()) {
    if (paths.contains("attention")) v.op_paths.emplace_back("attention", text(paths, "attention"));
    for (auto it = paths.begin(); it != paths.end(); ++it)  // nlohmann keeps objects sorted by name
      if (it.key() != "attention")
        v.op_paths.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : "");
  }
  const auto& a = at(j, "accuracy");
  v.accuracy.tokens_checked = integer(a, "tokens_checked");
  v.accuracy.top1_clear_margin_tokens = integer(a, "top1_clear_margin_tokens");
  v.accuracy.audit_queries = integer(a, "audit_queries");
  v.accuracy.audit_mismatches = integer(a, "audit_mismatches");
  v.accuracy.logit_nmse_max = number(a, "logit_nmse_max");
  v.accuracy.top1_agreement = number(a, "top1_agreement");
  v.accuracy.kl_mean = number(a, "kl_mean");
  v.accuracy.passed = flag(a, "passed");
  v.accuracy.first_divergence = text(a, "first_divergence");
  for (const auto& point : at(j, "latency_cdf"))
    if (point.is_array() && point.size() == 2 && point[0].is_number() && point[1].is_number())
      v.latency_cdf.emplace_back(point[0].get<double>(), point[1].get<double>());
  return v;
}

std::string scenario_label(std::string_view scenario) {
  if (scenario == "offline") return "Offline";
  if (scenario == "single_stream") return "SingleStream";
  if (scenario == "server") return "Server";
  return std::string(scenario);
}

}  // namespace cmeter
