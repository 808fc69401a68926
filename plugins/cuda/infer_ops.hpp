// plugins/cuda/infer_ops.hpp - planning of the CUDA plugin's ABI 1.1 inference ops.
//
// Why this file exists: ops.cpp's plan_op hands every inference op name here (infer_ops.cpp), so
// op_query and op_create give the same answer.
#ifndef CMETER_PLUGINS_CUDA_INFER_OPS_HPP_
#define CMETER_PLUGINS_CUDA_INFER_OPS_HPP_

#include <cmeter/plugin_ops.hpp>

#include <optional>
#include <string_view>

#include "infer_kernels.hpp"
#include "ops.hpp"

namespace cmeter::cuda {

// The kernels' storage type of a dtype (f16, bf16, f32), or none; shared with train_ops.cpp.
std::optional<Storage> storage_of(sdk::DType t);

// `name` is an inference op (sdk::is_inference_op); attention.v1 is answered unsupported.
OpPlan plan_inference_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_INFER_OPS_HPP_
