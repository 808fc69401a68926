// plugins/cuda/ops.cpp - fma_peak.v1, stream.v1, copy.v1 and noop.v1 on the plugin's own kernels
// (kernels.cu), and the dispatch of every op name (gemm.v1 goes to gemm_lt.cpp).
//
// Why this file exists: it turns catalogue parameters (docs/abi-keys.md) into kernel arguments, with
// the same checks for op_query and op_create, and checks each enqueue's buffers (count, device,
// size) before a kernel could read past an allocation.
#include "ops.hpp"

#include <cmeter/plugin_ops.hpp>

#include <cmath>
#include <string>

#include "infer_ops.hpp"
#include "kernels.hpp"
#include "train_ops.hpp"

namespace cmeter::cuda {
namespace {

OpPlan unsupported(std::string reason) {
  OpPlan p;
  p.status = OpPlan::kUnsupported;
  p.reason = std::move(reason);
  return p;
}

OpPlan invalid_plan(std::string reason) {
  OpPlan p;
  p.status = OpPlan::kInvalid;
  p.reason = std::move(reason);
  return p;
}

OpPlan supported(std::unique_ptr<OpImpl> op) {
  OpPlan p;
  p.status = OpPlan::kSupported;
  p.op = std::move(op);
  return p;
}

// ---- fma_peak.v1 ----

class FmaOp : public OpImpl {
 public:
  explicit FmaOp(const FmaArgs& args) : args_(args) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (num_buffers != 1)
      return invalid("fma_peak.v1: expects 1 buffer (OUT), got " + std::to_string(num_buffers));
    if (CMTR_Error* e = check_op_buffer(buffers, num_buffers, 0, "OUT", stream->device,
                                        static_cast<uint64_t>(args_.items) * 4, "fma_peak.v1"))
      return e;
    cudaError_t st = launch_fma_peak(stream->stream, args_, static_cast<float*>(buffers[0]->data));
    return st == cudaSuccess ? nullptr : cuda_failure(st, "fma_peak.v1 launch");
  }

 private:
  FmaArgs args_;
};

OpPlan plan_fma(const CMTR_Device* device, const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_fma_peak(params, count);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const sdk::FmaPeakParams& f = parsed.value;
  const std::string& dtype = f.dtype;
  const int64_t items = f.items, iters = f.iters, lanes = f.lanes;
  FmaArgs args;
  if (dtype == "f32") {
    args.type = FmaType::kF32;
  } else if (dtype == "f64") {
    args.type = FmaType::kF64;
  } else if (dtype == "f16") {
    args.type = FmaType::kF16;
  } else {
    args.type = FmaType::kBF16;
    if (device->cc_major < 8)
      return unsupported("fma_peak.v1 bf16 needs compute capability 8.0 or newer (packed bf16 FMA)");
  }
  if (lanes > kFmaMaxLanes) return unsupported("fma_peak.v1: lanes above " + std::to_string(kFmaMaxLanes));
  if (items > (int64_t{1} << 38)) return unsupported("fma_peak.v1: more than 2^38 items");
  if (!create) return supported(nullptr);
  args.items = items;
  args.iters = iters;
  args.lanes = static_cast<int>(lanes);
  args.a = round_for_fma(args.type, f.a);
  args.b = round_for_fma(args.type, f.b);
  // Lane l starts at x0 + l*dx rounded once to the dtype, exactly as the host simulation does.
  for (int l = 0; l < args.lanes; ++l)
    args.x0[l] = round_for_fma(args.type, f.x0 + static_cast<double>(l) * f.dx);
  args.item_dx = f.item_dx;
  args.item_period = f.item_period;
  auto op = std::make_unique<FmaOp>(args);
  const bool packed = args.type == FmaType::kF16 || args.type == FmaType::kBF16;
  op->attributes.set("impl", std::string(packed ? "cuda kernel, packed pairs (" : "cuda kernel (") + dtype +
                                 (packed ? "x2 fma), " : " fma), ") + std::to_string(lanes) +
                                 " independent chains per thread, 256 threads per block");
  op->attributes.set("lanes", lanes);
  return supported(std::move(op));
}

// ---- stream.v1 ----

class StreamOp : public OpImpl {
 public:
  StreamOp(StreamKind kind, bool f64, int64_t n, double scalar)
      : kind_(kind), f64_(f64), n_(n), scalar_(scalar) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    const uint64_t bytes = static_cast<uint64_t>(n_) * (f64_ ? 8 : 4);
    if (num_buffers != 3)
      return invalid("stream.v1: expects 3 buffers (A, B, C), got " + std::to_string(num_buffers));
    const char* roles[] = {"A", "B", "C"};
    for (size_t i = 0; i < 3; ++i)
      if (CMTR_Error* e =
              check_op_buffer(buffers, num_buffers, i, roles[i], stream->device, bytes, "stream.v1"))
        return e;
    cudaError_t st = launch_stream(stream->stream, kind_, f64_, n_, scalar_, buffers[0]->data,
                                   buffers[1]->data, buffers[2]->data);
    return st == cudaSuccess ? nullptr : cuda_failure(st, "stream.v1 launch");
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
  const std::string& kind_name = parsed.value.kind_name;
  const std::string& dtype = parsed.value.dtype;
  const int64_t n = parsed.value.n;
  const double scalar = parsed.value.scalar;
  const StreamKind kind = parsed.value.kind == sdk::StreamKind::kCopy    ? StreamKind::kCopy
                          : parsed.value.kind == sdk::StreamKind::kScale ? StreamKind::kScale
                          : parsed.value.kind == sdk::StreamKind::kAdd   ? StreamKind::kAdd
                                                                         : StreamKind::kTriad;
  if (dtype != "f32" && dtype != "f64")
    return unsupported("stream.v1: dtype '" + dtype + "' is not f32 or f64");
  if (n > (int64_t{1} << 40)) return unsupported("stream.v1: n above 2^40");
  if (!create) return supported(nullptr);
  auto op = std::make_unique<StreamOp>(kind, dtype == "f64", n, scalar);
  op->attributes.set("impl", "cuda kernel " + kind_name + " (" + dtype +
                                 ", 16-byte vectors, 4 per thread loaded before stored)");
  return supported(std::move(op));
}

// ---- copy.v1 ----

class CopyOp : public OpImpl {
 public:
  CopyOp(uint64_t bytes, bool copy_engine) : bytes_(bytes), copy_engine_(copy_engine) {}
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (num_buffers != 2)
      return invalid("copy.v1: expects 2 buffers (SRC, DST), got " + std::to_string(num_buffers));
    if (CMTR_Error* e = check_op_buffer(buffers, num_buffers, 0, "SRC", stream->device, bytes_, "copy.v1"))
      return e;
    if (CMTR_Error* e = check_op_buffer(buffers, num_buffers, 1, "DST", stream->device, bytes_, "copy.v1"))
      return e;
    if (buffers[0] == buffers[1]) return invalid("copy.v1: SRC and DST are the same buffer");
    cudaError_t st = copy_engine_ ? cudaMemcpyAsync(buffers[1]->data, buffers[0]->data, bytes_,
                                                    cudaMemcpyDeviceToDevice, stream->stream)
                                  : launch_copy(stream->stream, buffers[0]->data, buffers[1]->data, bytes_);
    return st == cudaSuccess ? nullptr : cuda_failure(st, "copy.v1");
  }

