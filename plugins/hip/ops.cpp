// plugins/hip/ops.cpp - gemm.v1 (rocBLAS where present, else the plugin's tiled kernels), fma_peak.v1,
// stream.v1, copy.v1 and noop.v1 on the plugin's own kernels (kernels.hip), and the dispatch of every
// op name. The ABI 1.1 inference ops are answered unsupported (invalid when malformed), for now.
//
// Why this file exists: it turns catalogue parameters (docs/abi-keys.md) into kernel or library
// arguments, with one planning function for op_query and op_create, and checks each enqueue's buffers
// (count, device, size) before a kernel could read past an allocation. The structure is the CUDA
// plugin's ops.cpp.
#include <cmeter/plugin_ops.hpp>

#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "runtime.hpp"

namespace cmeter::hip {
namespace {

using sdk::OpStatus;

OpPlan unsupported(std::string reason) {
  OpPlan p;
  p.status = OpStatus::kUnsupported;
  p.reason = "hip: " + std::move(reason);
  return p;
}

OpPlan invalid_plan(std::string reason) {
  OpPlan p;
  p.status = OpStatus::kInvalid;
  p.reason = std::move(reason);
  return p;
}

OpPlan supported(std::unique_ptr<OpImpl> op) {
  OpPlan p;
  p.status = OpStatus::kSupported;
  p.impl = std::move(op);
  return p;
}

// Checks an enqueue's buffers against the op's needs: count, live, on the stream's device, large enough.
CMTR_Error* check_buffers(const char* op, const CMTR_Stream* stream, CMTR_Buffer* const* buffers,
                          size_t count, const std::vector<sdk::BufferNeed>& needs) {
  if (CMTR_Error* e = sdk::check_buffer_count(op, buffers, count, needs)) return e;
  for (size_t i = 0; i < needs.size(); ++i) {
    if (CMTR_Error* e = check_buffer(buffers[i], op)) return e;
    if (buffers[i]->device != stream->device)
      return invalid(std::string(op) + ": buffer " + std::to_string(i) + " is on another device");
    if (CMTR_Error* e = sdk::check_buffer_size(op, i, needs[i], buffers[i]->size_bytes)) return e;
  }
  return nullptr;
}

// ---- gemm.v1 ----

GemmType gemm_type(sdk::DType t) {
  switch (t) {
    case sdk::DType::kF16:
      return GemmType::kF16;
    case sdk::DType::kBF16:
      return GemmType::kBF16;
    case sdk::DType::kF32:
      return GemmType::kF32;
    case sdk::DType::kF64:
      return GemmType::kF64;
    case sdk::DType::kI8:
      return GemmType::kI8;
    case sdk::DType::kI32:
      return GemmType::kI32;
  }
  return GemmType::kF32;
}

int rocblas_type(sdk::DType t) {
  switch (t) {
    case sdk::DType::kF16:
      return kRbF16;
    case sdk::DType::kBF16:
      return kRbBF16;
    case sdk::DType::kF32:
      return kRbF32;
    case sdk::DType::kF64:
      return kRbF64;
    case sdk::DType::kI8:
      return kRbI8;
    case sdk::DType::kI32:
      return kRbI32;
  }
  return kRbF32;
}

class GemmOp : public OpImpl {
 public:
  GemmOp(const sdk::GemmParams& g, bool use_rocblas) : g_(g), use_rocblas_(use_rocblas) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("gemm.v1", stream, buffers, num_buffers,
                                      {{"A", g_.a_bytes}, {"B", g_.b_bytes}, {"C", g_.c_bytes}}))
      return e;
    const size_t ea = sdk::dtype_size_bytes(g_.a), ec = sdk::dtype_size_bytes(g_.c);
    const char* a = static_cast<const char*>(buffers[0]->data) + g_.offset_a * ea;
    const char* b = static_cast<const char*>(buffers[1]->data) + g_.offset_b * ea;
    char* c = static_cast<char*>(buffers[2]->data) + g_.offset_c * ec;
    if (use_rocblas_) return enqueue_rocblas(stream, a, b, c);
    GemmArgs args;
    args.a = gemm_type(g_.a);
    args.c = gemm_type(g_.c);
    args.trans_a = g_.trans_a;
    args.trans_b = g_.trans_b;
    args.m = g_.m;
    args.n = g_.n;
    args.k = g_.k;
    args.lda = g_.lda;
    args.ldb = g_.ldb;
    args.ldc = g_.ldc;
    args.batch = g_.batch;
    args.stride_a = g_.stride_a;
    args.stride_b = g_.stride_b;
    args.stride_c = g_.stride_c;
    args.alpha = g_.alpha;
    args.beta = g_.beta;
    hipError_t st = launch_gemm(stream->stream, args, a, b, c);
    return st == hipSuccess ? nullptr : hip_failure(st, "gemm.v1 launch");
  }

