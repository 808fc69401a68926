// plugins/opencl/infer_op.hpp - the machinery the OpenCL plugin's row-wise ops share: the 1.1
// inference ops (infer_ops.cpp) and the 1.2 training ops (train_ops.cpp).
//
// Why this file exists: both families configure vector width and row work-group size the same way
// (hints included), build their dtype's program through the program cache, prime each kernel at
// op_create and describe themselves in the same attributes; written once here.
#ifndef CMETER_PLUGINS_OPENCL_INFER_OP_HPP_
#define CMETER_PLUGINS_OPENCL_INFER_OP_HPP_

#include <cmeter/plugin_ops.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infer_kernels.hpp"
#include "op_util.hpp"
#include "ops.hpp"

namespace cmeter::opencl::infer {

inline std::optional<Elem> storage_of(sdk::DType t) {
  switch (t) {
    case sdk::DType::kF16:
      return Elem::kF16;
    case sdk::DType::kBF16:
      return Elem::kBF16;
    case sdk::DType::kF32:
      return Elem::kF32;
    default:
      return std::nullopt;
  }
}

inline const char* elem_name(Elem e) {
  return e == Elem::kF16 ? "f16" : e == Elem::kBF16 ? "bf16" : "f32";
}

inline size_t pow2_at_least(uint64_t x, size_t cap) {
  size_t p = 1;
  while (p < x && p < cap) p *= 2;
  return p;
}

// One launch of a kernel: its geometry, fixed at op_create.
struct Launch {
  KernelPtr kernel;
  cl_uint dims = 1;
  size_t global[3] = {1, 1, 1}, local[3] = {1, 1, 1};
};

// What the ops share: the device, the kernel configuration, building, priming and the attributes.
class InferOp : public Op {
 public:
  InferOp(CMTR_Device* device, const char* name, Elem type) : device_(device), name_(name) {
    kc_.type = type;
  }

  // The kernel configuration for this device (and the hints): CPU devices 8-wide vectors and 16 work
  // items per row work-group (PoCL runs a work-group on one core, vectorised across items); other
  // devices 16-byte loads per item and 256-item row work-groups.
  CMTR_Error* configure(const CMTR_KeyValue* params, size_t num_params) {
    const DeviceInfo& info = device_->state->info;
    const int preferred = info.is_cpu || kc_.type != Elem::kF32 ? 8 : 4;
    kc_.vw = std::max(2, vector_width(preferred, params, num_params));
    const size_t max_local = std::max<size_t>(1, info.max_work_group_size);
    int64_t row_local = info.is_cpu ? 16 : 256;
    if (auto hint = sdk::int_hint(params, num_params, "hint.opencl.row_local")) {
      if (*hint < 1 || *hint > 1024 || (*hint & (*hint - 1)) != 0)
        return sdk::invalid(std::string(name_) + ": hint.opencl.row_local must be a power of two in 1..1024");
      row_local = *hint;
    }
    while (static_cast<size_t>(row_local) > max_local) row_local /= 2;
    kc_.row_local = static_cast<int>(std::max<int64_t>(1, row_local));
    cap_local_ = info.is_cpu ? 64 : 256;
    return nullptr;
  }

 protected:
  // The program the op's kernels come from: the dtype's inference program (training ops: theirs).
  virtual std::string source() const { return infer_source(kc_); }
  DeviceState& dev() { return *device_->state; }
  std::string what() const { return std::string(name_) + " op_create"; }

