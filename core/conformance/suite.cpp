// The check catalogue (ids, titles, levels, order) and the in-process loop that runs a range of it.
#include "core/conformance/suite.h"

#include <fnmatch.h>

#include <chrono>
#include <exception>

#include "core/conformance/session.h"

namespace cmeter::conformance {
namespace {

struct Entry {
  CheckInfo info;
  CheckFn fn;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
      {{"load.dlopen", "the file loads with dlopen and exports cmeter_plugin_get_api", false, true},
       check_load_dlopen},
      {{"load.get_api", "cmeter_plugin_get_api returns a table, the same one on every call", false, true},
       check_load_get_api},
      {{"abi.version", "ABI major is the host's; the minor is reported", false, true}, check_abi_version},
      {{"abi.table_size", "CMTR_Api struct_size covers the 1.0 table and is pointer-aligned", false, true},
       check_abi_table_size},
      {{"abi.required_slots",
        "error_info, error_destroy, plugin_initialize, plugin_devices, device_attributes "
        "are set; NULL optional slots listed",
        false, true},
       check_abi_required_slots},
      {{"plugin.load", "plugin_initialize and plugin_devices succeed; plugin.name/version/vendor given",
        false, true},
       check_plugin_load},
      {{"plugin.devices", "at least one device, and the checked index exists", false, true},
       check_plugin_devices},
      {{"plugin.device_attributes", "every device answers its attributes; documented keys have their types",
        false, false},
       check_plugin_device_attributes},
      {{"plugin.telemetry", "telemetry readings use documented keys and types; energy.j is monotonic", false,
        false},
       check_plugin_telemetry},
      {{"errors.plugin", "plugin_initialize/plugin_devices on bad input: NULL args, short struct_size", false,
        false},
       check_errors_plugin},
      {{"errors.device", "device_attributes/device_telemetry on NULL args, short struct_size, NULL device",
        false, false},
       check_errors_device},
      {{"errors.buffer_create", "buffer_create on NULL device, zero and huge sizes, unknown memory kind",
        false, false},
       check_errors_buffer_create},
      {{"errors.buffer_handles", "buffer_destroy/buffer_host_pointer on NULL args and handles", false, false},
       check_errors_buffer_handles},
      {{"errors.buffer_transfer",
        "buffer_write/buffer_read on NULL stream, buffer or host pointer, out-of-range and overflowing "
        "ranges",
        false, false},
       check_errors_buffer_transfer},
      {{"errors.stream", "stream_create/synchronize/destroy on NULL args and handles", false, false},
       check_errors_stream},
      {{"errors.event", "event_record/elapsed/destroy on NULL args and handles", false, false},
       check_errors_event},
      {{"errors.op_query",
        "op_query: unknown op is unsupported (not an error); unknown key, wrong type, NULL device are errors",
        false, false},
       check_errors_op_query},
      {{"errors.op_create", "op_create: unknown op, unknown key, missing required param, NULL device", false,
        false},
       check_errors_op_create},
      {{"errors.op_handles", "op_attributes/op_enqueue/op_destroy on NULL handles, wrong buffer count", false,
        false},
       check_errors_op_handles},
      {{"compat.struct_size", "args from a newer host (larger struct_size) are accepted", false, false},
       check_compat_struct_size},
      {{"memory.round_trip", "device memory: write/read round trips at odd sizes, offsets, misaligned host",
        false, false},
       check_memory_round_trip},
      {{"memory.host_pinned", "host-pinned memory: round trips and buffer_host_pointer coherence", false,
        false},
       check_memory_host_pinned},
      {{"events.monotonic", "events recorded in order give non-negative, additive elapsed times", false,
        false},
       check_events_monotonic},
      {{"events.resolution", "the device timer resolves short intervals", false, false},
       check_events_resolution},
      {{"events.host_agreement", "device-timed work agrees with the host's steady clock around it", false,
        false},
       check_events_host_agreement},
      {{"op.gemm.v1.f32", "gemm.v1 f32 against the FP64 host reference over a matrix of shapes", false,
        false},
       check_op_gemm_f32},
      {{"op.gemm.v1.f64", "gemm.v1 f64 against the FP64 host reference", false, false}, check_op_gemm_f64},
      {{"op.gemm.v1.f16", "gemm.v1 f16 inputs (f16 and f32 outputs) against the FP64 host reference", false,
        false},
       check_op_gemm_f16},
      {{"op.gemm.v1.bf16", "gemm.v1 bf16 inputs (bf16 and f32 outputs) against the FP64 host reference",
        false, false},
       check_op_gemm_bf16},
      {{"op.gemm.v1.tf32", "gemm.v1 f32 with compute tf32 against the FP64 host reference", false, false},
       check_op_gemm_tf32},
      {{"op.gemm.v1.i8", "gemm.v1 i8 inputs, i32 output, exact", false, false}, check_op_gemm_i8},
      {{"op.fma_peak.v1.f16", "fma_peak.v1 f16 against the host simulation", false, false},
       check_op_fma_peak_f16},
      {{"op.fma_peak.v1.f32", "fma_peak.v1 f32 against the host simulation", false, false},
       check_op_fma_peak_f32},
      {{"op.fma_peak.v1.f64", "fma_peak.v1 f64 against the host simulation", false, false},
       check_op_fma_peak_f64},
      {{"op.stream.v1.f32", "stream.v1 copy/scale/add/triad f32, every element", false, false},
       check_op_stream_f32},
      {{"op.stream.v1.f64", "stream.v1 copy/scale/add/triad f64, every element", false, false},
       check_op_stream_f64},
      {{"op.copy.v1", "copy.v1 at odd sizes; bytes past the copy untouched", false, false}, check_op_copy},
      {{"op.noop.v1", "noop.v1 creates, launches repeatedly and synchronises", false, false}, check_op_noop},
      {{"op.inference_set", "ABI 1.1 plugins offer every mandatory inference op (attention.v1 optional)",
        false, false},
       check_op_inference_set},
      {{"op.gemm.v1.offsets",
        "gemm.v1 offset_a/b/c (ABI 1.1): FP64 reference, guard before and after C, short buffer, negative "
        "offset",
        false, false},
       check_op_gemm_offsets_v1_1},
      {{"op.rmsnorm.v1.f32",
        "rmsnorm.v1 f32: rows and dims not multiples of 8, one row, 1031 rows, in place, eps; NMSE vs FP64, "
        "guard bytes",
        false, false},
       check_op_rmsnorm_f32},
      {{"op.rmsnorm.v1.f16",
        "rmsnorm.v1 f16: rows and dims not multiples of 8, one row, 1031 rows, in place, eps; NMSE vs FP64, "
        "guard bytes",
        false, false},
       check_op_rmsnorm_f16},
      {{"op.rmsnorm.v1.bf16",
        "rmsnorm.v1 bf16: rows and dims not multiples of 8, one row, 1031 rows, in place, eps; NMSE vs FP64, "
        "guard bytes",
        false, false},
       check_op_rmsnorm_bf16},
      {{"op.rope.v1.f32",
        "rope.v1 f32: half and interleaved layouts, theta, head_dim 2 and 130, negative positions; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_rope_f32},
      {{"op.rope.v1.f16",
        "rope.v1 f16: half and interleaved layouts, theta, head_dim 2 and 130, negative positions; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_rope_f16},
      {{"op.rope.v1.bf16",
        "rope.v1 bf16: half and interleaved layouts, theta, head_dim 2 and 130, negative positions; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_rope_bf16},
      {{"op.softmax.v1.f32",
        "softmax.v1 f32: with and without lengths (out-of-range LEN), scale, in place, a row of large "
        "values; NMSE vs FP64, guard bytes",
        false, false},
       check_op_softmax_f32},
      {{"op.softmax.v1.f16",
        "softmax.v1 f16: with and without lengths (out-of-range LEN), scale, in place, a row of large "
        "values; NMSE vs FP64, guard bytes",
        false, false},
       check_op_softmax_f16},
      {{"op.softmax.v1.bf16",
        "softmax.v1 bf16: with and without lengths (out-of-range LEN), scale, in place, a row of large "
        "values; NMSE vs FP64, guard bytes",
        false, false},
       check_op_softmax_bf16},
      {{"op.swiglu.v1.f32", "swiglu.v1 f32: odd dims, one row, 1025 rows; NMSE vs FP64, guard bytes", false,
        false},
       check_op_swiglu_f32},
      {{"op.swiglu.v1.f16", "swiglu.v1 f16: odd dims, one row, 1025 rows; NMSE vs FP64, guard bytes", false,
        false},
       check_op_swiglu_f16},
      {{"op.swiglu.v1.bf16", "swiglu.v1 bf16: odd dims, one row, 1025 rows; NMSE vs FP64, guard bytes", false,
        false},
       check_op_swiglu_bf16},
      {{"op.kv_append.v1.f32",
        "kv_append.v1 f32: out-of-range SLOT/POS rows skipped, the rest of the cache untouched; exact, guard "
        "bytes",
        false, false},
       check_op_kv_append_f32},
      {{"op.kv_append.v1.f16",
        "kv_append.v1 f16: out-of-range SLOT/POS rows skipped, the rest of the cache untouched; exact, guard "
        "bytes",
        false, false},
       check_op_kv_append_f16},
      {{"op.kv_append.v1.bf16",
        "kv_append.v1 bf16: out-of-range SLOT/POS rows skipped, the rest of the cache untouched; exact, "
        "guard bytes",
        false, false},
       check_op_kv_append_bf16},
      {{"op.embedding.v1.f32", "embedding.v1 f32: out-of-range ids write zeros; exact, guard bytes", false,
        false},
       check_op_embedding_f32},
      {{"op.embedding.v1.f16", "embedding.v1 f16: out-of-range ids write zeros; exact, guard bytes", false,
        false},
       check_op_embedding_f16},
      {{"op.embedding.v1.bf16", "embedding.v1 bf16: out-of-range ids write zeros; exact, guard bytes", false,
        false},
       check_op_embedding_bf16},
      {{"op.argmax.v1.f32",
        "argmax.v1 f32: ties to the lowest index, NaN never wins, infinities; exact, guard bytes", false,
        false},
       check_op_argmax_f32},
      {{"op.argmax.v1.f16",
        "argmax.v1 f16: ties to the lowest index, NaN never wins, infinities; exact, guard bytes", false,
        false},
       check_op_argmax_f16},
      {{"op.argmax.v1.bf16",
        "argmax.v1 bf16: ties to the lowest index, NaN never wins, infinities; exact, guard bytes", false,
        false},
       check_op_argmax_bf16},
      {{"op.eltwise.v1.f32",
        "eltwise.v1 f32: add, mul, scale, cast to each other dtype, in place; NMSE vs FP64, guard bytes",
        false, false},
       check_op_eltwise_f32},
      {{"op.eltwise.v1.f16",
        "eltwise.v1 f16: add, mul, scale, cast to each other dtype, in place; NMSE vs FP64, guard bytes",
        false, false},
       check_op_eltwise_f16},
      {{"op.eltwise.v1.bf16",
        "eltwise.v1 bf16: add, mul, scale, cast to each other dtype, in place; NMSE vs FP64, guard bytes",
        false, false},
       check_op_eltwise_bf16},
      {{"op.attention.v1.f32",
        "attention.v1 f32: optional fused path: prefill and decode, grouped KV heads, out-of-range rows; "
        "NMSE vs FP64, guard bytes",
        false, false},
       check_op_attention_f32},
      {{"op.attention.v1.f16",
        "attention.v1 f16: optional fused path: prefill and decode, grouped KV heads, out-of-range rows; "
        "NMSE vs FP64, guard bytes",
        false, false},
       check_op_attention_f16},
      {{"op.attention.v1.bf16",
        "attention.v1 bf16: optional fused path: prefill and decode, grouped KV heads, out-of-range rows; "
        "NMSE vs FP64, guard bytes",
        false, false},
       check_op_attention_bf16},
      {{"op.training_set", "ABI 1.2 plugins offer every training op (or none: training unsupported)", false,
        false},
       check_op_training_set},
      {{"op.rmsnorm_backward.v1.f32",
        "rmsnorm_backward.v1 f32: DX and DW (accumulate), in place, 300 rows; NMSE vs FP64 with cancellation "
        "bounds, guard bytes",
        false, false},
       check_op_rmsnorm_backward_f32},
      {{"op.rmsnorm_backward.v1.f16",
        "rmsnorm_backward.v1 f16: DX and DW (accumulate), in place, 300 rows; NMSE vs FP64 with cancellation "
        "bounds, guard bytes",
        false, false},
       check_op_rmsnorm_backward_f16},
      {{"op.rmsnorm_backward.v1.bf16",
        "rmsnorm_backward.v1 bf16: DX and DW (accumulate), in place, 300 rows; NMSE vs FP64 with "
        "cancellation bounds, guard bytes",
        false, false},
       check_op_rmsnorm_backward_bf16},
      {{"op.swiglu_backward.v1.f32",
        "swiglu_backward.v1 f32: dG and dU, in place, 257 rows; NMSE vs FP64, guard bytes", false, false},
       check_op_swiglu_backward_f32},
      {{"op.swiglu_backward.v1.f16",
        "swiglu_backward.v1 f16: dG and dU, in place, 257 rows; NMSE vs FP64, guard bytes", false, false},
       check_op_swiglu_backward_f16},
      {{"op.swiglu_backward.v1.bf16",
        "swiglu_backward.v1 bf16: dG and dU, in place, 257 rows; NMSE vs FP64, guard bytes", false, false},
       check_op_swiglu_backward_bf16},
      {{"op.softmax_backward.v1.f32",
        "softmax_backward.v1 f32: with lengths (out-of-range LEN, exact zeros after), scale, in place; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_softmax_backward_f32},
      {{"op.softmax_backward.v1.f16",
        "softmax_backward.v1 f16: with lengths (out-of-range LEN, exact zeros after), scale, in place; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_softmax_backward_f16},
      {{"op.softmax_backward.v1.bf16",
        "softmax_backward.v1 bf16: with lengths (out-of-range LEN, exact zeros after), scale, in place; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_softmax_backward_bf16},
      {{"op.rope_backward.v1.f32",
        "rope_backward.v1 f32: the inverse rotation, both layouts, negative positions; NMSE vs FP64, guard "
        "bytes",
        false, false},
       check_op_rope_backward_f32},
      {{"op.rope_backward.v1.f16",
        "rope_backward.v1 f16: the inverse rotation, both layouts, negative positions; NMSE vs FP64, guard "
        "bytes",
        false, false},
       check_op_rope_backward_f16},
      {{"op.rope_backward.v1.bf16",
        "rope_backward.v1 bf16: the inverse rotation, both layouts, negative positions; NMSE vs FP64, guard "
        "bytes",
        false, false},
       check_op_rope_backward_bf16},
      {{"op.cross_entropy.v1.f32",
        "cross_entropy.v1 f32: loss (f32) and DX, padding targets, in place, large logits, loss only; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_cross_entropy_f32},
      {{"op.cross_entropy.v1.f16",
        "cross_entropy.v1 f16: loss (f32) and DX, padding targets, in place, large logits, loss only; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_cross_entropy_f16},
      {{"op.cross_entropy.v1.bf16",
        "cross_entropy.v1 bf16: loss (f32) and DX, padding targets, in place, large logits, loss only; NMSE "
        "vs FP64, guard bytes",
        false, false},
       check_op_cross_entropy_bf16},
      {{"op.embedding_backward.v1.f32",
        "embedding_backward.v1 f32: f32 scatter-add with repeated and out-of-range ids, accumulate; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_embedding_backward_f32},
      {{"op.embedding_backward.v1.f16",
        "embedding_backward.v1 f16: f32 scatter-add with repeated and out-of-range ids, accumulate; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_embedding_backward_f16},
      {{"op.embedding_backward.v1.bf16",
        "embedding_backward.v1 bf16: f32 scatter-add with repeated and out-of-range ids, accumulate; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_embedding_backward_bf16},
      {{"op.reduce.v1.f32",
        "reduce.v1 f32: sum and sum_squares over rows and cols, scale, accumulate, a 20001 vector; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_reduce_f32},
      {{"op.reduce.v1.f16",
        "reduce.v1 f16: sum and sum_squares over rows and cols, scale, accumulate, a 20001 vector; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_reduce_f16},
      {{"op.reduce.v1.bf16",
        "reduce.v1 bf16: sum and sum_squares over rows and cols, scale, accumulate, a 20001 vector; NMSE vs "
        "FP64, guard bytes",
        false, false},
       check_op_reduce_bf16},
      {{"op.adamw.v1.f32",
        "adamw.v1 f32: gradient in this type, W_OUT in each, weight decay, step from HYPER, the step-0 skip; "
        "NMSE vs FP64, guard bytes",
        false, false},
       check_op_adamw_f32},
      {{"op.adamw.v1.f16",
        "adamw.v1 f16: gradient in this type, W_OUT in each, weight decay, step from HYPER, the step-0 skip; "
        "NMSE vs FP64, guard bytes",
        false, false},
       check_op_adamw_f16},
      {{"op.adamw.v1.bf16",
        "adamw.v1 bf16: gradient in this type, W_OUT in each, weight decay, step from HYPER, the step-0 "
        "skip; NMSE vs FP64, guard bytes",
        false, false},
       check_op_adamw_bf16},
      {{"lifecycle.no_growth", "repeated create/destroy of buffers, streams, events, ops, errors: no growth",
        true, false},
       check_lifecycle_no_growth},
      {{"concurrency.two_threads",
        "two devices (or two streams on one device) used from two threads at once give correct results", true,
        false},
       check_concurrency_two_threads},
  };
  return list;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs one check, turning a C++ exception escaping the checker into a FAIL rather than a crash.
CheckResult run_one(Session& session, const Entry& entry) {
  CheckContext ctx(session, entry.info.id);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    entry.fn(session, ctx);
  } catch (const std::exception& e) {
    ctx.fail(std::string("checker error: ") + e.what());
  } catch (...) {
    ctx.fail("checker error: unknown exception");
  }
  return ctx.finish(entry.info.title, seconds_since(t0));
}

}  // namespace

const char* to_string(Level level) {
  return level == Level::kFull ? "full" : "quick";
}

Result<Level> parse_level(std::string_view text) {
  if (text == "quick") return Level::kQuick;
  if (text == "full") return Level::kFull;
  return make_error(ErrorCode::kInvalidArgument, "unknown level '{}' (quick or full)", text);
}

bool is_selected(const std::vector<std::string>& only, const std::string& id) {
  if (only.empty()) return true;
  for (const auto& pattern : only)
    if (fnmatch(pattern.c_str(), id.c_str(), 0) == 0) return true;
  return false;
}

const std::vector<CheckInfo>& check_catalogue() {
  static const std::vector<CheckInfo> infos = [] {
    std::vector<CheckInfo> out;
    for (const auto& e : entries()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

void run_checks(const SuiteOptions& options, size_t first_index, SuiteListener& listener) {
  Session session(options, listener);
  const auto& list = entries();
  for (size_t i = 0; i < list.size(); ++i) {
    const Entry& entry = list[i];
    if (i < first_index) {
      if (!entry.info.loads || !session.blocked.empty()) continue;
      CheckResult r = run_one(session, entry);
      if (r.status == CheckStatus::kFail) session.blocked = entry.info.id + ": " + r.reason;
      continue;
    }
    if (i == first_index && first_index > 0 && !session.blocked.empty()) {
      // A fresh worker could not load the plugin again: nothing after this can run.
      for (size_t j = i; j < list.size(); ++j) {
        listener.on_begin(j);
        CheckResult r;
        r.id = list[j].info.id;
        r.title = list[j].info.title;
        r.status = CheckStatus::kFail;
        r.reason = "the plugin did not load again in a fresh worker: " + session.blocked;
        listener.on_result(j, r);
      }
      return;
    }
    listener.on_begin(i);
    CheckResult r;
    if (!session.blocked.empty()) {
      r.id = entry.info.id;
      r.title = entry.info.title;
      r.status = CheckStatus::kSkip;
      r.skip_kind = SkipKind::kBlocked;
      r.reason = session.blocked;
    } else if (!entry.info.loads && !is_selected(options.only, entry.info.id)) {
      r.id = entry.info.id;
      r.title = entry.info.title;
      r.status = CheckStatus::kSkip;
      r.skip_kind = SkipKind::kNotSelected;
      r.reason = "not selected by --only";
    } else if (entry.info.full_only && options.level != Level::kFull) {
      r.id = entry.info.id;
      r.title = entry.info.title;
      r.status = CheckStatus::kSkip;
      r.skip_kind = SkipKind::kLevel;
      r.reason = "runs at --level full";
    } else {
      r = run_one(session, entry);
      if (entry.info.loads && r.status == CheckStatus::kFail) session.blocked = "blocked by " + entry.info.id;
      if (entry.info.loads && r.status == CheckStatus::kSkip && session.blocked.empty())
        session.blocked = entry.info.id + ": " + r.reason;
    }
    listener.on_result(i, r);
  }
}

}  // namespace cmeter::conformance
