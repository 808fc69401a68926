// plugins/vulkan/infer_ops.cpp - the ABI 1.1 inference ops on Vulkan: rmsnorm, rope, softmax, swiglu,
// kv_append, embedding, argmax and eltwise (docs/abi-keys.md, "Op catalogue 1.1"); gemm.v1 with
// offsets is ops.cpp's. attention.v1 (optional) is answered unsupported: the core composes it.
//
// Why this file exists: it turns the parameters parsed by the SDK (cmeter/plugin_ops.hpp, so a
// malformed request is INVALID_ARGUMENT exactly as in every plugin) into dispatches of the shaders
// rmsnorm/softmax/argmax/rope/swiglu/gather/eltwise.comp, one SPIR-V variant per storage type
// compiled at build time. f32 runs everywhere; f16 and bf16 are stored as uint16_t and need 16-bit
// storage (storageBuffer16BitAccess), converted in the shader by integer operations so rounding is to
// nearest even on every driver; another catalogue dtype, or a size past the shaders' 32-bit element
// indices or the device's largest allocation, is unsupported with the reason. Shapes are fixed at
// op_create (pipelines from the device's cache, rope's frequency table); per-call values (positions,
// slots, lengths, ids) are read by the shaders from device buffers, out-of-range ones handled there as
// the catalogue says. op_enqueue checks the buffers (too small: INVALID_ARGUMENT) and records one
// dispatch.
#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ops.hpp"

