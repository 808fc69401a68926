// plugins/cpu/inference_ops.hpp - the CPU plugin's ABI 1.1 inference ops: rmsnorm.v1, rope.v1,
// softmax.v1, swiglu.v1, kv_append.v1, embedding.v1, argmax.v1, eltwise.v1, attention.v1
// (semantics in docs/abi-keys.md, "Op catalogue 1.1").
//
// Why this file exists: the inference ops are a family of row-wise, memory-bound loops that share
// their machinery (f16/bf16 rows converted to f32 and back, the ISA row kernels of kernels_rows.inc,
// oneTBB parallelism over rows); they live apart from the v1 benchmark ops of ops.cpp, which routes
// these names here.
#ifndef CMETER_PLUGINS_CPU_INFERENCE_OPS_HPP_
#define CMETER_PLUGINS_CPU_INFERENCE_OPS_HPP_

#include <cmeter/plugin_ops.hpp>

#include <memory>
#include <string_view>

#include "ops.hpp"

namespace cmeter::cpu {

// Plans (and with `create`, builds) inference op `name` (sdk::is_inference_op(name) holds).
OpPlan plan_inference_op(const Runtime& rt, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create);

// rope.v1's op, or with `inverse` rope_backward.v1's (the same rotation by -angle); p is valid.
std::unique_ptr<Op> make_rope_op(const Runtime& rt, const sdk::RopeParams& p, bool inverse);

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_INFERENCE_OPS_HPP_
