// plugins/opencl/ops.cpp - parameter checking, setup and launch of the OpenCL plugin's ops.
//
// Why this file exists: it turns the catalogue of docs/abi-keys.md into OpenCL kernels (kernels.cpp)
// and CLBlast calls. Everything expensive happens in op_create: programs are built (through the
// device's program cache), implementations chosen, and each kernel is launched once on an empty
// problem with its final work-group size, because some drivers (PoCL) generate the work-group code
// only at the first launch of a given local size; op_enqueue then only sets arguments and launches.
#include "ops.hpp"

#include <clblast.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <type_traits>
#include <vector>

#include "infer_ops.hpp"
#include "kernels.hpp"
#include "op_util.hpp"
#include "train_ops.hpp"

namespace cmeter::opencl {
namespace {

using sdk::make_error;

// binary16 rounding (to nearest even) of a float, returned as the float it equals.
float round_to_f16(float f) {
  if (!std::isfinite(f) || f == 0) return f;
  int e = 0;
  std::frexp(f, &e);
  const int unit_exp = std::max(e - 11, -24);  // 11 significant bits; subnormal quantum 2^-24
  const float q = std::ldexp(1.0f, unit_exp);
  const float r = std::nearbyint(f / q) * q;
  return std::fabs(r) > 65504.0f ? std::copysign(INFINITY, f) : r;
}

// ---- fma_peak.v1 ----

struct FmaArgs {
  Elem type = Elem::kF32;
  int64_t items = 0, iters = 0, lanes = 8;
  double a = 1, b = 0, x0 = 1, dx = 1.0 / 64, item_dx = 0;
  int64_t item_period = 1;
};

class FmaPeakOp final : public Op {
 public:
  FmaPeakOp(CMTR_Device* device, const FmaArgs& args) : device_(device), args_(args) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    DeviceState& dev = *device_->state;
    const int64_t preferred = args_.type == Elem::kF64   ? dev.info.vector_width_f64
                              : args_.type == Elem::kF16 ? dev.info.vector_width_f16
                                                         : dev.info.vector_width_f32;
    vw_ = vector_width(std::max<int64_t>(1, preferred), params, num_params);
    const std::string what = "fma_peak.v1 op_create";
    if (CMTR_Error* e =
            make_kernel(dev, what, fma_peak_source(args_.type, vw_, static_cast<int>(args_.lanes)),
                        build_options(params, num_params), "cmeter_fma_peak", &kernel_, &build_))
      return e;
    // Lane start values x0 + l*dx, rounded to the dtype on the host exactly as the core's reference.
    const bool f64 = args_.type == Elem::kF64;
    std::vector<double> init64;
    std::vector<float> init32;
    for (int64_t l = 0; l < args_.lanes; ++l) {
      const double x = args_.x0 + static_cast<double>(l) * args_.dx;
      if (f64)
        init64.push_back(x);
      else
        init32.push_back(args_.type == Elem::kF16 ? round_to_f16(static_cast<float>(x))
                                                  : static_cast<float>(x));
    }
    cl_int err = CL_SUCCESS;
    void* host = f64 ? static_cast<void*>(init64.data()) : static_cast<void*>(init32.data());
    const size_t init_bytes = static_cast<size_t>(args_.lanes) * (f64 ? 8 : 4);
    cl_mem init =
        clCreateBuffer(dev.context(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, init_bytes, host, &err);
    if (err != CL_SUCCESS) return cl_failure(what + " on " + dev.label, "clCreateBuffer", err);
    init_.reset(init);
    work_items_ =
        (static_cast<uint64_t>(args_.items) + static_cast<uint64_t>(vw_) - 1) / static_cast<uint64_t>(vw_);
    local_ = local_1d(dev, kernel_.get(), work_items_, 64);
    global_ = round_up(work_items_, local_);
    // Prime with items = 0 (every work item returns at once).
    if (CMTR_Error* e = set_kernel_args(init_.get(), 0)) return e;
    if (CMTR_Error* e = prime(dev, what, kernel_.get(), 1, &local_)) return e;
    const char* t = args_.type == Elem::kF64 ? "double" : args_.type == Elem::kF16 ? "half" : "float";
    attributes.set("impl", std::string("opencl kernel: ") + t + (vw_ > 1 ? std::to_string(vw_) : "") + " x " +
                               std::to_string(args_.lanes) + " independent fma chains per work item (" +
                               std::to_string(vw_) + " items per work item), local size " +
                               std::to_string(local_));
    attributes.set("opencl.vector_width", static_cast<int64_t>(vw_));
    attributes.set("opencl.local_size", static_cast<int64_t>(local_));
    attributes.set("opencl.build", build_);
    return nullptr;
  }

  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("fma_peak.v1", device_, buffers, num_buffers,
                                      {{"OUT", static_cast<uint64_t>(args_.items) * 4}}))
      return e;
    if (CMTR_Error* e = set_kernel_args(buffers[0]->mem, static_cast<cl_ulong>(args_.items))) return e;
    return launch(queue, "fma_peak.v1 op_enqueue", kernel_.get(), 1, &global_, &local_);
  }

