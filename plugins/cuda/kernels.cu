// plugins/cuda/kernels.cu - the CUDA plugin's own kernels: the spin kernel that holds a stream while a
// batch is enqueued, noop, fma_peak (f16/bf16 as packed pairs, f32, f64), STREAM and a copy kernel.
//
// Why this file exists: everything that is not cuBLASLt runs here, in the one translation unit nvcc
// compiles (kept small: CI builds it for two architectures on two cores). Kernels are written for
// bandwidth or issue rate, not cleverness: 16-byte vector memory access with several loads in flight
// per thread, and fully unrolled independent FMA chains whose results are written out so that no
// compiler can drop the work.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>

#include "kernels.hpp"

namespace cmeter::cuda {
namespace {

__device__ __forceinline__ uint64_t global_timer_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(volatile uint32_t* flag, uint32_t generation, uint64_t timeout_ns) {
  const uint64_t start = global_timer_ns();
  while (static_cast<int32_t>(flag[0] - generation) < 0) {
    if (global_timer_ns() - start > timeout_ns) {
      flag[1] = flag[1] + 1;  // one writer (this thread); the host only reads it
      return;
    }
    __nanosleep(1000);
  }
}

__global__ void noop_kernel() {}

// ---- fma_peak ----

// One register slot: a scalar lane (f32, f64) or a pair of lanes (f16, bf16).
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

template <>
struct Slot<__nv_bfloat162> {
  static constexpr int kLanes = 2;
  static __device__ __forceinline__ __nv_bfloat162 fma(__nv_bfloat162 x, __nv_bfloat162 a, __nv_bfloat162 b) {
    return __hfma2(x, a, b);
  }
  static __device__ __forceinline__ __nv_bfloat162 make(const double* v, int count) {
    return __halves2bfloat162(__float2bfloat16_rn(static_cast<float>(v[0])),
                              __float2bfloat16_rn(count > 1 ? static_cast<float>(v[1]) : 0.0f));
  }
  static __device__ __forceinline__ float lane(__nv_bfloat162 x, int i) {
    return i == 0 ? __low2float(x) : __high2float(x);
  }
};

// kSlots register slots, fully unrolled. kPredicated: only the first `lanes` lanes count (generic
// kernel for any lane count); otherwise lanes == kSlots * kLanes exactly.
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
#pragma unroll 4
  for (int64_t t = 0; t < iters; ++t) {
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
  out[item] = sum;
}

template <class T>
cudaError_t launch_fma_typed(cudaStream_t stream, const FmaArgs& args, float* out) {
  constexpr int kLanesPerSlot = Slot<T>::kLanes;
  const int64_t blocks = (args.items + 255) / 256;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(blocks)), block(256);
  const int lanes = args.lanes;
  if (lanes == 4 * kLanesPerSlot) {
    fma_kernel<T, 4, false><<<grid, block, 0, stream>>>(args, out);
  } else if (lanes == 8 * kLanesPerSlot) {
    fma_kernel<T, 8, false><<<grid, block, 0, stream>>>(args, out);
  } else if (lanes == 16 * kLanesPerSlot && kLanesPerSlot == 1) {
    fma_kernel<T, 16, false><<<grid, block, 0, stream>>>(args, out);
  } else {
    fma_kernel<T, kFmaMaxLanes / kLanesPerSlot, true><<<grid, block, 0, stream>>>(args, out);
  }
  return cudaGetLastError();
}

// ---- STREAM ----

template <class T>
struct Vec;
template <>
struct Vec<float> {
  using type = float4;
  static constexpr int kWidth = 4;
};
template <>
struct Vec<double> {
  using type = double2;
  static constexpr int kWidth = 2;
};

template <class T, StreamKind kKind>
__device__ __forceinline__ T stream_op(T a, T b, T c, T s) {
  if constexpr (kKind == StreamKind::kCopy) return a;
  if constexpr (kKind == StreamKind::kScale) return s * c;
  if constexpr (kKind == StreamKind::kAdd) return a + b;
  return b + s * c;  // triad
}

// Element-wise on vectors, through their components.
template <class T, StreamKind kKind>
__device__ __forceinline__ typename Vec<T>::type stream_vec(const typename Vec<T>::type& a,
                                                            const typename Vec<T>::type& b,
                                                            const typename Vec<T>::type& c, T s) {
  typename Vec<T>::type r;
  const T* pa = reinterpret_cast<const T*>(&a);
  const T* pb = reinterpret_cast<const T*>(&b);
  const T* pc = reinterpret_cast<const T*>(&c);
  T* pr = reinterpret_cast<T*>(&r);
#pragma unroll
  for (int i = 0; i < Vec<T>::kWidth; ++i) pr[i] = stream_op<T, kKind>(pa[i], pb[i], pc[i], s);
  return r;
}

constexpr int kStreamThreads = 256;
constexpr int kStreamUnroll = 4;  // vectors per thread, all loaded before any is stored

// Which arrays each kernel reads and writes: copy C=A, scale B=s*C, add C=A+B, triad A=B+s*C.
template <StreamKind kKind>
struct StreamIo {
  static constexpr bool kReadA = kKind == StreamKind::kCopy || kKind == StreamKind::kAdd;
  static constexpr bool kReadB = kKind == StreamKind::kAdd || kKind == StreamKind::kTriad;
  static constexpr bool kReadC = kKind == StreamKind::kScale || kKind == StreamKind::kTriad;
  static constexpr int kOut = kKind == StreamKind::kScale ? 1 : kKind == StreamKind::kTriad ? 0 : 2;
};

template <class T, StreamKind kKind>
__global__ void __launch_bounds__(kStreamThreads) stream_kernel(int64_t n, T s, T* a, T* b, T* c) {
  using V = typename Vec<T>::type;
  using Io = StreamIo<kKind>;
  constexpr int kW = Vec<T>::kWidth;
  const int64_t nvec = n / kW;
  const int64_t base = static_cast<int64_t>(blockIdx.x) * (kStreamThreads * kStreamUnroll) + threadIdx.x;
  T* arrays[3] = {a, b, c};
  V va[kStreamUnroll], vb[kStreamUnroll], vc[kStreamUnroll];
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < nvec) {
      if constexpr (Io::kReadA) va[u] = reinterpret_cast<const V*>(a)[i];
      if constexpr (Io::kReadB) vb[u] = reinterpret_cast<const V*>(b)[i];
      if constexpr (Io::kReadC) vc[u] = reinterpret_cast<const V*>(c)[i];
    }
  }
