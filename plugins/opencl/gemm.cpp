// plugins/opencl/gemm.cpp - gemm.v1 on OpenCL: the plugin's own register-tiled kernel and CLBlast.
//
// Why this file exists: no single GEMM is good everywhere. CLBlast is tuned for GPUs but reaches only
// ~5 GFLOP/s on PoCL's CPU device (n = 1024, this repo's reference VM), while a kernel that gives each
// work item a (vector x columns) register tile of C, the shape of a CPU BLAS micro-kernel, lets PoCL's
// LLVM emit straight FMA code on full-width vector registers. So: CPU devices run the tiled kernel;
// other devices time both once in op_create (on scratch buffers of the real size) and keep the
// faster; `hint.opencl.gemm_impl` (tiled | clblast | auto) forces a choice. f16/bf16 inputs (f32
// compute) are the tiled kernel's alone: vload_half works without cl_khr_fp16, bf16 is a shift.
// The op's `impl` attribute says which ran, with the candidates' times when there was a choice.
#if CMETER_HAVE_CLBLAST
#include <clblast.h>
#endif

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "op_util.hpp"

#ifndef CMETER_HAVE_CLBLAST
#define CMETER_HAVE_CLBLAST 0
#endif
#ifndef CMETER_CLBLAST_VERSION
#define CMETER_CLBLAST_VERSION "version unknown"
#endif

namespace cmeter::opencl {
namespace {

using sdk::make_error;

std::optional<Elem> parse_elem(const std::string& s) {
  if (s == "f16") return Elem::kF16;
  if (s == "bf16") return Elem::kBF16;
  if (s == "f32") return Elem::kF32;
  if (s == "f64") return Elem::kF64;
  return std::nullopt;
}

// The parsed contract (sdk::GemmParams) plus the storage types this plugin runs.
struct GemmConfig : sdk::GemmParams {
  Elem in = Elem::kF32, out = Elem::kF32;
};

// One implementation of a configured GEMM, enqueued on any queue of the device.
class GemmImpl {
 public:
  virtual ~GemmImpl() = default;
  virtual CMTR_Error* run(cl_command_queue queue, cl_mem a, cl_mem b, cl_mem c) = 0;
  virtual std::string describe() const = 0;
};

class TiledGemm final : public GemmImpl {
 public:
  TiledGemm(DeviceState& dev, const GemmConfig& cfg) : dev_(dev), cfg_(cfg) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    const std::string what = "gemm.v1 op_create (tiled kernel)";
    kc_.in = cfg_.in;
    kc_.out = cfg_.out;
    kc_.trans_a = cfg_.trans_a;
    kc_.trans_b = cfg_.trans_b;
    kc_.half_by_bits = dev_.info.is_cpu;
    if (auto loads = sdk::string_hint(params, num_params, "hint.opencl.f16_loads")) {
      if (*loads != "bits" && *loads != "vload_half")
        return make_error(CMTR_ERROR_INVALID_ARGUMENT,
                          "gemm.v1: hint.opencl.f16_loads must be bits or vload_half, got '" + *loads + "'");
      kc_.half_by_bits = *loads == "bits";
    }
    if (dev_.info.is_cpu) {
      // Full-width vectors along m, two per column, eight columns: 16 accumulator registers.
      kc_.vw = vector_width(cfg_.in == Elem::kF64 ? dev_.info.vector_width_f64 : dev_.info.vector_width_f32,
                            params, num_params);
      kc_.mv = 2;
      kc_.tn = 8;
    } else {
      kc_.vw = 4;
      kc_.mv = 1;
      kc_.tn = 4;
    }
    if (auto tile = sdk::string_hint(params, num_params, "hint.opencl.gemm_tile")) {
      int vw = 0, mv = 0, tn = 0;
      if (std::sscanf(tile->c_str(), "%d,%d,%d", &vw, &mv, &tn) != 3 ||
          (vw != 1 && vw != 2 && vw != 4 && vw != 8 && vw != 16) || mv < 1 || mv > 8 || tn < 1 || tn > 16)
        return make_error(
            CMTR_ERROR_INVALID_ARGUMENT,
            "gemm.v1: hint.opencl.gemm_tile must be 'vw,mv,tn' (vw 1|2|4|8|16, mv 1..8, tn 1..16), got '" +
                *tile + "'");
      kc_.vw = vw;
      kc_.mv = mv;
      kc_.tn = tn;
    }
    if (CMTR_Error* e = make_kernel(dev_, what, gemm_source(kc_), build_options(params, num_params),
                                    "cmeter_gemm", &kernel_))
      return e;
    const uint64_t gx = (static_cast<uint64_t>(cfg_.n) + kc_.tn - 1) / kc_.tn;
    const uint64_t gy = (static_cast<uint64_t>(cfg_.m) + kc_.tile_rows() - 1) / kc_.tile_rows();
    const size_t max_local = kernel_max_local(dev_, kernel_.get());
    if (dev_.info.is_cpu) {
      // A row of tiles per work-group: consecutive work items share the A panel (kept in L2) and
      // walk along B; enough work-groups for every core.
      size_t lx = static_cast<size_t>(sdk::int_hint(params, num_params, "hint.opencl.local_x").value_or(4));
      lx = std::max<size_t>(1, std::min({lx, max_local, static_cast<size_t>(gx)}));
      local_[0] = lx;
      local_[1] = 1;
    } else {
      local_[0] = std::min<size_t>(16, max_local);
      local_[1] = std::max<size_t>(1, std::min<size_t>(16, max_local / local_[0]));
    }
    local_[2] = 1;
    global_[0] = round_up(gx, local_[0]);
    global_[1] = round_up(gy, local_[1]);
    global_[2] = static_cast<size_t>(cfg_.batch);
    MemPtr dummy;
    if (CMTR_Error* e = scratch_buffer(dev_, what, 64, &dummy)) return e;
    if (CMTR_Error* e = set_kernel_args(dummy.get(), dummy.get(), dummy.get(), 0, 0)) return e;
    if (CMTR_Error* e = prime(dev_, what, kernel_.get(), 3, local_)) return e;
    return nullptr;
  }