 private:
  CMTR_Error* set_kernel_args(cl_mem out, cl_ulong items) {
    const cl_int iters = static_cast<cl_int>(args_.iters);
    cl_int err;
    const cl_ulong period = static_cast<cl_ulong>(args_.item_period);
    if (args_.type == Elem::kF64)
      err = set_args(kernel_.get(), out, items, iters, args_.a, args_.b, args_.item_dx, period, init_.get());
    else
      err = set_args(kernel_.get(), out, items, iters, static_cast<float>(args_.a),
                     static_cast<float>(args_.b), static_cast<float>(args_.item_dx), period, init_.get());
    if (err != CL_SUCCESS) return cl_failure("fma_peak.v1", "clSetKernelArg", err);
    return nullptr;
  }

  CMTR_Device* device_;
  FmaArgs args_;
  std::string build_;
  int vw_ = 1;
  KernelPtr kernel_;
  MemPtr init_;
  uint64_t work_items_ = 0;
  size_t local_ = 1, global_ = 1;
};

OpPlan plan_fma_peak(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create) {
  auto parsed = sdk::parse_fma_peak(params, num_params);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  const sdk::FmaPeakParams& f = parsed.value;
  const std::string& dtype = f.dtype;
  FmaArgs args;
  args.items = f.items;
  args.iters = f.iters;
  args.lanes = f.lanes;
  args.a = f.a;
  args.b = f.b;
  args.x0 = f.x0;
  args.dx = f.dx;
  args.item_dx = f.item_dx;
  args.item_period = f.item_period;
  const DeviceInfo& info = device->state->info;
  if (args.iters > INT_MAX)
    return answer(OpPlan::kUnsupported, "fma_peak.v1 on opencl: iters above 2^31-1 are not supported");
  if (dtype == "bf16")
    return answer(OpPlan::kUnsupported, "fma_peak.v1 on opencl: OpenCL C has no bf16 arithmetic");
  if (dtype == "f16" && !info.fp16)
    return answer(OpPlan::kUnsupported,
                  "fma_peak.v1 on opencl: no cl_khr_fp16 (the device has no native f16 arithmetic)");
  if (dtype == "f64" && !info.fp64)
    return answer(OpPlan::kUnsupported,
                  "fma_peak.v1 on opencl: no cl_khr_fp64 (the device has no f64 arithmetic)");
  args.type = dtype == "f64" ? Elem::kF64 : dtype == "f16" ? Elem::kF16 : Elem::kF32;
  if (static_cast<uint64_t>(args.items) * 4 > static_cast<uint64_t>(info.max_alloc_bytes))
    return answer(OpPlan::kUnsupported,
                  "fma_peak.v1 on opencl: OUT would exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");
  OpPlan plan = answer(OpPlan::kSupported);
  if (create) {
    auto op = std::make_unique<FmaPeakOp>(device, args);
    if (CMTR_Error* e = op->init(params, num_params)) return failed(e);
    plan.op = std::move(op);
  }
  return plan;
}