#pragma unroll
  for (int u = 0; u < kStreamUnroll; ++u) {
    const int64_t i = base + u * kStreamThreads;
    if (i < nvec) reinterpret_cast<V*>(arrays[Io::kOut])[i] = stream_vec<T, kKind>(va[u], vb[u], vc[u], s);
  }
  // The tail (n not a multiple of the vector width): scalar, by the first threads of block 0.
  if (blockIdx.x == 0) {
    const int64_t j = nvec * kW + threadIdx.x;
    if (j < n) arrays[Io::kOut][j] = stream_op<T, kKind>(a[j], b[j], c[j], s);
  }
}

template <class T, StreamKind kKind>
cudaError_t launch_stream_typed(cudaStream_t stream, int64_t n, double scalar, void* a, void* b, void* c) {
  constexpr int64_t kPerBlock = int64_t{kStreamThreads} * kStreamUnroll;
  const int64_t nvec = n / Vec<T>::kWidth;
  const int64_t blocks = std::max<int64_t>(1, (nvec + kPerBlock - 1) / kPerBlock);
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  stream_kernel<T, kKind><<<static_cast<unsigned>(blocks), kStreamThreads, 0, stream>>>(
      n, static_cast<T>(scalar), static_cast<T*>(a), static_cast<T*>(b), static_cast<T*>(c));
  return cudaGetLastError();
}

