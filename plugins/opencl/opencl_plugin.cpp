// plugins/opencl/opencl_plugin.cpp - the ABI entry points of libcmeter-opencl.so: every device of
// every OpenCL platform the ICD loader finds becomes `opencl:N`, in platform then device order.
//
// Why this file exists: it is the OpenCL plugin's side of cmeter/plugin_abi.h, on the SDK adapter
// (cmeter/plugin_adapter.hpp checks every call: struct sizes, NULL, foreign or destroyed handles,
// ranges, handles of another device). What is OpenCL's own is here: it maps buffers onto cl_mem (host-pinned
// ones allocated with CL_MEM_ALLOC_HOST_PTR and mapped for their whole life), streams onto in-order profiling
// queues, and events onto marker commands whose CL_PROFILING_COMMAND_END stamps give device time.
// No platform (no ICD installed) is not an error: the plugin then has zero devices and says why.
#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_adapter.hpp>
#include <cmeter/plugin_sdk.hpp>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cl_util.hpp"
#include "device_info.hpp"
#include "ops.hpp"
#include "runtime.hpp"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif

namespace cmeter::opencl {
namespace {

using sdk::make_error;

// Plugin-wide state. Never destroyed (the plugin is linked -z nodelete, and drivers keep threads),
// so nothing depends on static destruction order at process exit.
struct PluginState {
  std::mutex mutex;
  bool initialized = false;
  std::vector<std::unique_ptr<CMTR_Device>> devices;
  std::vector<CMTR_Device*> device_list;
  sdk::KeyValueList plugin_attributes;
};

PluginState& state() {
  static PluginState* s = new PluginState();
  return *s;
}

// ---- Plugin ----

void enumerate(PluginState& s) {
  s.plugin_attributes.clear();
  s.plugin_attributes.set("plugin.name", "opencl");
  s.plugin_attributes.set("plugin.version", CMETER_VERSION);
  s.plugin_attributes.set("plugin.vendor", "cmeter");
  cl_uint num_platforms = 0;
  cl_int err = clGetPlatformIDs(0, nullptr, &num_platforms);
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && num_platforms == 0)) {
    s.plugin_attributes.set(
        "plugin.status",
        "no OpenCL platform: the ICD loader found no installable client driver (e.g. install "
        "pocl-opencl-icd, or a GPU vendor's OpenCL ICD)");
    return;
  }
  if (err != CL_SUCCESS) {
    s.plugin_attributes.set("plugin.status", "clGetPlatformIDs failed: " + cl_error_name(err));
    return;
  }
  std::vector<cl_platform_id> platforms(num_platforms);
  if (clGetPlatformIDs(num_platforms, platforms.data(), nullptr) != CL_SUCCESS) return;
  std::string problems;
  for (cl_platform_id platform : platforms) {
    cl_uint num_devices = 0;
    err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &num_devices);
    if (err == CL_DEVICE_NOT_FOUND || num_devices == 0) continue;
    if (err != CL_SUCCESS) {
      problems += (problems.empty() ? "" : "; ") + platform_string(platform, CL_PLATFORM_NAME) +
                  ": clGetDeviceIDs failed: " + cl_error_name(err);
      continue;
    }
    std::vector<cl_device_id> ids(num_devices);
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, num_devices, ids.data(), nullptr) != CL_SUCCESS)
      continue;
    for (cl_device_id id : ids) {
      auto device = std::make_unique<CMTR_Device>();
      device->state = std::make_unique<DeviceState>();
      DeviceState& d = *device->state;
      d.platform = platform;
      d.device = id;
      d.info = probe_device(platform, id);
      d.label = "opencl:" + std::to_string(s.devices.size()) + " (" + d.info.name + ")";
      build_attributes(d.info, device->attributes);
      s.device_list.push_back(device.get());
      s.devices.push_back(std::move(device));
    }
  }
  if (s.devices.empty())
    s.plugin_attributes.set("plugin.status",
                            problems.empty() ? "OpenCL platforms found, but no devices" : problems);
}

// The OpenCL part of the ABI; cmeter/plugin_adapter.hpp does the checks around each hook.
struct OpenclPlugin : sdk::Adapter<OpenclPlugin> {
  static constexpr const char* kName = "opencl";
  static constexpr uint32_t kDeviceMagic = opencl::kDeviceMagic, kBufferMagic = opencl::kBufferMagic,
                            kStreamMagic = opencl::kStreamMagic, kEventMagic = opencl::kEventMagic,
                            kOpMagic = opencl::kOpMagic;
  static constexpr const char* kMemoryName = "the device's global memory";