// ---- stream.v1 ----

// Footprint from which non-temporal stores are used by default (as the cpu plugin: the arrays are
// well past the caches that a regular store would have filled usefully).
constexpr uint64_t kNontemporalMinBytes = uint64_t{32} << 20;

class StreamOp final : public Op {
 public:
  StreamOp(CMTR_Device* device, std::string kind, bool f64, uint64_t n, double scalar)
      : device_(device), kind_(std::move(kind)), f64_(f64), n_(n), scalar_(scalar) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    DeviceState& dev = *device_->state;
    const std::string what = "stream.v1 op_create";
    vw_ = vector_width(std::max<int64_t>(1, f64_ ? dev.info.vector_width_f64 : dev.info.vector_width_f32),
                       params, num_params);
    // Non-temporal stores (a clang builtin, so only for PoCL, whose compiler is clang) skip the
    // read-for-ownership of the destination once the arrays cannot stay in cache anyway: +25-35%
    // on the reference VM for 128 MiB arrays (cmeter_opencl_plugin_bench stream; docs/results).
    const uint64_t footprint_bytes = n_ * (f64_ ? 8 : 4) * 3;
    const bool nt =
        dev.info.is_pocl && sdk::int_hint(params, num_params, "hint.opencl.nontemporal")
                                    .value_or(footprint_bytes >= kNontemporalMinBytes ? 1 : 0) != 0;
    if (CMTR_Error* e =
            make_kernel(dev, what, stream_source(f64_ ? Elem::kF64 : Elem::kF32, vw_, nt),
                        build_options(params, num_params), ("cmeter_stream_" + kind_).c_str(), &kernel_))
      return e;
    work_items_ = n_ / static_cast<uint64_t>(vw_) + 1;  // + the tail work item
    local_ = local_1d(dev, kernel_.get(), work_items_, 1024);
    global_ = round_up(work_items_, local_);
    MemPtr dummy;
    if (CMTR_Error* e = scratch_buffer(dev, what, 64, &dummy)) return e;
    if (CMTR_Error* e = set_kernel_args(dummy.get(), dummy.get(), dummy.get(), 0)) return e;
    if (CMTR_Error* e = prime(dev, what, kernel_.get(), 1, &local_)) return e;
    attributes.set("impl", std::string("opencl kernel: one ") + (f64_ ? "double" : "float") +
                               (vw_ > 1 ? std::to_string(vw_) : "") + " per work item, local size " +
                               std::to_string(local_) + (nt ? ", non-temporal stores" : ", regular stores"));
    attributes.set("opencl.vector_width", static_cast<int64_t>(vw_));
    return nullptr;
  }

  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    const uint64_t need = n_ * (f64_ ? 8 : 4);
    if (CMTR_Error* e = check_buffers("stream.v1", device_, buffers, num_buffers,
                                      {{"A", need}, {"B", need}, {"C", need}}))
      return e;
    if (CMTR_Error* e = set_kernel_args(buffers[0]->mem, buffers[1]->mem, buffers[2]->mem, n_)) return e;
    return launch(queue, "stream.v1 op_enqueue", kernel_.get(), 1, &global_, &local_);
  }

 private:
  CMTR_Error* set_kernel_args(cl_mem a, cl_mem b, cl_mem c, cl_ulong n) {
    const cl_int err = f64_ ? set_args(kernel_.get(), a, b, c, scalar_, n)
                            : set_args(kernel_.get(), a, b, c, static_cast<float>(scalar_), n);
    if (err != CL_SUCCESS) return cl_failure("stream.v1", "clSetKernelArg", err);
    return nullptr;
  }

  CMTR_Device* device_;
  std::string kind_;
  bool f64_;
  uint64_t n_;
  double scalar_;
  int vw_ = 1;
  KernelPtr kernel_;
  uint64_t work_items_ = 0;
  size_t local_ = 1, global_ = 1;
};

