// plugins/cpu/training_ops.hpp - the CPU plugin's ABI 1.2 training ops: rmsnorm_backward.v1,
// swiglu_backward.v1, softmax_backward.v1, rope_backward.v1, cross_entropy.v1,
// embedding_backward.v1, reduce.v1, adamw.v1 (semantics in docs/abi-keys.md, "Op catalogue 1.2").
//
// Why this file exists: the training workload's backward pass and optimiser step run on these; they
// share the row machinery of the inference ops (row_ops.hpp: f16/bf16 rows as f32, oneTBB over rows,
// the ISA row kernels of kernels_rows.inc) but are a family of their own, routed here by ops.cpp.
#ifndef CMETER_PLUGINS_CPU_TRAINING_OPS_HPP_
#define CMETER_PLUGINS_CPU_TRAINING_OPS_HPP_

#include <string_view>

#include "ops.hpp"

namespace cmeter::cpu {

// Plans (and with `create`, builds) training op `name` (sdk::is_training_op(name) holds).
OpPlan plan_training_op(const Runtime& rt, std::string_view name, const CMTR_KeyValue* params,
                        size_t num_params, bool create);

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_TRAINING_OPS_HPP_
