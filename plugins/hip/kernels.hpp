// plugins/hip/kernels.hpp - the HIP plugin's own device kernels, seen from host C++.
//
// Why this file exists: the plugin's ABI layer and ops are plain C++ (built by g++ with the project's
// warnings); only kernels.hip goes through hipcc. This header is the narrow bridge: launch functions
// that enqueue one kernel on a stream and return the launch status. Nothing here synchronises.
#ifndef CMETER_PLUGINS_HIP_KERNELS_HPP_
#define CMETER_PLUGINS_HIP_KERNELS_HPP_

#include <hip/hip_runtime_api.h>

#include <cstdint>

namespace cmeter::hip {

// The smallest launch: one thread of an empty kernel.
hipError_t launch_noop(hipStream_t stream);

enum class FmaType { kF16, kF32, kF64 };
constexpr int kFmaMaxLanes = 32;

// fma_peak.v1: `items` work items, each running `lanes` chains of x = fma(x, a, b) for `iters` rounds
// in `type` and writing the f32 sum of its lanes to out[item]. x0[l], a, b are already rounded to
// `type` by the caller (round_for_fma), so the kernel only converts exact values.
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
hipError_t launch_fma_peak(hipStream_t stream, const FmaArgs& args, float* out);
// Rounds `value` once, to nearest even, to f16 / f32 / f64 (host code, to prepare FmaArgs).
double round_for_fma(FmaType type, double value);

enum class StreamKind { kCopy, kScale, kAdd, kTriad };
// STREAM on arrays of n elements (f32, or f64 when `f64`): copy C=A, scale B=s*C, add C=A+B,
// triad A=B+s*C. Pointers 16-byte aligned (hipMalloc gives 256).
hipError_t launch_stream(hipStream_t stream, StreamKind kind, bool f64, int64_t n, double scalar, void* a,
                         void* b, void* c);

// Device-to-device copy of `bytes` by a kernel (16-byte vectors, byte tail).
hipError_t launch_copy(hipStream_t stream, const void* src, void* dst, uint64_t bytes);

// The plugin's own GEMM (used where rocBLAS is absent): C = alpha op(A) op(B) + beta C, column-major,
// `batch` matrices at the given strides, pointers already offset to the first matrix. 16x16 tiles
// through shared memory; accumulation in f32 (f16, bf16, f32 inputs), f64 or i32 (i8 inputs).
enum class GemmType { kF16, kBF16, kF32, kF64, kI8, kI32 };
struct GemmArgs {
  GemmType a = GemmType::kF32, c = GemmType::kF32;  // B is A's type
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0, batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  double alpha = 1, beta = 0;
};
hipError_t launch_gemm(hipStream_t stream, const GemmArgs& args, const void* a, const void* b, void* c);

}  // namespace cmeter::hip

#endif  // CMETER_PLUGINS_HIP_KERNELS_HPP_
