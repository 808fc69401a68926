// plugins/vulkan/ops.hpp - the Vulkan plugin's op catalogue: gemm.v1, fma_peak.v1, stream.v1, copy.v1,
// noop.v1 and the 1.1 inference ops (infer_ops.cpp; semantics in docs/abi-keys.md).
//
// Why this file exists: op_query and op_create must agree exactly on what is supported, so both go
// through one planning function; op_query stops after the checks (no VkDevice, no pipeline),
// op_create goes on to create the compute pipeline from the SPIR-V embedded at build time, so that
// op_enqueue only pushes constants and dispatches.
#ifndef CMETER_PLUGINS_VULKAN_OPS_HPP_
#define CMETER_PLUGINS_VULKAN_OPS_HPP_

#include <cmeter/plugin_ops.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime.hpp"

namespace cmeter::vulkan {

struct OpPlan {
  sdk::OpStatus status = sdk::OpStatus::kInvalid;
  std::string reason;           // why not supported / what is invalid
  CMTR_Error* error = nullptr;  // kFailed: what went wrong while creating
  std::unique_ptr<Op> op;       // set when `create` and kSupported
};

OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create);

// `name` is a 1.1 inference op (sdk::is_inference_op); the device is ready (Vulkan 1.2 with buffer
// device addresses; with `create`, its VkDevice exists). infer_ops.cpp.
OpPlan plan_inference_op(DeviceState& device, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create);

// ---- What the ops share (ops.cpp) ----

inline OpPlan unsupported(std::string reason) {
  OpPlan p;
  p.status = sdk::OpStatus::kUnsupported;
  p.reason = "vulkan: " + std::move(reason);
  return p;
}
inline OpPlan invalid_plan(std::string reason) {
  OpPlan p;
  p.status = sdk::OpStatus::kInvalid;
  p.reason = std::move(reason);
  return p;
}
inline OpPlan failed(CMTR_Error* e) {
  OpPlan p;
  p.status = sdk::OpStatus::kFailed;
  p.error = e;
  return p;
}
// The answer for a created op (or, with op NULL, for a query): supported, or the creation's error.
template <class T>
OpPlan finish(std::unique_ptr<T> op, CMTR_Error* e) {
  if (e != nullptr) return failed(e);
  OpPlan p;
  p.status = sdk::OpStatus::kSupported;
  p.op = std::move(op);
  return p;
}

// Shaders index elements with 32-bit uints: a buffer of 2^32 elements or more is unsupported.
constexpr uint64_t kMaxIndex = uint64_t{1} << 32;

// The checks of an enqueue's buffers: the count, live buffers of this device, the sizes.
CMTR_Error* check_list(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                       size_t num_buffers, const std::vector<sdk::BufferNeed>& needs);

// Work-groups for a grid-stride loop over `count` items, `local` per group (at least 1, at most the
// device's limit).
uint32_t groups_for(const DeviceInfo& info, uint64_t count, uint32_t local);

}  // namespace cmeter::vulkan

#endif  // CMETER_PLUGINS_VULKAN_OPS_HPP_
