// plugins/vulkan/ops.cpp - parameter checking, pipelines and dispatch of the Vulkan plugin's ops.
//
// Why this file exists: it turns the catalogue of docs/abi-keys.md into compute dispatches of the
// shaders in shaders/ (compiled to SPIR-V by glslc at build time and embedded here). Parameters are
// parsed by the SDK's contracts (cmeter/plugin_ops.hpp), so a malformed request is INVALID_ARGUMENT as
// in every plugin; what this device cannot run (f16 and bf16 without 16-bit storage, f64 without
// shaderFloat64, sizes beyond 32-bit element indices or the dispatch limits) is unsupported, with
// the reason. Buffers reach the shaders as device addresses in push constants (no descriptor sets).
// Pipelines come from the device's cache (DeviceState::pipeline). The 1.1 inference ops are planned
// in infer_ops.cpp.
#include <cmeter/plugin_ops.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops.hpp"

namespace cmeter::vulkan {

// The checks of an enqueue's buffers: the count, live buffers of this device, the sizes.
CMTR_Error* check_list(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                       size_t num_buffers, const std::vector<sdk::BufferNeed>& needs) {
  if (CMTR_Error* e = sdk::check_buffer_count(op, buffers, num_buffers, needs)) return e;
  for (size_t i = 0; i < num_buffers; ++i) {
    const CMTR_Buffer* b = buffers[i];
    const std::string which = std::string(op) + ": buffer " + std::to_string(i) + " (" + needs[i].role + ")";
    if (b == nullptr || b->magic != kBufferMagic)
      return sdk::invalid(which + " is NULL or not a live vulkan buffer");
    if (b->device != device) return sdk::invalid(which + " belongs to another device");
    if (CMTR_Error* e = sdk::check_buffer_size(op, i, needs[i], b->size_bytes)) return e;
  }
  return nullptr;
}

// Work-groups for a grid-stride loop over `count` items, `local` per group.
uint32_t groups_for(const DeviceInfo& info, uint64_t count, uint32_t local) {
  const uint64_t want = (count + local - 1) / local;
  return static_cast<uint32_t>(
      std::max<uint64_t>(1, std::min<uint64_t>(want, info.props.limits.maxComputeWorkGroupCount[0])));
}

namespace {

// SPIR-V words, from glslc -mfmt=num (plugins/vulkan/CMakeLists.txt).
constexpr uint32_t kNoopSpv[] = {
#include "shaders/noop.inc"
};
constexpr uint32_t kFmaF32Spv[] = {
#include "shaders/fma_peak_f32.inc"
};
constexpr uint32_t kFmaF16Spv[] = {
#include "shaders/fma_peak_f16.inc"
};
constexpr uint32_t kFmaF64Spv[] = {
#include "shaders/fma_peak_f64.inc"
};
constexpr uint32_t kStreamF32Spv[] = {
#include "shaders/stream_f32.inc"
};
constexpr uint32_t kStreamF64Spv[] = {
#include "shaders/stream_f64.inc"
};
constexpr uint32_t kCopySpv[] = {
#include "shaders/copy.inc"
};
constexpr uint32_t kGemmF32Spv[] = {
#include "shaders/gemm_f32.inc"
};
constexpr uint32_t kGemmF16F16Spv[] = {
#include "shaders/gemm_f16_f16.inc"
};
constexpr uint32_t kGemmF64Spv[] = {
#include "shaders/gemm_f64.inc"
};
constexpr uint32_t kGemmF16F32Spv[] = {
#include "shaders/gemm_f16_f32.inc"
};
constexpr uint32_t kGemmBf16Bf16Spv[] = {
#include "shaders/gemm_bf16_bf16.inc"
};
constexpr uint32_t kGemmBf16F32Spv[] = {
#include "shaders/gemm_bf16_f32.inc"
};
constexpr uint32_t kGemmRbF32F32Spv[] = {
#include "shaders/gemm_rb_f32_f32.inc"
};
constexpr uint32_t kGemmRbF16F16Spv[] = {
#include "shaders/gemm_rb_f16_f16.inc"
};
constexpr uint32_t kGemmRbF16F32Spv[] = {
#include "shaders/gemm_rb_f16_f32.inc"
};
constexpr uint32_t kGemmRbBf16Bf16Spv[] = {
#include "shaders/gemm_rb_bf16_bf16.inc"
};
constexpr uint32_t kGemmRbBf16F32Spv[] = {
#include "shaders/gemm_rb_bf16_f32.inc"
};
constexpr uint32_t kGemmRbwF32F32Spv[] = {
#include "shaders/gemm_rbw_f32_f32.inc"
};
constexpr uint32_t kGemmRbwF16F16Spv[] = {
#include "shaders/gemm_rbw_f16_f16.inc"
};
constexpr uint32_t kGemmRbwF16F32Spv[] = {
#include "shaders/gemm_rbw_f16_f32.inc"
};
constexpr uint32_t kGemmRbwBf16Bf16Spv[] = {
#include "shaders/gemm_rbw_bf16_bf16.inc"
};
constexpr uint32_t kGemmRbwBf16F32Spv[] = {
#include "shaders/gemm_rbw_bf16_f32.inc"
};

using sdk::OpStatus;

// binary16 rounding (to nearest even) of a float, returned as the float it equals.
float round_to_f16(float f) {
  if (!std::isfinite(f) || f == 0) return f;
  int e = 0;
  std::frexp(f, &e);
  const int unit_exp = std::max(e - 11, -24);
  const float q = std::ldexp(1.0f, unit_exp);
  const float r = std::nearbyint(f / q) * q;
  return std::fabs(r) > 65504.0f ? std::copysign(INFINITY, f) : r;
}

// ---- noop.v1 ----

class NoopOp final : public Op {
 public:
  CMTR_Error* init(DeviceState& d) {
    attributes.set("impl", "vulkan: vkCmdDispatch(1, 1, 1) of an empty compute shader");
    return d.pipeline("noop.v1 op_create", spirv(kNoopSpv), {}, 0, &pipeline_);
  }
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t n) override {
    return check_list("noop.v1", device, buffers, n, {});
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const*, size_t) override {
    pipeline_->dispatch(cmd, nullptr, 1);
    return nullptr;
  }