  CMTR_Error* run(cl_command_queue queue, cl_mem a, cl_mem b, cl_mem c) override {
    if (CMTR_Error* e = set_kernel_args(a, b, c, static_cast<cl_int>(cfg_.m), static_cast<cl_int>(cfg_.n)))
      return e;
    return launch(queue, "gemm.v1 op_enqueue (tiled kernel)", kernel_.get(), 3, global_, local_);
  }

  std::string describe() const override {
    return "opencl tiled kernel: " + std::to_string(kc_.tile_rows()) + "x" + std::to_string(kc_.tn) +
           " register tile of C per work item (" + std::to_string(kc_.mv) + " x " +
           (cfg_.in == Elem::kF64 ? "double" : "float") + std::to_string(kc_.vw) + " per column), local " +
           std::to_string(local_[0]) + "x" + std::to_string(local_[1]) +
           (cfg_.in == Elem::kF16
                ? (kc_.half_by_bits ? ", f16 loads converted by bit operations, f32 accumulation"
                                    : ", f16 loads via vload_half, f32 accumulation")
            : cfg_.in == Elem::kBF16 ? ", bf16 loads as 16-bit shifts, f32 accumulation"
                                     : "") +
           (cfg_.out == Elem::kF16    ? ", f16 stores (vstore_half_rte)"
            : cfg_.out == Elem::kBF16 ? ", bf16 stores (round to nearest even)"
                                      : "");
  }

