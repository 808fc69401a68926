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

namespace sdk = cmeter::sdk;
using sdk::DType;
using sdk::OpStatus;

// What op_query and op_create answer for an op: both call plan_op, so they always agree. The
// catalogue's parameter contracts decide what is malformed (kInvalid); this file decides what the
// device runs (kSupported, with the kernel's description in `impl`) or not (kUnsupported, why).
struct Plan {
  OpStatus status = OpStatus::kUnsupported;
  std::string reason;           // kUnsupported / kInvalid / kUnknownOp: why
  OpParams params;              // kSupported: what the kernel gets
  std::string impl;             // kSupported: op_attributes' `impl`
  CMTR_Error* error = nullptr;  // kFailed: what the driver said (the template never fails so)
};

namespace {

Plan unsupported(const std::string& why) {
  return {OpStatus::kUnsupported, std::string(kPluginName) + ": " + why, {}, {}, nullptr};
}

template <class T>
Plan supported(T params, std::string impl) {
  return {OpStatus::kSupported, {}, OpParams(std::move(params)), std::move(impl), nullptr};
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
    return {status, reason, {}, {}, nullptr};
  }
  return {OpStatus::kUnknownOp,
          std::string(kPluginName) + ": unknown op '" + std::string(name) + "'",
          {},
          {},
          nullptr};
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

Plan TemplatePlugin::plan(CMTR_Device* /*device*/, std::string_view name, const CMTR_KeyValue* params,
                          size_t num_params, bool /*for_create*/) {
  return plan_op(name, params, num_params);
}

CMTR_Error* TemplatePlugin::make_op(CMTR_Device* device, Plan& plan, CMTR_Op** out) {
  // VENDOR: compile or select the kernel here, once (hipModuleLoadData, a library's algorithm search).
  auto* op = new CMTR_Op{kOpMagic, device, std::move(plan.params), {}};
  op->attributes.set("impl", plan.impl);
  *out = op;
  return nullptr;
}

const sdk::KeyValueList& TemplatePlugin::op_attributes_of(const CMTR_Op* op) {
  return op->attributes;
}

CMTR_Error* TemplatePlugin::launch(CMTR_Op* op, CMTR_Stream* /*stream*/, CMTR_Buffer* const* buffers,
                                   size_t num_buffers) {
  // Every buffer: the count the op takes, a live buffer of this device, large enough (INVALID_ARGUMENT).
  const std::vector<sdk::BufferNeed> needs = buffer_needs(op->params);
  if (CMTR_Error* e = sdk::check_buffer_count("op_enqueue", buffers, num_buffers, needs)) return e;
  std::vector<void*> data(needs.size());
  for (size_t i = 0; i < needs.size(); ++i) {
    if (CMTR_Error* e = check_buffer(buffers[i], "op_enqueue")) return e;
    if (buffers[i]->device != op->device)
      return sdk::invalid("op_enqueue: buffer " + std::to_string(i) + " is on another device");
    if (CMTR_Error* e = sdk::check_buffer_size("op_enqueue", i, needs[i], buffers[i]->size_bytes)) return e;
    data[i] = buffers[i]->pointer;
  }
  // VENDOR: launch your kernel on the stream and return; stream_synchronize waits for it.
  if (auto* g = std::get_if<sdk::GemmParams>(&op->params)) run_gemm(*g, data[0], data[1], data[2]);
  if (auto* f = std::get_if<sdk::FmaPeakParams>(&op->params)) run_fma_peak(*f, data[0]);
  if (auto* s = std::get_if<sdk::StreamParams>(&op->params)) run_stream(*s, data[0], data[1], data[2]);
  if (auto* c = std::get_if<sdk::CopyParams>(&op->params))
    std::memmove(data[1], data[0], static_cast<size_t>(c->size_bytes));
  if (auto* i = std::get_if<sdk::InferenceOpParams>(&op->params)) run_inference_op(*i, data.data());
  return nullptr;
}

// The function table: every slot is the adapter's entry point around the hooks above and in the
// other files. VENDOR: nothing to change here.
const CMTR_Api kApi = TemplatePlugin::api();

}  // namespace tmpl
