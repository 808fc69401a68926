// plugins/opencl/op_util.cpp - helpers shared by the ops (see op_util.hpp).
#include "op_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace cmeter::opencl {

using sdk::make_error;

OpPlan answer(OpPlan::Status status, std::string reason) {
  OpPlan p;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

OpPlan failed(CMTR_Error* error) {
  OpPlan p;
  p.status = OpPlan::kFailed;
  p.error = error;
  return p;
}

// Build options: the hint `hint.opencl.build_options` is appended (for vendors tuning their compiler).
std::string build_options(const CMTR_KeyValue* params, size_t num_params) {
  return sdk::string_hint(params, num_params, "hint.opencl.build_options").value_or("");
}

// A vector width from the device's preference (or the hint), as one of 1, 2, 4, 8, 16.
int vector_width(int64_t preferred, const CMTR_KeyValue* params, size_t num_params) {
  int64_t w = sdk::int_hint(params, num_params, "hint.opencl.vector_width").value_or(preferred);
  int v = 1;
  while (v < 16 && v * 2 <= w) v *= 2;
  return v;
}

// ---- launching ----

uint64_t round_up(uint64_t x, uint64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

// The largest work-group size the kernel allows on the device, as a power of two.
size_t kernel_max_local(const DeviceState& dev, cl_kernel kernel) {
  size_t max = dev.info.max_work_group_size;
  size_t k = 0;
  if (clGetKernelWorkGroupInfo(kernel, dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof k, &k, nullptr) ==
          CL_SUCCESS &&
      k > 0)
    max = std::min(max, k);
  size_t p = 1;
  while (p * 2 <= max) p *= 2;
  return p;
}

// 1-D local size: on CPU devices at most `cpu_max` and small enough that there are >= 16 work-groups
// per compute unit (so every core gets work and the load balances); elsewhere 256.
size_t local_1d(const DeviceState& dev, cl_kernel kernel, uint64_t work_items, size_t cpu_max) {
  size_t local = dev.info.is_cpu ? cpu_max : 256;
  local = std::min(local, kernel_max_local(dev, kernel));
  if (dev.info.is_cpu) {
    const uint64_t min_groups = 16 * static_cast<uint64_t>(std::max<int64_t>(1, dev.info.compute_units));
    while (local > 1 && work_items / local < min_groups) local /= 2;
  }
  return std::max<size_t>(1, local);
}

CMTR_Error* make_kernel(DeviceState& dev, const std::string& what, const std::string& source,
                        const std::string& options, const char* name, KernelPtr* out,
                        std::string* build_note) {
  cl_program program = nullptr;
  bool cached = false;
  const auto t0 = std::chrono::steady_clock::now();
  if (CMTR_Error* e = dev.program(what, source, options, &program, &cached)) return e;
  if (build_note != nullptr) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "built in %.3f s",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    *build_note = cached ? "from the plugin's program cache" : buf;
  }
  cl_int err = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel(program, name, &err);
  if (err != CL_SUCCESS || kernel == nullptr)
    return cl_failure(what + " on " + dev.label, "clCreateKernel", err);
  out->reset(kernel);
  return nullptr;
}

// Launches `kernel` once on the setup queue with global = local (the arguments set describe an empty
// problem), so the driver has generated the code for this local size before anything is timed.
CMTR_Error* prime(DeviceState& dev, const std::string& what, cl_kernel kernel, cl_uint dims,
                  const size_t* local) {
  cl_int err =
      clEnqueueNDRangeKernel(dev.setup_queue(), kernel, dims, nullptr, local, local, 0, nullptr, nullptr);
  if (err == CL_SUCCESS) err = clFinish(dev.setup_queue());
  if (err != CL_SUCCESS)
    return cl_failure(what + " on " + dev.label + " (first launch)", "clEnqueueNDRangeKernel", err);
  return nullptr;
}

CMTR_Error* launch(cl_command_queue queue, const char* what, cl_kernel kernel, cl_uint dims,
                   const size_t* global, const size_t* local) {
  const cl_int err = clEnqueueNDRangeKernel(queue, kernel, dims, nullptr, global, local, 0, nullptr, nullptr);
  if (err != CL_SUCCESS) return cl_failure(what, "clEnqueueNDRangeKernel", err);
  return nullptr;
}

// Checks count, handles, device and sizes of an enqueue's buffers; errors name the offending buffer.
namespace {
template <class Needs>
CMTR_Error* check_buffer_list(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                              size_t num_buffers, const Needs& needs) {
  if (CMTR_Error* e = sdk::check_buffer_count(op, buffers, num_buffers, needs)) return e;
  size_t i = 0;
  for (const auto& need : needs) {
    const CMTR_Buffer* b = buffers[i];
    const std::string which = "buffer " + std::to_string(i) + " (" + need.role + ")";
    if (CMTR_Error* e = sdk::check_handle(b, kBufferMagic, op, which.c_str(), "opencl", "buffer")) return e;
    if (b->device != device)
      return sdk::invalid(std::string(op) + ": " + which + " belongs to another device");
    if (b->memory_kind != CMTR_MEMORY_DEVICE)
      return sdk::invalid(std::string(op) + ": " + which +
                          " is host-pinned memory (mapped for the host); ops take device buffers");
    if (CMTR_Error* e = sdk::check_buffer_size(op, i, need, b->size_bytes)) return e;
    ++i;
  }
  return nullptr;
}
}  // namespace

CMTR_Error* check_buffers(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                          size_t num_buffers, std::initializer_list<sdk::BufferNeed> needs) {
  return check_buffer_list(op, device, buffers, num_buffers, needs);
}
CMTR_Error* check_buffers(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                          size_t num_buffers, const std::vector<sdk::BufferNeed>& needs) {
  return check_buffer_list(op, device, buffers, num_buffers, needs);
}

// A zero-filled scratch buffer (for candidate timing at op_create).
CMTR_Error* scratch_buffer(DeviceState& dev, const std::string& what, uint64_t size_bytes, MemPtr* out) {
  cl_int err = CL_SUCCESS;
  cl_mem mem =
      clCreateBuffer(dev.context(), CL_MEM_READ_WRITE, std::max<uint64_t>(size_bytes, 64), nullptr, &err);
  if (err != CL_SUCCESS || mem == nullptr)
    return cl_failure(what + " on " + dev.label + " (scratch)", "clCreateBuffer", err);
  out->reset(mem);
  const cl_uchar zero = 0;
  err = clEnqueueFillBuffer(dev.setup_queue(), mem, &zero, 1, 0, std::max<uint64_t>(size_bytes, 64), 0,
                            nullptr, nullptr);
  if (err == CL_SUCCESS) err = clFinish(dev.setup_queue());
  if (err != CL_SUCCESS)
    return cl_failure(what + " on " + dev.label + " (scratch)", "clEnqueueFillBuffer", err);
  return nullptr;
}

}  // namespace cmeter::opencl
