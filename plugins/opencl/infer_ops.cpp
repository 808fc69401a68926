// plugins/opencl/infer_ops.cpp - the ABI 1.1 inference ops on OpenCL: rmsnorm, rope, softmax,
// swiglu, kv_append, embedding, argmax, eltwise and the optional fused attention (docs/abi-keys.md
// "Op catalogue 1.1").
//
// Why this file exists: it turns the parsed parameters (cmeter/plugin_ops.hpp) into launches of the
// kernels of infer_kernels.cpp. Everything expensive happens in op_create: the program of the dtype is
// built (once per device through the program cache: every op of a dtype shares it), rope's frequency
// table and argmax's partial-result buffer are allocated, and each kernel is launched once on an
// empty problem with its final work-group size (PoCL generates the work-group code then); op_enqueue
// checks the buffers (too small: INVALID_ARGUMENT), sets arguments and launches. Shapes are static
// (op_create), per-call values (positions, slots, lengths, ids) are read by the kernels from device
// buffers, out-of-range ones handled in the kernel as the catalogue says.
#include "infer_ops.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <utility>
#include <vector>

#include "infer_kernels.hpp"
#include "infer_op.hpp"
#include "op_util.hpp"

namespace cmeter::opencl {
namespace {

using namespace infer;  // NOLINT(google-build-using-namespace): the shared op machinery

// ---- rmsnorm.v1 ----

class RmsNormOp final : public InferOp {
 public:
  RmsNormOp(CMTR_Device* device, const sdk::RmsNormParams& p, Elem type)
      : InferOp(device, "rmsnorm.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_rmsnorm", &l_)) return e;
    row_geometry(&l_, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("one work-group per row, " + std::to_string(kc_.vw) + "-wide loads, f32 tree reduction", l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, static_cast<cl_ulong>(p_.dim))) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem w, cl_mem y, cl_ulong dim) {
    return arg_error(set_args(l_.kernel.get(), x, w, y, dim, static_cast<float>(p_.eps)));
  }
  sdk::RmsNormParams p_;
  Launch l_;
};

// ---- rope.v1 ----

class RopeOp final : public InferOp {
 public:
  // inverse: rope_backward.v1 (ABI 1.2), the rotation by -angle.
  RopeOp(CMTR_Device* device, const sdk::RopeParams& p, Elem type, bool inverse = false)
      : InferOp(device, inverse ? "rope_backward.v1" : "rope.v1", type), p_(p), inverse_(inverse) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_rope", &l_)) return e;
    // theta^(-2i/head_dim) in double, as float pairs (hi, lo): [hi_0 .. hi_{h-1}, lo_0 .. lo_{h-1}].
    const int64_t half = p_.head_dim / 2;
    std::vector<float> freq(static_cast<size_t>(2 * half));
    for (int64_t i = 0; i < half; ++i) {
      const double f = std::pow(p_.theta, -2.0 * static_cast<double>(i) / static_cast<double>(p_.head_dim));
      const float hi = static_cast<float>(f);
      freq[static_cast<size_t>(i)] = hi;
      freq[static_cast<size_t>(half + i)] = static_cast<float>(f - static_cast<double>(hi));
    }
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(dev().context(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, freq.size() * 4,
                              freq.data(), &err);
    if (err != CL_SUCCESS) return cl_failure(what() + " on " + dev().label, "clCreateBuffer", err);
    freq_.reset(m);
    item_geometry(&l_, static_cast<uint64_t>(half), static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(std::string(inverse_ ? "inverse rotation; " : "") +
                 "one work item per pair index and row, rotating that pair in every head (" +
                 (p_.layout == sdk::RopeLayout::kHalf ? "half" : "interleaved") +
                 " layout), angles from a double-precision frequency table",
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, static_cast<cl_ulong>(p_.head_dim))) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem pos, cl_ulong head_dim) {
    const cl_int interleaved = p_.layout == sdk::RopeLayout::kInterleaved ? 1 : 0;
    return arg_error(set_args(l_.kernel.get(), x, pos, freq_.get(), static_cast<cl_ulong>(p_.heads), head_dim,
                              interleaved, static_cast<cl_int>(inverse_ ? 1 : 0)));
  }
  sdk::RopeParams p_;
  bool inverse_ = false;
  Launch l_;
  MemPtr freq_;
};

// ---- softmax.v1 ----