 private:
  CMTR_Error* set_kernel_args(cl_mem a, cl_mem b, cl_mem c, cl_int m, cl_int n) {
    const cl_int k = static_cast<cl_int>(cfg_.k);
    const cl_ulong lda = static_cast<cl_ulong>(cfg_.lda), ldb = static_cast<cl_ulong>(cfg_.ldb),
                   ldc = static_cast<cl_ulong>(cfg_.ldc);
    const cl_ulong sa = static_cast<cl_ulong>(cfg_.stride_a), sb = static_cast<cl_ulong>(cfg_.stride_b),
                   sc = static_cast<cl_ulong>(cfg_.stride_c);
    const cl_ulong oa = static_cast<cl_ulong>(cfg_.offset_a), ob = static_cast<cl_ulong>(cfg_.offset_b),
                   oc = static_cast<cl_ulong>(cfg_.offset_c);
    cl_int err;
    if (cfg_.in == Elem::kF64)
      err = set_args(kernel_.get(), m, n, k, cfg_.alpha, cfg_.beta, a, lda, sa, oa, b, ldb, sb, ob, c, ldc,
                     sc, oc);
    else
      err = set_args(kernel_.get(), m, n, k, static_cast<float>(cfg_.alpha), static_cast<float>(cfg_.beta), a,
                     lda, sa, oa, b, ldb, sb, ob, c, ldc, sc, oc);
    if (err != CL_SUCCESS) return cl_failure("gemm.v1", "clSetKernelArg", err);
    return nullptr;
  }

  DeviceState& dev_;
  GemmConfig cfg_;
  GemmKernelConfig kc_;
  KernelPtr kernel_;
  size_t global_[3] = {1, 1, 1}, local_[3] = {1, 1, 1};
};

#if CMETER_HAVE_CLBLAST
// CLBlast SGEMM/DGEMM, one call per batch matrix, with its temporary buffer allocated once here.
class ClblastGemm final : public GemmImpl {
 public:
  ClblastGemm(DeviceState& dev, const GemmConfig& cfg) : dev_(dev), cfg_(cfg) {}

  CMTR_Error* init() {
    size_t temp_bytes = 0;
    for (int64_t i : {int64_t{0}, cfg_.batch - 1}) {
      size_t bytes = 0;
      cl_command_queue q = dev_.setup_queue();
      const clblast::StatusCode st =
          cfg_.in == Elem::kF64
              ? clblast::GemmTempBufferSize<double>(
                    clblast::Layout::kColMajor, ta(), tb(), m(), n(), k(),
                    off(i, cfg_.stride_a, cfg_.offset_a), static_cast<size_t>(cfg_.lda),
                    off(i, cfg_.stride_b, cfg_.offset_b), static_cast<size_t>(cfg_.ldb),
                    off(i, cfg_.stride_c, cfg_.offset_c), static_cast<size_t>(cfg_.ldc), &q, bytes)
              : clblast::GemmTempBufferSize<float>(
                    clblast::Layout::kColMajor, ta(), tb(), m(), n(), k(),
                    off(i, cfg_.stride_a, cfg_.offset_a), static_cast<size_t>(cfg_.lda),
                    off(i, cfg_.stride_b, cfg_.offset_b), static_cast<size_t>(cfg_.ldb),
                    off(i, cfg_.stride_c, cfg_.offset_c), static_cast<size_t>(cfg_.ldc), &q, bytes);
      if (st != clblast::StatusCode::kSuccess) return status_error("GemmTempBufferSize", st);
      temp_bytes = std::max(temp_bytes, bytes);
    }
    if (temp_bytes > 0) {
      cl_int err = CL_SUCCESS;
      cl_mem temp = clCreateBuffer(dev_.context(), CL_MEM_READ_WRITE, temp_bytes, nullptr, &err);
      if (err != CL_SUCCESS)
        return cl_failure("gemm.v1 op_create (CLBlast temporary buffer) on " + dev_.label, "clCreateBuffer",
                          err);
      temp_.reset(temp);
    }
    temp_bytes_ = temp_bytes;
    return nullptr;
  }

