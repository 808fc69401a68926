// plugins/cuda/train_kernels.cu - the CUDA plugin's kernels of the ABI 1.2 training ops (see
// train_kernels.hpp).
//
// Why this file exists: the backward ops and the optimiser step are memory-bound; as the inference
// kernels they read consecutive elements with consecutive threads, reduce rows in f32 with warp
// shuffles, and round once to the storage type. Cross-row reductions (rmsnorm's DW, reduce over rows)
// run one thread per column over the rows in order (deterministic); the embedding gradient is an
// atomicAdd scatter (order unspecified, as the catalogue allows). adamw's bias corrections are
// -expm1(t ln beta) from the step in HYPER.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "train_kernels.hpp"

namespace cmeter::cuda {
namespace {

constexpr int kRowThreads = 256;
constexpr int kElemThreads = 256;

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

__device__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
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

template <class T>
__global__ void rmsnorm_bwd_stats(const T* x, const T* w, const T* dy, float* rs, int64_t dim, float eps) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * dim;
  float ss = 0.0f, dt = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    const float a = ld(x, base + i);
    ss = fmaf(a, a, ss);
    dt = fmaf(ld(dy, base + i) * ld(w, i), a, dt);
  }
  ss = block_sum(ss, shared);
  dt = block_sum(dt, shared);
  if (threadIdx.x == 0) {
    rs[2 * blockIdx.x] = 1.0f / sqrtf(ss / static_cast<float>(dim) + eps);
    rs[2 * blockIdx.x + 1] = dt;
  }
}
template <class T>
__global__ void rmsnorm_bwd_dw(const T* x, const T* dy, const float* rs, float* dw, int64_t rows, int64_t dim,
                               bool accumulate) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  float acc = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t i = static_cast<size_t>(r * dim + j);
    acc = fmaf(ld(dy, i) * ld(x, i), rs[2 * r], acc);
  }
  dw[j] = accumulate ? dw[j] + acc : acc;
}
template <class T>
__global__ void rmsnorm_bwd_dx(const T* x, const T* w, const T* dy, T* dx, const float* rs, int64_t dim) {
  const int64_t j = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  const int64_t r = blockIdx.x;
  const float inv = rs[2 * r], c = -inv * inv * inv * rs[2 * r + 1] / static_cast<float>(dim);
  const size_t i = static_cast<size_t>(r * dim + j);
  st(dx, i, inv * ld(dy, i) * ld(w, j) + c * ld(x, i));
}

template <class T>
__global__ void swiglu_bwd(const T* gu, const T* dy, T* dgu, int64_t dim) {
  const int64_t j = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  const int64_t r = blockIdx.x;
  const size_t gi = static_cast<size_t>(r * 2 * dim + j), ui = gi + dim;
  const float g = ld(gu, gi), u = ld(gu, ui), d = ld(dy, static_cast<size_t>(r * dim + j));
  const float s = 1.0f / (1.0f + expf(-g));
  st(dgu, gi, d * u * s * (1.0f + g * (1.0f - s)));
  st(dgu, ui, d * g * s);
}

template <class T>
__global__ void softmax_bwd(const T* y, const T* dy, T* dx, const int32_t* len, int64_t cols, float scale) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * cols;
  int64_t n = cols;
  if (len != nullptr) {
    const int32_t l = len[blockIdx.x];
    n = l <= 0 ? 0 : min(static_cast<int64_t>(l), cols);
  }
  float d = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) d = fmaf(ld(dy, base + i), ld(y, base + i), d);
  d = block_sum(d, shared);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    st(dx, base + i, scale * ld(y, base + i) * (ld(dy, base + i) - d));
  for (int64_t i = n + threadIdx.x; i < cols; i += blockDim.x) st(dx, base + i, 0.0f);
}

