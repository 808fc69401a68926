// plugins/cuda/infer_ops.cpp - the ABI 1.1 inference ops on CUDA (rmsnorm, rope, softmax, swiglu,
// kv_append, embedding, argmax, eltwise; docs/abi-keys.md "Op catalogue 1.1") over the kernels of
// infer_kernels.cu.
//
// Why this file exists: it turns the parsed parameters (cmeter/plugin_ops.hpp, shared by every
// plugin) into launches, with the same answer for op_query and op_create, and checks each enqueue's
// buffers against buffer_needs() (a buffer too small is INVALID_ARGUMENT) before a kernel could read
// past an allocation. Per-call values (positions, slots, lengths, ids) stay in device buffers that the
// kernels read; argmax's candidate buffer is allocated once, at op_create. attention.v1 is answered
// unsupported (the core composes it from gemm.v1 and softmax.v1).
#include "infer_ops.hpp"

#include <cmeter/plugin_ops.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "infer_kernels.hpp"

namespace cmeter::cuda {

std::optional<Storage> storage_of(sdk::DType t) {
  switch (t) {
    case sdk::DType::kF16:
      return Storage::kF16;
    case sdk::DType::kBF16:
      return Storage::kBF16;
    case sdk::DType::kF32:
      return Storage::kF32;
    default:
      return std::nullopt;
  }
}

namespace {

// One op: its parsed parameters and a launch over the checked buffers' device pointers.
template <class P>
class InferOp final : public OpImpl {
 public:
  using Launch = cudaError_t (*)(cudaStream_t, const P&, Storage, void* const*, InferOp*);
  InferOp(const char* name, const P& p, Storage t, Launch launch)
      : name_(name), p_(p), t_(t), launch_(launch) {}
  ~InferOp() override {
    if (cand_ != nullptr) cudaFree(cand_);
  }
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    void* data[kMaxOpBuffers] = {};
    if (CMTR_Error* e =
            gather_op_buffers(buffers, num_buffers, p_.buffer_needs(), stream->device, name_, data))
      return e;
    const cudaError_t st = launch_(stream->stream, p_, t_, data, this);
    return st == cudaSuccess ? nullptr : cuda_failure(st, std::string(name_) + " launch");
  }
  // argmax: candidates (values then indices) of rows * chunks.
  CMTR_Error* allocate_candidates(uint64_t count) {
    const cudaError_t st = cudaMalloc(&cand_, count * 8);
    return st == cudaSuccess ? nullptr : cuda_failure(st, std::string(name_) + " op_create (candidates)");
  }
  void* candidates() const { return cand_; }

 private:
  const char* name_;
  P p_;
  Storage t_;
  Launch launch_;
  void* cand_ = nullptr;
};

template <class P>
OpPlan make(const char* name, const P& p, bool create, typename InferOp<P>::Launch launch, std::string impl,
            int launches = 1) {
  OpPlan plan;
  if (!storage_of(p.dtype)) {
    plan.status = OpPlan::kUnsupported;
    plan.reason = std::string(name) + " on cuda: dtype " + sdk::dtype_name(p.dtype) +
                  " is not supported (f16, bf16 and f32 are)";
    return plan;
  }
  plan.status = OpPlan::kSupported;
  if (!create) return plan;
  auto op = std::make_unique<InferOp<P>>(name, p, *storage_of(p.dtype), launch);
  op->attributes.set("impl", "cuda kernel: " + impl + ", " + sdk::dtype_name(p.dtype) +
                                 " storage, f32 arithmetic, one rounding to the storage type");
  op->launches = launches;
  plan.op = std::move(op);
  return plan;
}

const int32_t* idx(void* p) {
  return static_cast<const int32_t*>(p);
}

}  // namespace

