// plugins/opencl/infer_ops.hpp - planning of the OpenCL plugin's ABI 1.1 inference ops (rmsnorm.v1,
// rope.v1, softmax.v1, swiglu.v1, kv_append.v1, embedding.v1, argmax.v1, eltwise.v1, and the
// optional fused attention.v1).
//
// Why this file exists: ops.cpp's plan_op hands every inference op name here; op_query and op_create
// go through the same function, so they agree on what is supported (see ops.hpp).
#ifndef CMETER_PLUGINS_OPENCL_INFER_OPS_HPP_
#define CMETER_PLUGINS_OPENCL_INFER_OPS_HPP_

#include <cmeter/plugin_ops.hpp>

#include <string_view>

#include "ops.hpp"

namespace cmeter::opencl {

// `name` is an inference op (sdk::is_inference_op), attention.v1 included.
OpPlan plan_inference_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create);

// rope.v1, or with `inverse` rope_backward.v1 (ABI 1.2: the same kernel rotating by -angle).
OpPlan plan_rope_op(CMTR_Device* device, const sdk::RopeParams& p, bool inverse, bool create,
                    const CMTR_KeyValue* params, size_t num_params);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_INFER_OPS_HPP_