 private:
  CMTR_Error* enqueue_rocblas(CMTR_Stream* stream, const void* a, const void* b, void* c) {
    CMTR_Device* d = stream->device;
    void* blas = nullptr;
    {
      std::lock_guard<std::mutex> lock(d->mutex);
      if (d->blas == nullptr && rocblas().create(&d->blas) != 0) {
        d->blas = nullptr;
        return sdk::make_error(CMTR_ERROR_INTERNAL, "gemm.v1: rocblas_create_handle failed");
      }
      blas = d->blas;
    }
    // alpha and beta in the compute type (pointer mode host).
    const float alpha_f = static_cast<float>(g_.alpha), beta_f = static_cast<float>(g_.beta);
    const double alpha_d = g_.alpha, beta_d = g_.beta;
    const int32_t alpha_i = static_cast<int32_t>(g_.alpha), beta_i = static_cast<int32_t>(g_.beta);
    const bool f64 = g_.compute == "f64", i32 = g_.compute == "i32";
    const void* alpha = f64   ? static_cast<const void*>(&alpha_d)
                        : i32 ? static_cast<const void*>(&alpha_i)
                              : &alpha_f;
    const void* beta = f64   ? static_cast<const void*>(&beta_d)
                       : i32 ? static_cast<const void*>(&beta_i)
                             : &beta_f;
    const int st = rocblas().gemm(blas, stream->stream, g_.trans_a, g_.trans_b, static_cast<int>(g_.m),
                                  static_cast<int>(g_.n), static_cast<int>(g_.k), alpha, a,
                                  rocblas_type(g_.a), static_cast<int>(g_.lda), g_.stride_a, b,
                                  static_cast<int>(g_.ldb), g_.stride_b, beta, c, rocblas_type(g_.c),
                                  static_cast<int>(g_.ldc), g_.stride_c, static_cast<int>(g_.batch),
                                  f64   ? kRbF64
                                  : i32 ? kRbI32
                                        : kRbF32);
    if (st != 0)
      return sdk::make_error(
          CMTR_ERROR_INTERNAL,
          "gemm.v1: rocblas_gemm_strided_batched_ex: rocblas_status " + std::to_string(st));
    return nullptr;
  }

  sdk::GemmParams g_;
  bool use_rocblas_;
};

OpPlan plan_gemm(const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_gemm(params, count);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::GemmParams& g = parsed.value;
  using sdk::DType;
  const bool half = g.a == DType::kF16 || g.a == DType::kBF16;
  bool ok = false;
  if (g.a == g.b && half) ok = (g.c == g.a || g.c == DType::kF32) && g.compute == "f32";
  if (g.a == g.b && g.a == DType::kF32) ok = g.c == DType::kF32 && g.compute == "f32";
  if (g.a == g.b && g.a == DType::kF64) ok = g.c == DType::kF64 && g.compute == "f64";
  if (g.a == g.b && g.a == DType::kI8)
    ok = g.c == DType::kI32 && g.compute == "i32" && g.alpha == std::trunc(g.alpha) &&
         g.beta == std::trunc(g.beta);
  if (!ok)
    return unsupported(
        "gemm.v1 " + g.a_name + "x" + g.b_name + "->" + g.c_name + " compute " + g.compute +
        " is not offered (f16/bf16 -> same or f32, f32, f64 and i8 -> i32 with integer alpha/beta)");
  // rocBLAS and the kernels take 32-bit sizes and leading dimensions; the kernel grid 65535 column tiles.
  for (int64_t v : {g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.batch})
    if (v > INT_MAX) return unsupported("gemm.v1: a size or leading dimension above 2^31 - 1");
  // rocBLAS for the float types; i8 always on the plugin's kernel (rocBLAS' int8 paths have layout
  // rules of their own, by version, that this plugin has not been checked against on a GPU).
  const bool use_rocblas = rocblas().available() && g.a != DType::kI8;
  if (!use_rocblas && (g.n + 15) / 16 > 65535)
    return unsupported("gemm.v1: n above 65535 x 16 (the kernel's grid)");
  if (!create) return supported(nullptr);
  auto op = std::make_unique<GemmOp>(g, use_rocblas);
  op->attributes.set("impl", use_rocblas ? "rocblas_gemm_strided_batched_ex (compute " + g.compute + ")"
                                         : "hip tiled kernel (16x16 tiles through LDS, compute " + g.compute +
                                               "); " + rocblas().status());
  return supported(std::move(op));
}

