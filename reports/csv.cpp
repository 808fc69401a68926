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

}  // namespace cmeter::reports
