// plugins/cuda/infer_kernels.cu - the CUDA plugin's kernels of the ABI 1.1 inference ops (see
// infer_kernels.hpp).
//
// Why this file exists: the inference ops other than GEMM are memory-bound; they run here as plain
// kernels with coalesced access (consecutive threads, consecutive elements), f32 arithmetic, f32 block
// reductions (warp shuffles, then one value per warp in shared memory) and one rounding to the
// storage type (__float2half_rn / __float2bfloat16_rn: nearest even). Kept in its own translation unit
// so kernels.cu stays small; both are built for the same architectures.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <type_traits>

#include "infer_kernels.hpp"

namespace cmeter::cuda {
namespace {

constexpr int kRowThreads = 256;   // threads per block of the row kernels (8 warps)
constexpr int kElemThreads = 256;  // threads per block of the element kernels
constexpr int64_t kMaxBlocks = int64_t{1} << 20;

__device__ __forceinline__ float ld(const float* p, size_t i) {
  return p[i];
}
__device__ __forceinline__ float ld(const __half* p, size_t i) {
  return __half2float(p[i]);
}
__device__ __forceinline__ float ld(const __nv_bfloat16* p, size_t i) {
  return __bfloat162float(p[i]);
}
__device__ __forceinline__ void st(float* p, size_t i, float v) {
  p[i] = v;
}
__device__ __forceinline__ void st(__half* p, size_t i, float v) {
  p[i] = __float2half_rn(v);
}
__device__ __forceinline__ void st(__nv_bfloat16* p, size_t i, float v) {
  p[i] = __float2bfloat16_rn(v);
}

// Sum / max over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();  // shared is reused by the next reduction
  return v;
}
__device__ float block_max(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : -INFINITY;
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  return v;
}
__device__ int block_min_int(int v, int* shared) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : INT_MAX;
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  return v;
}

template <class T>
__global__ void rmsnorm_kernel(const T* x, const T* w, T* y, int64_t dim, float eps) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * dim;
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float a = ld(x, base + i);
    acc = fmaf(a, a, acc);
  }
  const float inv = 1.0f / sqrtf(block_sum(acc, shared) / static_cast<float>(dim) + eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) st(y, base + i, ld(x, base + i) * inv * ld(w, i));
}

template <class T>
__global__ void softmax_kernel(const T* x, T* y, const int32_t* len, int64_t cols, float scale) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * cols;
  int64_t n = cols;
  if (len != nullptr) {
    const int32_t l = len[blockIdx.x];
    n = l <= 0 ? 0 : min(static_cast<int64_t>(l), cols);
  }
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, scale * ld(x, base + i));
  m = block_max(m, shared);
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += expf(scale * ld(x, base + i) - m);
  const float inv = 1.0f / block_sum(s, shared);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    st(y, base + i, expf(scale * ld(x, base + i) - m) * inv);
  for (int64_t i = n + threadIdx.x; i < cols; i += blockDim.x) st(y, base + i, 0.0f);
}

template <class T>
__global__ void rope_kernel(T* x, const int32_t* pos, int64_t heads, int64_t head_dim, double theta,
                            bool interleaved, bool inverse) {
  const int64_t half = head_dim / 2;
  const int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i >= half) return;
  const int64_t row = blockIdx.x;  // rows in x: y is limited to 65535
  const int32_t p = pos[row];
  if (p < 0) return;
  const double angle =
      static_cast<double>(p) * pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
  double sd, cd;
  sincos(angle, &sd, &cd);
  const float sn = static_cast<float>(inverse ? -sd : sd), cs = static_cast<float>(cd);
  const int64_t ia = interleaved ? 2 * i : i, ib = interleaved ? 2 * i + 1 : i + half;
  for (int64_t h = 0; h < heads; ++h) {
    const size_t base = static_cast<size_t>(row * heads + h) * head_dim;
    const float a = ld(x, base + ia), b = ld(x, base + ib);
    st(x, base + ia, a * cs - b * sn);
    st(x, base + ib, a * sn + b * cs);
  }
}

// The element kernels run a 2-D grid: x over rows (no 65535 limit), y over blocks of a row's elements,
// so no thread divides 64-bit indices.
template <class T>
__global__ void swiglu_kernel(const T* gu, T* y, int64_t dim) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i >= dim) return;
  const int64_t r = blockIdx.x;
  const float g = ld(gu, r * 2 * dim + i), u = ld(gu, r * 2 * dim + dim + i);
  st(y, r * dim + i, g / (1.0f + expf(-g)) * u);
}