  // ---- Plugin ----
  static CMTR_Error* initialize(const sdk::KeyValueList** attributes) {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.initialized) {
      enumerate(s);
      s.initialized = true;
    }
    *attributes = &s.plugin_attributes;
    return nullptr;
  }
  static void shutdown() {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (auto& d : s.devices) d->magic = 0;
    s.device_list.clear();
    s.devices.clear();  // releases programs, queues, contexts
    s.initialized = false;
  }
  static bool initialised() { return state().initialized; }
  static sdk::DeviceList devices() { return {state().device_list.data(), state().device_list.size()}; }

  // ---- Buffers: cl_mem; host-pinned ones allocated with CL_MEM_ALLOC_HOST_PTR, mapped for life ----
  static uint64_t memory_bytes(const CMTR_Device* device, int32_t) {
    return static_cast<uint64_t>(device->state->info.mem_bytes);
  }
  static CMTR_Error* allocate(CMTR_Device* device, uint64_t size_bytes, int32_t memory_kind,
                              CMTR_Buffer** out) {
    DeviceState& d = *device->state;
    const std::string what = "buffer_create of " + std::to_string(size_bytes) + " bytes on " + d.label;
    if (CMTR_Error* e = d.ensure_context("buffer_create")) return e;
    const bool pinned = memory_kind == CMTR_MEMORY_HOST_PINNED;
    cl_int err = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(d.context(), CL_MEM_READ_WRITE | (pinned ? CL_MEM_ALLOC_HOST_PTR : 0),
                                static_cast<size_t>(size_bytes), nullptr, &err);
    if (err != CL_SUCCESS || mem == nullptr) {
      std::string note;
      if (err == CL_INVALID_BUFFER_SIZE)
        note = " (CL_DEVICE_MAX_MEM_ALLOC_SIZE is " + std::to_string(d.info.max_alloc_bytes) + " bytes)";
      return make_error(abi_code_for(err), what + ": clCreateBuffer failed: " + cl_error_name(err) + note);
    }
    auto b = std::make_unique<CMTR_Buffer>();
    b->device = device;
    b->mem = mem;
    b->size_bytes = size_bytes;
    b->memory_kind = memory_kind;
    if (pinned) {
      void* p = clEnqueueMapBuffer(d.setup_queue(), mem, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                   static_cast<size_t>(size_bytes), 0, nullptr, nullptr, &err);
      if (err != CL_SUCCESS || p == nullptr) {
        clReleaseMemObject(mem);
        return make_error(abi_code_for(err),
                          what + ": clEnqueueMapBuffer (host-pinned) failed: " + cl_error_name(err));
      }
      std::memset(p, 0, static_cast<size_t>(size_bytes));  // touch every page now, not while timing
      b->mapped = p;
    } else {
      // Zero-fill: drivers that allocate lazily do it now, so an allocation failure is reported
      // here (RESOURCE_EXHAUSTED) and not by a later enqueue.
      const cl_uchar zero = 0;
      err = clEnqueueFillBuffer(d.setup_queue(), mem, &zero, 1, 0, static_cast<size_t>(size_bytes), 0,
                                nullptr, nullptr);
      if (err == CL_SUCCESS) err = clFinish(d.setup_queue());
      if (err != CL_SUCCESS) {
        clReleaseMemObject(mem);
        return make_error(abi_code_for(err),
                          what + ": zero-filling the new buffer failed: " + cl_error_name(err));
      }
    }
    *out = b.release();
    return nullptr;
  }
  static CMTR_Error* free_buffer(CMTR_Buffer* b) {
    if (b->mapped != nullptr && b->device != nullptr && b->device->magic == opencl::kDeviceMagic) {
      cl_command_queue q = b->device->state->setup_queue();
      if (clEnqueueUnmapMemObject(q, b->mem, b->mapped, 0, nullptr, nullptr) == CL_SUCCESS) clFinish(q);
    }
    clReleaseMemObject(b->mem);
    delete b;
    return nullptr;
  }
  static CMTR_Error* host_pointer(CMTR_Buffer* b, void** out) {
    if (b->mapped == nullptr)
      return make_error(CMTR_ERROR_UNIMPLEMENTED,
                        "buffer_host_pointer: a device buffer of the opencl plugin is not "
                        "host-addressable (use CMTR_MEMORY_HOST_PINNED)");
    *out = b->mapped;
    return nullptr;
  }
  // A host-pinned buffer stays mapped: copies go through its host address, in stream order.
  static CMTR_Error* write(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) {
    cl_int err;
    if (b->mapped != nullptr) {
      err = clFinish(s->queue);
      if (err == CL_SUCCESS) std::memcpy(static_cast<char*>(b->mapped) + offset, host, size);
    } else {
      err = clEnqueueWriteBuffer(s->queue, b->mem, CL_FALSE, static_cast<size_t>(offset),
                                 static_cast<size_t>(size), host, 0, nullptr, nullptr);
    }
    if (err != CL_SUCCESS) return cl_failure("buffer_write", "clEnqueueWriteBuffer", err);
    return nullptr;
  }
  static CMTR_Error* read(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) {
    cl_int err;
    if (b->mapped != nullptr) {
      err = clFinish(s->queue);
      if (err == CL_SUCCESS) std::memcpy(host, static_cast<const char*>(b->mapped) + offset, size);
    } else {
      err = clEnqueueReadBuffer(s->queue, b->mem, CL_FALSE, static_cast<size_t>(offset),
                                static_cast<size_t>(size), host, 0, nullptr, nullptr);
    }
    if (err != CL_SUCCESS) return cl_failure("buffer_read", "clEnqueueReadBuffer", err);
    return nullptr;
  }

  // ---- Streams: in-order queues with profiling ----
  static CMTR_Error* create_stream(CMTR_Device* device, CMTR_Stream** out) {
    DeviceState& d = *device->state;
    if (CMTR_Error* e = d.ensure_context("stream_create")) return e;
    cl_command_queue q = nullptr;
    if (CMTR_Error* e = d.create_queue("stream_create", &q)) return e;
    auto* s = new CMTR_Stream();
    s->device = device;
    s->queue = q;
    *out = s;
    return nullptr;
  }
  static CMTR_Error* free_stream(CMTR_Stream* s) {
    clFinish(s->queue);
    clReleaseCommandQueue(s->queue);
    delete s;
    return nullptr;
  }
  static CMTR_Error* synchronize(CMTR_Stream* s) {
    const cl_int err = clFinish(s->queue);
    if (err != CL_SUCCESS)
      return cl_failure("stream_synchronize on " + s->device->state->label, "clFinish", err);
    return nullptr;
  }

  // ---- Events: profiled markers ----
  static CMTR_Error* record(CMTR_Stream* s, CMTR_Event** out) {
    cl_event ev = nullptr;
    cl_int err = clEnqueueMarkerWithWaitList(s->queue, 0, nullptr, &ev);
    if (err != CL_SUCCESS) return cl_failure("event_record", "clEnqueueMarkerWithWaitList", err);
    clFlush(s->queue);  // start the work before it, so the device timeline begins now
    auto* e = new CMTR_Event();
    e->device = s->device;
    e->event = ev;
    *out = e;
    return nullptr;
  }
  static CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s) {
    cl_event both[2] = {start->event, stop->event};
    cl_int err = clWaitForEvents(2, both);
    if (err != CL_SUCCESS) return cl_failure("event_elapsed", "clWaitForEvents", err);
    cl_ulong t0 = 0, t1 = 0;
    err = clGetEventProfilingInfo(start->event, CL_PROFILING_COMMAND_END, sizeof t0, &t0, nullptr);
    if (err == CL_SUCCESS)
      err = clGetEventProfilingInfo(stop->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
    if (err != CL_SUCCESS)
      return cl_failure("event_elapsed", "clGetEventProfilingInfo(CL_PROFILING_COMMAND_END)", err);
    *elapsed_s = t1 >= t0 ? static_cast<double>(t1 - t0) * 1e-9 : -static_cast<double>(t0 - t1) * 1e-9;
    return nullptr;
  }
  static CMTR_Error* free_event(CMTR_Event* ev) {
    clReleaseEvent(ev->event);
    delete ev;
    return nullptr;
  }

  // ---- Ops ----
  static OpPlan plan(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                     size_t num_params, bool for_create) {
    if (for_create) {
      OpPlan failed;
      failed.status = OpPlan::kFailed;
      if ((failed.error = device->state->ensure_context("op_create")) != nullptr) return failed;
    }
    return plan_op(device, name, params, num_params, for_create);
  }
  static CMTR_Error* make_op(CMTR_Device* device, OpPlan& plan, CMTR_Op** out) {
    auto* op = new CMTR_Op();
    op->device = device;
    op->impl = std::move(plan.op);
    *out = op;
    return nullptr;
  }
  static CMTR_Error* launch(CMTR_Op* op, CMTR_Stream* s, CMTR_Buffer* const* buffers, size_t num_buffers) {
    return op->impl->enqueue(s->queue, buffers, num_buffers);
  }
};

const CMTR_Api kApi = OpenclPlugin::api();

}  // namespace
}  // namespace cmeter::opencl

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::opencl::kApi;
}