 private:
  uint64_t bytes_;
  bool copy_engine_;
};

OpPlan plan_copy(const CMTR_KeyValue* params, size_t count, bool create) {
  auto parsed = sdk::parse_copy(params, count, /*knows_engine=*/true);
  if (!parsed.ok()) return invalid_plan(parsed.invalid_reason);
  const int64_t bytes = parsed.value.size_bytes;
  const std::string engine = parsed.value.engine.empty() ? "kernel" : parsed.value.engine;
  if (!create) return supported(nullptr);
  const bool ce = engine == "copy_engine";
  auto op = std::make_unique<CopyOp>(static_cast<uint64_t>(bytes), ce);
  op->attributes.set("impl", ce ? "cudaMemcpyAsync device-to-device (the driver's copy engine path)"
                                : "cuda copy kernel (16-byte vectors, 4 per thread)");
  op->attributes.set("engine", engine);
  return supported(std::move(op));
}

// ---- noop.v1 ----

class NoopOp : public OpImpl {
 public:
  CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const*, size_t num_buffers) override {
    if (num_buffers != 0) return invalid("noop.v1: takes no buffers, got " + std::to_string(num_buffers));
    cudaError_t st = launch_noop(stream->stream);
    return st == cudaSuccess ? nullptr : cuda_failure(st, "noop.v1 launch");
  }
};

OpPlan plan_noop(const CMTR_KeyValue* params, size_t count, bool create) {
  if (auto parsed = sdk::parse_noop(params, count); !parsed.ok()) return invalid_plan(parsed.invalid_reason);
  if (!create) return supported(nullptr);
  auto op = std::make_unique<NoopOp>();
  op->attributes.set("impl", "empty cuda kernel, 1 block of 1 thread");
  return supported(std::move(op));
}

}  // namespace

OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create) {
  if (name == "gemm.v1") return plan_gemm(device, params, num_params, create);
  if (name == "fma_peak.v1") return plan_fma(device, params, num_params, create);
  if (name == "stream.v1") return plan_stream(params, num_params, create);
  if (name == "copy.v1") return plan_copy(params, num_params, create);
  if (name == "noop.v1") return plan_noop(params, num_params, create);
  if (sdk::is_inference_op(name)) return plan_inference_op(device, name, params, num_params, create);
  if (sdk::is_training_op(name)) return plan_training_op(device, name, params, num_params, create);
  OpPlan p;
  p.status = OpPlan::kUnknownOp;
  p.reason = "the cuda plugin does not know op '" + std::string(name) + "'";
  return p;
}

}  // namespace cmeter::cuda