 private:
  const Pipeline* pipeline_ = nullptr;
};

// ---- fma_peak.v1 ----

class FmaPeakOp final : public Op {
  // The shader's push constants (std430: the f64 form's doubles at 8-byte offsets).
  struct Push32 {
    uint64_t out, init;
    uint32_t items, iters;
    float a, b, item_dx;
    uint32_t item_period;
  };
  struct Push64 {
    uint64_t out, init;
    uint32_t items, iters;
    double a, b, item_dx;
    uint32_t item_period, pad;
  };

 public:
  FmaPeakOp(const sdk::FmaPeakParams& p, DeviceState& d, bool fused) : p_(p), d_(d), fused_(fused) {}
  ~FmaPeakOp() override {
    if (init_.buffer != VK_NULL_HANDLE) d_.release(init_);
  }
  CMTR_Error* init() {
    const std::string what = "fma_peak.v1 op_create";
    const bool f64 = p_.dtype == "f64", f16 = p_.dtype == "f16";
    // The lanes' start values x0 + l*dx, rounded to the dtype on the host as the core's reference does.
    if (CMTR_Error* e =
            d_.allocate(what + " (start values)", static_cast<uint64_t>(p_.lanes) * 8, true, &init_))
      return e;
    for (int64_t l = 0; l < p_.lanes; ++l) {
      const double x = p_.x0 + static_cast<double>(l) * p_.dx;
      if (f64)
        static_cast<double*>(init_.mapped)[l] = x;
      else
        static_cast<float*>(init_.mapped)[l] =
            f16 ? round_to_f16(static_cast<float>(x)) : static_cast<float>(x);
    }
    const Spirv code = f64 ? spirv(kFmaF64Spv) : f16 ? spirv(kFmaF16Spv) : spirv(kFmaF32Spv);
    groups_ = groups_for(d_.info, static_cast<uint64_t>(p_.items), 64);
    const char* type = f64 ? "double" : f16 ? "float16_t" : "float";
    attributes.set("impl", std::string("vulkan shader: ") + std::to_string(p_.lanes) + " independent " +
                               type + " fma chains per invocation, 64 per work-group, " +
                               std::to_string(groups_) + " work-groups (grid-stride)" +
                               (fused_ ? "" : "; fma() rounds the product first (unfused)"));
    attributes.set("fma.fused", static_cast<int64_t>(fused_ ? 1 : 0));
    return d_.pipeline(what, code, {static_cast<uint32_t>(p_.lanes)},
                       static_cast<uint32_t>(f64 ? sizeof(Push64) : sizeof(Push32)), &pipeline_);
  }
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t n) override {
    return check_list("fma_peak.v1", device, buffers, n, {{"OUT", static_cast<uint64_t>(p_.items) * 4}});
  }
  void record_to(VkCommandBuffer cmd, VkDeviceAddress out) {
    const auto items = static_cast<uint32_t>(p_.items), iters = static_cast<uint32_t>(p_.iters);
    const auto period = static_cast<uint32_t>(p_.item_period);
    if (p_.dtype == "f64") {
      const Push64 push{out, init_.address, items, iters, p_.a, p_.b, p_.item_dx, period};
      pipeline_->dispatch(cmd, &push, groups_);
    } else {
      const Push32 push{out,
                        init_.address,
                        items,
                        iters,
                        static_cast<float>(p_.a),
                        static_cast<float>(p_.b),
                        static_cast<float>(p_.item_dx),
                        period};
      pipeline_->dispatch(cmd, &push, groups_);
    }
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* buffers, size_t) override {
    record_to(cmd, buffers[0]->alloc.address);
    return nullptr;
  }

