// JSON form of InferenceResult (the "inference" member of a case result): field names are the contract
// the report schema and renderers read; non-finite numbers become null, optional figures are null
// when unknown.
#include "core/model/inference_result.h"

#include <cmath>

namespace cmeter {
namespace {

nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
nlohmann::json opt(const std::optional<double>& v) {
  return v ? num(*v) : nlohmann::json(nullptr);
}
double read_num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_number()) ? 0.0 : it->get<double>();
}
std::optional<double> read_opt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
nlohmann::json to_json(const Percentiles& p) {
  return {{"p50", num(p.p50)}, {"p90", num(p.p90)}, {"p99", num(p.p99)}};
}
Percentiles percentiles_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return {};
  return {read_num(j, "p50"), read_num(j, "p90"), read_num(j, "p99")};
}

}  // namespace

nlohmann::json to_json(const InferenceResult& r) {
  const InferenceModelInfo& m = r.model;
  nlohmann::json j;
  j["model"] = {{"name", m.name},   {"layers", m.layers},        {"hidden", m.hidden},
                {"heads", m.heads}, {"kv_heads", m.kv_heads},    {"head_dim", m.head_dim},
                {"ffn", m.ffn},     {"vocab", m.vocab},          {"tied_lm_head", m.tied_lm_head},
                {"dtype", m.dtype}, {"parameters", m.parameters}};
  j["scenario"] = r.scenario;
  j["queries"] = r.queries;
  j["prompt_tokens"] = r.prompt_tokens;
  j["output_tokens"] = r.output_tokens;
  j["max_batch"] = r.max_batch;
  j["duration_s"] = num(r.duration_s);
  j["latency_s"] = to_json(r.latency_s);
  j["ttft_s"] = to_json(r.ttft_s);
  j["tpot_s"] = to_json(r.tpot_s);
  j["output_tokens_per_s"] = num(r.output_tokens_per_s);
  j["prompt_tokens_per_s"] = num(r.prompt_tokens_per_s);
  if (r.server) {
    const ServerResult& s = *r.server;
    nlohmann::json search = nlohmann::json::array();
    for (const ServerSearchStep& step : s.search)
      search.push_back({{"qps", num(step.qps)},
                        {"ttft_p99_s", num(step.ttft_p99_s)},
                        {"tpot_p99_s", num(step.tpot_p99_s)},
                        {"passed", step.passed}});
    j["server"] = {{"target_qps", num(s.target_qps)},
                   {"achieved_qps", num(s.achieved_qps)},
                   {"ttft_bound_s", num(s.ttft_bound_s)},
                   {"tpot_bound_s", num(s.tpot_bound_s)},
                   {"search", search}};
  } else {
    j["server"] = nullptr;
  }
  j["mfu_prefill"] = opt(r.mfu_prefill);
  j["mfu_peak_key"] = r.mfu_peak_key;
  j["mbu_decode"] = opt(r.mbu_decode);
  j["mbu_bandwidth_source"] = r.mbu_bandwidth_source;
  j["joules_per_token"] = opt(r.joules_per_token);
  j["op_paths"] = nlohmann::json::object();
  for (const auto& [op, path] : r.op_paths) j["op_paths"][op] = path;
  const InferenceAccuracy& a = r.accuracy;
  j["accuracy"] = {{"tokens_checked", a.tokens_checked},
                   {"logit_nmse_max", num(a.logit_nmse_max)},
                   {"top1_agreement", num(a.top1_agreement)},
                   {"top1_clear_margin_tokens", a.top1_clear_margin_tokens},
                   {"kl_mean", num(a.kl_mean)},
                   {"audit_queries", a.audit_queries},
                   {"audit_mismatches", a.audit_mismatches},
                   {"passed", a.passed},
                   {"first_divergence", a.first_divergence}};
  j["latency_cdf"] = nlohmann::json::array();
  for (const auto& [latency, fraction] : r.latency_cdf)
    j["latency_cdf"].push_back({num(latency), num(fraction)});
  return j;
}

