// ops.cpp - op_query, op_create, op_attributes, op_enqueue, op_destroy.
//
// Why this file exists: ops are the measured work, named and versioned (docs/abi-keys.md has the
// catalogue, parameters and buffer orders). op_query is cheap and answers "supported or not, and
// why" (unsupported is an answer, not an error); op_create does the expensive part once (kernel
// compile, algorithm choice); op_enqueue only launches. Parameters are parsed by the SDK's contracts
// (cmeter/plugin_ops.hpp), so a malformed request is INVALID_ARGUMENT exactly as in every cmeter
// plugin. The template answers "not implemented yet" (unsupported) for every well-formed v1 op.
#include <cmeter/plugin_ops.hpp>

#include "template.hpp"

namespace tmpl {
namespace {

using cmeter::sdk::OpStatus;

// What op_query and op_create answer for an op: both call this, so they always agree. The catalogue's
// parameter contracts (cmeter/plugin_ops.hpp) decide what is malformed (kInvalid); the rest is
// yours to decide: kSupported, or kUnsupported with the reason.
struct Plan {
  OpStatus status = OpStatus::kUnsupported;
  std::string reason;
};

template <class T>
Plan plan_parsed(const cmeter::sdk::Parsed<T>& parsed, const char* name) {
  if (!parsed.ok()) return {OpStatus::kInvalid, parsed.invalid_reason};
  // TODO(vendor): decide from parsed.value (dtypes, sizes) whether this device runs it; say why not.
  return {OpStatus::kUnsupported, std::string(kPluginName) + ": " + name + " is not implemented yet"};
}

Plan plan_op(std::string_view name, const CMTR_KeyValue* params, size_t count) {
  namespace sdk = cmeter::sdk;
  if (name == "gemm.v1") return plan_parsed(sdk::parse_gemm(params, count), "gemm.v1");
  if (name == "fma_peak.v1") return plan_parsed(sdk::parse_fma_peak(params, count), "fma_peak.v1");
  if (name == "stream.v1") return plan_parsed(sdk::parse_stream(params, count), "stream.v1");
  if (name == "copy.v1")
    return plan_parsed(sdk::parse_copy(params, count, /*knows_engine=*/false), "copy.v1");
  if (name == "noop.v1") return plan_parsed(sdk::parse_noop(params, count), "noop.v1");
  // ABI 1.1 inference ops (rmsnorm.v1, rope.v1, ...): parse_inference_op checks the contract;
  // sdk::buffer_needs(parsed.value) gives each buffer's least size for op_enqueue.
  if (sdk::is_inference_op(name))
    return plan_parsed(sdk::parse_inference_op(name, params, count), std::string(name).c_str());
  // ABI 1.2 training ops (rmsnorm_backward.v1, cross_entropy.v1, adamw.v1, ...): likewise.
  if (sdk::is_training_op(name))
    return plan_parsed(sdk::parse_training_op(name, params, count), std::string(name).c_str());
  return {OpStatus::kUnknownOp, std::string(kPluginName) + ": unknown op '" + std::string(name) + "'"};
}

}  // namespace

CMTR_Error* check_op(const CMTR_Op* op, const char* function) {
  return cmeter::sdk::check_handle(op, kOpMagic, function, "op", kPluginName, "op");
}

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    const Plan plan = plan_op(cmeter::sdk::view(args->name), args->params, args->num_params);
    return cmeter::sdk::answer_query(args, plan.status, plan.reason);
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    const Plan plan = plan_op(cmeter::sdk::view(args->name), args->params, args->num_params);
    // TODO(vendor): when supported, compile / select the kernel once; args->op = new CMTR_Op{kOpMagic, ...};
    return cmeter::sdk::create_error(plan.status, plan.reason);
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_op(args->op, "op_attributes")) return e;
  // TODO(vendor): facts about the op, at least `impl` (which kernel or library call runs).
  return unimplemented("op_attributes");
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = check_op(args->op, "op_enqueue")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  // TODO(vendor): check the buffer count and sizes for this op (INVALID_ARGUMENT), then launch only.
  return unimplemented("op_enqueue");
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = check_op(args->op, "op_destroy")) return e;
  // TODO(vendor): release what op_create made; args->op->magic = 0; delete args->op;
  return unimplemented("op_destroy");
}

}  // namespace tmpl