class SoftmaxOp final : public InferOp {
 public:
  SoftmaxOp(CMTR_Device* device, const sdk::SoftmaxParams& p, Elem type)
      : InferOp(device, "softmax.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_softmax", &l_)) return e;
    row_geometry(&l_, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("one work-group per row, " + std::to_string(kc_.vw) +
                 "-wide loads, max and sum as f32 tree reductions" + (p_.lengths ? ", per-row lengths" : ""),
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    // Without LEN the kernel never reads its `len` argument; X stands in for it.
    if (CMTR_Error* e =
            set(b[0]->mem, b[1]->mem, p_.lengths ? b[2]->mem : b[0]->mem, static_cast<cl_ulong>(p_.cols)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem y, cl_mem len, cl_ulong cols) {
    return arg_error(set_args(l_.kernel.get(), x, y, len, cols, static_cast<float>(p_.scale),
                              static_cast<cl_int>(p_.lengths ? 1 : 0)));
  }
  sdk::SoftmaxParams p_;
  Launch l_;
};

// ---- swiglu.v1 ----

class SwigluOp final : public InferOp {
 public:
  SwigluOp(CMTR_Device* device, const sdk::SwigluParams& p, Elem type)
      : InferOp(device, "swiglu.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_swiglu", &l_)) return e;
    const uint64_t vecs = (static_cast<uint64_t>(p_.dim) + kc_.vw - 1) / kc_.vw;
    item_geometry(&l_, vecs, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("one work item per " + std::to_string(kc_.vw) + " elements", l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, static_cast<cl_ulong>(p_.dim))) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem gu, cl_mem y, cl_ulong dim) {
    return arg_error(set_args(l_.kernel.get(), gu, y, dim));
  }
  sdk::SwigluParams p_;
  Launch l_;
};

// ---- kv_append.v1 ----

class KvAppendOp final : public InferOp {
 public:
  KvAppendOp(CMTR_Device* device, const sdk::KvAppendParams& p, Elem type)
      : InferOp(device, "kv_append.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_kv_append", &l_)) return e;
    const uint64_t vecs = (static_cast<uint64_t>(p_.head_dim) + kc_.vw - 1) / kc_.vw;
    item_geometry(&l_, vecs, static_cast<uint64_t>(p_.kv_heads), static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("a copy, one work item per " + std::to_string(kc_.vw) + " elements of a head", l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, b[3]->mem, static_cast<cl_ulong>(p_.head_dim)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem src, cl_mem cache, cl_mem slot, cl_mem pos, cl_ulong head_dim) {
    return arg_error(set_args(l_.kernel.get(), src, cache, slot, pos, static_cast<cl_ulong>(p_.kv_heads),
                              head_dim, static_cast<cl_int>(p_.slots), static_cast<cl_int>(p_.capacity)));
  }
  sdk::KvAppendParams p_;
  Launch l_;
};

// ---- embedding.v1 ----

class EmbeddingOp final : public InferOp {
 public:
  EmbeddingOp(CMTR_Device* device, const sdk::EmbeddingParams& p, Elem type)
      : InferOp(device, "embedding.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_embedding", &l_)) return e;
    const uint64_t vecs = (static_cast<uint64_t>(p_.dim) + kc_.vw - 1) / kc_.vw;
    item_geometry(&l_, vecs, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("a row gather, one work item per " + std::to_string(kc_.vw) + " elements", l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, static_cast<cl_ulong>(p_.dim))) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem table, cl_mem ids, cl_mem y, cl_ulong dim) {
    return arg_error(set_args(l_.kernel.get(), table, ids, y, static_cast<cl_int>(p_.vocab), dim));
  }
  sdk::EmbeddingParams p_;
  Launch l_;
};

// ---- argmax.v1 ----

