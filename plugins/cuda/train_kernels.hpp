// plugins/cuda/train_kernels.hpp - launchers of the CUDA plugin's ABI 1.2 training-op kernels
// (rmsnorm/swiglu/softmax backward, cross_entropy, embedding_backward, reduce, adamw; docs/abi-keys.md
// "Op catalogue 1.2"), seen from host C++. rope_backward.v1 is launch_rope with inverse (infer_kernels.hpp).
//
// Why this file exists: as infer_kernels.hpp, the bridge between the plugin's C++ and the
// nvcc-compiled train_kernels.cu. Tensors are device pointers in the op's storage type, index
// buffers i32, weight gradients / losses / optimiser state f32, sizes in elements. Nothing here
// synchronises or allocates.
#ifndef CMETER_PLUGINS_CUDA_TRAIN_KERNELS_HPP_
#define CMETER_PLUGINS_CUDA_TRAIN_KERNELS_HPP_

#include <cuda_runtime_api.h>

#include <cstdint>

#include "infer_kernels.hpp"

namespace cmeter::cuda {

// rs: 2 * rows f32 of scratch (the per-row rsqrt and dot). Three launches: stats per row, DW per
// column over the rows in order, DX per element.
cudaError_t launch_rmsnorm_backward(cudaStream_t stream, Storage t, const void* x, const void* w,
                                    const void* dy, void* dx, float* dw, float* rs, int64_t rows, int64_t dim,
                                    float eps, bool accumulate);
cudaError_t launch_swiglu_backward(cudaStream_t stream, Storage t, const void* gu, const void* dy, void* dgu,
                                   int64_t rows, int64_t dim);
// len == nullptr: every column.
cudaError_t launch_softmax_backward(cudaStream_t stream, Storage t, const void* y, const void* dy, void* dx,
                                    const int32_t* len, int64_t rows, int64_t cols, float scale);
// dx == nullptr: loss only (gscale unused).
cudaError_t launch_cross_entropy(cudaStream_t stream, Storage t, const void* x, const int32_t* target,
                                 float* loss, void* dx, const float* gscale, int64_t rows, int64_t vocab);
// atomicAdd scatter into table (zeroed first unless accumulate).
cudaError_t launch_embedding_backward(cudaStream_t stream, Storage t, const void* dy, const int32_t* ids,
                                      float* table, int64_t rows, int64_t vocab, int64_t dim,
                                      bool accumulate);
// axis_rows: y[c] over the rows (cols outputs), else y[r] over each row.
cudaError_t launch_reduce(cudaStream_t stream, Storage t, const void* x, float* y, int64_t rows, int64_t cols,
                          bool axis_rows, bool squares, float scale, bool accumulate);
struct AdamwArgs {
  float b1, c1, b2, c2, ln_b1, ln_b2, eps, weight_decay;
};
cudaError_t launch_adamw(cudaStream_t stream, Storage grad, Storage out, float* w, const void* g, float* m,
                         float* v, void* w_out, const float* hyper, int64_t n, const AdamwArgs& args);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_TRAIN_KERNELS_HPP_