template <class T>
cudaError_t launch_stream_kind(cudaStream_t stream, StreamKind kind, int64_t n, double scalar, void* a,
                               void* b, void* c) {
  switch (kind) {
    case StreamKind::kCopy:
      return launch_stream_typed<T, StreamKind::kCopy>(stream, n, scalar, a, b, c);
    case StreamKind::kScale:
      return launch_stream_typed<T, StreamKind::kScale>(stream, n, scalar, a, b, c);
    case StreamKind::kAdd:
      return launch_stream_typed<T, StreamKind::kAdd>(stream, n, scalar, a, b, c);
    case StreamKind::kTriad:
      return launch_stream_typed<T, StreamKind::kTriad>(stream, n, scalar, a, b, c);
  }
  return cudaErrorInvalidValue;
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
  if (blockIdx.x == 0) {
    const int64_t j = nvec * 16 + threadIdx.x;
    if (j < bytes) dst_bytes[j] = src_bytes[j];
  }
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

cudaError_t launch_spin(cudaStream_t stream, volatile uint32_t* flag, uint32_t generation,
                        uint64_t timeout_ns) {
  spin_kernel<<<1, 1, 0, stream>>>(flag, generation, timeout_ns);
  return cudaGetLastError();
}

cudaError_t launch_noop(cudaStream_t stream) {
  noop_kernel<<<1, 1, 0, stream>>>();
  return cudaGetLastError();
}

cudaError_t launch_fma_peak(cudaStream_t stream, const FmaArgs& args, float* out) {
  if (args.items <= 0 || args.iters <= 0 || args.lanes < 1 || args.lanes > kFmaMaxLanes)
    return cudaErrorInvalidValue;
  switch (args.type) {
    case FmaType::kF32:
      return launch_fma_typed<float>(stream, args, out);
    case FmaType::kF64:
      return launch_fma_typed<double>(stream, args, out);
    case FmaType::kF16:
      return launch_fma_typed<__half2>(stream, args, out);
    case FmaType::kBF16:
      return launch_fma_typed<__nv_bfloat162>(stream, args, out);
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_stream(cudaStream_t stream, StreamKind kind, bool f64, int64_t n, double scalar, void* a,
                          void* b, void* c) {
  if (n <= 0) return cudaErrorInvalidValue;
  return f64 ? launch_stream_kind<double>(stream, kind, n, scalar, a, b, c)
             : launch_stream_kind<float>(stream, kind, n, scalar, a, b, c);
}

cudaError_t launch_copy(cudaStream_t stream, const void* src, void* dst, uint64_t bytes) {
  if (bytes == 0) return cudaErrorInvalidValue;
  constexpr int64_t kPerBlock = int64_t{kStreamThreads} * kStreamUnroll;
  const auto total = static_cast<int64_t>(bytes);
  const int64_t nvec = total / 16;
  const int64_t blocks = std::max<int64_t>(1, (nvec + kPerBlock - 1) / kPerBlock);
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  copy_kernel<<<static_cast<unsigned>(blocks), kStreamThreads, 0, stream>>>(
      static_cast<const uint4*>(src), static_cast<uint4*>(dst), nvec, static_cast<const uint8_t*>(src),
      static_cast<uint8_t*>(dst), total);
  return cudaGetLastError();
}

double round_for_fma(FmaType type, double value) {
  switch (type) {
    case FmaType::kF16:
      return round_binary(value, 11, -14, 65504.0);
    case FmaType::kBF16:
      return round_binary(value, 8, -126, 0x1.fep127);
    case FmaType::kF32:
      return round_binary(value, 24, -126, 0x1.fffffep127);
    case FmaType::kF64:
      return value;
  }
  return value;
}

}  // namespace cmeter::cuda
