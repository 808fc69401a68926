// plugins/opencl/infer_kernels.hpp - OpenCL C source of the ABI 1.1 inference ops (rmsnorm, rope,
// softmax, swiglu, kv_append, embedding, argmax, eltwise; docs/abi-keys.md "Op catalogue 1.1").
//
// Why this file exists: these ops are memory-bound, so what matters is that every byte is read once
// with wide loads and that rows reduce in parallel. One program per storage type holds all of them
// (PoCL compiles slowly: one build serves every op of a dtype on a device, through the program
// cache). Storage is float (f32) or ushort (f16, bf16): f16 and bf16 are converted to f32 with
// integer bit operations in the kernel, so no kernel needs cl_khr_fp16 (PoCL's CPU device lacks it)
// and the conversions vectorise; results are rounded once to the storage type (nearest even).
#ifndef CMETER_PLUGINS_OPENCL_INFER_KERNELS_HPP_
#define CMETER_PLUGINS_OPENCL_INFER_KERNELS_HPP_

#include <string>

#include "kernels.hpp"

namespace cmeter::opencl {

struct InferKernelConfig {
  Elem type = Elem::kF32;  // storage of every tensor (f16, bf16 or f32)
  int vw = 8;              // elements per vector load (2, 4, 8 or 16)
  int row_local = 64;      // work-group size of the row kernels (a power of two)
};

// Kernels (arguments in infer_kernels.cpp; `ulong` sizes are elements):
//   cmeter_rmsnorm, cmeter_softmax, cmeter_argmax_final: one work-group of row_local per row,
//     a local-memory tree reduction in f32;
//   cmeter_argmax_part: work-group g of row r reduces one chunk of the row (the first level);
//   cmeter_rope, cmeter_swiglu, cmeter_kv_append, cmeter_embedding, cmeter_eltwise_{add,mul,scale}
//     and cmeter_cast_{f32,f16,bf16} (to that type): one work item per vector of `vw` elements.
std::string infer_source(const InferKernelConfig& config);

// What every program of these ops starts with (VW, ROWL, ST and its LD1/LDV/ST1/STV, HSUM/HMAX, the
// f16/bf16 conversions, wg_sum/wg_max): the training ops' program (train_ops.cpp) adds its kernels.
std::string program_prelude(const InferKernelConfig& config);

// attention.v1 for one head_dim (a compile-time constant: per-item accumulators live in registers):
// kernel cmeter_attention, one work-group of row_local items per (head, row).
std::string attention_source(const InferKernelConfig& config, int head_dim);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_INFER_KERNELS_HPP_
