// CheckResult: the verdict of one conformance check (PASS, FAIL or SKIP with a reason and details).
// It is the unit the checker reports and the unit a worker process sends back to `cmeter plugin
// check`, so it has a JSON form in both directions. A SKIP says why: not applicable to this plugin,
// functionality the plugin leaves unimplemented, not run at this level, or blocked by an earlier FAIL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace cmeter::conformance {

enum class CheckStatus { kPass, kFail, kSkip };

enum class SkipKind {
  kNone,           // not skipped
  kNotApplicable,  // the plugin legitimately lacks it (no telemetry slot, an op it does not claim)
  kUnimplemented,  // a function the check needs answered UNIMPLEMENTED (or its slot is NULL)
  kLevel,          // only run at --level full
  kBlocked,        // an earlier check failed (the plugin did not load)
  kNotSelected,    // left out by --only
};

const char* to_string(CheckStatus status);  // "PASS", "FAIL", "SKIP"
const char* to_string(
    SkipKind kind);  // "", "not_applicable", "unimplemented", "level", "blocked", "not_selected"
Result<CheckStatus> parse_check_status(std::string_view text);
Result<SkipKind> parse_skip_kind(std::string_view text);

struct CheckResult {
  std::string id;     // "errors.buffer_create"
  std::string title;  // what it checks, one line
  CheckStatus status = CheckStatus::kSkip;
  SkipKind skip_kind = SkipKind::kNone;
  std::string reason;                // why it failed or was skipped; a one-line summary when it passed
  std::vector<std::string> details;  // cases run, figures measured, notes
  double duration_s = 0;
};

nlohmann::json to_json(const CheckResult& result);
// Strict: a missing or mistyped field is an Error naming it.
Result<CheckResult> check_result_from_json(const nlohmann::json& json);

}  // namespace cmeter::conformance