 private:
  sdk::FmaPeakParams p_;
  DeviceState& d_;
  bool fused_ = true;
  Allocation init_;
  const Pipeline* pipeline_ = nullptr;
  uint32_t groups_ = 1;
};

// ---- stream.v1 ----

class StreamOp final : public Op {
 public:
  explicit StreamOp(const sdk::StreamParams& p) : p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    const bool f64 = p_.dtype == "f64";
    groups_ = groups_for(d.info, static_cast<uint64_t>(p_.n) / 4, 256);  // 4 elements per invocation
    attributes.set("impl", std::string("vulkan shader: ") + p_.kind_name + " over " +
                               (f64 ? "dvec4" : "vec4") + " (then the n % 4 tail), 256 per work-group, " +
                               std::to_string(groups_) + " work-groups (grid-stride)");
    return d.pipeline("stream.v1 op_create", f64 ? spirv(kStreamF64Spv) : spirv(kStreamF32Spv),
                      {static_cast<uint32_t>(p_.kind)}, f64 ? 40 : 32, &pipeline_);
  }
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t n) override {
    const uint64_t bytes = static_cast<uint64_t>(p_.n) * (p_.dtype == "f64" ? 8 : 4);
    return check_list("stream.v1", device, buffers, n, {{"A", bytes}, {"B", bytes}, {"C", bytes}});
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    struct Push32 {
      uint64_t a, b, c;
      uint32_t n;
      float s;
    };
    struct Push64 {
      uint64_t a, b, c;
      uint32_t n, pad;
      double s;
    };
    const auto n = static_cast<uint32_t>(p_.n);
    if (p_.dtype == "f64") {
      const Push64 push{b[0]->alloc.address, b[1]->alloc.address, b[2]->alloc.address, n, 0, p_.scalar};
      pipeline_->dispatch(cmd, &push, groups_);
    } else {
      const Push32 push{b[0]->alloc.address, b[1]->alloc.address, b[2]->alloc.address, n,
                        static_cast<float>(p_.scalar)};
      pipeline_->dispatch(cmd, &push, groups_);
    }
    return nullptr;
  }

 private:
  sdk::StreamParams p_;
  const Pipeline* pipeline_ = nullptr;
  uint32_t groups_ = 1;
};

// ---- copy.v1 ----

class CopyOp final : public Op {
 public:
  explicit CopyOp(const sdk::CopyParams& p) : p_(p) {}
  CMTR_Error* init(DeviceState& d) {
    const auto bytes = static_cast<uint64_t>(p_.size_bytes);
    words_ = bytes / 16;
    kernel_ = p_.engine != "copy_engine";
    attributes.set("engine", kernel_ ? "kernel" : "copy_engine");
    if (!kernel_) {
      attributes.set("impl", "vulkan: vkCmdCopyBuffer");
      return nullptr;
    }
    groups_ = groups_for(d.info, words_, 256);
    attributes.set("impl", "vulkan shader: uvec4 copy, 256 per work-group, " + std::to_string(groups_) +
                               " work-groups (grid-stride)" +
                               (bytes % 16 != 0
                                    ? "; the last " + std::to_string(bytes % 16) + " bytes by vkCmdCopyBuffer"
                                    : std::string()));
    return d.pipeline("copy.v1 op_create", spirv(kCopySpv), {}, 24, &pipeline_);
  }
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t n) override {
    const auto bytes = static_cast<uint64_t>(p_.size_bytes);
    return check_list("copy.v1", device, buffers, n, {{"SRC", bytes}, {"DST", bytes}});
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    const auto bytes = static_cast<uint64_t>(p_.size_bytes);
    const uint64_t done = kernel_ ? words_ * 16 : 0;
    if (kernel_ && words_ > 0) {
      struct Push {
        uint64_t src, dst;
        uint32_t words, pad;
      } push{b[0]->alloc.address, b[1]->alloc.address, static_cast<uint32_t>(words_), 0};
      pipeline_->dispatch(cmd, &push, groups_);
    }
    if (done < bytes) {
      const VkBufferCopy region{done, done, bytes - done};
      vkCmdCopyBuffer(cmd, b[0]->alloc.buffer, b[1]->alloc.buffer, 1, &region);
    }
    return nullptr;
  }

 private:
  sdk::CopyParams p_;
  const Pipeline* pipeline_ = nullptr;
  bool kernel_ = true;
  uint64_t words_ = 0;
  uint32_t groups_ = 1;
};

