// plugins/hip/kernels.hip - the HIP plugin's own kernels: noop, fma_peak (f16 as packed pairs, f32,
// f64), STREAM, a copy kernel and a tiled GEMM for machines without rocBLAS.
//
// Why this file exists: everything that is not rocBLAS runs here, in the one translation unit hipcc
// compiles (kept to one: CI builds it for several GPU architectures on two cores). It is the CUDA
// plugin's kernels.cu in HIP (the same algorithms, so the two plugins' figures compare), without the
// stream-hold spin kernel (docs/adapting-a-device.md, "HIP: AMD Instinct and Hygon DCU"), plus
// the plain GEMM that the CUDA plugin does not need (cuBLASLt is always there; rocBLAS is not in Debian).
#include <hip/hip_bfloat16.h>
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>

#include <algorithm>
#include <cmath>

#include "kernels.hpp"

namespace cmeter::hip {
namespace {

__global__ void noop_kernel() {}

// ---- fma_peak ----

// One register slot: a scalar lane (f32, f64) or a pair of lanes (f16).
template <class T>
struct Slot;

template <>
struct Slot<float> {
  static constexpr int kLanes = 1;
  static __device__ __forceinline__ float fma(float x, float a, float b) { return __fmaf_rn(x, a, b); }
  static __device__ __forceinline__ float make(const double* v, int) { return static_cast<float>(v[0]); }
  static __device__ __forceinline__ float lane(float x, int) { return x; }
};

template <>
struct Slot<double> {
  static constexpr int kLanes = 1;
  static __device__ __forceinline__ double fma(double x, double a, double b) { return __fma_rn(x, a, b); }
  static __device__ __forceinline__ double make(const double* v, int) { return v[0]; }
  static __device__ __forceinline__ float lane(double x, int) { return static_cast<float>(x); }
};

template <>
struct Slot<__half2> {
  static constexpr int kLanes = 2;
  static __device__ __forceinline__ __half2 fma(__half2 x, __half2 a, __half2 b) { return __hfma2(x, a, b); }
  // Values are exact f16 numbers already, so the conversions are exact.
  static __device__ __forceinline__ __half2 make(const double* v, int count) {
    return __halves2half2(__float2half_rn(static_cast<float>(v[0])),
                          __float2half_rn(count > 1 ? static_cast<float>(v[1]) : 0.0f));
  }
  static __device__ __forceinline__ float lane(__half2 x, int i) {
    return i == 0 ? __low2float(x) : __high2float(x);
  }
};

// kSlots register slots, fully unrolled. kPredicated: only the first `lanes` lanes count (any lane
// count); otherwise lanes == kSlots * kLanes exactly.
template <class T, int kSlots, bool kPredicated>
__global__ void __launch_bounds__(256) fma_kernel(FmaArgs args, float* out) {
  using S = Slot<T>;
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= args.items) return;
  const double one[2] = {args.a, args.a};
  const double inc[2] = {args.b, args.b};
  const T a = S::make(one, 2), b = S::make(inc, 2);
  // Items start apart (ABI 1.3); the sums are exact (the core's promise), so double changes nothing.
  const double offset = static_cast<double>(item % args.item_period) * args.item_dx;
  T x[kSlots];
#pragma unroll
  for (int s = 0; s < kSlots; ++s) {
    const int first = s * S::kLanes;
    const int count = kPredicated ? (args.lanes - first) : S::kLanes;
    const double* lane_x0 = args.x0 + (first < kFmaMaxLanes ? first : 0);
    const double start[2] = {lane_x0[0] + offset, count > 1 ? lane_x0[1] + offset : 0.0};
    x[s] = S::make(start, count);
  }
  const int lanes = args.lanes;
  const int64_t iters = args.iters;
  for (int64_t t = 0; t < iters; ++t) {  // (no unroll pragma: clang cannot honour it for every slot count)
#pragma unroll
    for (int s = 0; s < kSlots; ++s)
      if (!kPredicated || s * S::kLanes < lanes) x[s] = S::fma(x[s], a, b);
  }
  float sum = 0.0f;
#pragma unroll
  for (int s = 0; s < kSlots; ++s)
#pragma unroll
    for (int i = 0; i < S::kLanes; ++i)
      if (s * S::kLanes + i < lanes) sum += S::lane(x[s], i);
  out[item] = sum;  // written out, so no compiler can drop the chains
}

template <class T>
hipError_t launch_fma_typed(hipStream_t stream, const FmaArgs& args, float* out) {
  constexpr int kLanesPerSlot = Slot<T>::kLanes;
  const int64_t blocks = (args.items + 255) / 256;
  if (blocks > 0x7fffffff) return hipErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(blocks)), block(256);
  const int lanes = args.lanes;
  if (lanes == 4 * kLanesPerSlot)
    hipLaunchKernelGGL((fma_kernel<T, 4, false>), grid, block, 0, stream, args, out);
  else if (lanes == 8 * kLanesPerSlot)
    hipLaunchKernelGGL((fma_kernel<T, 8, false>), grid, block, 0, stream, args, out);
  else
    hipLaunchKernelGGL((fma_kernel<T, kFmaMaxLanes / kLanesPerSlot, true>), grid, block, 0, stream, args,
                       out);
  return hipGetLastError();
}