template <class T>
__global__ void kv_append_kernel(const T* src, T* cache, const int32_t* slot, const int32_t* pos,
                                 int64_t kv_heads, int64_t head_dim, int64_t slots, int64_t capacity) {
  const int64_t k = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;  // within the row
  if (k >= kv_heads * head_dim) return;
  const int64_t r = blockIdx.x;
  const int64_t s = slot[r], p = pos[r];
  if (s < 0 || s >= slots || p < 0 || p >= capacity) return;
  const int32_t h = static_cast<int32_t>(k) / static_cast<int32_t>(head_dim);
  const int32_t i = static_cast<int32_t>(k) - h * static_cast<int32_t>(head_dim);
  cache[((s * kv_heads + h) * capacity + p) * head_dim + i] = src[r * kv_heads * head_dim + k];
}

template <class T>
__global__ void embedding_kernel(const T* table, const int32_t* ids, T* y, int64_t vocab, int64_t dim) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (i >= dim) return;
  const int64_t r = blockIdx.x;
  const int64_t id = ids[r];
  if (id < 0 || id >= vocab)
    st(y, r * dim + i, 0.0f);
  else
    y[r * dim + i] = table[id * dim + i];
}

// argmax, first level: block (r, g) reduces columns [g*chunk, (g+1)*chunk) of row r to its maximum
// (fmaxf ignores NaN) and the lowest index holding it; a chunk of NaN gives (-inf, INT_MAX).
template <class T>
__global__ void argmax_part_kernel(const T* x, float* cv, int32_t* ci, int64_t cols, int64_t chunk) {
  __shared__ float shared[32];
  __shared__ int shared_i[32];
  const int64_t r = blockIdx.x, g = blockIdx.y, chunks = gridDim.y;  // rows in x: y is limited to 65535
  const int64_t begin = g * chunk, end = min(begin + chunk, cols);
  const size_t base = static_cast<size_t>(r) * cols;
  float m = -INFINITY;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) m = fmaxf(m, ld(x, base + i));
  m = block_max(m, shared);
  int best = INT_MAX;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
    if (ld(x, base + i) == m) {
      best = static_cast<int>(i);
      break;
    }
  best = block_min_int(best, shared_i);
  if (threadIdx.x == 0) {
    cv[r * chunks + g] = m;
    ci[r * chunks + g] = best;
  }
}

// Second level: one block per row over its chunks' candidates; a larger value wins, an equal one with
// a lower index (the candidate of a chunk of NaN has INT_MAX and loses to any other); INT_MAX -> 0.
__global__ void argmax_final_kernel(const float* cv, const int32_t* ci, int32_t* out, int64_t chunks) {
  __shared__ float shared[32];
  __shared__ int shared_i[32];
  const int64_t r = blockIdx.x;
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x)
    if (ci[r * chunks + c] != INT_MAX) m = fmaxf(m, cv[r * chunks + c]);
  m = block_max(m, shared);
  int best = INT_MAX;
  for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x)
    if (ci[r * chunks + c] != INT_MAX && cv[r * chunks + c] == m) best = min(best, ci[r * chunks + c]);
  best = block_min_int(best, shared_i);
  if (threadIdx.x == 0) out[r] = best == INT_MAX ? 0 : best;
}

template <class T, class U>
__global__ void eltwise_kernel(EltwiseOp op, const T* a, const T* b, U* y, int64_t n, float scalar) {
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = ld(a, k);
    st(y, k,
       op == EltwiseOp::kAdd     ? v + ld(b, k)
       : op == EltwiseOp::kMul   ? v * ld(b, k)
       : op == EltwiseOp::kScale ? scalar * v
                                 : v);
  }
}

unsigned elem_blocks(int64_t n) {
  return static_cast<unsigned>(
      std::max<int64_t>(1, std::min<int64_t>((n + kElemThreads - 1) / kElemThreads, kMaxBlocks)));
}

// Calls f(T*) with the storage type's pointer type (a null pointer of it: the caller only takes its type).
template <class F>
cudaError_t with_type(Storage t, F&& f) {
  switch (t) {
    case Storage::kF16:
      return f(static_cast<__half*>(nullptr));
    case Storage::kBF16:
      return f(static_cast<__nv_bfloat16*>(nullptr));
    default:
      return f(static_cast<float*>(nullptr));
  }
}

}  // namespace