// ---- gemm.v1 ----

// Which shader runs a GEMM: the tiled kernel a GPU wants (gemm.comp), or the register-blocked one for
// CPU devices (gemm_rb.comp; lavapipe runs it tens of times faster). Default: by device type;
// hint.vulkan.gemm = auto | tiled | blocked chooses.
enum class GemmKernel { kTiled, kBlocked };

class GemmOp final : public Op {
 public:
  GemmOp(const sdk::GemmParams& g, GemmKernel kernel) : g_(g), kernel_(kernel) {}
  CMTR_Error* init(DeviceState& d) {
    using sdk::DType;
    f64_ = g_.a == DType::kF64;
    const uint32_t ta = g_.trans_a ? 1u : 0u, tb = g_.trans_b ? 1u : 0u;
    const std::string types = std::string(sdk::dtype_name(g_.a)) + " -> " + sdk::dtype_name(g_.c);
    if (kernel_ == GemmKernel::kBlocked) {
      const bool out32 = g_.c == DType::kF32;
      const Spirv code = g_.a == DType::kF32 ? spirv(kGemmRbF32F32Spv)
                         : g_.a == DType::kF16
                             ? (out32 ? spirv(kGemmRbF16F32Spv) : spirv(kGemmRbF16F16Spv))
                             : (out32 ? spirv(kGemmRbBf16F32Spv) : spirv(kGemmRbBf16Bf16Spv));
      nr_ = static_cast<uint32_t>(std::min<int64_t>(4, g_.n));
      // The 64-bit-load form where op(A)'s rows and op(B)'s columns run along k in whole words (the
      // buffers' alignment is checked at enqueue; the plain form stays ready for misaligned ones).
      const int64_t epw = g_.a == DType::kF32 ? 2 : 4;  // elements per 64-bit word
      auto words = [&](int64_t v) { return v % epw == 0; };
      const bool wide = d.info.int64 && g_.trans_a && !g_.trans_b && words(g_.k) && words(g_.lda) &&
                        words(g_.ldb) && words(g_.offset_a) && words(g_.offset_b) &&
                        (g_.batch == 1 || (words(g_.stride_a) && words(g_.stride_b)));
      attributes.set("impl", "vulkan shader: register-blocked gemm (CPU devices), " + types +
                                 ", f32 accumulation, 8 rows x min(4, n) columns of C per invocation, 16 "
                                 "invocations per work-group, no shared memory" +
                                 (wide ? std::string(", A and B read 64 bits at a time") : std::string()));
      if (CMTR_Error* e = d.pipeline("gemm.v1 op_create", code, {ta, tb, nr_}, 80, &pipeline_)) return e;
      if (!wide) return nullptr;
      const Spirv wide_code = g_.a == DType::kF32 ? spirv(kGemmRbwF32F32Spv)
                              : g_.a == DType::kF16
                                  ? (out32 ? spirv(kGemmRbwF16F32Spv) : spirv(kGemmRbwF16F16Spv))
                                  : (out32 ? spirv(kGemmRbwBf16F32Spv) : spirv(kGemmRbwBf16Bf16Spv));
      return d.pipeline("gemm.v1 op_create", wide_code, {ta, tb, nr_}, 80, &wide_);
    }
    const Spirv code = f64_                  ? spirv(kGemmF64Spv)
                       : g_.a == DType::kF32 ? spirv(kGemmF32Spv)
                       : g_.a == DType::kF16
                           ? (g_.c == DType::kF16 ? spirv(kGemmF16F16Spv) : spirv(kGemmF16F32Spv))
                           : (g_.c == DType::kBF16 ? spirv(kGemmBf16Bf16Spv) : spirv(kGemmBf16F32Spv));
    attributes.set("impl", "vulkan shader: tiled gemm, " + types + ", " + (f64_ ? "f64" : "f32") +
                               " accumulation, 64x64 tile per 16x16 work-group (4x4 per invocation), k "
                               "through shared memory 16 at a time");
    return d.pipeline("gemm.v1 op_create", code, {ta, tb}, f64_ ? 88 : 80, &pipeline_);
  }
  CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t n) override {
    return check_list("gemm.v1", device, buffers, n,
                      {{"A", g_.a_bytes}, {"B", g_.b_bytes}, {"C", g_.c_bytes}});
  }
  CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* b, size_t) override {
    struct Push {
      uint64_t a, b, c;
      uint32_t m, n, k, lda, ldb, ldc, sa, sb, sc, oa, ob, oc;
      float alpha, beta;
    };
    struct Push64 {
      uint64_t a, b, c;
      uint32_t m, n, k, lda, ldb, ldc, sa, sb, sc, oa, ob, oc;
      double alpha, beta;
    };
    auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
    const Push push{b[0]->alloc.address,
                    b[1]->alloc.address,
                    b[2]->alloc.address,
                    u(g_.m),
                    u(g_.n),
                    u(g_.k),
                    u(g_.lda),
                    u(g_.ldb),
                    u(g_.ldc),
                    u(g_.stride_a),
                    u(g_.stride_b),
                    u(g_.stride_c),
                    u(g_.offset_a),
                    u(g_.offset_b),
                    u(g_.offset_c),
                    static_cast<float>(g_.alpha),
                    static_cast<float>(g_.beta)};
    const Push64 push64{push.a,  push.b,  push.c,  push.m,  push.n,  push.k,  push.lda, push.ldb, push.ldc,
                        push.sa, push.sb, push.sc, push.oa, push.ob, push.oc, g_.alpha, g_.beta};
    if (kernel_ == GemmKernel::kBlocked) {
      const bool aligned = push.a % 8 == 0 && push.b % 8 == 0;
      const Pipeline* p = wide_ != nullptr && aligned ? wide_ : pipeline_;
      p->dispatch(cmd, &push, u(blocked_groups_x(g_.m)), u((g_.n + nr_ - 1) / nr_), u(g_.batch));
    } else if (f64_) {
      pipeline_->dispatch(cmd, &push64, u((g_.m + 63) / 64), u((g_.n + 63) / 64), u(g_.batch));
    } else {
      pipeline_->dispatch(cmd, &push, u((g_.m + 63) / 64), u((g_.n + 63) / 64), u(g_.batch));
    }
    return nullptr;
  }
  // The blocked kernel's work-groups along m: 8 rows per invocation, 16 invocations per group.
  static int64_t blocked_groups_x(int64_t m) { return ((m + 7) / 8 + 15) / 16; }

 private:
  sdk::GemmParams g_;
  GemmKernel kernel_;
  const Pipeline* pipeline_ = nullptr;
  const Pipeline* wide_ = nullptr;  // the blocked kernel's 64-bit-load form, where it applies
  bool f64_ = false;
  uint32_t nr_ = 4;
};