// ---- STREAM ----

constexpr int kStreamThreads = 256;
constexpr int kStreamUnroll = 4;  // elements per thread, all loaded before any is stored

template <class T>
__device__ __forceinline__ T stream_op(StreamKind kind, T a, T b, T c, T s) {
  switch (kind) {
    case StreamKind::kCopy:
      return a;
    case StreamKind::kScale:
      return s * c;
    case StreamKind::kAdd:
      return a + b;
    case StreamKind::kTriad:
      break;
  }
  return b + s * c;
}

// Which arrays each kernel reads and writes: copy C=A, scale B=s*C, add C=A+B, triad A=B+s*C.
template <class T>
__global__ void __launch_bounds__(kStreamThreads)
    stream_kernel(StreamKind kind, int64_t n, T s, T* a, T* b, T* c) {
  const bool read_a = kind == StreamKind::kCopy || kind == StreamKind::kAdd;
  const bool read_b = kind == StreamKind::kAdd || kind == StreamKind::kTriad;
  const bool read_c = kind == StreamKind::kScale || kind == StreamKind::kTriad;
  T* out = kind == StreamKind::kScale ? b : kind == StreamKind::kTriad ? a : c;
  const int64_t base = static_cast<int64_t>(blockIdx.x) * (kStreamThreads * kStreamUnroll) + threadIdx.x;
  T va[kStreamUnroll] = {}, vb[kStreamUnroll] = {}, vc[kStreamUnroll] = {};
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < n) {
      if (read_a) va[u] = a[i];
      if (read_b) vb[u] = b[i];
      if (read_c) vc[u] = c[i];
    }
  }
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < n) out[i] = stream_op<T>(kind, va[u], vb[u], vc[u], s);
  }
}

template <class T>
hipError_t launch_stream_typed(hipStream_t stream, StreamKind kind, int64_t n, double scalar, void* a,
                               void* b, void* c) {
  constexpr int64_t kPerBlock = int64_t{kStreamThreads} * kStreamUnroll;
  const int64_t blocks = std::max<int64_t>(1, (n + kPerBlock - 1) / kPerBlock);
  if (blocks > 0x7fffffff) return hipErrorInvalidValue;
  hipLaunchKernelGGL(stream_kernel<T>, dim3(static_cast<unsigned>(blocks)), dim3(kStreamThreads), 0, stream,
                     kind, n, static_cast<T>(scalar), static_cast<T*>(a), static_cast<T*>(b),
                     static_cast<T*>(c));
  return hipGetLastError();
}

// ---- copy ----

__global__ void __launch_bounds__(kStreamThreads)
    copy_kernel(const uint4* src, uint4* dst, int64_t nvec, const uint8_t* src_bytes, uint8_t* dst_bytes,
                int64_t bytes) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * (kStreamThreads * kStreamUnroll) + threadIdx.x;
  uint4 v[kStreamUnroll];
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < nvec) v[u] = src[i];
  }
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < nvec) dst[i] = v[u];
  }
  if (blockIdx.x == 0) {  // the byte tail
    const int64_t j = nvec * 16 + threadIdx.x;
    if (j < bytes) dst_bytes[j] = src_bytes[j];
  }
}

