// plugins/cuda/infer_kernels.hpp - launchers of the CUDA plugin's ABI 1.1 inference-op kernels
// (rmsnorm, rope, softmax, swiglu, kv_append, embedding, argmax, eltwise; docs/abi-keys.md
// "Op catalogue 1.1"), seen from host C++.
//
// Why this file exists: as kernels.hpp, the narrow bridge between the plugin's C++ (built with the
// project's warnings) and the nvcc-compiled infer_kernels.cu. Each launcher enqueues its kernel(s) on
// `stream` and returns the launch status; tensors are device pointers in the op's storage type, index
// buffers i32, sizes in elements. Nothing here synchronises or allocates.
#ifndef CMETER_PLUGINS_CUDA_INFER_KERNELS_HPP_
#define CMETER_PLUGINS_CUDA_INFER_KERNELS_HPP_

#include <cuda_runtime_api.h>

#include <cstdint>

namespace cmeter::cuda {

enum class Storage { kF16, kBF16, kF32 };

// One block per row (f32 block reductions), Y may be X.
cudaError_t launch_rmsnorm(cudaStream_t stream, Storage t, const void* x, const void* w, void* y,
                           int64_t rows, int64_t dim, float eps);
// len == nullptr: every column; else LEN[r] clamped to [0, cols], zeros after.
cudaError_t launch_softmax(cudaStream_t stream, Storage t, const void* x, void* y, const int32_t* len,
                           int64_t rows, int64_t cols, float scale);
// In place; angles in double (theta^(-2i/head_dim) * pos), one per pair and row, shared by the heads.
// inverse: rope_backward.v1 (ABI 1.2), the rotation by -angle.
cudaError_t launch_rope(cudaStream_t stream, Storage t, void* x, const int32_t* pos, int64_t rows,
                        int64_t heads, int64_t head_dim, double theta, bool interleaved,
                        bool inverse = false);
cudaError_t launch_swiglu(cudaStream_t stream, Storage t, const void* gu, void* y, int64_t rows, int64_t dim);
cudaError_t launch_kv_append(cudaStream_t stream, Storage t, const void* src, void* cache,
                             const int32_t* slot, const int32_t* pos, int64_t rows, int64_t kv_heads,
                             int64_t head_dim, int64_t slots, int64_t capacity);
cudaError_t launch_embedding(cudaStream_t stream, Storage t, const void* table, const int32_t* ids, void* y,
                             int64_t rows, int64_t vocab, int64_t dim);

// argmax: `chunks` blocks per row write candidates to cand_value/cand_index (rows * chunks each), then
// one block per row reduces them into out. argmax_chunks() says how many chunks a row of `cols` gets.
int64_t argmax_chunks(int64_t cols);
cudaError_t launch_argmax(cudaStream_t stream, Storage t, const void* x, int32_t* out, float* cand_value,
                          int32_t* cand_index, int64_t rows, int64_t cols);

enum class EltwiseOp { kAdd, kMul, kScale, kCast };
// add/mul: y = a op b; scale: y = scalar * a; cast: y (in `out`) = a. b unused except add/mul.
cudaError_t launch_eltwise(cudaStream_t stream, EltwiseOp op, Storage t, Storage out, const void* a,
                           const void* b, void* y, int64_t n, float scalar);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_INFER_KERNELS_HPP_
