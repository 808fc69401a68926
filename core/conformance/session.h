// Session and CheckContext: the state the conformance checks share inside one process (the raw
// function table, the loaded PluginLibrary and its Devices), and the collector one check writes its
// verdict into. Also the probe helpers for "this call must answer an error object": they inspect the
// error (a known code, a non-empty message) and free it. Internal to core/conformance.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <cmeter/plugin_abi.h>

#include "core/conformance/check_result.h"
#include "core/conformance/suite.h"
#include "core/plugin/device.h"
#include "core/plugin/plugin_library.h"

namespace cmeter::conformance {

// The seed of every check's data: fixed, so a conformance failure reproduces.
inline constexpr uint64_t kConformanceSeed = 0x636d65746572ull;

struct Session {
  Session(const SuiteOptions& o, SuiteListener& l) : options(o), listener(l) {}
  const SuiteOptions& options;
  SuiteListener& listener;

  void* dl_handle = nullptr;      // the raw dlopen handle (load.dlopen)
  const CMTR_Api* api = nullptr;  // the raw table (load.get_api); also lib->api() once loaded
  std::unique_ptr<PluginLibrary> lib;
  std::vector<Device> devices;
  // Non-empty once a loading check failed: every later check is SKIP (blocked) with this reason.
  std::string blocked;

  bool full() const { return options.level == Level::kFull; }
  // The checked device, or nullptr when it does not exist.
  const Device* device() const;
};

class CheckContext {
 public:
  CheckContext(Session& session, std::string id) : session_(session), id_(std::move(id)) {}
  // The first FAIL's reason is the check's reason; later ones become details.
  void fail(std::string reason);
  void skip(SkipKind kind, std::string reason);
  void pass(std::string reason) { pass_reason_ = std::move(reason); }
  void note(std::string detail) { details_.push_back(std::move(detail)); }
  // Announces the case about to run (so a crash names it).
  void step(const std::string& label);
  bool failed() const { return status_ == CheckStatus::kFail; }
  bool skipped() const { return status_ == CheckStatus::kSkip; }
  bool done() const { return failed() || skipped(); }
  // A setup call (one that must work for the check to mean anything) failed: an UNIMPLEMENTED error
  // skips the check as unimplemented, anything else fails it. Returns false so callers can `return`.
  bool setup_failed(const Error& error, const std::string& what);
  CheckResult finish(const std::string& title, double duration_s) const;

