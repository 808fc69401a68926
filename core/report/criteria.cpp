// Evaluation of profile criteria.
#include "core/report/criteria.h"

namespace cmeter {
namespace {

bool compare(double measured, const std::string& op, double required) {
  if (op == ">=") return measured >= required;
  if (op == ">") return measured > required;
  if (op == "<=") return measured <= required;
  if (op == "<") return measured < required;
  return false;
}

}  // namespace

CriteriaVerdict evaluate_criteria(const std::vector<profile::Criterion>& criteria,
                                  const std::vector<CaseResult>& results,
                                  const std::vector<DeviceSummary>& summaries,
                                  const std::vector<DeviceFacts>& devices) {
  CriteriaVerdict v;
  for (const auto& c : criteria) {
    bool any_device = false;
    for (const auto& dev : devices) {
      if (!device_matches(c.devices, dev.id)) continue;
      any_device = true;
      CriterionOutcome o{c.id,          c.metric, dev.id, c.comparison, c.threshold,
                         c.relative_to, {},       {},     "INCOMPLETE", ""};
      // The measured value.
      if (c.metric.rfind("summary.", 0) == 0) {
        std::string key = c.metric.substr(8);
        for (const auto& s : summaries)
          if (s.device == dev.id)
            if (const auto* m = s.find(key)) o.measured = m->value;
        if (!o.measured) o.reason = fmt::format("no valid result feeds {} on {}", c.metric, dev.id);
      } else {
        auto dot = c.metric.rfind('.');
        std::string case_id = c.metric.substr(0, dot),
                    metric = dot == std::string::npos ? "" : c.metric.substr(dot + 1);
        const CaseResult* found = nullptr;
        for (const auto& r : results)
          if (r.device == dev.id && r.case_id == case_id) found = &r;
        if (found == nullptr) {
          o.reason = fmt::format("case {} did not run on {}", case_id, dev.id);
        } else if (!counts_in_summary(found->status)) {
          o.reason = fmt::format("case {} on {} is {}: {}", case_id, dev.id, to_string(found->status),
                                 found->reason);
        } else if (const Metric* m = found->metric(metric)) {
          o.measured = m->stats.median;
        } else {
          o.reason = fmt::format("case {} has no metric '{}'", case_id, metric);
        }
      }
      // The required value.
      if (c.relative_to.empty()) {
        o.required = c.threshold;
      } else if (auto base = get_number(dev.attributes, c.relative_to); base && *base > 0) {
        o.required = c.threshold * *base;
      } else if (o.reason.empty()) {
        o.reason = fmt::format("{} has no attribute {} for the relative threshold", dev.id, c.relative_to);
      }
      if (o.measured && o.required) {
        bool pass = compare(*o.measured, c.comparison, *o.required);
        o.verdict = pass ? "PASS" : "FAIL";
        o.reason = fmt::format(
            "{:.4g} {} {:.4g}{}", *o.measured, pass ? c.comparison : "not " + c.comparison, *o.required,
            c.relative_to.empty() ? "" : fmt::format(" ({} x {})", c.threshold, c.relative_to));
      }
      v.outcomes.push_back(o);
    }
    if (!any_device)
      v.outcomes.push_back({c.id,
                            c.metric,
                            "",
                            c.comparison,
                            c.threshold,
                            c.relative_to,
                            {},
                            {},
                            "INCOMPLETE",
                            fmt::format("no measured device matches '{}'", c.devices)});
  }
  if (!criteria.empty()) {
    v.verdict = "PASS";
    for (const auto& o : v.outcomes) {
      if (o.verdict == "FAIL") v.verdict = "FAIL";
      if (o.verdict == "INCOMPLETE" && v.verdict == "PASS") v.verdict = "INCOMPLETE";
    }
  }
  return v;
}

nlohmann::json to_json(const CriteriaVerdict& v) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : v.outcomes) {
    list.push_back({{"id", o.id},
                    {"metric", o.metric},
                    {"device", o.device},
                    {"comparison", o.comparison},
                    {"threshold", o.threshold},
                    {"relative_to", o.relative_to},
                    {"required", o.required ? nlohmann::json(*o.required) : nlohmann::json(nullptr)},
                    {"measured", o.measured ? nlohmann::json(*o.measured) : nlohmann::json(nullptr)},
                    {"verdict", o.verdict},
                    {"reason", o.reason}});
  }
  return list;
}

}  // namespace cmeter
