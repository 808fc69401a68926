// plugins/vulkan/ops.hpp - the Vulkan plugin's op catalogue: gemm.v1, fma_peak.v1, stream.v1, copy.v1,
// noop.v1 (semantics in docs/abi-keys.md); the 1.1 inference ops are answered unsupported.
//
// Why this file exists: op_query and op_create must agree exactly on what is supported, so both go
// through one planning function; op_query stops after the checks (no VkDevice, no pipeline),
// op_create goes on to create the compute pipeline from the SPIR-V embedded at build time, so that
// op_enqueue only pushes constants and dispatches.
#ifndef CMETER_PLUGINS_VULKAN_OPS_HPP_
#define CMETER_PLUGINS_VULKAN_OPS_HPP_

#include <memory>
#include <string>
#include <string_view>

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

}  // namespace cmeter::vulkan

#endif  // CMETER_PLUGINS_VULKAN_OPS_HPP_
