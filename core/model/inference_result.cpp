// JSON form of InferenceResult (the "inference" member of a case result): field names are the contract
// the report schema and renderers read; non-finite numbers become null, optional figures are null
// when unknown. The one reader of that member: the journal (CaseResult) and the report reader
// (InferenceView, core/report) both come through here.
#include "core/model/inference_result.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cmeter {
namespace {

nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
nlohmann::json opt(const std::optional<double>& v) {
  return v ? num(*v) : nlohmann::json(nullptr);
}
// Readers: never throw; a figure the JSON holds as null (or not as a number) reads as NaN or nullopt,
// never as zero, so a renderer can say "n/a" instead of printing a number nobody measured.
const nlohmann::json& at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
double read_num(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_number() ? v.get<double>() : NAN;
}
std::optional<double> read_opt(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (!v.is_number()) return std::nullopt;
  double x = v.get<double>();
  return std::isfinite(x) ? std::optional<double>(x) : std::nullopt;
}
int64_t read_int(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  if (v.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}
std::string read_text(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
bool read_flag(const nlohmann::json& j, const char* key) {
  const auto& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}
nlohmann::json to_json(const Percentiles& p) {
  return {{"p50", num(p.p50)}, {"p90", num(p.p90)}, {"p99", num(p.p99)}};
}
Percentiles percentiles_from_json(const nlohmann::json& j) {
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
  const auto& mj = at(j, "model");
  if (!mj.is_object()) return make_error(ErrorCode::kInvalidArgument, "inference result has no model object");
  InferenceResult r;
  InferenceModelInfo& m = r.model;
  m.name = read_text(mj, "name");
  m.layers = read_int(mj, "layers");
  m.hidden = read_int(mj, "hidden");
  m.heads = read_int(mj, "heads");
  m.kv_heads = read_int(mj, "kv_heads");
  m.head_dim = read_int(mj, "head_dim");
  m.ffn = read_int(mj, "ffn");
  m.vocab = read_int(mj, "vocab");
  m.tied_lm_head = read_flag(mj, "tied_lm_head");
  m.dtype = read_text(mj, "dtype");
  m.parameters = read_int(mj, "parameters");
  r.scenario = read_text(j, "scenario");
  r.queries = read_int(j, "queries");
  r.prompt_tokens = read_int(j, "prompt_tokens");
  r.output_tokens = read_int(j, "output_tokens");
  r.max_batch = read_int(j, "max_batch");
  r.duration_s = read_num(j, "duration_s");
  r.latency_s = percentiles_from_json(at(j, "latency_s"));
  r.ttft_s = percentiles_from_json(at(j, "ttft_s"));
  r.tpot_s = percentiles_from_json(at(j, "tpot_s"));
  r.output_tokens_per_s = read_num(j, "output_tokens_per_s");
  r.prompt_tokens_per_s = read_num(j, "prompt_tokens_per_s");
  if (const auto& sj = at(j, "server"); sj.is_object()) {
    ServerResult s;
    s.target_qps = read_num(sj, "target_qps");
    s.achieved_qps = read_num(sj, "achieved_qps");
    s.ttft_bound_s = read_num(sj, "ttft_bound_s");
    s.tpot_bound_s = read_num(sj, "tpot_bound_s");
    if (const auto& search = at(sj, "search"); search.is_array())
      for (const auto& step : search)
        s.search.push_back({read_num(step, "qps"), read_num(step, "ttft_p99_s"), read_num(step, "tpot_p99_s"),
                            read_flag(step, "passed")});
    r.server = std::move(s);
  }
  r.mfu_prefill = read_opt(j, "mfu_prefill");
  r.mfu_peak_key = read_text(j, "mfu_peak_key");
  r.mbu_decode = read_opt(j, "mbu_decode");
  r.mbu_bandwidth_source = read_text(j, "mbu_bandwidth_source");
  r.joules_per_token = read_opt(j, "joules_per_token");
  if (const auto& paths = at(j, "op_paths"); paths.is_object())
    for (auto p = paths.begin(); p != paths.end(); ++p)
      if (p->is_string()) r.op_paths[p.key()] = p->get<std::string>();
  const auto& aj = at(j, "accuracy");
  InferenceAccuracy& a = r.accuracy;
  a.tokens_checked = read_int(aj, "tokens_checked");
  a.logit_nmse_max = read_num(aj, "logit_nmse_max");
  a.top1_agreement = read_num(aj, "top1_agreement");
  a.top1_clear_margin_tokens = read_int(aj, "top1_clear_margin_tokens");
  a.kl_mean = read_num(aj, "kl_mean");
  a.audit_queries = read_int(aj, "audit_queries");
  a.audit_mismatches = read_int(aj, "audit_mismatches");
  a.passed = read_flag(aj, "passed");
  a.first_divergence = read_text(aj, "first_divergence");
  if (const auto& cdf = at(j, "latency_cdf"); cdf.is_array())
    for (const auto& point : cdf)
      if (point.is_array() && point.size() == 2 && point[0].is_number() && point[1].is_number())
        r.latency_cdf.emplace_back(point[0].get<double>(), point[1].get<double>());
  return r;
}

}  // namespace cmeter
