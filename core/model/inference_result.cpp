// JSON form of InferenceResult (the "inference" member of a case result): field names are the contract
// the report schema and renderers read; non-finite numbers become null, optional figures are null
// when unknown. The one reader of that member: the journal (CaseResult) and the report reader
// (InferenceView, core/report) both come through here.
#include "core/model/inference_result.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/model/json_fields.h"

namespace cmeter {
namespace {
nlohmann::json to_json(const Percentiles& p) {
  return {
      {"p50", json_fields::num(p.p50)}, {"p90", json_fields::num(p.p90)}, {"p99", json_fields::num(p.p99)}};
}
Percentiles percentiles_from_json(const nlohmann::json& j) {
  return {json_fields::read_num(j, "p50"), json_fields::read_num(j, "p90"), json_fields::read_num(j, "p99")};
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
  j["duration_s"] = json_fields::num(r.duration_s);
  j["latency_s"] = to_json(r.latency_s);
  j["ttft_s"] = to_json(r.ttft_s);
  j["tpot_s"] = to_json(r.tpot_s);
  j["output_tokens_per_s"] = json_fields::num(r.output_tokens_per_s);
  j["prompt_tokens_per_s"] = json_fields::num(r.prompt_tokens_per_s);
  if (r.server) {
    const ServerResult& s = *r.server;
    nlohmann::json search = nlohmann::json::array();
    for (const ServerSearchStep& step : s.search) {
      nlohmann::json sj = {{"qps", json_fields::num(step.qps)},
                           {"ttft_p99_s", json_fields::num(step.ttft_p99_s)},
                           {"tpot_p99_s", json_fields::num(step.tpot_p99_s)},
                           {"passed", step.passed}};
      if (step.ttft_growth) sj["ttft_growth"] = json_fields::opt(step.ttft_growth);
      search.push_back(std::move(sj));
    }
    j["server"] = {{"target_qps", json_fields::num(s.target_qps)},
                   {"achieved_qps", json_fields::num(s.achieved_qps)},
                   {"ttft_bound_s", json_fields::num(s.ttft_bound_s)},
                   {"tpot_bound_s", json_fields::num(s.tpot_bound_s)},
                   {"search", search}};
  } else {
    j["server"] = nullptr;
  }
  j["mfu_prefill"] = json_fields::opt(r.mfu_prefill);
  j["mfu_peak_key"] = r.mfu_peak_key;
  j["mbu_decode"] = json_fields::opt(r.mbu_decode);
  j["mbu_bandwidth_source"] = r.mbu_bandwidth_source;
  j["decode_bytes_per_s"] = json_fields::opt(r.decode_bytes_per_s);
  j["mbu_decode_measured"] = json_fields::opt(r.mbu_decode_measured);
  j["mbu_measured_source"] = r.mbu_measured_source;
  j["joules_per_token"] = json_fields::opt(r.joules_per_token);
  j["op_paths"] = nlohmann::json::object();
  for (const auto& [op, path] : r.op_paths) j["op_paths"][op] = path;
  const InferenceAccuracy& a = r.accuracy;
  j["accuracy"] = {{"tokens_checked", a.tokens_checked},
                   {"logit_nmse_max", json_fields::num(a.logit_nmse_max)},
                   {"top1_agreement", json_fields::num(a.top1_agreement)},
                   {"top1_clear_margin_tokens", a.top1_clear_margin_tokens},
                   {"kl_mean", json_fields::num(a.kl_mean)},
                   {"audit_queries", a.audit_queries},
                   {"audit_mismatches", a.audit_mismatches},
                   {"passed", a.passed},
                   {"first_divergence", a.first_divergence}};
  j["latency_cdf"] = nlohmann::json::array();
  for (const auto& [latency, fraction] : r.latency_cdf)
    j["latency_cdf"].push_back({json_fields::num(latency), json_fields::num(fraction)});
  return j;
}

Result<InferenceResult> inference_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "inference result is not a JSON object");
  const auto& mj = json_fields::at(j, "model");
  if (!mj.is_object()) return make_error(ErrorCode::kInvalidArgument, "inference result has no model object");
  InferenceResult r;
  InferenceModelInfo& m = r.model;
  m.name = json_fields::read_text(mj, "name");
  m.layers = json_fields::read_int(mj, "layers");
  m.hidden = json_fields::read_int(mj, "hidden");
  m.heads = json_fields::read_int(mj, "heads");
  m.kv_heads = json_fields::read_int(mj, "kv_heads");
  m.head_dim = json_fields::read_int(mj, "head_dim");
  m.ffn = json_fields::read_int(mj, "ffn");
  m.vocab = json_fields::read_int(mj, "vocab");
  m.tied_lm_head = json_fields::read_flag(mj, "tied_lm_head");
  m.dtype = json_fields::read_text(mj, "dtype");
  m.parameters = json_fields::read_int(mj, "parameters");
  r.scenario = json_fields::read_text(j, "scenario");
  r.queries = json_fields::read_int(j, "queries");
  r.prompt_tokens = json_fields::read_int(j, "prompt_tokens");
  r.output_tokens = json_fields::read_int(j, "output_tokens");
  r.max_batch = json_fields::read_int(j, "max_batch");
  r.duration_s = json_fields::read_num(j, "duration_s");
  r.latency_s = percentiles_from_json(json_fields::at(j, "latency_s"));
  r.ttft_s = percentiles_from_json(json_fields::at(j, "ttft_s"));
  r.tpot_s = percentiles_from_json(json_fields::at(j, "tpot_s"));
  r.output_tokens_per_s = json_fields::read_num(j, "output_tokens_per_s");
  r.prompt_tokens_per_s = json_fields::read_num(j, "prompt_tokens_per_s");
  if (const auto& sj = json_fields::at(j, "server"); sj.is_object()) {
    ServerResult s;
    s.target_qps = json_fields::read_num(sj, "target_qps");
    s.achieved_qps = json_fields::read_num(sj, "achieved_qps");
    s.ttft_bound_s = json_fields::read_num(sj, "ttft_bound_s");
    s.tpot_bound_s = json_fields::read_num(sj, "tpot_bound_s");
    if (const auto& search = json_fields::at(sj, "search"); search.is_array())
      for (const auto& step : search)
        s.search.push_back({json_fields::read_num(step, "qps"), json_fields::read_num(step, "ttft_p99_s"),
                            json_fields::read_num(step, "tpot_p99_s"), json_fields::read_flag(step, "passed"),
                            json_fields::read_opt(step, "ttft_growth")});
    r.server = std::move(s);
  }
  r.mfu_prefill = json_fields::read_opt(j, "mfu_prefill");
  r.mfu_peak_key = json_fields::read_text(j, "mfu_peak_key");
  r.mbu_decode = json_fields::read_opt(j, "mbu_decode");
  r.mbu_bandwidth_source = json_fields::read_text(j, "mbu_bandwidth_source");
  r.decode_bytes_per_s = json_fields::read_opt(j, "decode_bytes_per_s");
  r.mbu_decode_measured = json_fields::read_opt(j, "mbu_decode_measured");
  r.mbu_measured_source = json_fields::read_text(j, "mbu_measured_source");
  r.joules_per_token = json_fields::read_opt(j, "joules_per_token");
  if (const auto& paths = json_fields::at(j, "op_paths"); paths.is_object())
    for (auto p = paths.begin(); p != paths.end(); ++p)
      if (p->is_string()) r.op_paths[p.key()] = p->get<std::string>();
  const auto& aj = json_fields::at(j, "accuracy");
  InferenceAccuracy& a = r.accuracy;
  a.tokens_checked = json_fields::read_int(aj, "tokens_checked");
  a.logit_nmse_max = json_fields::read_num(aj, "logit_nmse_max");
  a.top1_agreement = json_fields::read_num(aj, "top1_agreement");
  a.top1_clear_margin_tokens = json_fields::read_int(aj, "top1_clear_margin_tokens");
  a.kl_mean = json_fields::read_num(aj, "kl_mean");
  a.audit_queries = json_fields::read_int(aj, "audit_queries");
  a.audit_mismatches = json_fields::read_int(aj, "audit_mismatches");
  a.passed = json_fields::read_flag(aj, "passed");
  a.first_divergence = json_fields::read_text(aj, "first_divergence");
  if (const auto& cdf = json_fields::at(j, "latency_cdf"); cdf.is_array())
    for (const auto& point : cdf)
      if (point.is_array() && point.size() == 2 && point[0].is_number() && point[1].is_number())
        r.latency_cdf.emplace_back(point[0].get<double>(), point[1].get<double>());
  return r;
}

}  // namespace cmeter