// ---- Planning ----

OpPlan plan_gemm(DeviceState& d, const CMTR_KeyValue* params, size_t n, bool create) {
  using sdk::DType;
  auto parsed = sdk::parse_gemm(params, n);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::GemmParams& g = parsed.value;
  const auto& lim = d.info.props.limits;
  GemmKernel kernel =
      d.info.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? GemmKernel::kBlocked : GemmKernel::kTiled;
  if (auto hint = sdk::string_hint(params, n, "hint.vulkan.gemm")) {
    if (*hint == "tiled")
      kernel = GemmKernel::kTiled;
    else if (*hint == "blocked")
      kernel = GemmKernel::kBlocked;
    else if (*hint != "auto")
      return invalid_plan("gemm.v1: hint.vulkan.gemm must be auto, tiled or blocked, got '" + *hint + "'");
  }
  if (g.a != g.b) return unsupported("gemm.v1: dtype_a and dtype_b must match");
  if (g.a == DType::kF64) {
    if (g.c != DType::kF64 || g.compute != "f64")
      return unsupported("gemm.v1: f64 inputs run with f64 output and compute only");
    if (!d.info.float64) return unsupported("gemm.v1: f64 needs shaderFloat64, which " + d.label + " lacks");
    if (lim.maxComputeSharedMemorySize < 2 * 16 * 65 * 8)
      return unsupported("gemm.v1: the f64 tiled kernel needs 16.3 KiB of shared memory");
    kernel = GemmKernel::kTiled;  // the only f64 kernel
  } else if (g.a != DType::kF32 && g.a != DType::kF16 && g.a != DType::kBF16) {
    return unsupported(std::string("gemm.v1: ") + sdk::dtype_name(g.a) +
                       " inputs are not offered (f32; f16 and bf16 with 16-bit storage; f64 with "
                       "shaderFloat64)");
  }
  if (g.a != DType::kF64 && g.compute != "f32")
    return unsupported("gemm.v1: compute " + g.compute + " is not offered (f32 accumulation)");
  if (g.c != g.a && g.c != DType::kF32)
    return unsupported(std::string("gemm.v1: dtype_c ") + sdk::dtype_name(g.c) + " with " +
                       sdk::dtype_name(g.a) + " inputs is not offered");
  // 16-bit storage for f16 and bf16; the tiled kernel's f16 also computes with float16_t conversions.
  const bool half = g.a == DType::kF16 || g.a == DType::kBF16;
  if (half && !d.info.storage16)
    return unsupported(std::string("gemm.v1: ") + sdk::dtype_name(g.a) +
                       " needs storageBuffer16BitAccess, which " + d.label + " lacks");
  if (g.a == DType::kF16 && kernel == GemmKernel::kTiled && !d.info.float16)
    return unsupported("gemm.v1: the tiled kernel's f16 needs shaderFloat16, which " + d.label + " lacks");
  if (g.a_bytes / sdk::dtype_size_bytes(g.a) >= kMaxIndex ||
      g.b_bytes / sdk::dtype_size_bytes(g.b) >= kMaxIndex ||
      g.c_bytes / sdk::dtype_size_bytes(g.c) >= kMaxIndex)
    return unsupported(
        "gemm.v1: a matrix buffer spans 2^32 elements or more (the shader's indices are 32-bit)");
  if (kernel == GemmKernel::kBlocked) {
    if (static_cast<uint64_t>(GemmOp::blocked_groups_x(g.m)) > lim.maxComputeWorkGroupCount[0] ||
        static_cast<uint64_t>((g.n + 3) / 4) > lim.maxComputeWorkGroupCount[1] ||
        static_cast<uint64_t>(g.batch) > lim.maxComputeWorkGroupCount[2])
      return unsupported("gemm.v1: m/128, n/4 or batch exceeds maxComputeWorkGroupCount");
  } else {
    if (static_cast<uint64_t>((g.m + 63) / 64) > lim.maxComputeWorkGroupCount[0] ||
        static_cast<uint64_t>((g.n + 63) / 64) > lim.maxComputeWorkGroupCount[1] ||
        static_cast<uint64_t>(g.batch) > lim.maxComputeWorkGroupCount[2])
      return unsupported("gemm.v1: m/64, n/64 or batch exceeds maxComputeWorkGroupCount");
    if (lim.maxComputeWorkGroupInvocations < 256 || lim.maxComputeWorkGroupSize[0] < 16 ||
        lim.maxComputeWorkGroupSize[1] < 16 || lim.maxComputeSharedMemorySize < 2 * 16 * 65 * 4)
      return unsupported("gemm.v1: the tiled kernel needs 16x16 work-groups and 8.3 KiB of shared memory");
  }
  if (!create) return finish<GemmOp>(nullptr, nullptr);
  auto op = std::make_unique<GemmOp>(g, kernel);
  CMTR_Error* e = op->init(d);
  return finish(std::move(op), e);
}

