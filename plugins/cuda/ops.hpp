// plugins/cuda/ops.hpp - op planning for the CUDA plugin: parse an op's parameters once, answer
// op_query (supported or not, and why) and build the op for op_create.
//
// Why this file exists: op_query and op_create must agree exactly on what is supported, so both go
// through one plan function per op; gemm.v1 lives in gemm_lt.cpp (cuBLASLt), the rest in ops.cpp
// (the plugin's own kernels).
#ifndef CMETER_PLUGINS_CUDA_OPS_HPP_
#define CMETER_PLUGINS_CUDA_OPS_HPP_

#include <memory>
#include <string>
#include <string_view>

#include "runtime.hpp"

namespace cmeter::cuda {

struct OpPlan {
  using Status = sdk::OpStatus;
  static constexpr Status kSupported = Status::kSupported, kUnsupported = Status::kUnsupported,
                          kInvalid = Status::kInvalid, kUnknownOp = Status::kUnknownOp,
                          kFailed = Status::kFailed;
  Status status = kUnsupported;
  std::string reason;           // why not (unsupported, invalid, unknown)
  std::unique_ptr<OpImpl> op;   // set when create and supported
  CMTR_Error* error = nullptr;  // kFailed: a CUDA failure while creating
};

// `create` false: answer only (cheap); true: build the op (compile-free here, but gemm selects its
// algorithm by timing candidates). The device is current on the calling thread.
OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create);

OpPlan plan_gemm(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_OPS_HPP_