OpPlan plan_inference_op(CMTR_Device* /*device*/, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create) {
  auto parsed = sdk::parse_inference_op(name, params, num_params);
  if (!parsed.ok()) {
    OpPlan p;
    p.status = OpPlan::kInvalid;
    p.reason = parsed.invalid_reason;
    return p;
  }
  const std::string n(name);
  // Launch limits: rows in grid x (< 2^31), a row's elements in grid y blocks of 256 (< 65536).
  const auto too_large = [&](int64_t rows, int64_t row_elems) -> std::optional<OpPlan> {
    if (rows < (int64_t{1} << 31) && row_elems <= int64_t{65535} * 256) return std::nullopt;
    OpPlan plan;
    plan.status = OpPlan::kUnsupported;
    plan.reason = n + " on cuda: rows above 2^31-1 or rows of more than 65535*256 elements are not supported";
    return plan;
  };
  std::optional<OpPlan> limit;
  std::visit(
      [&](const auto& q) {
        using Q = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<Q, sdk::SwigluParams> || std::is_same_v<Q, sdk::EmbeddingParams> ||
                      std::is_same_v<Q, sdk::RmsNormParams>)
          limit = too_large(q.rows, q.dim);
        else if constexpr (std::is_same_v<Q, sdk::KvAppendParams>)
          limit = too_large(q.rows, q.kv_heads * q.head_dim);
        else if constexpr (std::is_same_v<Q, sdk::SoftmaxParams> || std::is_same_v<Q, sdk::ArgmaxParams>)
          limit = too_large(q.rows, 0);
        else if constexpr (std::is_same_v<Q, sdk::RopeParams>)
          limit = too_large(q.rows, q.head_dim);
      },
      parsed.value);
  if (limit) return std::move(*limit);
  if (auto* p = std::get_if<sdk::RmsNormParams>(&parsed.value))
    return make<sdk::RmsNormParams>(
        "rmsnorm.v1", *p, create,
        [](cudaStream_t s, const sdk::RmsNormParams& q, Storage t, void* const* b, auto*) {
          return launch_rmsnorm(s, t, b[0], b[1], b[2], q.rows, q.dim, static_cast<float>(q.eps));
        },
        "one 256-thread block per row, f32 block reduction");
  if (auto* p = std::get_if<sdk::RopeParams>(&parsed.value))
    return make<sdk::RopeParams>(
        "rope.v1", *p, create,
        [](cudaStream_t s, const sdk::RopeParams& q, Storage t, void* const* b, auto*) {
          return launch_rope(s, t, b[0], idx(b[1]), q.rows, q.heads, q.head_dim, q.theta,
                             q.layout == sdk::RopeLayout::kInterleaved);
        },
        "one thread per pair index and row (angle and sincos in f64), rotating that pair in every head");
  if (auto* p = std::get_if<sdk::SoftmaxParams>(&parsed.value))
    return make<sdk::SoftmaxParams>(
        "softmax.v1", *p, create,
        [](cudaStream_t s, const sdk::SoftmaxParams& q, Storage t, void* const* b, auto*) {
          return launch_softmax(s, t, b[0], b[1], q.lengths ? idx(b[2]) : nullptr, q.rows, q.cols,
                                static_cast<float>(q.scale));
        },
        "one 256-thread block per row, max and sum as f32 block reductions");
  if (auto* p = std::get_if<sdk::SwigluParams>(&parsed.value))
    return make<sdk::SwigluParams>(
        "swiglu.v1", *p, create,
        [](cudaStream_t s, const sdk::SwigluParams& q, Storage t, void* const* b, auto*) {
          return launch_swiglu(s, t, b[0], b[1], q.rows, q.dim);
        },
        "one thread per element, rows x element blocks");
  if (auto* p = std::get_if<sdk::KvAppendParams>(&parsed.value))
    return make<sdk::KvAppendParams>(
        "kv_append.v1", *p, create,
        [](cudaStream_t s, const sdk::KvAppendParams& q, Storage t, void* const* b, auto*) {
          return launch_kv_append(s, t, b[0], b[1], idx(b[2]), idx(b[3]), q.rows, q.kv_heads, q.head_dim,
                                  q.slots, q.capacity);
        },
        "a scatter copy, one thread per element");
  if (auto* p = std::get_if<sdk::EmbeddingParams>(&parsed.value))
    return make<sdk::EmbeddingParams>(
        "embedding.v1", *p, create,
        [](cudaStream_t s, const sdk::EmbeddingParams& q, Storage t, void* const* b, auto*) {
          return launch_embedding(s, t, b[0], idx(b[1]), b[2], q.rows, q.vocab, q.dim);
        },
        "a row gather, one thread per element");
  if (auto* p = std::get_if<sdk::ArgmaxParams>(&parsed.value)) {
    const int64_t chunks = argmax_chunks(p->cols);
    OpPlan plan = make<sdk::ArgmaxParams>(
        "argmax.v1", *p, create,
        [](cudaStream_t s, const sdk::ArgmaxParams& q, Storage t, void* const* b, auto* op) {
          const int64_t cands = q.rows * argmax_chunks(q.cols);
          float* values = static_cast<float*>(op->candidates());
          return launch_argmax(s, t, b[0], static_cast<int32_t*>(b[1]), values,
                               reinterpret_cast<int32_t*>(values + cands), q.rows, q.cols);
        },
        "two-level reduction, " + std::to_string(chunks) + " blocks per row then one", 2);
    if (plan.op != nullptr)
      if (CMTR_Error* e = static_cast<InferOp<sdk::ArgmaxParams>*>(plan.op.get())
                              ->allocate_candidates(static_cast<uint64_t>(p->rows * chunks))) {
        OpPlan failed;
        failed.status = OpPlan::kFailed;
        failed.error = e;
        return failed;
      }
    return plan;
  }
  if (auto* p = std::get_if<sdk::EltwiseParams>(&parsed.value)) {
    if (!storage_of(p->dtype_out)) {
      OpPlan plan;
      plan.status = OpPlan::kUnsupported;
      plan.reason =
          std::string("eltwise.v1 on cuda: dtype_out ") + sdk::dtype_name(p->dtype_out) + " is not supported";
      return plan;
    }
    return make<sdk::EltwiseParams>(
        "eltwise.v1", *p, create,
        [](cudaStream_t s, const sdk::EltwiseParams& q, Storage t, void* const* b, auto*) {
          const bool binary = q.kind == sdk::EltwiseKind::kAdd || q.kind == sdk::EltwiseKind::kMul;
          const EltwiseOp op = q.kind == sdk::EltwiseKind::kAdd     ? EltwiseOp::kAdd
                               : q.kind == sdk::EltwiseKind::kMul   ? EltwiseOp::kMul
                               : q.kind == sdk::EltwiseKind::kScale ? EltwiseOp::kScale
                                                                    : EltwiseOp::kCast;
          return launch_eltwise(s, op, t, *storage_of(q.dtype_out), b[0], binary ? b[1] : nullptr,
                                binary ? b[2] : b[1], q.n, static_cast<float>(q.scalar));
        },
        p->kind_name + ", grid-stride");
  }
  OpPlan plan;
  plan.status = OpPlan::kUnsupported;
  plan.reason =
      n + " is not implemented by the cuda plugin (the core composes it from gemm.v1 and softmax.v1)";
  return plan;
}

}  // namespace cmeter::cuda
