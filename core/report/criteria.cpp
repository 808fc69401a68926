// Evaluation of profile criteria.
#include "core/report/criteria.h"

#include <algorithm>

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

std::string combine_verdicts(const std::vector<std::string>& verdicts) {
  int worst = 0;  // PASS < INCONCLUSIVE < INCOMPLETE < FAIL
  for (const auto& verdict : verdicts) {
    const int rank = verdict == "FAIL"           ? 3
                     : verdict == "INCOMPLETE"   ? 2
                     : verdict == "INCONCLUSIVE" ? 1
                     : verdict == "PASS"         ? 0
                                                 : 2;  // an unknown word never passes
    worst = std::max(worst, rank);
  }
  constexpr const char* kWords[] = {"PASS", "INCONCLUSIVE", "INCOMPLETE", "FAIL"};
  return kWords[worst];
}

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
      CriterionOutcome o;
      o.id = c.id;
      o.metric = c.metric;
      o.device = dev.id;
      o.comparison = c.comparison;
      o.threshold = c.threshold;
      o.relative_to = c.relative_to;
      o.verdict = "INCOMPLETE";
      // The measured value.
      if (c.metric.rfind("summary.", 0) == 0) {
        std::string key = c.metric.substr(8);
        for (const auto& s : summaries)
          if (s.device == dev.id)
            if (const auto* m = s.find(key)) {
              o.measured = m->value;
              o.measured_ci_low = m->ci95_low;
              o.measured_ci_high = m->ci95_high;
            }
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
          o.measured_ci_low = m->stats.ci_low;
          o.measured_ci_high = m->stats.ci_high;
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
        const bool median_meets = compare(*o.measured, c.comparison, *o.required);
        // The conservative end of the CI: the low end when higher must pass, the high end otherwise.
        // With no CI recorded (both ends 0, an old report) the conservative end is unknown: never PASS.
        const bool has_ci = o.measured_ci_low && o.measured_ci_high &&
                            !(*o.measured_ci_low == 0 && *o.measured_ci_high == 0 && *o.measured != 0);
        const bool higher = c.comparison == ">=" || c.comparison == ">";
        // (A plain double, not an optional: GCC 12 at -O1 warns maybe-uninitialized on the optional.)
        const double conservative = has_ci ? (higher ? *o.measured_ci_low : *o.measured_ci_high) : 0.0;
        const std::string rule =
            fmt::format("{} {:.4g}{}", c.comparison, *o.required,
                        c.relative_to.empty() ? "" : fmt::format(" ({} x {})", c.threshold, c.relative_to));
        const std::string ci =
            has_ci ? fmt::format(" (95% CI {:.4g} .. {:.4g})", *o.measured_ci_low, *o.measured_ci_high)
                   : " (no CI recorded)";
        if (!median_meets) {
          o.verdict = "FAIL";
          o.reason = fmt::format("measured {:.4g}{}: not {}", *o.measured, ci, rule);
        } else if (has_ci && compare(conservative, c.comparison, *o.required)) {
          o.verdict = "PASS";
          o.reason = fmt::format("measured {:.4g}{}: whole CI {}", *o.measured, ci, rule);
        } else {
          o.verdict = "INCONCLUSIVE";
          o.reason = fmt::format("measured {:.4g}{}: the median is {} but the CI crosses the threshold",
                                 *o.measured, ci, rule);
        }
      }
      v.outcomes.push_back(o);
    }
    if (!any_device) {
      CriterionOutcome o;
      o.id = c.id;
      o.metric = c.metric;
      o.comparison = c.comparison;
      o.threshold = c.threshold;
      o.relative_to = c.relative_to;
      o.verdict = "INCOMPLETE";
      o.reason = fmt::format("no measured device matches '{}'", c.devices);
      v.outcomes.push_back(std::move(o));
    }
  }
  if (!criteria.empty()) {
    std::vector<std::string> verdicts;
    for (const auto& o : v.outcomes) verdicts.push_back(o.verdict);
    v.verdict = combine_verdicts(verdicts);
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
                    {"measured_ci_low",
                     o.measured_ci_low ? nlohmann::json(*o.measured_ci_low) : nlohmann::json(nullptr)},
                    {"measured_ci_high",
                     o.measured_ci_high ? nlohmann::json(*o.measured_ci_high) : nlohmann::json(nullptr)},
                    {"verdict", o.verdict},
                    {"reason", o.reason}});
  }
  return list;
}

}  // namespace cmeter