// Two levels: `chunks_` work-groups per row each reduce a chunk of the row to a candidate (its maximum
// and the lowest index holding it) in a buffer of the op's, then one work-group per row reduces the
// candidates. The chunk is sized so that a row alone (decode: one row of the vocabulary) spreads over the
// device.
class ArgmaxOp final : public InferOp {
 public:
  ArgmaxOp(CMTR_Device* device, const sdk::ArgmaxParams& p, Elem type)
      : InferOp(device, "argmax.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_argmax_part", &part_)) return e;
    if (CMTR_Error* e = build(params, num_params, "cmeter_argmax_final", &final_)) return e;
    // At least 4 vectors per item per chunk, at most 1024 chunks per row.
    const uint64_t cols = static_cast<uint64_t>(p_.cols);
    const uint64_t min_chunk = static_cast<uint64_t>(kc_.row_local) * kc_.vw * 4;
    chunk_ = std::max(min_chunk, round_up((cols + 1023) / 1024, static_cast<uint64_t>(kc_.vw)));
    chunks_ = (cols + chunk_ - 1) / chunk_;
    part_.dims = 2;
    part_.local[0] = static_cast<size_t>(kc_.row_local);
    part_.global[0] = part_.local[0] * chunks_;
    part_.global[1] = static_cast<size_t>(p_.rows);
    row_geometry(&final_, static_cast<uint64_t>(p_.rows));
    cl_int err = CL_SUCCESS;
    const uint64_t cands = static_cast<uint64_t>(p_.rows) * chunks_;
    cl_mem v = clCreateBuffer(dev().context(), CL_MEM_READ_WRITE, cands * 4, nullptr, &err);
    if (err != CL_SUCCESS) return cl_failure(what() + " on " + dev().label, "clCreateBuffer", err);
    pv_.reset(v);
    cl_mem i = clCreateBuffer(dev().context(), CL_MEM_READ_WRITE, cands * 4, nullptr, &err);
    if (err != CL_SUCCESS) return cl_failure(what() + " on " + dev().label, "clCreateBuffer", err);
    pi_.reset(i);
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e =
            arg_error(set_args(part_.kernel.get(), d.get(), d.get(), d.get(), cl_ulong{0}, cl_ulong{0})))
      return e;
    if (CMTR_Error* e = prime_launch(part_)) return e;
    if (CMTR_Error* e = arg_error(set_args(final_.kernel.get(), d.get(), d.get(), d.get(), cl_ulong{0})))
      return e;
    if (CMTR_Error* e = prime_launch(final_)) return e;
    describe("two-level reduction, " + std::to_string(chunks_) + " work-groups per row of " +
                 std::to_string(chunk_) + " columns each, then one per row",
             part_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = arg_error(set_args(part_.kernel.get(), b[0]->mem, pv_.get(), pi_.get(),
                                           static_cast<cl_ulong>(p_.cols), static_cast<cl_ulong>(chunk_))))
      return e;
    if (CMTR_Error* e = run(queue, part_)) return e;
    if (CMTR_Error* e = arg_error(
            set_args(final_.kernel.get(), pv_.get(), pi_.get(), b[1]->mem, static_cast<cl_ulong>(chunks_))))
      return e;
    return run(queue, final_);
  }

 private:
  sdk::ArgmaxParams p_;
  Launch part_, final_;
  uint64_t chunk_ = 1, chunks_ = 1;
  MemPtr pv_, pi_;
};

// ---- eltwise.v1 ----