// The host's simulation of one fma_peak item: every lane x = fma(x, a, b) rounded once to dtype
// (fused), or the product rounded to dtype and then the sum (unfused). The probe's values keep every
// product and sum exact in double, so double arithmetic then one rounding per step is exact.
float simulate_fma_item(const sdk::FmaPeakParams& f, bool fused) {
  auto round = [&](double v) -> double {
    if (f.dtype == "f64") return v;
    if (f.dtype == "f32") return static_cast<float>(v);
    return round_to_f16(static_cast<float>(v));  // v exact in float here (few bits)
  };
  float sum = 0;
  for (int64_t l = 0; l < f.lanes; ++l) {
    double x = round(f.x0 + static_cast<double>(l) * f.dx);
    const double a = round(f.a), b = round(f.b);
    for (int64_t r = 0; r < f.iters; ++r) {
      if (f.dtype == "f64") {
        volatile double product = x * a;  // volatile: no contraction into an fma
        x = fused ? std::fma(x, a, b) : static_cast<double>(product) + b;
      } else {
        x = fused ? round(x * a + b) : round(round(x * a) + b);
      }
    }
    sum += static_cast<float>(x);
  }
  return sum;
}

// Whether this device's fma() chains in `dtype` are fused or round the product first (Vulkan allows
// either; lavapipe's f32 does the latter), and the op says which (op attribute `fma.fused`) so the
// core simulates the same chain: one small dispatch, once per device and dtype.
DeviceState::FmaProbe probe_fma(DeviceState& d, const std::string& dtype) {
  std::lock_guard<std::mutex> lock(d.probe_mutex);
  if (auto it = d.fma_probe.find(dtype); it != d.fma_probe.end()) return it->second;
  sdk::FmaPeakParams f;
  f.dtype = dtype;
  f.items = 1;
  f.iters = 256;
  f.lanes = 8;
  // The core's kind of chain: a = 1 + 2^-9 (the product x·a has more bits than the dtype holds) and
  // b below a unit in the last place of x, so a product rounded before the add changes the sum. (A b
  // on x's grid, as this probe used before, adds exactly either way and hid lavapipe's unfused f32.)
  f.a = 1 + 0x1p-9;
  f.x0 = 1;
  f.dx = 1.0 / 8;
  f.b = dtype == "f16" ? 3 * 0x1p-13 : dtype == "f32" ? 3 * 0x1p-26 : 3 * 0x1p-55;
  std::string why;
  bool fused = true;
  FmaPeakOp op(f, d, true);
  Allocation out;
  CMTR_Error* e = op.init();
  if (e == nullptr) e = d.allocate("fma_peak.v1 probe", 4, true, &out);
  if (e == nullptr)
    e = d.run_now("fma_peak.v1 probe", [&](VkCommandBuffer cmd) { op.record_to(cmd, out.address); });
  if (e != nullptr) {
    CMTR_Error_Info_Args info{};
    info.struct_size = sizeof info;
    info.error = e;
    sdk::error_info(&info);
    why = "fma_peak.v1 " + dtype + ": the probe dispatch failed: " + std::string(sdk::view(info.message));
    discard(e);
  } else {
    const float got = *static_cast<const float*>(out.mapped);
    const float want_fused = simulate_fma_item(f, true), want_unfused = simulate_fma_item(f, false);
    if (got == want_unfused && got != want_fused)
      fused = false;
    else if (got != want_fused)
      why = "fma_peak.v1: " + dtype + " fma() on " + d.label + " matches neither a fused nor an unfused " +
            "chain (a probe chain gave " + std::to_string(got) + ", the fused simulation " +
            std::to_string(want_fused) + ", the unfused " + std::to_string(want_unfused) +
            "), so its chain cannot be checked here";
  }
  if (out.buffer != VK_NULL_HANDLE) d.release(out);
  DeviceState::FmaProbe probe{fused, why};
  d.fma_probe[dtype] = probe;
  return probe;
}

