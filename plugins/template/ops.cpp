// ops.cpp - op_query, op_create, op_attributes, op_enqueue, op_destroy.
//
// Why this file exists: ops are the measured work, named and versioned (docs/abi-keys.md has the
// catalogue, parameters and buffer orders). op_query is cheap and answers "supported or not, and
// why" (unsupported is an answer, not an error); op_create does the expensive part once (kernel
// compile, algorithm choice); op_enqueue checks the buffers and only launches. Parameters are parsed by
// the SDK's contracts (cmeter/plugin_ops.hpp), so a malformed request is INVALID_ARGUMENT exactly as in
// every cmeter plugin; what is left here is deciding what this device runs (plan_op) and handing the
// parsed parameters to the kernels (kernels.cpp).
#include <cmeter/plugin_ops.hpp>

#include <cstring>
#include <type_traits>
#include <variant>
#include <vector>

#include "kernels.hpp"
#include "template.hpp"

namespace tmpl {

// What op_create chose: the op's parsed parameters (one of the catalogue's structs), which
// op_enqueue hands to the kernel. VENDOR: add your compiled kernel or library handle to CMTR_Op.
using OpParams = std::variant<cmeter::sdk::GemmParams, cmeter::sdk::FmaPeakParams, cmeter::sdk::StreamParams,
                              cmeter::sdk::CopyParams, std::monostate, cmeter::sdk::InferenceOpParams>;

}  // namespace tmpl

struct CMTR_Op {
  uint32_t magic;
  CMTR_Device* device;
  tmpl::OpParams params;
  cmeter::sdk::KeyValueList attributes;  // op_attributes: at least `impl`
};

namespace tmpl {
namespace {

namespace sdk = cmeter::sdk;
using sdk::DType;
using sdk::OpStatus;

// What op_query and op_create answer for an op: both call plan_op, so they always agree. The
// catalogue's parameter contracts decide what is malformed (kInvalid); this file decides what the
// device runs (kSupported, with the kernel's description in `impl`) or not (kUnsupported, why).
struct Plan {
  OpStatus status = OpStatus::kUnsupported;
  std::string reason;  // kUnsupported / kInvalid / kUnknownOp: why
  OpParams params;     // kSupported: what the kernel gets
  std::string impl;    // kSupported: op_attributes' `impl`
};

Plan unsupported(const std::string& why) {
  return {OpStatus::kUnsupported, std::string(kPluginName) + ": " + why, {}, {}};
}

template <class T>
Plan supported(T params, std::string impl) {
  return {OpStatus::kSupported, {}, OpParams(std::move(params)), std::move(impl)};
}

// VENDOR: the type combinations your GEMM library or kernel runs. The template runs those the
// conformance check asks for, except tf32 (a tensor-core input rounding a host loop does not have).
Plan plan_gemm(const sdk::GemmParams& g) {
  const bool same_inputs = g.a == g.b;
  const bool half = g.a == DType::kF16 || g.a == DType::kBF16;
  bool ok = false;
  if (same_inputs && half) ok = (g.c == g.a || g.c == DType::kF32) && g.compute == "f32";
  if (same_inputs && g.a == DType::kF32) ok = g.c == DType::kF32 && g.compute == "f32";
  if (same_inputs && g.a == DType::kF64) ok = g.c == DType::kF64 && g.compute == "f64";
  if (same_inputs && g.a == DType::kI8) ok = g.c == DType::kI32 && g.compute == "i32";
  if (!ok)
    return unsupported(
        std::string("gemm.v1 ") + g.a_name + "x" + g.b_name + "->" + g.c_name + " compute " + g.compute +
        " is not offered (f16/bf16 -> same or f32, f32, f64, i8 -> i32; compute f32, f64, i32)");
  return supported(
      g, std::string("template.gemm: scalar loop, double accumulation, ") + g.a_name + "->" + g.c_name);
}

Plan plan_inference(const sdk::InferenceOpParams& op, std::string_view name) {
  // Every inference op is defined for f16, bf16 and f32; another catalogue dtype is unsupported.
  const bool ok = std::visit(
      [](const auto& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, sdk::EltwiseParams>)
          return sdk::is_inference_dtype(p.dtype) && sdk::is_inference_dtype(p.dtype_out);
        else
          return sdk::is_inference_dtype(p.dtype);
      },
      op);
  if (!ok) return unsupported(std::string(name) + ": the inference ops run f16, bf16 and f32");
  return supported(
      op, "template." + std::string(name.substr(0, name.find('.'))) + ": scalar loop, double arithmetic");
}

template <class T>
bool parsed_invalid(const sdk::Parsed<T>& parsed, Plan* plan) {
  if (parsed.ok()) return false;
  *plan = {OpStatus::kInvalid, parsed.invalid_reason, {}, {}};
  return true;
}

Plan plan_op(std::string_view name, const CMTR_KeyValue* params, size_t count) {
  Plan plan;
  if (name == "gemm.v1") {
    auto parsed = sdk::parse_gemm(params, count);
    return parsed_invalid(parsed, &plan) ? plan : plan_gemm(parsed.value);
  }
  if (name == "fma_peak.v1") {
    auto parsed = sdk::parse_fma_peak(params, count);
    if (parsed_invalid(parsed, &plan)) return plan;
    return supported(parsed.value, "template.fma_peak: scalar fma chains in " + parsed.value.dtype);
  }
  if (name == "stream.v1") {
    auto parsed = sdk::parse_stream(params, count);
    if (parsed_invalid(parsed, &plan)) return plan;
    if (parsed.value.dtype != "f32" && parsed.value.dtype != "f64")
      return unsupported("stream.v1 runs f32 and f64, not " + parsed.value.dtype);
    return supported(parsed.value, "template.stream: scalar loop");
  }
  if (name == "copy.v1") {  // the template has one copy path, so it does not take the `engine` key
    auto parsed = sdk::parse_copy(params, count, /*knows_engine=*/false);
    return parsed_invalid(parsed, &plan) ? plan : supported(parsed.value, "memcpy");
  }
  if (name == "noop.v1") {
    auto parsed = sdk::parse_noop(params, count);
    return parsed_invalid(parsed, &plan) ? plan : supported(std::monostate{}, "nothing (an empty launch)");
  }
  if (sdk::is_inference_op(name)) {  // ABI 1.1 (rmsnorm.v1, rope.v1, ...)
    auto parsed = sdk::parse_inference_op(name, params, count);
    return parsed_invalid(parsed, &plan) ? plan : plan_inference(parsed.value, name);
  }
  if (sdk::is_training_op(name)) {  // ABI 1.2 (rmsnorm_backward.v1, adamw.v1, ...): not implemented yet
    auto [status, reason] = sdk::training_op_not_implemented(name, params, count, kPluginName);
    return {status, reason, {}, {}};
  }
  return {
      OpStatus::kUnknownOp, std::string(kPluginName) + ": unknown op '" + std::string(name) + "'", {}, {}};
}

// The buffers each op takes, in order, with the least bytes each must hold.
std::vector<sdk::BufferNeed> buffer_needs(const OpParams& params) {
  if (auto* g = std::get_if<sdk::GemmParams>(&params))
    return {{"A", g->a_bytes}, {"B", g->b_bytes}, {"C", g->c_bytes}};
  if (auto* f = std::get_if<sdk::FmaPeakParams>(&params))
    return {{"OUT", static_cast<uint64_t>(f->items) * 4}};
  if (auto* s = std::get_if<sdk::StreamParams>(&params)) {
    const uint64_t bytes = static_cast<uint64_t>(s->n) * sdk::dtype_size_bytes(*sdk::parse_dtype(s->dtype));
    return {{"A", bytes}, {"B", bytes}, {"C", bytes}};
  }
  if (auto* c = std::get_if<sdk::CopyParams>(&params)) {
    const uint64_t bytes = static_cast<uint64_t>(c->size_bytes);
    return {{"SRC", bytes}, {"DST", bytes}};
  }
  if (auto* i = std::get_if<sdk::InferenceOpParams>(&params)) return sdk::buffer_needs(*i);
  return {};  // noop.v1
}

}  // namespace