Result<InferenceResult> inference_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "inference result is not a JSON object");
  InferenceResult r;
  try {
    const auto& mj = j.at("model");
    InferenceModelInfo& m = r.model;
    m.name = mj.value("name", "");
    m.layers = mj.value("layers", int64_t{0});
    m.hidden = mj.value("hidden", int64_t{0});
    m.heads = mj.value("heads", int64_t{0});
    m.kv_heads = mj.value("kv_heads", int64_t{0});
    m.head_dim = mj.value("head_dim", int64_t{0});
    m.ffn = mj.value("ffn", int64_t{0});
    m.vocab = mj.value("vocab", int64_t{0});
    m.tied_lm_head = mj.value("tied_lm_head", false);
    m.dtype = mj.value("dtype", "");
    m.parameters = mj.value("parameters", int64_t{0});
    r.scenario = j.value("scenario", "");
    r.queries = j.value("queries", int64_t{0});
    r.prompt_tokens = j.value("prompt_tokens", int64_t{0});
    r.output_tokens = j.value("output_tokens", int64_t{0});
    r.max_batch = j.value("max_batch", int64_t{0});
    r.duration_s = read_num(j, "duration_s");
    r.latency_s = percentiles_from_json(j.value("latency_s", nlohmann::json()));
    r.ttft_s = percentiles_from_json(j.value("ttft_s", nlohmann::json()));
    r.tpot_s = percentiles_from_json(j.value("tpot_s", nlohmann::json()));
    r.output_tokens_per_s = read_num(j, "output_tokens_per_s");
    r.prompt_tokens_per_s = read_num(j, "prompt_tokens_per_s");
    if (j.contains("server") && j["server"].is_object()) {
      const auto& sj = j["server"];
      ServerResult s;
      s.target_qps = read_num(sj, "target_qps");
      s.achieved_qps = read_num(sj, "achieved_qps");
      s.ttft_bound_s = read_num(sj, "ttft_bound_s");
      s.tpot_bound_s = read_num(sj, "tpot_bound_s");
      for (const auto& step : sj.value("search", nlohmann::json::array()))
        s.search.push_back({read_num(step, "qps"), read_num(step, "ttft_p99_s"), read_num(step, "tpot_p99_s"),
                            step.value("passed", false)});
      r.server = s;
    }
    r.mfu_prefill = read_opt(j, "mfu_prefill");
    r.mfu_peak_key = j.value("mfu_peak_key", "");
    r.mbu_decode = read_opt(j, "mbu_decode");
    r.mbu_bandwidth_source = j.value("mbu_bandwidth_source", "");
    r.joules_per_token = read_opt(j, "joules_per_token");
    if (auto it = j.find("op_paths"); it != j.end() && it->is_object())
      for (auto p = it->begin(); p != it->end(); ++p)
        if (p->is_string()) r.op_paths[p.key()] = p->get<std::string>();
    const auto& aj = j.value("accuracy", nlohmann::json::object());
    InferenceAccuracy& a = r.accuracy;
    a.tokens_checked = aj.value("tokens_checked", int64_t{0});
    a.logit_nmse_max = read_num(aj, "logit_nmse_max");
    a.top1_agreement = read_num(aj, "top1_agreement");
    a.top1_clear_margin_tokens = aj.value("top1_clear_margin_tokens", int64_t{0});
    a.kl_mean = read_num(aj, "kl_mean");
    a.audit_queries = aj.value("audit_queries", int64_t{0});
    a.audit_mismatches = aj.value("audit_mismatches", int64_t{0});
    a.passed = aj.value("passed", false);
    a.first_divergence = aj.value("first_divergence", "");
    for (const auto& point : j.value("latency_cdf", nlohmann::json::array()))
      if (point.is_array() && point.size() == 2 && point[0].is_number() && point[1].is_number())
        r.latency_cdf.emplace_back(point[0].get<double>(), point[1].get<double>());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "malformed inference result: {}", e.what());
  }
  return r;
}

}  // namespace cmeter