OpPlan plan_fma(DeviceState& d, const CMTR_KeyValue* params, size_t n, bool create) {
  auto parsed = sdk::parse_fma_peak(params, n);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::FmaPeakParams& f = parsed.value;
  if (f.dtype == "bf16") return unsupported("fma_peak.v1: bf16 has no arithmetic type in Vulkan shaders");
  if (f.dtype == "f16" && !d.info.float16)
    return unsupported("fma_peak.v1: f16 needs shaderFloat16, which " + d.label + " lacks");
  if (f.dtype == "f64" && !d.info.float64)
    return unsupported("fma_peak.v1: f64 needs shaderFloat64, which " + d.label + " lacks");
  if (static_cast<uint64_t>(f.items) >= kMaxIndex || static_cast<uint64_t>(f.iters) >= kMaxIndex)
    return unsupported("fma_peak.v1: items and iters must be below 2^32 (32-bit counters)");
  // The probe needs the VkDevice: op_query of fma_peak.v1 creates it once (then answers from the cache).
  if (CMTR_Error* e = d.ensure_device("op_query")) return failed(e);
  const DeviceState::FmaProbe probe = probe_fma(d, f.dtype);
  if (!probe.why_not.empty()) {
    OpPlan p;
    p.status = OpStatus::kUnsupported;
    p.reason = probe.why_not;
    return p;
  }
  if (!create) return finish<FmaPeakOp>(nullptr, nullptr);
  auto op = std::make_unique<FmaPeakOp>(f, d, probe.fused);
  CMTR_Error* e = op->init();
  return finish(std::move(op), e);
}

