// Criteria: a profile's pass/fail rules evaluated against a run's results. Each criterion becomes one
// outcome per matching device: PASS, FAIL, INCONCLUSIVE or INCOMPLETE (the metric was not measured
// validly, or the attribute a relative threshold needs is missing). A criterion passes only on its
// CI's conservative side: PASS when the whole 95% CI of the median meets the threshold (the CI's low
// end for >=/>, its high end for <=/<), FAIL when the median itself misses it, and INCONCLUSIVE when
// the median meets it but the CI crosses it (a vendor cannot pass on a noisy lucky median).
// The verdict is FAIL if any outcome failed, else INCOMPLETE if any is incomplete, else INCONCLUSIVE if
// any is inconclusive, else PASS; a profile without criteria has no verdict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/profile/profile.h"
#include "core/report/summary.h"

namespace cmeter {

struct CriterionOutcome {
  std::string id;
  std::string metric;
  std::string device;
  std::string comparison;
  double threshold = 0;
  std::string relative_to;
  std::optional<double> required;  // threshold in the metric's unit
  std::optional<double> measured;
  std::optional<double> measured_ci_low, measured_ci_high;  // 95% CI of the median, where known
  std::string verdict;                                      // PASS, FAIL, INCONCLUSIVE, INCOMPLETE
  std::string reason;
};

struct CriteriaVerdict {
  std::vector<CriterionOutcome> outcomes;
  std::string verdict;  // PASS, FAIL, INCONCLUSIVE, INCOMPLETE, or "" when there are no criteria
};

CriteriaVerdict evaluate_criteria(const std::vector<profile::Criterion>& criteria,
                                  const std::vector<CaseResult>& results,
                                  const std::vector<DeviceSummary>& summaries,
                                  const std::vector<DeviceFacts>& devices);
nlohmann::json to_json(const CriteriaVerdict& verdict);
// The verdict over outcome verdicts: FAIL, else INCOMPLETE, else INCONCLUSIVE, else PASS (an unknown
// word counts as INCOMPLETE). Callers with no outcomes have no verdict and do not call this.
std::string combine_verdicts(const std::vector<std::string>& verdicts);

}  // namespace cmeter