namespace cmeter::vulkan {
namespace {

using sdk::DType;

// SPIR-V words, from glslc -mfmt=num (plugins/vulkan/CMakeLists.txt).
constexpr uint32_t kRmsnormF32[] = {
#include "shaders/rmsnorm_f32.inc"
};
constexpr uint32_t kRmsnormF16[] = {
#include "shaders/rmsnorm_f16.inc"
};
constexpr uint32_t kRmsnormBf16[] = {
#include "shaders/rmsnorm_bf16.inc"
};
constexpr uint32_t kSoftmaxF32[] = {
#include "shaders/softmax_f32.inc"
};
constexpr uint32_t kSoftmaxF16[] = {
#include "shaders/softmax_f16.inc"
};
constexpr uint32_t kSoftmaxBf16[] = {
#include "shaders/softmax_bf16.inc"
};
constexpr uint32_t kArgmaxF32[] = {
#include "shaders/argmax_f32.inc"
};
constexpr uint32_t kArgmaxF16[] = {
#include "shaders/argmax_f16.inc"
};
constexpr uint32_t kArgmaxBf16[] = {
#include "shaders/argmax_bf16.inc"
};
constexpr uint32_t kRopeF32[] = {
#include "shaders/rope_f32.inc"
};
constexpr uint32_t kRopeF16[] = {
#include "shaders/rope_f16.inc"
};
constexpr uint32_t kRopeBf16[] = {
#include "shaders/rope_bf16.inc"
};
constexpr uint32_t kSwigluF32[] = {
#include "shaders/swiglu_f32.inc"
};
constexpr uint32_t kSwigluF16[] = {
#include "shaders/swiglu_f16.inc"
};
constexpr uint32_t kSwigluBf16[] = {
#include "shaders/swiglu_bf16.inc"
};
constexpr uint32_t kGatherW32[] = {
#include "shaders/gather_w32.inc"
};
constexpr uint32_t kGatherW16[] = {
#include "shaders/gather_w16.inc"
};
constexpr uint32_t kEltF32F32[] = {
#include "shaders/eltwise_f32_f32.inc"
};
constexpr uint32_t kEltF32F16[] = {
#include "shaders/eltwise_f32_f16.inc"
};
constexpr uint32_t kEltF32Bf16[] = {
#include "shaders/eltwise_f32_bf16.inc"
};
constexpr uint32_t kEltF16F32[] = {
#include "shaders/eltwise_f16_f32.inc"
};
constexpr uint32_t kEltF16F16[] = {
#include "shaders/eltwise_f16_f16.inc"
};
constexpr uint32_t kEltF16Bf16[] = {
#include "shaders/eltwise_f16_bf16.inc"
};
constexpr uint32_t kEltBf16F32[] = {
#include "shaders/eltwise_bf16_f32.inc"
};
constexpr uint32_t kEltBf16F16[] = {
#include "shaders/eltwise_bf16_f16.inc"
};
constexpr uint32_t kEltBf16Bf16[] = {
#include "shaders/eltwise_bf16_bf16.inc"
};

// The variant of a shader for a storage type (f32, f16, bf16).
struct ByType {
  Spirv f32, f16, bf16;
  Spirv of(DType t) const { return t == DType::kF32 ? f32 : t == DType::kF16 ? f16 : bf16; }
};
const ByType kRmsnorm{spirv(kRmsnormF32), spirv(kRmsnormF16), spirv(kRmsnormBf16)};
const ByType kSoftmax{spirv(kSoftmaxF32), spirv(kSoftmaxF16), spirv(kSoftmaxBf16)};
const ByType kArgmax{spirv(kArgmaxF32), spirv(kArgmaxF16), spirv(kArgmaxBf16)};
const ByType kRope{spirv(kRopeF32), spirv(kRopeF16), spirv(kRopeBf16)};
const ByType kSwiglu{spirv(kSwigluF32), spirv(kSwigluF16), spirv(kSwigluBf16)};
const ByType kEltFrom[] = {{spirv(kEltF32F32), spirv(kEltF32F16), spirv(kEltF32Bf16)},
                           {spirv(kEltF16F32), spirv(kEltF16F16), spirv(kEltF16Bf16)},
                           {spirv(kEltBf16F32), spirv(kEltBf16F16), spirv(kEltBf16Bf16)}};
// eltwise.v1 reading `in` and writing `out`.
Spirv eltwise_spirv(DType in, DType out) {
  return kEltFrom[in == DType::kF32 ? 0 : in == DType::kF16 ? 1 : 2].of(out);
}

// Element kernels run 64 invocations per work-group (infer.glsl, gather.comp, eltwise.comp).
constexpr uint32_t kItemLocal = 64;

bool is_storage_type(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
}

// What every op checks: its storage types, 16-bit storage for f16 and bf16, and that every tensor fits
// the device's largest allocation and the shaders' 32-bit element indices (`elements`: the largest
// element count an index reaches). An empty optional: supported so far.
std::optional<OpPlan> refuse(const char* name, const DeviceState& d, std::initializer_list<DType> types,
                             std::initializer_list<uint64_t> buffer_bytes, uint64_t elements) {
  for (DType t : types) {
    if (!is_storage_type(t))
      return unsupported(std::string(name) + ": dtype " + sdk::dtype_name(t) +
                         " is not offered (f32; f16 and bf16 with 16-bit storage)");
    if (t != DType::kF32 && !d.info.storage16)
      return unsupported(std::string(name) + ": " + sdk::dtype_name(t) +
                         " is stored as uint16_t and needs storageBuffer16BitAccess, which " + d.label +
                         " lacks");
  }
  for (uint64_t bytes : buffer_bytes)
    if (bytes > d.info.max_alloc_bytes)
      return unsupported(std::string(name) + ": a buffer of " + std::to_string(bytes) +
                         " bytes exceeds the device's largest allocation (maxMemoryAllocationSize " +
                         std::to_string(d.info.max_alloc_bytes) + ")");
  if (elements >= kMaxIndex)
    return unsupported(std::string(name) +
                       ": a tensor spans 2^32 elements or more (the shaders' indices are 32-bit)");
  return std::nullopt;
}

// Work items per row work-group of the row kernels (rmsnorm, softmax, argmax): a power of two, by
// default the SIMD width on CPU devices (lavapipe runs one 8-lane slice per work-group: no switching
// between slices at the reductions' barriers) and 128 elsewhere; hint.vulkan.row_local chooses
// (another value than a power of two in 1..1024 is INVALID_ARGUMENT). Capped by the device.
std::optional<uint32_t> row_local(const DeviceState& d, const CMTR_KeyValue* params, size_t n,
                                  std::string* invalid) {
  const auto& lim = d.info.props.limits;
  const uint32_t sg = d.info.subgroup_size;
  int64_t local = d.info.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU
                      ? (sg >= 1 && sg <= 64 && (sg & (sg - 1)) == 0 ? sg : 8)
                      : 128;
  if (auto hint = sdk::int_hint(params, n, "hint.vulkan.row_local")) {
    if (*hint < 1 || *hint > 1024 || (*hint & (*hint - 1)) != 0) {
      *invalid = "hint.vulkan.row_local must be a power of two in 1..1024, got " + std::to_string(*hint);
      return std::nullopt;
    }
    local = *hint;
  }
  while (local > 1 && (static_cast<uint64_t>(local) > lim.maxComputeWorkGroupInvocations ||
                       static_cast<uint64_t>(local) > lim.maxComputeWorkGroupSize[0] ||
                       static_cast<uint64_t>(local) * 8 > lim.maxComputeSharedMemorySize))
    local /= 2;
  return static_cast<uint32_t>(local);
}

// Work-groups of a row kernel: one per row, at most the device's limit (the shader loops over rows).
uint32_t row_groups(const DeviceState& d, int64_t rows) {
  return static_cast<uint32_t>(
      std::max<int64_t>(1, std::min<int64_t>(rows, d.info.props.limits.maxComputeWorkGroupCount[0])));
}

std::string storage_words(DType t) {
  return t == DType::kF32 ? "f32 storage" : std::string(sdk::dtype_name(t)) + " storage as uint16_t";
}

uint32_t u32(int64_t v) {
  return static_cast<uint32_t>(v);
}

// What the ops share: the buffer checks of an enqueue (count, live buffers of the device, sizes).
class InferOp : public Op {
 public:
  InferOp(const char* name, std::vector<sdk::BufferNeed> needs) : name_(name), needs_(std::move(needs)) {}
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    return check_list(name_, device, buffers, num_buffers, needs_);
  }