  // Builds (or takes from the cache) the dtype's program and creates `kernel_name` in `l`.
  CMTR_Error* build(const CMTR_KeyValue* params, size_t num_params, const char* kernel_name, Launch* l) {
    return make_kernel(dev(), what(), source(), build_options(params, num_params), kernel_name, &l->kernel,
                       build_.empty() ? &build_ : nullptr);
  }
  // Row kernels: one work-group of row_local items per row (and `groups` per row when > 1).
  void row_geometry(Launch* l, uint64_t rows, uint64_t groups = 1) {
    l->dims = groups > 1 ? 2 : 1;
    l->local[0] = static_cast<size_t>(kc_.row_local);
    l->global[0] = l->local[0] * (groups > 1 ? groups : rows);
    if (groups > 1) l->global[1] = rows;
  }
  // Element kernels: dimension 0 covers `items` work items (vectors of a row) in work-groups of up to
  // cap_local_ (a power of two, no more than the row needs), the other dimensions `d1` x `d2`.
  void item_geometry(Launch* l, uint64_t items, uint64_t d1, uint64_t d2 = 1) {
    l->dims = d2 > 1 ? 3 : d1 > 1 ? 2 : 1;
    size_t local = std::min(pow2_at_least(items, cap_local_), kernel_max_local(dev(), l->kernel.get()));
    if (l->dims == 1) local = local_1d(dev(), l->kernel.get(), items, cap_local_);
    l->local[0] = local;
    l->global[0] = round_up(items, local);
    l->global[1] = d1;
    l->global[2] = d2;
  }
  // The first launch on an empty problem (the arguments set by the caller describe one).
  CMTR_Error* prime_launch(const Launch& l) { return prime(dev(), what(), l.kernel.get(), l.dims, l.local); }
  CMTR_Error* run(cl_command_queue queue, const Launch& l) {
    const std::string w = std::string(name_) + " op_enqueue";
    return launch(queue, w.c_str(), l.kernel.get(), l.dims, l.global, l.local);
  }
  CMTR_Error* arg_error(cl_int err) {
    return err == CL_SUCCESS ? nullptr : cl_failure(name_, "clSetKernelArg", err);
  }
  CMTR_Error* check(CMTR_Buffer* const* buffers, size_t num_buffers,
                    const std::vector<sdk::BufferNeed>& needs) {
    return check_buffers(name_, device_, buffers, num_buffers, needs);
  }
  // A zero-filled scratch buffer for priming.
  CMTR_Error* dummy(MemPtr* out) { return scratch_buffer(dev(), what(), 64, out); }
  void describe(const std::string& how, const Launch& l) {
    attributes.set("impl", std::string("opencl kernel: ") + how + ", " + elem_name(kc_.type) + " storage" +
                               (kc_.type == Elem::kF32 ? "" : " converted by bit operations") +
                               ", f32 arithmetic, local size " + std::to_string(l.local[0]));
    attributes.set("opencl.vector_width", static_cast<int64_t>(kc_.vw));
    attributes.set("opencl.local_size", static_cast<int64_t>(l.local[0]));
    attributes.set("opencl.build", build_);
  }

  CMTR_Device* device_;
  const char* name_;
  InferKernelConfig kc_;
  size_t cap_local_ = 64;
  std::string build_;
};

// Creates the op (create) or just answers (query), from a parsed request.
template <class OpT, class P, class... Extra>
inline OpPlan finish(CMTR_Device* device, const P& p, Elem type, bool create, const CMTR_KeyValue* params,
                     size_t num_params, Extra... extra) {
  OpPlan plan = answer(OpPlan::kSupported);
  if (!create) return plan;
  auto op = std::make_unique<OpT>(device, p, type, extra...);
  if (CMTR_Error* e = op->configure(params, num_params)) return failed(e);
  if (CMTR_Error* e = op->init(params, num_params)) return failed(e);
  plan.op = std::move(op);
  return plan;
}

// The checks every op shares: storage type, int-sized values, the device's largest buffer.
template <class P>
inline std::optional<OpPlan> refuse(const char* name, CMTR_Device* device, const P& p,
                                    std::initializer_list<uint64_t> buffer_bytes) {
  if (!storage_of(p.dtype))
    return answer(OpPlan::kUnsupported, std::string(name) + " on opencl: dtype " + sdk::dtype_name(p.dtype) +
                                            " is not supported (f16, bf16 and f32 are)");
  const uint64_t max_alloc = static_cast<uint64_t>(device->state->info.max_alloc_bytes);
  for (uint64_t bytes : buffer_bytes)
    if (bytes > max_alloc)
      return answer(OpPlan::kUnsupported,
                    std::string(name) + " on opencl: a buffer would exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");
  return std::nullopt;
}

}  // namespace cmeter::opencl::infer

#endif  // CMETER_PLUGINS_OPENCL_INFER_OP_HPP_