 private:
  Session& session_;
  std::string id_;
  CheckStatus status_ = CheckStatus::kPass;
  SkipKind skip_kind_ = SkipKind::kNone;
  std::string reason_;
  std::string pass_reason_;
  std::vector<std::string> details_;
};

// What an error object said (and whether it was a proper one).
struct ErrorProbe {
  bool is_error = false;  // the call returned non-NULL
  int code = 0;
  std::string message;
  std::string defect;  // non-empty: the error object itself is wrong (unknown code, empty message)
};
// Reads and frees `error` through the table's error_info/error_destroy.
ErrorProbe inspect_error(const CMTR_Api& api, CMTR_Error* error);
const char* error_code_name(int code);

// Runs `call` (which returns CMTR_Error*) as case `label` of a bad-input check: it must answer an
// error object with a known code and a message. Records a FAIL in `ctx` otherwise, a detail either way.
template <class Call>
ErrorProbe expect_error(CheckContext& ctx, const CMTR_Api& api, const std::string& label, Call&& call) {
  ctx.step(label);
  ErrorProbe p = inspect_error(api, call());
  if (!p.is_error)
    ctx.fail(label + ": succeeded; an error object was expected");
  else if (!p.defect.empty())
    ctx.fail(label + ": " + p.defect);
  else
    ctx.note(label + ": " + error_code_name(p.code) + " \"" + p.message + "\"");
  return p;
}

// As expect_error, but success is also acceptable (e.g. destroying NULL, a zero-byte copy).
template <class Call>
ErrorProbe allow_error(CheckContext& ctx, const CMTR_Api& api, const std::string& label, Call&& call) {
  ctx.step(label);
  ErrorProbe p = inspect_error(api, call());
  if (p.is_error && !p.defect.empty())
    ctx.fail(label + ": " + p.defect);
  else
    ctx.note(label + ": " +
             (p.is_error ? std::string(error_code_name(p.code)) + " \"" + p.message + "\""
                         : std::string("accepted (no error)")));
  return p;
}

// Args of `type` with struct_size up to `last` and everything else zero.
template <class Args>
Args abi_args(size_t struct_size) {
  Args a{};
  a.struct_size = struct_size;
  return a;
}
#define CMETER_ABI_ARGS(type, last) ::cmeter::conformance::abi_args<type>(CMTR_STRUCT_SIZE(type, last))

// The table slot if the table is long enough to hold it, else nullptr (never reads past struct_size).
#define CMETER_RAW_SLOT(api, slot) \
  ((api).struct_size >= CMTR_STRUCT_SIZE(CMTR_Api, slot) ? (api).slot : nullptr)

// A readable one-line form of a byte count: "4097 bytes".
std::string bytes_label(uint64_t bytes);

// Each check is a function of the session and its context.
using CheckFn = void (*)(Session&, CheckContext&);

// Checks, by file.
void check_load_dlopen(Session&, CheckContext&);
void check_load_get_api(Session&, CheckContext&);
void check_abi_version(Session&, CheckContext&);
void check_abi_table_size(Session&, CheckContext&);
void check_abi_required_slots(Session&, CheckContext&);
void check_plugin_load(Session&, CheckContext&);
void check_plugin_devices(Session&, CheckContext&);
void check_plugin_device_attributes(Session&, CheckContext&);
void check_plugin_telemetry(Session&, CheckContext&);

void check_errors_plugin(Session&, CheckContext&);
void check_errors_device(Session&, CheckContext&);
void check_errors_buffer_create(Session&, CheckContext&);
void check_errors_buffer_handles(Session&, CheckContext&);
void check_errors_buffer_transfer(Session&, CheckContext&);
void check_errors_stream(Session&, CheckContext&);
void check_errors_event(Session&, CheckContext&);
void check_errors_op_query(Session&, CheckContext&);
void check_errors_op_create(Session&, CheckContext&);
void check_errors_op_handles(Session&, CheckContext&);
void check_compat_struct_size(Session&, CheckContext&);

void check_memory_round_trip(Session&, CheckContext&);
void check_memory_host_pinned(Session&, CheckContext&);

void check_events_monotonic(Session&, CheckContext&);
void check_events_resolution(Session&, CheckContext&);
void check_events_host_agreement(Session&, CheckContext&);

void check_op_gemm_f32(Session&, CheckContext&);
void check_op_gemm_f64(Session&, CheckContext&);
void check_op_gemm_f16(Session&, CheckContext&);
void check_op_gemm_bf16(Session&, CheckContext&);
void check_op_gemm_tf32(Session&, CheckContext&);
void check_op_gemm_i8(Session&, CheckContext&);
void check_op_fma_peak_f16(Session&, CheckContext&);
void check_op_fma_peak_f32(Session&, CheckContext&);
void check_op_fma_peak_f64(Session&, CheckContext&);
void check_op_stream_f32(Session&, CheckContext&);
void check_op_stream_f64(Session&, CheckContext&);
void check_op_copy(Session&, CheckContext&);
void check_op_noop(Session&, CheckContext&);

// checks_inference_ops.cpp: the ABI 1.1 inference op set.
void check_op_inference_set(Session&, CheckContext&);
void check_op_gemm_offsets_v1_1(Session&, CheckContext&);
#define CMETER_DECLARE_INFERENCE_CHECKS(name)          \
  void check_op_##name##_f32(Session&, CheckContext&); \
  void check_op_##name##_f16(Session&, CheckContext&); \
  void check_op_##name##_bf16(Session&, CheckContext&);
CMETER_DECLARE_INFERENCE_CHECKS(rmsnorm)
CMETER_DECLARE_INFERENCE_CHECKS(rope)
CMETER_DECLARE_INFERENCE_CHECKS(softmax)
CMETER_DECLARE_INFERENCE_CHECKS(swiglu)
CMETER_DECLARE_INFERENCE_CHECKS(kv_append)
CMETER_DECLARE_INFERENCE_CHECKS(embedding)
CMETER_DECLARE_INFERENCE_CHECKS(argmax)
CMETER_DECLARE_INFERENCE_CHECKS(eltwise)
CMETER_DECLARE_INFERENCE_CHECKS(attention)
#undef CMETER_DECLARE_INFERENCE_CHECKS

// checks_training_ops.cpp: the ABI 1.2 training op set.
void check_op_training_set(Session&, CheckContext&);
#define CMETER_DECLARE_TRAINING_CHECKS(name)           \
  void check_op_##name##_f32(Session&, CheckContext&); \
  void check_op_##name##_f16(Session&, CheckContext&); \
  void check_op_##name##_bf16(Session&, CheckContext&);
CMETER_DECLARE_TRAINING_CHECKS(rmsnorm_backward)
CMETER_DECLARE_TRAINING_CHECKS(swiglu_backward)
CMETER_DECLARE_TRAINING_CHECKS(softmax_backward)
CMETER_DECLARE_TRAINING_CHECKS(rope_backward)
CMETER_DECLARE_TRAINING_CHECKS(cross_entropy)
CMETER_DECLARE_TRAINING_CHECKS(embedding_backward)
CMETER_DECLARE_TRAINING_CHECKS(reduce)
CMETER_DECLARE_TRAINING_CHECKS(adamw)
#undef CMETER_DECLARE_TRAINING_CHECKS

void check_lifecycle_no_growth(Session&, CheckContext&);
void check_concurrency_two_threads(Session&, CheckContext&);

}  // namespace cmeter::conformance
