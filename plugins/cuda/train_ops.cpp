// plugins/cuda/train_ops.cpp - the ABI 1.2 training ops on CUDA over the kernels of train_kernels.cu
// (rope_backward.v1: rope.v1's kernel rotating by -angle).
//
// Why this file exists: it turns the parsed parameters (cmeter/plugin_ops.hpp) into launches with the
// same answer for op_query and op_create, and checks each enqueue's buffers against buffer_needs()
// (too small: INVALID_ARGUMENT) before a kernel could read past an allocation. Per-call values
// (GSCALE, HYPER, targets, ids, lengths, positions) stay in device buffers the kernels read;
// rmsnorm_backward's per-row scratch is allocated once, at op_create.
#include "train_ops.hpp"

#include <cmeter/plugin_ops.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "infer_ops.hpp"
#include "train_kernels.hpp"

namespace cmeter::cuda {
namespace {

// One op: its parsed parameters, an optional device scratch, and a launch over the checked buffers.
template <class P>
class TrainOp final : public OpImpl {
 public:
  using Launch = cudaError_t (*)(cudaStream_t, const P&, void* const*, void* scratch);
  TrainOp(const char* name, const P& p, Launch launch) : name_(name), p_(p), launch_(launch) {}
  ~TrainOp() override {
    if (scratch_ != nullptr) cudaFree(scratch_);
  }
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    void* data[kMaxOpBuffers] = {};
    if (CMTR_Error* e =
            gather_op_buffers(buffers, num_buffers, p_.buffer_needs(), stream->device, name_, data))
      return e;
    const cudaError_t st = launch_(stream->stream, p_, data, scratch_);
    return st == cudaSuccess ? nullptr : cuda_failure(st, std::string(name_) + " launch");
  }
  CMTR_Error* allocate_scratch(uint64_t bytes) {
    const cudaError_t st = cudaMalloc(&scratch_, bytes);
    return st == cudaSuccess ? nullptr : cuda_failure(st, std::string(name_) + " op_create (scratch)");
  }

 private:
  const char* name_;
  P p_;
  Launch launch_;
  void* scratch_ = nullptr;
};

OpPlan unsupported(std::string reason) {
  OpPlan plan;
  plan.status = OpPlan::kUnsupported;
  plan.reason = std::move(reason);
  return plan;
}

template <class P>
OpPlan make(const char* name, const P& p, std::initializer_list<sdk::DType> dtypes, bool create,
            typename TrainOp<P>::Launch launch, const std::string& impl, int launches = 1,
            uint64_t scratch_bytes = 0) {
  for (sdk::DType t : dtypes)
    if (!storage_of(t))
      return unsupported(std::string(name) + " on cuda: dtype " + sdk::dtype_name(t) +
                         " is not supported (f16, bf16 and f32 are)");
  OpPlan plan;
  plan.status = OpPlan::kSupported;
  if (!create) return plan;
  auto op = std::make_unique<TrainOp<P>>(name, p, launch);
  op->attributes.set("impl", "cuda kernel: " + impl + ", f32 arithmetic, one rounding to the storage type");
  op->launches = launches;
  if (scratch_bytes > 0)
    if (CMTR_Error* e = op->allocate_scratch(scratch_bytes)) {
      OpPlan failed;
      failed.status = OpPlan::kFailed;
      failed.error = e;
      return failed;
    }
  plan.op = std::move(op);
  return plan;
}

const int32_t* idx(void* p) {
  return static_cast<const int32_t*>(p);
}
float* f32(void* p) {
  return static_cast<float*>(p);
}

}  // namespace