// ---- fma_peak.v1 ----

class FmaOp : public OpImpl {
 public:
  explicit FmaOp(const FmaArgs& args) : args_(args) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("fma_peak.v1", stream, buffers, num_buffers,
                                      {{"OUT", static_cast<uint64_t>(args_.items) * 4}}))
      return e;
    hipError_t st = launch_fma_peak(stream->stream, args_, static_cast<float*>(buffers[0]->data));
    return st == hipSuccess ? nullptr : hip_failure(st, "fma_peak.v1 launch");
  }

 private:
  FmaArgs args_;
};

OpPlan plan_fma(const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_fma_peak(params, count);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::FmaPeakParams& f = parsed.value;
  FmaArgs args;
  if (f.dtype == "f32")
    args.type = FmaType::kF32;
  else if (f.dtype == "f64")
    args.type = FmaType::kF64;
  else if (f.dtype == "f16")
    args.type = FmaType::kF16;
  else
    return unsupported("fma_peak.v1 bf16: HIP 5.2 has no packed bf16 FMA intrinsic");
  // An AMD dispatch holds at most 2^32 - 1 work items per dimension (one item per thread here).
  if (f.items > (int64_t{1} << 31)) return unsupported("fma_peak.v1: more than 2^31 items (one launch)");
  if (!create) return supported(nullptr);
  args.items = f.items;
  args.iters = f.iters;
  args.lanes = static_cast<int>(f.lanes);
  args.a = round_for_fma(args.type, f.a);
  args.b = round_for_fma(args.type, f.b);
  // Lane l starts at x0 + l*dx rounded once to the dtype, exactly as the host simulation does.
  for (int l = 0; l < args.lanes; ++l)
    args.x0[l] = round_for_fma(args.type, f.x0 + static_cast<double>(l) * f.dx);
  args.item_dx = f.item_dx;
  args.item_period = f.item_period;
  auto op = std::make_unique<FmaOp>(args);
  const bool packed = args.type == FmaType::kF16;
  op->attributes.set("impl", std::string(packed ? "hip kernel, packed pairs (f16x2 fma), " : "hip kernel (") +
                                 (packed ? "" : f.dtype + " fma), ") + std::to_string(f.lanes) +
                                 " independent chains per thread, 256 threads per block");
  op->attributes.set("lanes", f.lanes);
  return supported(std::move(op));
}

// ---- stream.v1 ----

class StreamOp : public OpImpl {
 public:
  StreamOp(StreamKind kind, bool f64, int64_t n, double scalar)
      : kind_(kind), f64_(f64), n_(n), scalar_(scalar) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    const uint64_t bytes = static_cast<uint64_t>(n_) * (f64_ ? 8 : 4);
    if (CMTR_Error* e = check_buffers("stream.v1", stream, buffers, num_buffers,
                                      {{"A", bytes}, {"B", bytes}, {"C", bytes}}))
      return e;
    hipError_t st = launch_stream(stream->stream, kind_, f64_, n_, scalar_, buffers[0]->data,
                                  buffers[1]->data, buffers[2]->data);
    return st == hipSuccess ? nullptr : hip_failure(st, "stream.v1 launch");
  }

 private:
  StreamKind kind_;
  bool f64_;
  int64_t n_;
  double scalar_;
};

OpPlan plan_stream(const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_stream(params, count);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::StreamParams& s = parsed.value;
  const StreamKind kind = s.kind == sdk::StreamKind::kCopy    ? StreamKind::kCopy
                          : s.kind == sdk::StreamKind::kScale ? StreamKind::kScale
                          : s.kind == sdk::StreamKind::kAdd   ? StreamKind::kAdd
                                                              : StreamKind::kTriad;
  if (s.dtype != "f32" && s.dtype != "f64")
    return unsupported("stream.v1: dtype '" + s.dtype + "' is not f32 or f64");
  if (s.n > (int64_t{1} << 33)) return unsupported("stream.v1: n above 2^33 (one launch, 4 per thread)");
  if (!create) return supported(nullptr);
  auto op = std::make_unique<StreamOp>(kind, s.dtype == "f64", s.n, s.scalar);
  op->attributes.set(
      "impl", "hip kernel " + s.kind_name + " (" + s.dtype + ", 4 elements per thread loaded before stored)");
  return supported(std::move(op));
}