CMTR_Error* check_op(const CMTR_Op* op, const char* function) {
  return cmeter::sdk::check_handle(op, kOpMagic, function, "op", kPluginName, "op");
}

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    const Plan plan = plan_op(sdk::view(args->name), args->params, args->num_params);
    return sdk::answer_query(args, plan.status, plan.reason);
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    Plan plan = plan_op(sdk::view(args->name), args->params, args->num_params);
    if (plan.status != OpStatus::kSupported) return sdk::create_error(plan.status, plan.reason);
    // VENDOR: compile or select the kernel here, once (hipModuleLoadData, a library's algorithm search).
    auto* op = new CMTR_Op{kOpMagic, args->device, std::move(plan.params), {}};
    op->attributes.set("impl", plan.impl);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_op(args->op, "op_attributes")) return e;
  args->attributes = args->op->attributes.data();
  args->num_attributes = args->op->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = check_op(args->op, "op_enqueue")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    CMTR_Op& op = *args->op;
    // Every buffer: the count the op takes, a live buffer of this device, large enough (INVALID_ARGUMENT).
    const std::vector<sdk::BufferNeed> needs = buffer_needs(op.params);
    if (CMTR_Error* e = sdk::check_buffer_count("op_enqueue", args->buffers, args->num_buffers, needs))
      return e;
    std::vector<void*> data(needs.size());
    for (size_t i = 0; i < needs.size(); ++i) {
      if (CMTR_Error* e = check_buffer(args->buffers[i], "op_enqueue")) return e;
      if (args->buffers[i]->device != op.device || args->stream->device != op.device)
        return invalid("op_enqueue: buffer " + std::to_string(i) + " or the stream is on another device");
      if (CMTR_Error* e = sdk::check_buffer_size("op_enqueue", i, needs[i], args->buffers[i]->size_bytes))
        return e;
      data[i] = args->buffers[i]->pointer;
    }
    // VENDOR: launch your kernel on args->stream and return; stream_synchronize waits for it.
    if (auto* g = std::get_if<sdk::GemmParams>(&op.params)) run_gemm(*g, data[0], data[1], data[2]);
    if (auto* f = std::get_if<sdk::FmaPeakParams>(&op.params)) run_fma_peak(*f, data[0]);
    if (auto* s = std::get_if<sdk::StreamParams>(&op.params)) run_stream(*s, data[0], data[1], data[2]);
    if (auto* c = std::get_if<sdk::CopyParams>(&op.params))
      std::memmove(data[1], data[0], static_cast<size_t>(c->size_bytes));
    if (auto* i = std::get_if<sdk::InferenceOpParams>(&op.params)) run_inference_op(*i, data.data());
    return nullptr;
  });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = check_op(args->op, "op_destroy")) return e;
  args->op->magic = 0;  // VENDOR: release what op_create made (hipModuleUnload, ...)
  delete args->op;
  return nullptr;
}

}  // namespace tmpl