OpPlan plan_training_op(CMTR_Device* /*device*/, std::string_view name, const CMTR_KeyValue* params,
                        size_t num_params, bool create) {
  auto parsed = sdk::parse_training_op(name, params, num_params);
  if (!parsed.ok()) {
    OpPlan p;
    p.status = OpPlan::kInvalid;
    p.reason = parsed.invalid_reason;
    return p;
  }
  const std::string n(name);
  // Launch limits: rows in grid x (< 2^31), a row's elements in grid y blocks of 256 (< 65536).
  auto too_large = [&](int64_t rows, int64_t row_elems) {
    return rows >= (int64_t{1} << 31) || row_elems > int64_t{65535} * 256;
  };
  const std::string limit_reason =
      n + " on cuda: rows above 2^31-1 or rows of more than 65535*256 elements are not supported";
  if (auto* p = std::get_if<sdk::RmsNormBackwardParams>(&parsed.value)) {
    if (too_large(p->rows, p->dim)) return unsupported(limit_reason);
    return make<sdk::RmsNormBackwardParams>(
        "rmsnorm_backward.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::RmsNormBackwardParams& q, void* const* b, void* scratch) {
          return launch_rmsnorm_backward(s, *storage_of(q.dtype), b[0], b[1], b[2], b[3], f32(b[4]),
                                         f32(scratch), q.rows, q.dim, static_cast<float>(q.eps),
                                         q.accumulate);
        },
        "per-row rms and dot (block reductions), DW one thread per column over the rows in order, DX per "
        "element",
        3, static_cast<uint64_t>(p->rows) * 8);
  }
  if (auto* p = std::get_if<sdk::SwigluBackwardParams>(&parsed.value)) {
    if (too_large(p->rows, p->dim)) return unsupported(limit_reason);
    return make<sdk::SwigluBackwardParams>(
        "swiglu_backward.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::SwigluBackwardParams& q, void* const* b, void*) {
          return launch_swiglu_backward(s, *storage_of(q.dtype), b[0], b[1], b[2], q.rows, q.dim);
        },
        "one thread per element, rows x element blocks");
  }
  if (auto* p = std::get_if<sdk::SoftmaxBackwardParams>(&parsed.value)) {
    if (too_large(p->rows, 0)) return unsupported(limit_reason);
    return make<sdk::SoftmaxBackwardParams>(
        "softmax_backward.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::SoftmaxBackwardParams& q, void* const* b, void*) {
          return launch_softmax_backward(s, *storage_of(q.dtype), b[0], b[1], b[2],
                                         q.lengths ? idx(b[3]) : nullptr, q.rows, q.cols,
                                         static_cast<float>(q.scale));
        },
        "one 256-thread block per row, dot(dy, y) as an f32 block reduction");
  }
  if (auto* p = std::get_if<sdk::RopeBackwardParams>(&parsed.value)) {
    if (too_large(p->rows, p->head_dim)) return unsupported(limit_reason);
    return make<sdk::RopeBackwardParams>(
        "rope_backward.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::RopeBackwardParams& q, void* const* b, void*) {
          return launch_rope(s, *storage_of(q.dtype), b[0], idx(b[1]), q.rows, q.heads, q.head_dim, q.theta,
                             q.layout == sdk::RopeLayout::kInterleaved, /*inverse=*/true);
        },
        "rope.v1's kernel rotating by -angle (angle and sincos in f64)");
  }
  if (auto* p = std::get_if<sdk::CrossEntropyParams>(&parsed.value)) {
    if (too_large(p->rows, 0)) return unsupported(limit_reason);
    return make<sdk::CrossEntropyParams>(
        "cross_entropy.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::CrossEntropyParams& q, void* const* b, void*) {
          return launch_cross_entropy(s, *storage_of(q.dtype), b[0], idx(b[1]), f32(b[2]),
                                      q.backward ? b[3] : nullptr, q.backward ? f32(b[4]) : nullptr, q.rows,
                                      q.vocab);
        },
        "one 256-thread block per row: max and sum of exp as block reductions, DX in the same pass");
  }
  if (auto* p = std::get_if<sdk::EmbeddingBackwardParams>(&parsed.value)) {
    if (too_large(p->rows, p->dim) || p->vocab > INT32_MAX) return unsupported(limit_reason);
    return make<sdk::EmbeddingBackwardParams>(
        "embedding_backward.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::EmbeddingBackwardParams& q, void* const* b, void*) {
          return launch_embedding_backward(s, *storage_of(q.dtype), b[0], idx(b[1]), f32(b[2]), q.rows,
                                           q.vocab, q.dim, q.accumulate);
        },
        std::string(p->accumulate ? "" : "cudaMemsetAsync, then ") +
            "atomicAdd scatter, one thread per element",
        p->accumulate ? 1 : 2);
  }
  if (auto* p = std::get_if<sdk::ReduceParams>(&parsed.value)) {
    if (too_large(p->rows, 0)) return unsupported(limit_reason);
    return make<sdk::ReduceParams>(
        "reduce.v1", *p, {p->dtype}, create,
        [](cudaStream_t s, const sdk::ReduceParams& q, void* const* b, void*) {
          return launch_reduce(s, *storage_of(q.dtype), b[0], f32(b[1]), q.rows, q.cols,
                               q.axis == sdk::ReduceAxis::kRows, q.kind == sdk::ReduceKind::kSumSquares,
                               static_cast<float>(q.scale), q.accumulate);
        },
        "one block per reduced row, or one thread per column over the rows in order");
  }
  if (auto* p = std::get_if<sdk::AdamwParams>(&parsed.value)) {
    return make<sdk::AdamwParams>(
        "adamw.v1", *p, {p->dtype_grad, p->dtype_out}, create,
        [](cudaStream_t s, const sdk::AdamwParams& q, void* const* b, void*) {
          const AdamwArgs a{static_cast<float>(q.beta1),
                            static_cast<float>(1.0 - q.beta1),
                            static_cast<float>(q.beta2),
                            static_cast<float>(1.0 - q.beta2),
                            static_cast<float>(std::log(q.beta1)),
                            static_cast<float>(std::log(q.beta2)),
                            static_cast<float>(q.eps),
                            static_cast<float>(q.weight_decay)};
          return launch_adamw(s, *storage_of(q.dtype_grad), *storage_of(q.dtype_out), f32(b[0]), b[1],
                              f32(b[2]), f32(b[3]), b[4], f32(b[5]), q.n, a);
        },
        "grid-stride, f32 master weights and moments, bias corrections -expm1(t ln beta) from HYPER's step");
  }
  return unsupported(n + " is not implemented by the cuda plugin");
}

}  // namespace cmeter::cuda
