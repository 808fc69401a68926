// plugins/cuda/train_ops.hpp - planning of the CUDA plugin's ABI 1.2 training ops (rmsnorm_backward.v1,
// swiglu_backward.v1, softmax_backward.v1, rope_backward.v1, cross_entropy.v1, embedding_backward.v1,
// reduce.v1, adamw.v1).
//
// Why this file exists: ops.cpp's plan_op hands every training op name here; op_query and op_create go
// through the same function, so they agree on what is supported.
#ifndef CMETER_PLUGINS_CUDA_TRAIN_OPS_HPP_
#define CMETER_PLUGINS_CUDA_TRAIN_OPS_HPP_

#include <string_view>

#include "ops.hpp"

namespace cmeter::cuda {

// `name` is a training op (sdk::is_training_op).
OpPlan plan_training_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                        size_t num_params, bool create);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_TRAIN_OPS_HPP_