template <class T>
__global__ void cross_entropy(const T* x, const int32_t* target, float* loss, T* dx, const float* gscale,
                              int64_t vocab) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * vocab;
  const int32_t t = target[blockIdx.x];
  if (t < 0 || t >= vocab) {
    if (threadIdx.x == 0) loss[blockIdx.x] = 0.0f;
    if (dx != nullptr)
      for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) st(dx, base + i, 0.0f);
    return;
  }
  const float xt = ld(x, base + t);
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, ld(x, base + i));
  m = block_max(m, shared);
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) s += expf(ld(x, base + i) - m);
  s = block_sum(s, shared);
  if (threadIdx.x == 0) loss[blockIdx.x] = logf(s) + m - xt;
  if (dx == nullptr) return;
  const float g = gscale[0], k = g / s;
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x)
    st(dx, base + i, expf(ld(x, base + i) - m) * k - (i == t ? g : 0.0f));
}

template <class T>
__global__ void embedding_bwd(const T* dy, const int32_t* ids, float* table, int64_t vocab, int64_t dim) {
  const int64_t j = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  const int64_t r = blockIdx.x;
  const int32_t id = ids[r];
  if (id < 0 || id >= vocab) return;
  atomicAdd(table + static_cast<size_t>(id) * dim + j, ld(dy, static_cast<size_t>(r * dim + j)));
}

template <class T>
__global__ void reduce_row(const T* x, float* y, int64_t cols, float scale, bool squares, bool accumulate) {
  __shared__ float shared[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * cols;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const float a = ld(x, base + i);
    s = squares ? fmaf(a, a, s) : s + a;
  }
  s = block_sum(s, shared);
  if (threadIdx.x == 0) y[blockIdx.x] = accumulate ? y[blockIdx.x] + scale * s : scale * s;
}
template <class T>
__global__ void reduce_col(const T* x, float* y, int64_t rows, int64_t cols, float scale, bool squares,
                           bool accumulate) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    const float a = ld(x, static_cast<size_t>(r * cols + c));
    s = squares ? fmaf(a, a, s) : s + a;
  }
  y[c] = accumulate ? y[c] + scale * s : scale * s;
}

template <class G, class O>
__global__ void adamw(float* w, const G* g, float* m, float* v, O* w_out, const float* hyper, int64_t n,
                      AdamwArgs a) {
  const float lr = hyper[0], step = hyper[1], gs = hyper[2];
  if (!(step >= 1.0f) || !isfinite(lr) || !isfinite(gs)) return;
  const float bc1 = -expm1f(step * a.ln_b1), bc2 = -expm1f(step * a.ln_b2);
  const float ss = lr / bc1, ib = 1.0f / sqrtf(bc2), decay = 1.0f - lr * a.weight_decay;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float gg = ld(g, i) * gs;
    const float mm = a.b1 * m[i] + a.c1 * gg;
    const float vv = a.b2 * v[i] + a.c2 * (gg * gg);
    const float ww = w[i] * decay - ss * mm / (sqrtf(vv) * ib + a.eps);
    m[i] = mm;
    v[i] = vv;
    w[i] = ww;
    st(w_out, i, ww);
  }
}

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

dim3 row_grid(int64_t rows, int64_t per_row) {
  return dim3(static_cast<unsigned>(rows),
              static_cast<unsigned>((per_row + kElemThreads - 1) / kElemThreads));
}
unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(
      std::max<int64_t>(1, std::min<int64_t>((n + kElemThreads - 1) / kElemThreads, int64_t{1} << 20)));
}

}  // namespace

