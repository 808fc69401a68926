// plugins/opencl/op_util.hpp - pieces shared by the OpenCL plugin's ops (ops.cpp, gemm.cpp).
//
// Why this file exists: every op builds a kernel through the device's program cache, picks a local
// size, primes the kernel once in op_create, checks the buffers it is given and launches; doing these
// once keeps the ops' code to what differs between them.
#ifndef CMETER_PLUGINS_OPENCL_OP_UTIL_HPP_
#define CMETER_PLUGINS_OPENCL_OP_UTIL_HPP_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <cmeter/plugin_ops.hpp>

#include "ops.hpp"
#include "runtime.hpp"

namespace cmeter::opencl {

OpPlan answer(OpPlan::Status status, std::string reason = {});
// A create-time failure (build log, allocation): op_create returns `error` as is.
OpPlan failed(CMTR_Error* error);

struct ReleaseKernel {
  void operator()(cl_kernel k) const { clReleaseKernel(k); }
};
struct ReleaseMem {
  void operator()(cl_mem m) const { clReleaseMemObject(m); }
};
using KernelPtr = std::unique_ptr<std::remove_pointer_t<cl_kernel>, ReleaseKernel>;
using MemPtr = std::unique_ptr<std::remove_pointer_t<cl_mem>, ReleaseMem>;

// Build options: the hint `hint.opencl.build_options` (for vendors tuning their compiler), else "".
std::string build_options(const CMTR_KeyValue* params, size_t num_params);
// A vector width from the device's preference (or `hint.opencl.vector_width`), as 1, 2, 4, 8 or 16.
int vector_width(int64_t preferred, const CMTR_KeyValue* params, size_t num_params);

// Sets the kernel's arguments 0.. in order; the first failure is returned.
template <class... Args>
cl_int set_args(cl_kernel kernel, const Args&... args) {
  cl_int err = CL_SUCCESS;
  cl_uint index = 0;
  ((err = err == CL_SUCCESS ? clSetKernelArg(kernel, index, sizeof(Args), &args) : err, ++index), ...);
  return err;
}

uint64_t round_up(uint64_t x, uint64_t multiple);
// The largest work-group size the kernel allows on the device, as a power of two.
size_t kernel_max_local(const DeviceState& dev, cl_kernel kernel);
// 1-D local size: on CPU devices at most `cpu_max` and small enough for >= 16 work-groups per compute
// unit (every core gets work, the load balances); elsewhere 256 (or the kernel's limit).
size_t local_1d(const DeviceState& dev, cl_kernel kernel, uint64_t work_items, size_t cpu_max);

// The kernel `name` of the program built from `source` (through the program cache).
// `build_note`, when given, is set to how the program was obtained ("from the plugin's program
// cache" or "built in 0.12 s"), for the op's `opencl.build` attribute.
CMTR_Error* make_kernel(DeviceState& dev, const std::string& what, const std::string& source,
                        const std::string& options, const char* name, KernelPtr* out,
                        std::string* build_note = nullptr);
// Launches `kernel` once on the setup queue with global = local; its arguments must describe an empty
// problem. Drivers that generate code per local size (PoCL) do it here, not in a timed launch.
CMTR_Error* prime(DeviceState& dev, const std::string& what, cl_kernel kernel, cl_uint dims,
                  const size_t* local);
CMTR_Error* launch(cl_command_queue queue, const char* what, cl_kernel kernel, cl_uint dims,
                   const size_t* global, const size_t* local);

// Checks count, handles, device, memory kind and sizes of an enqueue's buffers; errors name the buffer.
CMTR_Error* check_buffers(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                          size_t num_buffers, std::initializer_list<sdk::BufferNeed> needs);
CMTR_Error* check_buffers(const char* op, const CMTR_Device* device, CMTR_Buffer* const* buffers,
                          size_t num_buffers, const std::vector<sdk::BufferNeed>& needs);
// A zero-filled buffer of at least `size_bytes` (scratch for priming and candidate timing).
CMTR_Error* scratch_buffer(DeviceState& dev, const std::string& what, uint64_t size_bytes, MemPtr* out);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_OP_UTIL_HPP_