// ---- GEMM (without rocBLAS) ----

constexpr int kTile = 16;

__device__ __forceinline__ float to_acc(__half x, float) {
  return __half2float(x);
}
__device__ __forceinline__ float to_acc(hip_bfloat16 x, float) {
  return static_cast<float>(x);
}
__device__ __forceinline__ float to_acc(float x, float) {
  return x;
}
__device__ __forceinline__ double to_acc(double x, double) {
  return x;
}
__device__ __forceinline__ int32_t to_acc(int8_t x, int32_t) {
  return x;
}
__device__ __forceinline__ int32_t to_acc(int32_t x, int32_t) {
  return x;
}

template <class T, class Acc>
__device__ __forceinline__ T from_acc(Acc v);
template <>
__device__ __forceinline__ __half from_acc<__half, float>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ hip_bfloat16 from_acc<hip_bfloat16, float>(float v) {
  return hip_bfloat16(v);  // round to nearest even
}
template <>
__device__ __forceinline__ float from_acc<float, float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ double from_acc<double, double>(double v) {
  return v;
}
template <>
__device__ __forceinline__ int32_t from_acc<int32_t, int32_t>(int32_t v) {
  return v;
}

// One 16x16 tile of C per block; A and B tiles staged in shared memory. Batch over grid z.
template <class TA, class TC, class Acc>
__global__ void __launch_bounds__(kTile* kTile) gemm_kernel(GemmArgs g, const TA* a, const TA* b, TC* c) {
  __shared__ Acc tile_a[kTile][kTile + 1];
  __shared__ Acc tile_b[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kTile + tx;  // i of C
  const int64_t col = static_cast<int64_t>(blockIdx.y) * kTile + ty;  // j of C
  const Acc alpha = static_cast<Acc>(g.alpha), beta = static_cast<Acc>(g.beta);
  for (int64_t bi = blockIdx.z; bi < g.batch; bi += gridDim.z) {
    const TA* ab = a + bi * g.stride_a;
    const TA* bb = b + bi * g.stride_b;
    Acc acc = 0;
    for (int64_t k0 = 0; k0 < g.k; k0 += kTile) {
      // tile_a[tx][ty] = op(A)[row][k0 + ty]; tile_b[tx][ty] = op(B)[k0 + tx][col]
      const int64_t ka = k0 + ty, kb = k0 + tx;
      Acc va = 0, vb = 0;
      if (row < g.m && ka < g.k) va = to_acc(ab[g.trans_a ? ka + row * g.lda : row + ka * g.lda], Acc{});
      if (col < g.n && kb < g.k) vb = to_acc(bb[g.trans_b ? col + kb * g.ldb : kb + col * g.ldb], Acc{});
      tile_a[tx][ty] = va;
      tile_b[tx][ty] = vb;
      __syncthreads();
#pragma unroll
      for (int l = 0; l < kTile; ++l) acc += tile_a[tx][l] * tile_b[l][ty];
      __syncthreads();
    }
    if (row < g.m && col < g.n) {
      TC* cp = c + bi * g.stride_c + row + col * g.ldc;
      Acc out = alpha * acc;
      if (g.beta != 0) out += beta * to_acc(*cp, Acc{});  // beta = 0 never reads C
      *cp = from_acc<TC, Acc>(out);
    }
  }
}

template <class TA, class TC, class Acc>
hipError_t launch_gemm_typed(hipStream_t stream, const GemmArgs& g, const void* a, const void* b, void* c) {
  const int64_t gx = (g.m + kTile - 1) / kTile, gy = (g.n + kTile - 1) / kTile;
  if (gx > 0x7fffffff || gy > 65535) return hipErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy),
                  static_cast<unsigned>(std::min<int64_t>(g.batch, 65535)));
  hipLaunchKernelGGL((gemm_kernel<TA, TC, Acc>), grid, dim3(kTile, kTile), 0, stream, g,
                     static_cast<const TA*>(a), static_cast<const TA*>(b), static_cast<TC*>(c));
  return hipGetLastError();
}