OpPlan plan_stream(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create) {
  auto parsed = sdk::parse_stream(params, num_params);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  const std::string& kind = parsed.value.kind_name;
  const std::string& dtype = parsed.value.dtype;
  const int64_t n = parsed.value.n;
  const double scalar = parsed.value.scalar;
  if (dtype != "f32" && dtype != "f64")
    return answer(OpPlan::kUnsupported, "stream.v1 on opencl: dtype must be f32 or f64, got " + dtype);
  const DeviceInfo& info = device->state->info;
  if (dtype == "f64" && !info.fp64)
    return answer(OpPlan::kUnsupported, "stream.v1 on opencl: no cl_khr_fp64 (f64 kernels cannot be built)");
  if (static_cast<uint64_t>(n) * (dtype == "f64" ? 8 : 4) > static_cast<uint64_t>(info.max_alloc_bytes))
    return answer(OpPlan::kUnsupported,
                  "stream.v1 on opencl: an array would exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");
  OpPlan plan = answer(OpPlan::kSupported);
  if (create) {
    auto op = std::make_unique<StreamOp>(device, kind, dtype == "f64", static_cast<uint64_t>(n), scalar);
    if (CMTR_Error* e = op->init(params, num_params)) return failed(e);
    plan.op = std::move(op);
  }
  return plan;
}

// ---- copy.v1 ----

class CopyOp final : public Op {
 public:
  CopyOp(CMTR_Device* device, uint64_t size_bytes) : device_(device), size_bytes_(size_bytes) {}

  // `engine`: "kernel", "copy_engine" or "" (the plugin's choice: CPU devices a kernel, which
  // spreads the copy over all cores where a driver's buffer copy may be one memcpy on one thread;
  // elsewhere clEnqueueCopyBuffer, the driver's DMA path).
  CMTR_Error* init(const std::string& engine, const CMTR_KeyValue* params, size_t num_params) {
    DeviceState& dev = *device_->state;
    const std::string what = "copy.v1 op_create";
    use_kernel_ = engine.empty() ? dev.info.is_cpu : engine == "kernel";
    attributes.set("engine", use_kernel_ ? "kernel" : "copy_engine");
    if (use_kernel_) {
      if (CMTR_Error* e = make_kernel(dev, what, copy_source(), build_options(params, num_params),
                                      "cmeter_copy", &kernel_))
        return e;
      work_items_ = size_bytes_ / 64 + 1;
      local_ = local_1d(dev, kernel_.get(), work_items_, 1024);
      global_ = round_up(work_items_, local_);
      MemPtr dummy;
      if (CMTR_Error* e = scratch_buffer(dev, what, 64, &dummy)) return e;
      if (CMTR_Error* e = set_kernel_args(dummy.get(), dummy.get(), 0)) return e;
      if (CMTR_Error* e = prime(dev, what, kernel_.get(), 1, &local_)) return e;
      attributes.set(
          "impl", "opencl kernel: one uint16 (64 bytes) per work item, local size " + std::to_string(local_));
    } else {
      attributes.set("impl", "clEnqueueCopyBuffer (the driver's copy path)");
    }
    return nullptr;
  }

  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("copy.v1", device_, buffers, num_buffers,
                                      {{"SRC", size_bytes_}, {"DST", size_bytes_}}))
      return e;
    if (!use_kernel_) {
      const cl_int err = clEnqueueCopyBuffer(queue, buffers[0]->mem, buffers[1]->mem, 0, 0, size_bytes_, 0,
                                             nullptr, nullptr);
      if (err != CL_SUCCESS) return cl_failure("copy.v1 op_enqueue", "clEnqueueCopyBuffer", err);
      return nullptr;
    }
    if (CMTR_Error* e = set_kernel_args(buffers[0]->mem, buffers[1]->mem, size_bytes_)) return e;
    return launch(queue, "copy.v1 op_enqueue", kernel_.get(), 1, &global_, &local_);
  }

 private:
  CMTR_Error* set_kernel_args(cl_mem src, cl_mem dst, cl_ulong bytes) {
    const cl_int err = set_args(kernel_.get(), src, dst, bytes);
    if (err != CL_SUCCESS) return cl_failure("copy.v1", "clSetKernelArg", err);
    return nullptr;
  }

  CMTR_Device* device_;
  uint64_t size_bytes_;
  bool use_kernel_ = false;
  KernelPtr kernel_;
  uint64_t work_items_ = 0;
  size_t local_ = 1, global_ = 1;
};