// ---- copy.v1 ----

class CopyOp : public OpImpl {
 public:
  CopyOp(uint64_t bytes, bool copy_engine) : bytes_(bytes), copy_engine_(copy_engine) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e =
            check_buffers("copy.v1", stream, buffers, num_buffers, {{"SRC", bytes_}, {"DST", bytes_}}))
      return e;
    if (buffers[0] == buffers[1]) return invalid("copy.v1: SRC and DST are the same buffer");
    hipError_t st = copy_engine_ ? hipMemcpyAsync(buffers[1]->data, buffers[0]->data, bytes_,
                                                  hipMemcpyDeviceToDevice, stream->stream)
                                 : launch_copy(stream->stream, buffers[0]->data, buffers[1]->data, bytes_);
    return st == hipSuccess ? nullptr : hip_failure(st, "copy.v1");
  }

 private:
  uint64_t bytes_;
  bool copy_engine_;
};

OpPlan plan_copy(const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_copy(params, count, /*knows_engine=*/true);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  constexpr int64_t kKernelMaxBytes = int64_t{1} << 36;  // one launch: at most 2^32 - 1 work items
  const int64_t bytes = parsed.value.size_bytes;
  const std::string engine = !parsed.value.engine.empty() ? parsed.value.engine
                             : bytes > kKernelMaxBytes    ? "copy_engine"
                                                          : "kernel";
  if (engine == "kernel" && bytes > kKernelMaxBytes)
    return unsupported(
        "copy.v1: the copy kernel takes at most 2^36 bytes (one launch); engine copy_engine does more");
  if (!create) return supported(nullptr);
  const bool ce = engine == "copy_engine";
  auto op = std::make_unique<CopyOp>(static_cast<uint64_t>(parsed.value.size_bytes), ce);
  op->attributes.set("impl", ce ? "hipMemcpyAsync device-to-device (the SDMA engine path)"
                                : "hip copy kernel (16-byte vectors, 4 per thread)");
  op->attributes.set("engine", engine);
  return supported(std::move(op));
}

// ---- noop.v1 ----

class NoopOp : public OpImpl {
 public:
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const*, size_t num_buffers) override {
    if (num_buffers != 0) return invalid("noop.v1: takes no buffers, got " + std::to_string(num_buffers));
    hipError_t st = launch_noop(stream->stream);
    return st == hipSuccess ? nullptr : hip_failure(st, "noop.v1 launch");
  }
};

OpPlan plan_noop(const CMTR_KeyValue* params, size_t count, bool create) {
  if (auto parsed = sdk::parse_noop(params, count); !parsed.ok()) return invalid_plan(parsed.invalid_reason);
  if (!create) return supported(nullptr);
  auto op = std::make_unique<NoopOp>();
  op->attributes.set("impl", "empty hip kernel, 1 block of 1 thread");
  return supported(std::move(op));
}

}  // namespace

OpPlan plan_op(CMTR_Device*, std::string_view name, const CMTR_KeyValue* params, size_t count, bool create) {
  if (name == "gemm.v1") return plan_gemm(params, count, create);
  if (name == "fma_peak.v1") return plan_fma(params, count, create);
  if (name == "stream.v1") return plan_stream(params, count, create);
  if (name == "copy.v1") return plan_copy(params, count, create);
  if (name == "noop.v1") return plan_noop(params, count, create);
  if (sdk::is_inference_op(name)) {
    // The ABI 1.1 inference ops are not ported to HIP yet: malformed is invalid, the rest unsupported.
    auto [status, reason] = sdk::inference_op_not_implemented(name, params, count, "hip");
    OpPlan p;
    p.status = status;
    p.reason = std::move(reason);
    return p;
  }
  if (sdk::is_training_op(name)) {  // ABI 1.2, not ported to HIP either
    auto [status, reason] = sdk::training_op_not_implemented(name, params, count, "hip");
    OpPlan p;
    p.status = status;
    p.reason = std::move(reason);
    return p;
  }
  OpPlan p;
  p.status = OpStatus::kUnknownOp;
  p.reason = "the hip plugin does not know op '" + std::string(name) + "'";
  return p;
}

}  // namespace cmeter::hip