// Rounds to p significant bits with minimum normal exponent emin (nearest even), as a double.
double round_binary(double value, int p, int emin, double max_finite) {
  if (value == 0 || !std::isfinite(value)) return value;
  int e = 0;
  std::frexp(value, &e);  // |value| in [2^(e-1), 2^e)
  const int lead = std::max(e - 1, emin);
  const double quantum = std::ldexp(1.0, lead - (p - 1));
  const double r = std::nearbyint(value / quantum) * quantum;  // exact scaling; default mode: to even
  if (std::fabs(r) > max_finite) return std::copysign(INFINITY, value);
  return r;
}

}  // namespace

hipError_t launch_noop(hipStream_t stream) {
  hipLaunchKernelGGL(noop_kernel, dim3(1), dim3(1), 0, stream);
  return hipGetLastError();
}

hipError_t launch_fma_peak(hipStream_t stream, const FmaArgs& args, float* out) {
  if (args.items <= 0 || args.iters <= 0 || args.lanes < 1 || args.lanes > kFmaMaxLanes)
    return hipErrorInvalidValue;
  switch (args.type) {
    case FmaType::kF32:
      return launch_fma_typed<float>(stream, args, out);
    case FmaType::kF64:
      return launch_fma_typed<double>(stream, args, out);
    case FmaType::kF16:
      return launch_fma_typed<__half2>(stream, args, out);
  }
  return hipErrorInvalidValue;
}

double round_for_fma(FmaType type, double value) {
  switch (type) {
    case FmaType::kF16:
      return round_binary(value, 11, -14, 65504.0);
    case FmaType::kF32:
      return round_binary(value, 24, -126, 0x1.fffffep127);
    case FmaType::kF64:
      return value;
  }
  return value;
}

hipError_t launch_stream(hipStream_t stream, StreamKind kind, bool f64, int64_t n, double scalar, void* a,
                         void* b, void* c) {
  if (n <= 0) return hipErrorInvalidValue;
  return f64 ? launch_stream_typed<double>(stream, kind, n, scalar, a, b, c)
             : launch_stream_typed<float>(stream, kind, n, scalar, a, b, c);
}

hipError_t launch_copy(hipStream_t stream, const void* src, void* dst, uint64_t bytes) {
  if (bytes == 0) return hipErrorInvalidValue;
  constexpr int64_t kPerBlock = int64_t{kStreamThreads} * kStreamUnroll;
  const auto total = static_cast<int64_t>(bytes);
  const int64_t nvec = total / 16;
  const int64_t blocks = std::max<int64_t>(1, (nvec + kPerBlock - 1) / kPerBlock);
  if (blocks > 0x7fffffff) return hipErrorInvalidValue;
  hipLaunchKernelGGL(copy_kernel, dim3(static_cast<unsigned>(blocks)), dim3(kStreamThreads), 0, stream,
                     static_cast<const uint4*>(src), static_cast<uint4*>(dst), nvec,
                     static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), total);
  return hipGetLastError();
}

hipError_t launch_gemm(hipStream_t stream, const GemmArgs& g, const void* a, const void* b, void* c) {
  using T = GemmType;
  if (g.a == T::kF32 && g.c == T::kF32) return launch_gemm_typed<float, float, float>(stream, g, a, b, c);
  if (g.a == T::kF64 && g.c == T::kF64) return launch_gemm_typed<double, double, double>(stream, g, a, b, c);
  if (g.a == T::kF16 && g.c == T::kF16) return launch_gemm_typed<__half, __half, float>(stream, g, a, b, c);
  if (g.a == T::kF16 && g.c == T::kF32) return launch_gemm_typed<__half, float, float>(stream, g, a, b, c);
  if (g.a == T::kBF16 && g.c == T::kBF16)
    return launch_gemm_typed<hip_bfloat16, hip_bfloat16, float>(stream, g, a, b, c);
  if (g.a == T::kBF16 && g.c == T::kF32)
    return launch_gemm_typed<hip_bfloat16, float, float>(stream, g, a, b, c);
  if (g.a == T::kI8 && g.c == T::kI32) return launch_gemm_typed<int8_t, int32_t, int32_t>(stream, g, a, b, c);
  return hipErrorInvalidValue;
}

}  // namespace cmeter::hip