OpPlan plan_copy(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create) {
  auto parsed = sdk::parse_copy(params, num_params, /*knows_engine=*/true);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  const int64_t size_bytes = parsed.value.size_bytes;
  const std::string& engine = parsed.value.engine;
  if (static_cast<uint64_t>(size_bytes) > static_cast<uint64_t>(device->state->info.max_alloc_bytes))
    return answer(OpPlan::kUnsupported, "copy.v1 on opencl: bytes exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");
  OpPlan plan = answer(OpPlan::kSupported);
  if (create) {
    auto op = std::make_unique<CopyOp>(device, static_cast<uint64_t>(size_bytes));
    if (CMTR_Error* e = op->init(engine, params, num_params)) return failed(e);
    plan.op = std::move(op);
  }
  return plan;
}

// ---- noop.v1 ----

class NoopOp final : public Op {
 public:
  explicit NoopOp(CMTR_Device* device) : device_(device) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    DeviceState& dev = *device_->state;
    if (CMTR_Error* e = make_kernel(dev, "noop.v1 op_create", noop_source(),
                                    build_options(params, num_params), "cmeter_noop", &kernel_))
      return e;
    if (CMTR_Error* e = prime(dev, "noop.v1 op_create", kernel_.get(), 1, &one_)) return e;
    attributes.set("impl", "opencl kernel: empty, one work item");
    return nullptr;
  }

  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("noop.v1", device_, buffers, num_buffers, {})) return e;
    return launch(queue, "noop.v1 op_enqueue", kernel_.get(), 1, &one_, &one_);
  }

 private:
  CMTR_Device* device_;
  KernelPtr kernel_;
  size_t one_ = 1;
};

OpPlan plan_noop(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create) {
  if (auto parsed = sdk::parse_noop(params, num_params); !parsed.ok())
    return answer(OpPlan::kInvalid, parsed.invalid_reason);
  OpPlan plan = answer(OpPlan::kSupported);
  if (create) {
    auto op = std::make_unique<NoopOp>(device);
    if (CMTR_Error* e = op->init(params, num_params)) return failed(e);
    plan.op = std::move(op);
  }
  return plan;
}

}  // namespace

// gemm.v1 lives in gemm.cpp.
OpPlan plan_gemm(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create);

const char* op_names() {
  return "gemm.v1, fma_peak.v1, stream.v1, copy.v1, noop.v1, rmsnorm.v1, rope.v1, softmax.v1, swiglu.v1, "
         "kv_append.v1, embedding.v1, argmax.v1, eltwise.v1, attention.v1, rmsnorm_backward.v1, "
         "swiglu_backward.v1, softmax_backward.v1, rope_backward.v1, cross_entropy.v1, "
         "embedding_backward.v1, "
         "reduce.v1, adamw.v1";
}

OpPlan plan_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create) {
  if (name == "gemm.v1") return plan_gemm(device, params, num_params, create);
  if (name == "fma_peak.v1") return plan_fma_peak(device, params, num_params, create);
  if (name == "stream.v1") return plan_stream(device, params, num_params, create);
  if (name == "copy.v1") return plan_copy(device, params, num_params, create);
  if (name == "noop.v1") return plan_noop(device, params, num_params, create);
  if (sdk::is_inference_op(name)) return plan_inference_op(device, name, params, num_params, create);
  if (sdk::is_training_op(name)) return plan_training_op(device, name, params, num_params, create);
  return answer(OpPlan::kUnknownOp,
                "unknown op '" + std::string(name) + "' (the opencl plugin implements " + op_names() + ")");
}

}  // namespace cmeter::opencl
