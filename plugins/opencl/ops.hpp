// plugins/opencl/ops.hpp - the OpenCL plugin's op catalogue: gemm.v1, fma_peak.v1, stream.v1,
// copy.v1, noop.v1 (semantics in docs/abi-keys.md).
//
// Why this file exists: op_query and op_create must agree exactly on what is supported, so both go
// through one planning function; op_query stops after the checks (cheap: no compilation, no context),
// op_create goes on to build programs, pick the implementation and prime the kernels, so that
// op_enqueue only sets arguments and launches.
#ifndef CMETER_PLUGINS_OPENCL_OPS_HPP_
#define CMETER_PLUGINS_OPENCL_OPS_HPP_

#include <memory>
#include <string>
#include <string_view>

#include "runtime.hpp"

namespace cmeter::opencl {

struct OpPlan {
  using Status = sdk::OpStatus;
  static constexpr Status kSupported = Status::kSupported, kUnsupported = Status::kUnsupported,
                          kInvalid = Status::kInvalid, kUnknownOp = Status::kUnknownOp,
                          kFailed = Status::kFailed;
  Status status = kInvalid;
  std::string reason;           // why not supported / what is invalid
  CMTR_Error* error = nullptr;  // kFailed: what went wrong while creating (build log, allocation)
  std::unique_ptr<Op> op;       // set when `create` and kSupported
};

OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create);

// The op names this plugin implements, for messages.
const char* op_names();

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_OPS_HPP_
