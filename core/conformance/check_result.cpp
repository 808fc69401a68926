// JSON form of a check result, as written to conformance reports and sent by worker processes.
#include "core/conformance/check_result.h"

namespace cmeter::conformance {

const char* to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "PASS";
    case CheckStatus::kFail:
      return "FAIL";
    case CheckStatus::kSkip:
      return "SKIP";
  }
  return "?";
}

const char* to_string(SkipKind kind) {
  switch (kind) {
    case SkipKind::kNone:
      return "";
    case SkipKind::kNotApplicable:
      return "not_applicable";
    case SkipKind::kUnimplemented:
      return "unimplemented";
    case SkipKind::kLevel:
      return "level";
    case SkipKind::kBlocked:
      return "blocked";
    case SkipKind::kNotSelected:
      return "not_selected";
  }
  return "?";
}

Result<CheckStatus> parse_check_status(std::string_view text) {
  for (auto s : {CheckStatus::kPass, CheckStatus::kFail, CheckStatus::kSkip})
    if (text == to_string(s)) return s;
  return make_error(ErrorCode::kInvalidArgument, "unknown check status '{}' (PASS, FAIL or SKIP)", text);
}

Result<SkipKind> parse_skip_kind(std::string_view text) {
  for (auto k : {SkipKind::kNone, SkipKind::kNotApplicable, SkipKind::kUnimplemented, SkipKind::kLevel,
                 SkipKind::kBlocked, SkipKind::kNotSelected})
    if (text == to_string(k)) return k;
  return make_error(ErrorCode::kInvalidArgument, "unknown skip kind '{}'", text);
}

nlohmann::json to_json(const CheckResult& r) {
  nlohmann::json j = {{"id", r.id},         {"title", r.title},     {"status", to_string(r.status)},
                      {"reason", r.reason}, {"details", r.details}, {"duration_s", r.duration_s}};
  if (r.status == CheckStatus::kSkip) j["skip_kind"] = to_string(r.skip_kind);
  return j;
}

Result<CheckResult> check_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "check result: not a JSON object");
  CheckResult r;
  auto text = [&](const char* key, std::string& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return make_error(ErrorCode::kInvalidArgument, "check result: '{}' missing or not a string", key);
    out = it->get<std::string>();
    return {};
  };
  std::string status;
  CMETER_TRY(text("id", r.id));
  CMETER_TRY(text("title", r.title));
  CMETER_TRY(text("status", status));
  CMETER_TRY(text("reason", r.reason));
  auto parsed = parse_check_status(status);
  if (!parsed) return parsed.error();
  r.status = *parsed;
  if (r.status == CheckStatus::kSkip) {
    std::string kind;
    CMETER_TRY(text("skip_kind", kind));
    auto k = parse_skip_kind(kind);
    if (!k) return k.error();
    r.skip_kind = *k;
  }
  if (auto it = j.find("details"); it != j.end()) {
    if (!it->is_array())
      return make_error(ErrorCode::kInvalidArgument, "check result: 'details' is not an array");
    for (const auto& d : *it) {
      if (!d.is_string())
        return make_error(ErrorCode::kInvalidArgument, "check result: 'details' holds a non-string");
      r.details.push_back(d.get<std::string>());
    }
  }
  if (auto it = j.find("duration_s"); it != j.end()) {
    if (!it->is_number())
      return make_error(ErrorCode::kInvalidArgument, "check result: 'duration_s' is not a number");
    r.duration_s = it->get<double>();
  }
  return r;
}

}  // namespace cmeter::conformance