  CMTR_Error* run(cl_command_queue queue, cl_mem a, cl_mem b, cl_mem c) override {
    for (int64_t i = 0; i < cfg_.batch; ++i) {
      cl_command_queue q = queue;
      clblast::StatusCode st;
      if (cfg_.in == Elem::kF64)
        st = clblast::Gemm<double>(clblast::Layout::kColMajor, ta(), tb(), m(), n(), k(), cfg_.alpha, a,
                                   off(i, cfg_.stride_a, cfg_.offset_a), static_cast<size_t>(cfg_.lda), b,
                                   off(i, cfg_.stride_b, cfg_.offset_b), static_cast<size_t>(cfg_.ldb),
                                   cfg_.beta, c, off(i, cfg_.stride_c, cfg_.offset_c),
                                   static_cast<size_t>(cfg_.ldc), &q, nullptr, temp_.get());
      else
        st = clblast::Gemm<float>(clblast::Layout::kColMajor, ta(), tb(), m(), n(), k(),
                                  static_cast<float>(cfg_.alpha), a, off(i, cfg_.stride_a, cfg_.offset_a),
                                  static_cast<size_t>(cfg_.lda), b, off(i, cfg_.stride_b, cfg_.offset_b),
                                  static_cast<size_t>(cfg_.ldb), static_cast<float>(cfg_.beta), c,
                                  off(i, cfg_.stride_c, cfg_.offset_c), static_cast<size_t>(cfg_.ldc), &q,
                                  nullptr, temp_.get());
      if (st != clblast::StatusCode::kSuccess) return status_error("Gemm", st);
    }
    return nullptr;
  }

  std::string describe() const override {
    return std::string("clblast.") + (cfg_.in == Elem::kF64 ? "dgemm" : "sgemm") + " (CLBlast " +
           CMETER_CLBLAST_VERSION + (cfg_.batch > 1 ? ", one call per batch matrix" : "") + ")";
  }

 private:
  clblast::Transpose ta() const { return cfg_.trans_a ? clblast::Transpose::kYes : clblast::Transpose::kNo; }
  clblast::Transpose tb() const { return cfg_.trans_b ? clblast::Transpose::kYes : clblast::Transpose::kNo; }
  size_t m() const { return static_cast<size_t>(cfg_.m); }
  size_t n() const { return static_cast<size_t>(cfg_.n); }
  size_t k() const { return static_cast<size_t>(cfg_.k); }
  // Element offset of batch matrix i: the gemm.v1 offset (ABI 1.1) plus i strides.
  static size_t off(int64_t i, int64_t stride, int64_t offset) {
    return static_cast<size_t>(offset + i * stride);
  }
  CMTR_Error* status_error(const char* call, clblast::StatusCode st) const {
    const int code = static_cast<int>(st);
    // CLBlast passes OpenCL errors through as their (negative) codes.
    const std::string name =
        code < 0 && code > -1000 ? cl_error_name(code) : "CLBlast status " + std::to_string(code);
    return make_error(code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES
                          ? CMTR_ERROR_RESOURCE_EXHAUSTED
                          : CMTR_ERROR_INTERNAL,
                      std::string("gemm.v1 on ") + dev_.label + ": clblast::" + call + " failed: " + name);
  }

  DeviceState& dev_;
  GemmConfig cfg_;
  MemPtr temp_;
  size_t temp_bytes_ = 0;
};

#else
// Built without CLBlast: the class exists so plan_gemm reads the same; init() says why it cannot run.
class ClblastGemm final : public GemmImpl {
 public:
  ClblastGemm(DeviceState&, const GemmConfig&) {}
  CMTR_Error* init() { return make_error(CMTR_ERROR_UNIMPLEMENTED, "gemm.v1: this build has no CLBlast"); }
  CMTR_Error* run(cl_command_queue, cl_mem, cl_mem, cl_mem) override { return init(); }
  std::string describe() const override { return "clblast (not built)"; }
};
#endif

class GemmOp final : public Op {
 public:
  GemmOp(CMTR_Device* device, const GemmConfig& cfg, std::unique_ptr<GemmImpl> impl, const std::string& note)
      : device_(device), cfg_(cfg), impl_(std::move(impl)) {
    attributes.set("impl", impl_->describe() + note);
  }

  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("gemm.v1", device_, buffers, num_buffers,
                                      {{"A", cfg_.a_bytes}, {"B", cfg_.b_bytes}, {"C", cfg_.c_bytes}}))
      return e;
    return impl_->run(queue, buffers[0]->mem, buffers[1]->mem, buffers[2]->mem);
  }

 private:
  CMTR_Device* device_;
  GemmConfig cfg_;
  std::unique_ptr<GemmImpl> impl_;
};

