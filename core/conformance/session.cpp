// CheckContext bookkeeping and the error-object probe shared by every conformance check.
#include "core/conformance/session.h"

#include <cmeter/plugin_client.hpp>

#include <fmt/format.h>

namespace cmeter::conformance {

const Device* Session::device() const {
  if (options.device_index < 0 || static_cast<size_t>(options.device_index) >= devices.size()) return nullptr;
  return &devices[static_cast<size_t>(options.device_index)];
}

void CheckContext::fail(std::string reason) {
  if (status_ == CheckStatus::kFail) {
    details_.push_back("FAIL: " + std::move(reason));
    return;
  }
  status_ = CheckStatus::kFail;
  skip_kind_ = SkipKind::kNone;
  reason_ = std::move(reason);
}

void CheckContext::skip(SkipKind kind, std::string reason) {
  if (status_ == CheckStatus::kFail) return;  // a failure already seen stands
  status_ = CheckStatus::kSkip;
  skip_kind_ = kind;
  reason_ = std::move(reason);
}

void CheckContext::step(const std::string& label) {
  session_.listener.on_step(id_ + ": " + label);
}

bool CheckContext::setup_failed(const Error& error, const std::string& what) {
  // Host errors already name the call ("acme: stream_create: ..."); others get it in front.
  const std::string reason =
      error.message.find(what) != std::string::npos ? error.message : what + ": " + error.message;
  if (error.code == ErrorCode::kUnimplemented)
    skip(SkipKind::kUnimplemented, reason);
  else
    fail(reason);
  return false;
}

CheckResult CheckContext::finish(const std::string& title, double duration_s) const {
  CheckResult r;
  r.id = id_;
  r.title = title;
  r.status = status_;
  r.skip_kind = status_ == CheckStatus::kSkip ? skip_kind_ : SkipKind::kNone;
  r.reason = status_ == CheckStatus::kPass ? (pass_reason_.empty() ? "ok" : pass_reason_) : reason_;
  r.details = details_;
  r.duration_s = duration_s;
  return r;
}

const char* error_code_name(int code) {
  // Code 0 on an error object is itself a defect: never call it "OK".
  return code == 0 ? "UNKNOWN_CODE" : client::code_name(code);
}

ErrorProbe inspect_error(const CMTR_Api& api, CMTR_Error* error) {
  ErrorProbe p;
  if (error == nullptr) return p;
  p.is_error = true;
  CMTR_Error_Info_Args info = CMETER_ABI_ARGS(CMTR_Error_Info_Args, message);
  info.error = error;
  info.code = -1;
  api.error_info(&info);
  p.code = info.code;
  p.message = sanitize_plugin_string(info.message);
  if (p.code < CMTR_ERROR_INVALID_ARGUMENT || p.code > CMTR_ERROR_INTERNAL)
    p.defect = fmt::format("error object has code {}, not a CMTR_ErrorCode", p.code);
  else if (p.message.empty())
    p.defect = fmt::format("error object ({}) has an empty message", error_code_name(p.code));
  CMTR_Error_Destroy_Args destroy = CMETER_ABI_ARGS(CMTR_Error_Destroy_Args, error);
  destroy.error = error;
  api.error_destroy(&destroy);
  return p;
}

std::string bytes_label(uint64_t bytes) {
  return fmt::format("{} bytes", bytes);
}

}  // namespace cmeter::conformance