cudaError_t launch_rmsnorm(cudaStream_t stream, Storage t, const void* x, const void* w, void* y,
                           int64_t rows, int64_t dim, float eps) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    rmsnorm_kernel<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y), dim, eps);
    return cudaGetLastError();
  });
}

cudaError_t launch_softmax(cudaStream_t stream, Storage t, const void* x, void* y, const int32_t* len,
                           int64_t rows, int64_t cols, float scale) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    softmax_kernel<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), len, cols, scale);
    return cudaGetLastError();
  });
}

cudaError_t launch_rope(cudaStream_t stream, Storage t, void* x, const int32_t* pos, int64_t rows,
                        int64_t heads, int64_t head_dim, double theta, bool interleaved, bool inverse) {
  const int64_t half = head_dim / 2;
  const int threads = static_cast<int>(std::min<int64_t>(128, (half + 31) / 32 * 32));
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>((half + threads - 1) / threads));
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    rope_kernel<T>
        <<<grid, threads, 0, stream>>>(static_cast<T*>(x), pos, heads, head_dim, theta, interleaved, inverse);
    return cudaGetLastError();
  });
}

// Grid of the element kernels: rows x blocks of `per_row` elements.
dim3 row_grid(int64_t rows, int64_t per_row) {
  return dim3(static_cast<unsigned>(rows),
              static_cast<unsigned>((per_row + kElemThreads - 1) / kElemThreads));
}

cudaError_t launch_swiglu(cudaStream_t stream, Storage t, const void* gu, void* y, int64_t rows,
                          int64_t dim) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    swiglu_kernel<T><<<row_grid(rows, dim), kElemThreads, 0, stream>>>(static_cast<const T*>(gu),
                                                                       static_cast<T*>(y), dim);
    return cudaGetLastError();
  });
}

cudaError_t launch_kv_append(cudaStream_t stream, Storage t, const void* src, void* cache,
                             const int32_t* slot, const int32_t* pos, int64_t rows, int64_t kv_heads,
                             int64_t head_dim, int64_t slots, int64_t capacity) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    kv_append_kernel<T><<<row_grid(rows, kv_heads * head_dim), kElemThreads, 0, stream>>>(
        static_cast<const T*>(src), static_cast<T*>(cache), slot, pos, kv_heads, head_dim, slots, capacity);
    return cudaGetLastError();
  });
}

cudaError_t launch_embedding(cudaStream_t stream, Storage t, const void* table, const int32_t* ids, void* y,
                             int64_t rows, int64_t vocab, int64_t dim) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    embedding_kernel<T><<<row_grid(rows, dim), kElemThreads, 0, stream>>>(static_cast<const T*>(table), ids,
                                                                          static_cast<T*>(y), vocab, dim);
    return cudaGetLastError();
  });
}

// 4096 columns per block (16 per thread), at most 1024 chunks per row.
int64_t argmax_chunks(int64_t cols) {
  const int64_t chunk = std::max<int64_t>(4096, (cols + 1023) / 1024);
  return (cols + chunk - 1) / chunk;
}

cudaError_t launch_argmax(cudaStream_t stream, Storage t, const void* x, int32_t* out, float* cand_value,
                          int32_t* cand_index, int64_t rows, int64_t cols) {
  const int64_t chunks = argmax_chunks(cols);
  const int64_t chunk = (cols + chunks - 1) / chunks;
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(chunks));
  const cudaError_t st = with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    argmax_part_kernel<T>
        <<<grid, kRowThreads, 0, stream>>>(static_cast<const T*>(x), cand_value, cand_index, cols, chunk);
    return cudaGetLastError();
  });
  if (st != cudaSuccess) return st;
  argmax_final_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(cand_value, cand_index, out,
                                                                               chunks);
  return cudaGetLastError();
}

cudaError_t launch_eltwise(cudaStream_t stream, EltwiseOp op, Storage t, Storage out, const void* a,
                           const void* b, void* y, int64_t n, float scalar) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    return with_type(out, [&](auto* out_tag) {
      using U = std::remove_pointer_t<decltype(out_tag)>;
      eltwise_kernel<T, U><<<elem_blocks(n), kElemThreads, 0, stream>>>(
          op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<U*>(y), n, scalar);
      return cudaGetLastError();
    });
  });
}

}  // namespace cmeter::cuda
