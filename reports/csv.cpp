// CSV rendering of a report.
#include "reports/csv.h"

#include <fmt/format.h>

#include "reports/format.h"

namespace cmeter::reports {

std::string render_csv(const LoadedReport& r) {
  std::string out =
      "run_id,host,device,device_name,case_id,workload,params,status,reason,metric,unit,higher_is_better,"
      "median,"
      "ci95_low,ci95_high,mean,stdev,cv,min,max,p5,p95,n,timer,batch,flop_per_call,bytes_per_call,"
      "validation\n";
  for (const auto& c : r.results) {
    std::string validation = c.validation ? (c.validation->passed ? "passed" : "failed") : "";
    auto line = [&](const Metric* m) {
      std::vector<std::string> f = {r.run.id,
                                    r.host.hostname,
                                    c.device,
                                    r.device_name(c.device),
                                    c.case_id,
                                    c.workload,
                                    params_text(c.params),
                                    std::string(to_string(c.status)),
                                    c.reason};
      if (m != nullptr) {
        const auto& s = m->stats;
        for (const auto& v : {m->name, m->unit, std::string(m->higher_is_better ? "true" : "false")})
          f.push_back(v);
        for (double v : {s.median, s.ci_low, s.ci_high, s.mean, s.stdev, s.cv, s.min, s.max, s.p5, s.p95})
          f.push_back(format_exact(v));
        f.push_back(std::to_string(s.n));
      } else {
        for (int i = 0; i < 14; ++i) f.emplace_back();
      }
      f.push_back(c.method.timer);
      f.push_back(c.method.batch > 0 ? std::to_string(c.method.batch) : "");
      f.push_back(c.method.flop_per_call > 0 ? format_exact(c.method.flop_per_call) : "");
      f.push_back(c.method.bytes_per_call > 0 ? format_exact(c.method.bytes_per_call) : "");
      f.push_back(validation);
      std::string text;
      // Two appends, not `(i ? "," : "") + csv_field(...)`: GCC 12 at -O3 reports a bogus -Wrestrict
      // overlap in operator+(const char*, std::string&&) (GCC bug 105651).
      for (size_t i = 0; i < f.size(); ++i) (text += (i ? "," : "")) += csv_field(f[i]);
      out += text + "\n";
    };
    if (c.metrics.empty()) line(nullptr);
    for (const auto& m : c.metrics) line(&m);
  }
  return out;
}

std::string render_inference_csv(const LoadedReport& r) {
  std::string out =
      "run_id,host,device,device_name,case_id,status,model,parameters,dtype,layers,hidden,heads,kv_heads,"
      "head_dim,ffn,vocab,tied_lm_head,scenario,queries,prompt_tokens,output_tokens,max_batch,duration_s,"
      "output_tokens_per_s,prompt_tokens_per_s,latency_p50_s,latency_p90_s,latency_p99_s,ttft_p50_s,"
      "ttft_p90_s,ttft_p99_s,tpot_p50_s,tpot_p90_s,tpot_p99_s,server_target_qps,server_achieved_qps,"
      "server_ttft_bound_s,server_tpot_bound_s,mfu_prefill,mfu_peak_key,mbu_decode,mbu_bandwidth_source,"
      "decode_bytes_per_s,mbu_decode_measured,mbu_measured_source,joules_per_token,accuracy_passed,tokens_"
      "checked,logit_nmse_max,top1_agreement,"
      "top1_clear_margin_tokens,kl_mean,audit_queries,audit_mismatches,first_divergence,op_paths\n";
  auto optional = [](const std::optional<double>& v) { return v ? format_exact(*v) : std::string(); };
  for (const auto& v : r.inference) {
    const auto& m = v.model;
    const auto& a = v.accuracy;
    std::string paths;
    for (const auto& [op, path] : v.op_paths) (paths += (paths.empty() ? "" : ";")) += op + "=" + path;
    std::vector<std::string> f = {r.run.id,
                                  r.host.hostname,
                                  v.device,
                                  r.device_name(v.device),
                                  v.case_id,
                                  std::string(to_string(v.status)),
                                  m.name,
                                  std::to_string(m.parameters),
                                  m.dtype,
                                  std::to_string(m.layers),
                                  std::to_string(m.hidden),
                                  std::to_string(m.heads),
                                  std::to_string(m.kv_heads),
                                  std::to_string(m.head_dim),
                                  std::to_string(m.ffn),
                                  std::to_string(m.vocab),
                                  m.tied_lm_head ? "true" : "false",
                                  v.scenario,
                                  std::to_string(v.queries),
                                  std::to_string(v.prompt_tokens),
                                  std::to_string(v.output_tokens),
                                  std::to_string(v.max_batch),
                                  format_exact(v.duration_s),
                                  format_exact(v.output_tokens_per_s),
                                  format_exact(v.prompt_tokens_per_s)};
    for (const auto* p : {&v.latency_s, &v.ttft_s, &v.tpot_s})
      for (double x : {p->p50, p->p90, p->p99}) f.push_back(format_exact(x));
    if (v.server) {
      for (double x :
           {v.server->target_qps, v.server->achieved_qps, v.server->ttft_bound_s, v.server->tpot_bound_s})
        f.push_back(format_exact(x));
    } else {
      for (int i = 0; i < 4; ++i) f.emplace_back();
    }
    for (const auto& x :
         {optional(v.mfu_prefill), v.mfu_peak_key, optional(v.mbu_decode), v.mbu_bandwidth_source,
          optional(v.decode_bytes_per_s), optional(v.mbu_decode_measured), v.mbu_measured_source,
          optional(v.joules_per_token), std::string(a.passed ? "true" : "false"),
          std::to_string(a.tokens_checked), format_exact(a.logit_nmse_max), format_exact(a.top1_agreement),
          std::to_string(a.top1_clear_margin_tokens), format_exact(a.kl_mean),
          std::to_string(a.audit_queries), std::to_string(a.audit_mismatches), a.first_divergence, paths})
      f.push_back(x);
    std::string text;
    for (size_t i = 0; i < f.size(); ++i) (text += (i ? "," : "")) += csv_field(f[i]);  // see render_csv
    out += text + "\n";
  }
  return out;
}

}  // namespace cmeter::reports