 protected:
  std::string what() const { return std::string(name_) + " op_create"; }
  // `impl` says what runs, independent of the shape (the inference report groups ops by it);
  // copies say so instead of "f32 arithmetic".
  void describe(const std::string& how, DType t, uint32_t local, bool copy = false) {
    attributes.set("impl", "vulkan shader: " + how + ", " + storage_words(t) +
                               (copy ? ", bits copied" : ", f32 arithmetic") + ", " + std::to_string(local) +
                               " invocations per work-group");
    attributes.set("vulkan.local_size", static_cast<int64_t>(local));
    attributes.set("vulkan.work_groups", static_cast<int64_t>(groups_));
  }
  const char* name_;
  std::vector<sdk::BufferNeed> needs_;
  const Pipeline* pipeline_ = nullptr;
  uint32_t groups_ = 1;
};

// ---- rmsnorm.v1 ----

class RmsNormOp final : public InferOp {
  struct Push {
    uint64_t x, w, y;
    uint32_t rows, dim;
    float eps;
    uint32_t pad;
  };

 public:
  explicit RmsNormOp(const sdk::RmsNormParams& p) : InferOp("rmsnorm.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d, uint32_t local) {
    groups_ = row_groups(d, p_.rows);
    describe("one work-group per row, the sum of squares by an f32 tree reduction", p_.dtype, local);
    return d.pipeline(what(), kRmsnorm.of(p_.dtype), {local, local}, sizeof(Push), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const Push push{b[0]->alloc.address,
                    b[1]->alloc.address,
                    b[2]->alloc.address,
                    u32(p_.rows),
                    u32(p_.dim),
                    static_cast<float>(p_.eps),
                    0};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::RmsNormParams p_;
};

// ---- softmax.v1 ----

class SoftmaxOp final : public InferOp {
  struct Push {
    uint64_t x, y, len;
    uint32_t rows, cols;
    float scale;
    uint32_t pad;
  };

 public:
  explicit SoftmaxOp(const sdk::SoftmaxParams& p) : InferOp("softmax.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d, uint32_t local) {
    groups_ = row_groups(d, p_.rows);
    describe(std::string("one work-group per row, max and sum by f32 tree reductions") +
                 (p_.lengths ? ", per-row lengths" : ""),
             p_.dtype, local);
    return d.pipeline(what(), kSoftmax.of(p_.dtype), {local, local, p_.lengths ? 1u : 0u}, sizeof(Push),
                      &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    // Without LEN the shader never reads `len`; X stands in for it.
    const Push push{b[0]->alloc.address,
                    b[1]->alloc.address,
                    (p_.lengths ? b[2] : b[0])->alloc.address,
                    u32(p_.rows),
                    u32(p_.cols),
                    static_cast<float>(p_.scale),
                    0};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::SoftmaxParams p_;
};

// ---- argmax.v1 ----

class ArgmaxOp final : public InferOp {
  struct Push {
    uint64_t x, out;
    uint32_t rows, cols;
  };

 public:
  explicit ArgmaxOp(const sdk::ArgmaxParams& p) : InferOp("argmax.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d, uint32_t local) {
    groups_ = row_groups(d, p_.rows);
    describe("one work-group per row, (value, lowest index) candidates by a tree reduction", p_.dtype, local);
    return d.pipeline(what(), kArgmax.of(p_.dtype), {local, local}, sizeof(Push), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const Push push{b[0]->alloc.address, b[1]->alloc.address, u32(p_.rows), u32(p_.cols)};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::ArgmaxParams p_;
};

// ---- rope.v1 ----

class RopeOp final : public InferOp {
  struct Push {
    uint64_t x, pos, turns;
    uint32_t rows, heads, head_dim, pad;
  };

 public:
  RopeOp(const sdk::RopeParams& p, DeviceState& d) : InferOp("rope.v1", p.buffer_needs()), p_(p), d_(d) {}
  ~RopeOp() override {
    if (turns_.buffer != VK_NULL_HANDLE) d_.release(turns_);
  }
  CMTR_Error* init() {
    // Pair i turns by theta^(-2i/head_dim) / (2 pi) per position: a 64-bit fraction (low word, high
    // word), from long double (64-bit significand), so POS times it modulo one turn is exact integer
    // arithmetic in the shader.
    const int64_t half = p_.head_dim / 2;
    if (CMTR_Error* e = d_.allocate(what() + " (frequency table) on " + d_.label,
                                    static_cast<uint64_t>(half) * 8, true, &turns_))
      return e;
    const long double two_pi = 6.283185307179586476925286766559005768L;
    auto* words = static_cast<uint32_t*>(turns_.mapped);
    for (int64_t i = 0; i < half; ++i) {
      const long double f =
          std::pow(static_cast<long double>(p_.theta),
                   -2.0L * static_cast<long double>(i) / static_cast<long double>(p_.head_dim));
      const auto t = static_cast<uint64_t>(std::llround(std::ldexp(f / two_pi, 64)));  // < 2^63: f <= 1
      words[2 * i] = static_cast<uint32_t>(t);
      words[2 * i + 1] = static_cast<uint32_t>(t >> 32);
    }
    const bool interleaved = p_.layout == sdk::RopeLayout::kInterleaved;
    groups_ = groups_for(d_.info, static_cast<uint64_t>(p_.rows * half), kItemLocal);
    describe(std::string("one invocation per pair and row, rotating that pair in every head (") +
                 (interleaved ? "interleaved" : "half") +
                 " layout); the angle reduced exactly (64-bit fixed-point turns), sine and cosine by f32 "
                 "polynomials",
             p_.dtype, kItemLocal);
    return d_.pipeline(what(), kRope.of(p_.dtype), {interleaved ? 1u : 0u}, sizeof(Push), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const Push push{b[0]->alloc.address,
                    b[1]->alloc.address,
                    turns_.address,
                    u32(p_.rows),
                    u32(p_.heads),
                    u32(p_.head_dim),
                    0};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::RopeParams p_;
  DeviceState& d_;
  Allocation turns_;
};

// ---- swiglu.v1 ----

class SwigluOp final : public InferOp {
  struct Push {
    uint64_t gu, y;
    uint32_t rows, dim;
  };

 public:
  explicit SwigluOp(const sdk::SwigluParams& p) : InferOp("swiglu.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    groups_ = groups_for(d.info, static_cast<uint64_t>(p_.rows * p_.dim), kItemLocal);
    describe("one invocation per output element", p_.dtype, kItemLocal);
    return d.pipeline(what(), kSwiglu.of(p_.dtype), {}, sizeof(Push), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const Push push{b[0]->alloc.address, b[1]->alloc.address, u32(p_.rows), u32(p_.dim)};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::SwigluParams p_;
};

// ---- kv_append.v1 and embedding.v1: gather.comp, bit-for-bit copies ----

struct GatherPush {
  uint64_t src, dst, idx, pos;
  uint32_t rows, heads, dim, slots, capacity, pad;
};

Spirv gather_spirv(DType t) {
  return sdk::dtype_size_bytes(t) == 2 ? spirv(kGatherW16) : spirv(kGatherW32);
}

class KvAppendOp final : public InferOp {
 public:
  explicit KvAppendOp(const sdk::KvAppendParams& p) : InferOp("kv_append.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    groups_ = groups_for(d.info, static_cast<uint64_t>(p_.rows * p_.kv_heads * p_.head_dim), kItemLocal);
    describe("a copy into the cache, one invocation per element of SRC", p_.dtype, kItemLocal, true);
    return d.pipeline(what(), gather_spirv(p_.dtype), {0u}, sizeof(GatherPush), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const GatherPush push{
        b[0]->alloc.address, b[1]->alloc.address, b[2]->alloc.address, b[3]->alloc.address, u32(p_.rows),
        u32(p_.kv_heads),    u32(p_.head_dim),    u32(p_.slots),       u32(p_.capacity),    0};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::KvAppendParams p_;
};

class EmbeddingOp final : public InferOp {
 public:
  explicit EmbeddingOp(const sdk::EmbeddingParams& p) : InferOp("embedding.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    groups_ = groups_for(d.info, static_cast<uint64_t>(p_.rows * p_.dim), kItemLocal);
    describe("a row gather, one invocation per element of Y", p_.dtype, kItemLocal, true);
    return d.pipeline(what(), gather_spirv(p_.dtype), {1u}, sizeof(GatherPush), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    // TABLE, IDS, Y: the shader's src, idx and dst (pos unused: IDS again); one "head" per row.
    const GatherPush push{b[0]->alloc.address,
                          b[2]->alloc.address,
                          b[1]->alloc.address,
                          b[1]->alloc.address,
                          u32(p_.rows),
                          1u,
                          u32(p_.dim),
                          u32(p_.vocab),
                          0u,
                          0};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::EmbeddingParams p_;
};

// ---- eltwise.v1 ----

class EltwiseOp final : public InferOp {
  struct Push {
    uint64_t a, b, y;
    uint32_t n;
    float scalar;
  };

 public:
  explicit EltwiseOp(const sdk::EltwiseParams& p) : InferOp("eltwise.v1", p.buffer_needs()), p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    groups_ = groups_for(d.info, static_cast<uint64_t>(p_.n), kItemLocal);
    const bool cast = p_.kind == sdk::EltwiseKind::kCast;
    describe(p_.kind_name +
                 (cast ? std::string(" to ") + sdk::dtype_name(p_.dtype_out) +
                             (p_.dtype_out == p_.dtype ? " (a bit-for-bit copy)" : "")
                       : std::string()) +
                 ", one invocation per element",
             p_.dtype, kItemLocal, cast && p_.dtype_out == p_.dtype);
    return d.pipeline(what(), eltwise_spirv(p_.dtype, p_.dtype_out), {static_cast<uint32_t>(p_.kind)},
                      sizeof(Push), &pipeline_);
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const bool binary = p_.kind == sdk::EltwiseKind::kAdd || p_.kind == sdk::EltwiseKind::kMul;
    // Scale and cast take [A, Y]: A stands in for B, which they never read.
    const Push push{b[0]->alloc.address, (binary ? b[1] : b[0])->alloc.address,
                    (binary ? b[2] : b[1])->alloc.address, u32(p_.n), static_cast<float>(p_.scalar)};
    pipeline_->dispatch(cmd, &push, groups_);
    return nullptr;
  }

 private:
  sdk::EltwiseParams p_;
};

// Creates the op (with `create`) or answers the query.
template <class OpT, class... Init>
OpPlan make(bool create, std::unique_ptr<OpT> op, Init&&... init) {
  if (!create) return finish<OpT>(nullptr, nullptr);
  CMTR_Error* e = op->init(std::forward<Init>(init)...);
  return finish(std::move(op), e);
}

uint64_t product(std::initializer_list<int64_t> dims) {
  uint64_t p = 1;
  for (int64_t d : dims) p *= static_cast<uint64_t>(d);  // parse checked the byte counts: no overflow
  return p;
}

}  // namespace

OpPlan plan_inference_op(DeviceState& d, std::string_view name, const CMTR_KeyValue* params, size_t n,
                         bool create) {
  auto parsed = sdk::parse_inference_op(name, params, n);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const std::string op(name);
  // The row kernels' work-group size (a bad hint is invalid for every op that takes it).
  auto local_for = [&](uint32_t* local) -> std::optional<OpPlan> {
    std::string invalid;
    auto l = row_local(d, params, n, &invalid);
    if (!l) return invalid_plan(op + ": " + invalid);
    *local = *l;
    return std::nullopt;
  };
  uint32_t local = 1;
  if (auto* p = std::get_if<sdk::RmsNormParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->x_bytes}, product({p->rows, p->dim})))
      return std::move(*r);
    if (auto r = local_for(&local)) return std::move(*r);
    return make(create, std::make_unique<RmsNormOp>(*p), d, local);
  }
  if (auto* p = std::get_if<sdk::SoftmaxParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->x_bytes}, product({p->rows, p->cols})))
      return std::move(*r);
    if (auto r = local_for(&local)) return std::move(*r);
    return make(create, std::make_unique<SoftmaxOp>(*p), d, local);
  }
  if (auto* p = std::get_if<sdk::ArgmaxParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->x_bytes}, product({p->rows, p->cols})))
      return std::move(*r);
    if (auto r = local_for(&local)) return std::move(*r);
    return make(create, std::make_unique<ArgmaxOp>(*p), d, local);
  }
  if (auto* p = std::get_if<sdk::RopeParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->x_bytes}, product({p->rows, p->heads, p->head_dim})))
      return std::move(*r);
    if (!create) return finish<RopeOp>(nullptr, nullptr);
    return make(create, std::make_unique<RopeOp>(*p, d));
  }
  if (auto* p = std::get_if<sdk::SwigluParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->gu_bytes}, product({p->rows, p->dim, 2})))
      return std::move(*r);
    return make(create, std::make_unique<SwigluOp>(*p), d);
  }
  if (auto* p = std::get_if<sdk::KvAppendParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->src_bytes, p->cache_bytes},
                        std::max(product({p->rows, p->kv_heads, p->head_dim}),
                                 product({p->slots, p->kv_heads, p->capacity, p->head_dim}))))
      return std::move(*r);
    if (p->slots > INT_MAX || p->capacity > INT_MAX)
      return unsupported(
          "kv_append.v1: slots and capacity must fit an i32 (the shader compares SLOT and POS)");
    return make(create, std::make_unique<KvAppendOp>(*p), d);
  }
  if (auto* p = std::get_if<sdk::EmbeddingParams>(&parsed.value)) {
    if (auto r = refuse(op.c_str(), d, {p->dtype}, {p->table_bytes, p->y_bytes},
                        std::max(product({p->vocab, p->dim}), product({p->rows, p->dim}))))
      return std::move(*r);
    if (p->vocab > INT_MAX)
      return unsupported("embedding.v1: vocab must fit an i32 (the shader compares IDS)");
    return make(create, std::make_unique<EmbeddingOp>(*p), d);
  }
  if (auto* p = std::get_if<sdk::EltwiseParams>(&parsed.value)) {
    if (auto r =
            refuse(op.c_str(), d, {p->dtype, p->dtype_out}, {p->in_bytes, p->out_bytes}, product({p->n})))
      return std::move(*r);
    return make(create, std::make_unique<EltwiseOp>(*p), d);
  }
  if (std::holds_alternative<sdk::AttentionParams>(parsed.value))
    return unsupported(
        "attention.v1 (optional) is not implemented by the vulkan plugin; the core composes attention from "
        "kv_append.v1, gemm.v1 and softmax.v1");
  return unsupported(op + " is not implemented by the vulkan plugin");
}

}  // namespace cmeter::vulkan
