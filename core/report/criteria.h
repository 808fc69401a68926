// Criteria: a profile's pass/fail rules evaluated against a run's results. Each criterion becomes one
// outcome per matching device: PASS, FAIL, or INCOMPLETE (the metric was not measured validly, or the
// attribute a relative threshold needs is missing). The verdict is FAIL if any outcome failed, else
// INCOMPLETE if any is incomplete, else PASS; a profile without criteria has no verdict.
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
  std::string verdict;  // PASS, FAIL, INCOMPLETE
  std::string reason;
};

struct CriteriaVerdict {
  std::vector<CriterionOutcome> outcomes;
  std::string verdict;  // PASS, FAIL, INCOMPLETE, or "" when there are no criteria
};

CriteriaVerdict evaluate_criteria(const std::vector<profile::Criterion>& criteria,
                                  const std::vector<CaseResult>& results,
                                  const std::vector<DeviceSummary>& summaries,
                                  const std::vector<DeviceFacts>& devices);
nlohmann::json to_json(const CriteriaVerdict& verdict);

}  // namespace cmeter