OpPlan plan_stream(DeviceState& d, const CMTR_KeyValue* params, size_t n, bool create) {
  auto parsed = sdk::parse_stream(params, n);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::StreamParams& s = parsed.value;
  if (s.dtype != "f32" && s.dtype != "f64")
    return unsupported("stream.v1: dtype " + s.dtype + " is not offered (f32, f64)");
  if (s.dtype == "f64" && !d.info.float64)
    return unsupported("stream.v1: f64 needs shaderFloat64, which " + d.label + " lacks");
  if (static_cast<uint64_t>(s.n) >= kMaxIndex)
    return unsupported("stream.v1: n must be below 2^32 (32-bit indices)");
  if (!create) return finish<StreamOp>(nullptr, nullptr);
  auto op = std::make_unique<StreamOp>(s);
  CMTR_Error* e = op->init(d);
  return finish(std::move(op), e);
}

OpPlan plan_copy(DeviceState& d, const CMTR_KeyValue* params, size_t n, bool create) {
  auto parsed = sdk::parse_copy(params, n, /*knows_engine=*/true);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  if (static_cast<uint64_t>(parsed.value.size_bytes) / 16 >= kMaxIndex)
    return unsupported("copy.v1: bytes must be below 2^36 (32-bit word indices)");
  if (!create) return finish<CopyOp>(nullptr, nullptr);
  auto op = std::make_unique<CopyOp>(parsed.value);
  CMTR_Error* e = op->init(d);
  return finish(std::move(op), e);
}

}  // namespace

OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t n,
               bool create) {
  DeviceState& d = *device->state;
  // Malformed requests are invalid before anything else; then the device must have what every
  // shader needs (Vulkan 1.2 buffer device addresses).
  auto device_ready = [&]() -> OpPlan {
    if (d.info.props.apiVersion < VK_API_VERSION_1_2 || !d.info.buffer_device_address)
      return unsupported(d.label +
                         " lacks Vulkan 1.2 bufferDeviceAddress, which every shader of the plugin needs");
    if (create) {
      if (CMTR_Error* e = d.ensure_device("op_create")) return failed(e);
    }
    OpPlan ok;
    ok.status = OpStatus::kSupported;
    return ok;
  };
  auto run = [&](auto plan_fn, auto parse_check) -> OpPlan {
    if (auto why = parse_check(); !why.empty()) return invalid_plan(why);
    OpPlan ready = device_ready();
    if (ready.status != OpStatus::kSupported) return ready;
    return plan_fn(d, params, n, create);
  };
  if (name == "gemm.v1") return run(plan_gemm, [&] { return sdk::parse_gemm(params, n).invalid_reason; });
  if (name == "fma_peak.v1")
    return run(plan_fma, [&] { return sdk::parse_fma_peak(params, n).invalid_reason; });
  if (name == "stream.v1")
    return run(plan_stream, [&] { return sdk::parse_stream(params, n).invalid_reason; });
  if (name == "copy.v1")
    return run(plan_copy, [&] { return sdk::parse_copy(params, n, true).invalid_reason; });
  if (name == "noop.v1") {
    auto parsed = sdk::parse_noop(params, n);
    if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
    OpPlan ready = device_ready();
    if (ready.status != OpStatus::kSupported || !create) return ready;
    auto op = std::make_unique<NoopOp>();
    CMTR_Error* e = op->init(d);
    return finish(std::move(op), e);
  }
  if (sdk::is_inference_op(name)) {
    auto parsed = sdk::parse_inference_op(name, params, n);
    if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
    OpPlan ready = device_ready();
    if (ready.status != OpStatus::kSupported) return ready;
    return plan_inference_op(d, name, params, n, create);
  }
  if (sdk::is_training_op(name)) {  // ABI 1.2: malformed is invalid as everywhere, else unsupported
    auto [status, reason] = sdk::training_op_not_implemented(name, params, n, "vulkan");
    OpPlan p;
    p.status = status;
    p.reason = reason;
    return p;
  }
  OpPlan p;
  p.status = OpStatus::kUnknownOp;
  p.reason = "vulkan: unknown op '" + std::string(name) +
             "' (offered: gemm.v1, fma_peak.v1, stream.v1, copy.v1, noop.v1 and the 1.1 inference ops)";
  return p;
}

}  // namespace cmeter::vulkan
