// plugins/cuda/kernels.hpp - the CUDA plugin's own device kernels, seen from host C++.
//
// Why this file exists: the plugin's ABI layer and ops are plain C++ (built by the host compiler with
// the project's warnings); only kernels.cu goes through nvcc. This header is the narrow bridge: plain
// launch functions that enqueue one kernel on a stream and return the launch status. Nothing here
// synchronises. Also used by the benchmark (the same spin kernel holds its stream).
#ifndef CMETER_PLUGINS_CUDA_KERNELS_HPP_
#define CMETER_PLUGINS_CUDA_KERNELS_HPP_

#include <cuda_runtime_api.h>

#include <cstdint>

namespace cmeter::cuda {

// Spins one thread until flag[0] reaches `generation` (signed 32-bit difference, so wrap-around is
// harmless) or `timeout_ns` of device time (%globaltimer) pass; a timeout increments flag[1]. `flag`
// is host-mapped page-locked memory the host writes to release the stream.
cudaError_t launch_spin(cudaStream_t stream, volatile uint32_t* flag, uint32_t generation,
                        uint64_t timeout_ns);

// The smallest launch: one thread of an empty kernel.
cudaError_t launch_noop(cudaStream_t stream);

enum class FmaType { kF16, kBF16, kF32, kF64 };
constexpr int kFmaMaxLanes = 32;

// fma_peak.v1: `items` work items, each running `lanes` chains of x = fma(x, a, b) for `iters` rounds
// in `type` and writing the f32 sum of its lanes (lane order 0..lanes-1) to out[item]. x0[l], a, b
// are already rounded to `type` by the caller (exact values, so the kernel only converts).
struct FmaArgs {
  FmaType type = FmaType::kF32;
  int64_t items = 0;
  int64_t iters = 0;
  int lanes = 8;
  double a = 1;
  double b = 0;
  double x0[kFmaMaxLanes] = {};
  double item_dx = 0;  // ABI 1.3: item i's lanes start (i mod item_period)·item_dx above x0[l]
  int64_t item_period = 1;
};
cudaError_t launch_fma_peak(cudaStream_t stream, const FmaArgs& args, float* out);

enum class StreamKind { kCopy, kScale, kAdd, kTriad };
// STREAM on arrays of n elements (f32, or f64 when `f64`): copy C=A, scale B=s*C, add C=A+B,
// triad A=B+s*C. Pointers must be 16-byte aligned (cudaMalloc gives 256).
cudaError_t launch_stream(cudaStream_t stream, StreamKind kind, bool f64, int64_t n, double scalar, void* a,
                          void* b, void* c);

// Device-to-device copy of `bytes` by a kernel (16-byte vectors, byte tail); 16-byte-aligned pointers.
cudaError_t launch_copy(cudaStream_t stream, const void* src, void* dst, uint64_t bytes);

// Rounds `value` once, to nearest even, to f16 / bf16 / f32 / f64 and returns it as a double (f16 and
// bf16 with their subnormals and overflow to inf). Host code, used to prepare FmaArgs.
double round_for_fma(FmaType type, double value);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_KERNELS_HPP_