cudaError_t launch_rmsnorm_backward(cudaStream_t stream, Storage t, const void* x, const void* w,
                                    const void* dy, void* dx, float* dw, float* rs, int64_t rows, int64_t dim,
                                    float eps, bool accumulate) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T *xt = static_cast<const T*>(x), *wt = static_cast<const T*>(w), *dyt = static_cast<const T*>(dy);
    rmsnorm_bwd_stats<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(xt, wt, dyt, rs, dim, eps);
    rmsnorm_bwd_dw<T><<<blocks_for(dim), kElemThreads, 0, stream>>>(xt, dyt, rs, dw, rows, dim, accumulate);
    rmsnorm_bwd_dx<T>
        <<<row_grid(rows, dim), kElemThreads, 0, stream>>>(xt, wt, dyt, static_cast<T*>(dx), rs, dim);
    return cudaGetLastError();
  });
}

cudaError_t launch_swiglu_backward(cudaStream_t stream, Storage t, const void* gu, const void* dy, void* dgu,
                                   int64_t rows, int64_t dim) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    swiglu_bwd<T><<<row_grid(rows, dim), kElemThreads, 0, stream>>>(
        static_cast<const T*>(gu), static_cast<const T*>(dy), static_cast<T*>(dgu), dim);
    return cudaGetLastError();
  });
}

cudaError_t launch_softmax_backward(cudaStream_t stream, Storage t, const void* y, const void* dy, void* dx,
                                    const int32_t* len, int64_t rows, int64_t cols, float scale) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    softmax_bwd<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        static_cast<const T*>(y), static_cast<const T*>(dy), static_cast<T*>(dx), len, cols, scale);
    return cudaGetLastError();
  });
}

cudaError_t launch_cross_entropy(cudaStream_t stream, Storage t, const void* x, const int32_t* target,
                                 float* loss, void* dx, const float* gscale, int64_t rows, int64_t vocab) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    cross_entropy<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        static_cast<const T*>(x), target, loss, static_cast<T*>(dx), gscale, vocab);
    return cudaGetLastError();
  });
}

cudaError_t launch_embedding_backward(cudaStream_t stream, Storage t, const void* dy, const int32_t* ids,
                                      float* table, int64_t rows, int64_t vocab, int64_t dim,
                                      bool accumulate) {
  if (!accumulate) {
    const cudaError_t st = cudaMemsetAsync(
        table, 0, static_cast<size_t>(vocab) * static_cast<size_t>(dim) * sizeof(float), stream);
    if (st != cudaSuccess) return st;
  }
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    embedding_bwd<T>
        <<<row_grid(rows, dim), kElemThreads, 0, stream>>>(static_cast<const T*>(dy), ids, table, vocab, dim);
    return cudaGetLastError();
  });
}

cudaError_t launch_reduce(cudaStream_t stream, Storage t, const void* x, float* y, int64_t rows, int64_t cols,
                          bool axis_rows, bool squares, float scale, bool accumulate) {
  return with_type(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* xt = static_cast<const T*>(x);
    if (!axis_rows || cols == 1) {  // a column over its rows is one contiguous row
      const int64_t r = axis_rows ? 1 : rows, c = axis_rows ? rows : cols;
      reduce_row<T>
          <<<static_cast<unsigned>(r), kRowThreads, 0, stream>>>(xt, y, c, scale, squares, accumulate);
    } else {
      reduce_col<T>
          <<<blocks_for(cols), kElemThreads, 0, stream>>>(xt, y, rows, cols, scale, squares, accumulate);
    }
    return cudaGetLastError();
  });
}

cudaError_t launch_adamw(cudaStream_t stream, Storage grad, Storage out, float* w, const void* g, float* m,
                         float* v, void* w_out, const float* hyper, int64_t n, const AdamwArgs& args) {
  return with_type(grad, [&](auto* gtag) {
    using G = std::remove_pointer_t<decltype(gtag)>;
    return with_type(out, [&](auto* otag) {
      using O = std::remove_pointer_t<decltype(otag)>;
      adamw<G, O><<<blocks_for(n), kElemThreads, 0, stream>>>(w, static_cast<const G*>(g), m, v,
                                                              static_cast<O*>(w_out), hyper, n, args);
      return cudaGetLastError();
    });
  });
}

}  // namespace cmeter::cuda