class EltwiseOp final : public InferOp {
 public:
  EltwiseOp(CMTR_Device* device, const sdk::EltwiseParams& p, Elem type, Elem out)
      : InferOp(device, "eltwise.v1", type), p_(p), out_(out) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    const std::string kernel = p_.kind == sdk::EltwiseKind::kCast
                                   ? std::string("cmeter_cast_") + elem_name(out_)
                                   : "cmeter_eltwise_" + p_.kind_name;
    if (CMTR_Error* e = build(params, num_params, kernel.c_str(), &l_)) return e;
    item_geometry(&l_, (static_cast<uint64_t>(p_.n) + kc_.vw - 1) / kc_.vw, 1);
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set({d.get(), d.get(), d.get()}, 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(p_.kind_name +
                 (p_.kind == sdk::EltwiseKind::kCast ? std::string(" to ") + elem_name(out_) : "") +
                 ", one work item per " + std::to_string(kc_.vw) + " elements",
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    const bool binary = p_.kind == sdk::EltwiseKind::kAdd || p_.kind == sdk::EltwiseKind::kMul;
    if (CMTR_Error* e = binary ? set({b[0]->mem, b[1]->mem, b[2]->mem}, static_cast<cl_ulong>(p_.n))
                               : set({b[0]->mem, b[1]->mem}, static_cast<cl_ulong>(p_.n)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(std::initializer_list<cl_mem> mems, cl_ulong n) {
    const bool binary = p_.kind == sdk::EltwiseKind::kAdd || p_.kind == sdk::EltwiseKind::kMul;
    const cl_mem* m = mems.begin();
    const float scalar = static_cast<float>(p_.scalar);
    return arg_error(binary ? set_args(l_.kernel.get(), m[0], m[1], m[2], n, scalar)
                            : set_args(l_.kernel.get(), m[0], m[1], n, scalar));
  }
  sdk::EltwiseParams p_;
  Elem out_;
  Launch l_;
};

// ---- attention.v1 ----

// One work-group per (head, row), online softmax per item, merged in local memory (ROWL x head_dim
// floats: the work-group shrinks until that fits 32 KiB). head_dim is compiled in (one program per
// head_dim and dtype).
class AttentionOp final : public InferOp {
 public:
  AttentionOp(CMTR_Device* device, const sdk::AttentionParams& p, Elem type)
      : InferOp(device, "attention.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (!dev().info.is_cpu && !sdk::int_hint(params, num_params, "hint.opencl.row_local"))
      kc_.row_local = std::min(kc_.row_local, 64);
    while (kc_.row_local > 1 && static_cast<int64_t>(kc_.row_local) * p_.head_dim * 4 > 32768)
      kc_.row_local /= 2;
    if (CMTR_Error* e =
            make_kernel(dev(), what(), attention_source(kc_, static_cast<int>(p_.head_dim)),
                        build_options(params, num_params), "cmeter_attention", &l_.kernel, &build_))
      return e;
    l_.dims = 2;
    l_.local[0] = static_cast<size_t>(kc_.row_local);
    l_.global[0] = l_.local[0] * static_cast<size_t>(p_.heads);
    l_.global[1] = static_cast<size_t>(p_.rows);
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    // Priming: SLOT reads as 0 from the zero-filled dummy and slots = 0 makes it out of range, so the
    // one work-group writes head_dim zeros into O (the dummy must hold them).
    MemPtr o;
    if (CMTR_Error* e = scratch_buffer(dev(), what(), static_cast<uint64_t>(p_.head_dim) * 4, &o)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), d.get(), o.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(
        "one work-group per head and row, online softmax per work item merged in local memory, "
        "head_dim " +
            std::to_string(p_.head_dim) + " compiled in",
        l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, b[3]->mem, b[4]->mem, b[5]->mem,
                            static_cast<cl_int>(p_.slots)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem q, cl_mem k, cl_mem v, cl_mem slot, cl_mem pos, cl_mem o, cl_int slots) {
    return arg_error(set_args(l_.kernel.get(), q, k, v, slot, pos, o, static_cast<cl_ulong>(p_.heads),
                              static_cast<cl_ulong>(p_.kv_heads), slots, static_cast<cl_int>(p_.capacity),
                              static_cast<float>(p_.scale)));
  }
  sdk::AttentionParams p_;
  Launch l_;
};

}  // namespace

OpPlan plan_rope_op(CMTR_Device* device, const sdk::RopeParams& p, bool inverse, bool create,
                    const CMTR_KeyValue* params, size_t num_params) {
  const char* name = inverse ? "rope_backward.v1" : "rope.v1";
  if (auto r = refuse(name, device, p, {p.x_bytes})) return std::move(*r);
  return finish<RopeOp>(device, p, *storage_of(p.dtype), create, params, num_params, inverse);
}

OpPlan plan_inference_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create) {
  auto parsed = sdk::parse_inference_op(name, params, num_params);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  const std::string n(name);
  if (auto* p = std::get_if<sdk::RmsNormParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<RmsNormOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::RopeParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<RopeOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::SoftmaxParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<SoftmaxOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::SwigluParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->gu_bytes})) return std::move(*r);
    return finish<SwigluOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::KvAppendParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->src_bytes, p->cache_bytes})) return std::move(*r);
    if (p->slots > INT_MAX || p->capacity > INT_MAX)
      return answer(OpPlan::kUnsupported, "kv_append.v1 on opencl: slots and capacity must fit an i32");
    return finish<KvAppendOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::EmbeddingParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->table_bytes, p->y_bytes})) return std::move(*r);
    if (p->vocab > INT_MAX)
      return answer(OpPlan::kUnsupported, "embedding.v1 on opencl: vocab must fit an i32");
    return finish<EmbeddingOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::ArgmaxParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<ArgmaxOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::EltwiseParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->in_bytes, p->out_bytes})) return std::move(*r);
    if (!storage_of(p->dtype_out))
      return answer(OpPlan::kUnsupported, std::string("eltwise.v1 on opencl: dtype_out ") +
                                              sdk::dtype_name(p->dtype_out) + " is not supported");
    return finish<EltwiseOp>(device, *p, *storage_of(p->dtype), create, params, num_params,
                             *storage_of(p->dtype_out));
  }
  if (auto* p = std::get_if<sdk::AttentionParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->q_bytes, p->cache_bytes})) return std::move(*r);
    if (p->head_dim > 256 || p->slots > INT_MAX || p->capacity > INT_MAX)
      return answer(OpPlan::kUnsupported,
                    "attention.v1 on opencl: head_dim above 256 (per-item accumulators) or slots/capacity "
                    "beyond i32 are not supported");
    return finish<AttentionOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  return answer(OpPlan::kUnsupported, n + " is not implemented by the opencl plugin");
}

}  // namespace cmeter::opencl