// Seconds of the best of `runs` timed calls (after one untimed call that compiles and warms).
CMTR_Error* time_impl(DeviceState& dev, GemmImpl& impl, cl_mem a, cl_mem b, cl_mem c, int runs,
                      double* best_s) {
  cl_command_queue q = dev.setup_queue();
  if (CMTR_Error* e = impl.run(q, a, b, c)) return e;
  if (cl_int err = clFinish(q); err != CL_SUCCESS)
    return cl_failure("gemm.v1 op_create (timing)", "clFinish", err);
  *best_s = 1e30;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (CMTR_Error* e = impl.run(q, a, b, c)) return e;
    if (cl_int err = clFinish(q); err != CL_SUCCESS)
      return cl_failure("gemm.v1 op_create (timing)", "clFinish", err);
    *best_s = std::min(*best_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return nullptr;
}

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g ms", s * 1e3);
  return buf;
}

}  // namespace

OpPlan plan_gemm(CMTR_Device* device, const CMTR_KeyValue* params, size_t num_params, bool create) {
  auto parsed = sdk::parse_gemm(params, num_params);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  GemmConfig c;
  static_cast<sdk::GemmParams&>(c) = parsed.value;
  const std::string& a_name = c.a_name;
  const std::string& b_name = c.b_name;
  const std::string& c_name = c.c_name;
  const std::string& compute = c.compute;

  const DeviceInfo& info = device->state->info;
  const std::string impl_hint =
      sdk::string_hint(params, num_params, "hint.opencl.gemm_impl").value_or("auto");
  if (impl_hint != "auto" && impl_hint != "tiled" && impl_hint != "clblast")
    return answer(OpPlan::kInvalid,
                  "gemm.v1: hint.opencl.gemm_impl must be auto, tiled or clblast, got '" + impl_hint + "'");
  if (b_name != a_name)
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: mixed input types (" + a_name + " x " + b_name + ") are not supported");
  if (a_name == "i8" || a_name == "i32")
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: integer GEMM (" + a_name + " inputs) is not implemented");
  if (compute == "tf32")
    return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: OpenCL has no tf32 arithmetic");
  c.in = *parse_elem(a_name);
  const auto out = parse_elem(c_name);
  if (!out)
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: dtype_c " + c_name + " with " + a_name + " inputs is not supported");
  c.out = *out;
  const bool half_in = c.in == Elem::kF16 || c.in == Elem::kBF16;
  if (c.in == Elem::kF64) {
    if (!info.fp64)
      return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: no cl_khr_fp64 (f64 kernels cannot be built)");
    if (compute != "f64" || c.out != Elem::kF64)
      return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: f64 inputs need compute=f64 and dtype_c=f64");
  }
  if (c.in == Elem::kF32 && (compute != "f32" || c.out != Elem::kF32))
    return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: f32 inputs need compute=f32 and dtype_c=f32");
  if (half_in && compute != "f32")
    return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: " + a_name +
                                            " inputs are computed in f32 (compute=" + compute +
                                            " is not implemented)");
  if (half_in && c.out != Elem::kF32 && c.out != c.in)
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: " + a_name + " inputs support dtype_c f32 or " + a_name);
  if (impl_hint == "clblast" && !CMETER_HAVE_CLBLAST)
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: this build has no CLBlast (hint.opencl.gemm_impl=clblast)");
  if (impl_hint == "clblast" && half_in)
    return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: CLBlast has no " + a_name +
                                            "-input GEMM with f32 compute (hint.opencl.gemm_impl=clblast)");
  if (std::max({c.m, c.n, c.k}) > INT_MAX)
    return answer(OpPlan::kUnsupported, "gemm.v1 on opencl: m, n and k must fit 32-bit integers");
  const uint64_t max_alloc = static_cast<uint64_t>(info.max_alloc_bytes);
  if (c.a_bytes > max_alloc || c.b_bytes > max_alloc || c.c_bytes > max_alloc)
    return answer(OpPlan::kUnsupported,
                  "gemm.v1 on opencl: a matrix would exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");

  OpPlan plan = answer(OpPlan::kSupported);
  if (!create) return plan;

  DeviceState& dev = *device->state;
  if (CMTR_Error* e = dev.ensure_context("gemm.v1 op_create")) return failed(e);
  const bool clblast_ok = !half_in && CMETER_HAVE_CLBLAST;
  const bool want_tiled = impl_hint != "clblast";
  const bool want_clblast = clblast_ok && (impl_hint == "clblast" || (impl_hint == "auto" && !info.is_cpu));
  std::unique_ptr<TiledGemm> tiled;
  std::unique_ptr<ClblastGemm> blas;
  if (want_tiled) {
    tiled = std::make_unique<TiledGemm>(dev, c);
    if (CMTR_Error* e = tiled->init(params, num_params)) return failed(e);
  }
  if (want_clblast) {
    blas = std::make_unique<ClblastGemm>(dev, c);
    if (CMTR_Error* e = blas->init()) return failed(e);
  }
  std::string note;
  std::unique_ptr<GemmImpl> chosen;
  if (tiled && blas) {
    // Both candidates: time each once on zeroed scratch matrices of the real size.
    MemPtr sa, sb, sc;
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.a_bytes, &sa)) return failed(e);
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.b_bytes, &sb)) return failed(e);
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.c_bytes, &sc)) return failed(e);
    double t_tiled = 0, t_blas = 0;
    if (CMTR_Error* e = time_impl(dev, *tiled, sa.get(), sb.get(), sc.get(), 2, &t_tiled)) return failed(e);
    if (CMTR_Error* e = time_impl(dev, *blas, sa.get(), sb.get(), sc.get(), 2, &t_blas)) return failed(e);
    note =
        "; chosen at op_create by timing (tiled " + ms(t_tiled) + ", clblast " + ms(t_blas) + ", best of 2)";
    if (t_blas < t_tiled)
      chosen = std::move(blas);
    else
      chosen = std::move(tiled);
  } else if (tiled) {
    note = impl_hint == "tiled" ? "; forced by hint.opencl.gemm_impl"
           : half_in            ? "; the only candidate for " + a_name + " inputs"
                     : "; CPU device: tiled kernel (CLBlast SGEMM, not timed here, reached 5.8 GFLOP/s at "
                       "n=1024 on PoCL vs 70+ for this kernel; docs/results/opencl-pocl.md)";
    chosen = std::move(tiled);
  } else {
    // CLBlast alone: run it once so its kernels are compiled here, not in the first timed call.
    MemPtr sa, sb, sc;
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.a_bytes, &sa)) return failed(e);
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.b_bytes, &sb)) return failed(e);
    if (CMTR_Error* e = scratch_buffer(dev, "gemm.v1 op_create", c.c_bytes, &sc)) return failed(e);
    double t = 0;
    if (CMTR_Error* e = time_impl(dev, *blas, sa.get(), sb.get(), sc.get(), 0, &t)) return failed(e);
    note = "; forced by hint.opencl.gemm_impl";
    chosen = std::move(blas);
  }
  plan.op = std::make_unique<GemmOp>(device, c, std::move(chosen), note);
  return plan;
}

}  // namespace cmeter::opencl
