// plugins/opencl/opencl_plugin.cpp - the ABI entry points of libcmeter-opencl.so: every device of
// every OpenCL platform the ICD loader finds becomes `opencl:N`, in platform then device order.
//
// Why this file exists: it is the OpenCL plugin's side of cmeter/plugin_abi.h. It validates every
// call (struct sizes, NULL, foreign or destroyed handles, ranges, handles of another device) and
// answers with error objects, never a crash; it maps buffers onto cl_mem (host-pinned ones allocated
// with CL_MEM_ALLOC_HOST_PTR and mapped for their whole life), streams onto in-order profiling
// queues, and events onto marker commands whose CL_PROFILING_COMMAND_END stamps give device time.
// No platform (no ICD installed) is not an error: the plugin then has zero devices and says why.
#include <cmeter/plugin_abi.h>
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

using sdk::invalid;
using sdk::not_initialised;

CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
  bool ours = false;
  for (const CMTR_Device* d : state().device_list) ours = ours || (d == device && d->magic == kDeviceMagic);
  return sdk::check_device(device, call, "opencl", state().initialized, ours);
}

// Live-handle checks (sdk::check_handle), then: the plugin must be initialised.
template <class Handle>
CMTR_Error* check_live(const Handle* h, uint32_t magic, const char* call, const char* role) {
  if (CMTR_Error* e = sdk::check_handle(h, magic, call, role, "opencl", role)) return e;
  if (!state().initialized) return not_initialised(call);
  return nullptr;
}
CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
  return check_live(b, kBufferMagic, call, "buffer");
}
CMTR_Error* check_stream(const CMTR_Stream* s, const char* call) {
  return check_live(s, kStreamMagic, call, "stream");
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

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = sdk::check_initialize(args, "opencl")) return e;
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.initialized) {
      enumerate(s);
      s.initialized = true;
    }
    args->attributes = s.plugin_attributes.data();
    args->num_attributes = s.plugin_attributes.size();
    return nullptr;
  });
}

CMTR_Error* plugin_shutdown(CMTR_Plugin_Shutdown_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Shutdown_Args, extension);
  return sdk::guarded([&]() -> CMTR_Error* {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (auto& d : s.devices) d->magic = 0;
    s.device_list.clear();
    s.devices.clear();  // releases programs, queues, contexts
    s.initialized = false;
    return nullptr;
  });
}

CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Devices_Args, num_devices);
  if (!state().initialized) return not_initialised("plugin_devices");
  args->devices = state().device_list.data();
  args->num_devices = state().device_list.size();
  return nullptr;
}

// ---- Devices ----

CMTR_Error* device_attributes(CMTR_Device_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Device_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_device(args->device, "device_attributes")) return e;
  args->attributes = args->device->attributes.data();
  args->num_attributes = args->device->attributes.size();
  return nullptr;
}

// ---- Buffers ----

CMTR_Error* buffer_create(CMTR_Buffer_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Create_Args, buffer);
  if (CMTR_Error* e = check_device(args->device, "buffer_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    if (args->size_bytes == 0) return invalid("buffer_create: size_bytes is 0");
    if (args->memory_kind != CMTR_MEMORY_DEVICE && args->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return invalid("buffer_create: unknown memory_kind " + std::to_string(args->memory_kind));
    DeviceState& d = *args->device->state;
    const std::string what = "buffer_create of " + std::to_string(args->size_bytes) + " bytes on " + d.label;
    if (args->size_bytes > static_cast<uint64_t>(d.info.mem_bytes))
      return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, what + ": exceeds the device's global memory (" +
                                                           std::to_string(d.info.mem_bytes) + " bytes)");
    if (CMTR_Error* e = d.ensure_context("buffer_create")) return e;
    const bool pinned = args->memory_kind == CMTR_MEMORY_HOST_PINNED;
    cl_int err = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(d.context(), CL_MEM_READ_WRITE | (pinned ? CL_MEM_ALLOC_HOST_PTR : 0),
                                static_cast<size_t>(args->size_bytes), nullptr, &err);
    if (err != CL_SUCCESS || mem == nullptr) {
      std::string note;
      if (err == CL_INVALID_BUFFER_SIZE)
        note = " (CL_DEVICE_MAX_MEM_ALLOC_SIZE is " + std::to_string(d.info.max_alloc_bytes) + " bytes)";
      return make_error(abi_code_for(err), what + ": clCreateBuffer failed: " + cl_error_name(err) + note);
    }
    auto b = std::make_unique<CMTR_Buffer>();
    b->device = args->device;
    b->mem = mem;
    b->size_bytes = args->size_bytes;
    b->memory_kind = args->memory_kind;
    if (pinned) {
      void* p = clEnqueueMapBuffer(d.setup_queue(), mem, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                   static_cast<size_t>(args->size_bytes), 0, nullptr, nullptr, &err);
      if (err != CL_SUCCESS || p == nullptr) {
        clReleaseMemObject(mem);
        return make_error(abi_code_for(err),
                          what + ": clEnqueueMapBuffer (host-pinned) failed: " + cl_error_name(err));
      }
      std::memset(p, 0, static_cast<size_t>(args->size_bytes));  // touch every page now, not while timing
      b->mapped = p;
    } else {
      // Zero-fill: drivers that allocate lazily do it now, so an allocation failure is reported
      // here (RESOURCE_EXHAUSTED) and not by a later enqueue.
      const cl_uchar zero = 0;
      err = clEnqueueFillBuffer(d.setup_queue(), mem, &zero, 1, 0, static_cast<size_t>(args->size_bytes), 0,
                                nullptr, nullptr);
      if (err == CL_SUCCESS) err = clFinish(d.setup_queue());
      if (err != CL_SUCCESS) {
        clReleaseMemObject(mem);
        return make_error(abi_code_for(err),
                          what + ": zero-filling the new buffer failed: " + cl_error_name(err));
      }
    }
    args->buffer = b.release();
    return nullptr;
  });
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (CMTR_Error* e =
          sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer", "opencl", "buffer"))
    return e;
  CMTR_Buffer* b = args->buffer;
  b->magic = 0;
  if (b->mapped != nullptr && b->device != nullptr && b->device->magic == kDeviceMagic) {
    cl_command_queue q = b->device->state->setup_queue();
    if (clEnqueueUnmapMemObject(q, b->mem, b->mapped, 0, nullptr, nullptr) == CL_SUCCESS) clFinish(q);
  }
  clReleaseMemObject(b->mem);
  delete b;
  return nullptr;
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  if (args->buffer->mapped == nullptr)
    return make_error(CMTR_ERROR_UNIMPLEMENTED,
                      "buffer_host_pointer: a device buffer of the opencl plugin is not "
                      "host-addressable (use CMTR_MEMORY_HOST_PINNED)");
  args->host_pointer = args->buffer->mapped;
  return nullptr;
}

CMTR_Error* check_same_device(const CMTR_Stream* s, const CMTR_Buffer* b, const char* call) {
  if (s->device != b->device)
    return invalid(std::string(call) + ": the buffer and the stream belong to different devices");
  return nullptr;
}

CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_write")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_write")) return e;
  if (CMTR_Error* e = check_same_device(args->stream, args->buffer, "buffer_write")) return e;
  if (CMTR_Error* e = sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                       args->host_pointer, "buffer_write"))
    return e;
  cl_command_queue q = args->stream->queue;
  cl_int err;
  if (args->buffer->mapped != nullptr) {
    // A host-pinned buffer stays mapped: write through its host address, in stream order.
    err = clFinish(q);
    if (err == CL_SUCCESS)
      std::memcpy(static_cast<char*>(args->buffer->mapped) + args->offset_bytes, args->host_pointer,
                  args->size_bytes);
  } else {
    err =
        clEnqueueWriteBuffer(q, args->buffer->mem, CL_FALSE, static_cast<size_t>(args->offset_bytes),
                             static_cast<size_t>(args->size_bytes), args->host_pointer, 0, nullptr, nullptr);
  }
  if (err != CL_SUCCESS) return cl_failure("buffer_write", "clEnqueueWriteBuffer", err);
  return nullptr;
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_read")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = check_same_device(args->stream, args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                       args->host_pointer, "buffer_read"))
    return e;
  cl_command_queue q = args->stream->queue;
  cl_int err;
  if (args->buffer->mapped != nullptr) {
    err = clFinish(q);
    if (err == CL_SUCCESS)
      std::memcpy(args->host_pointer, static_cast<const char*>(args->buffer->mapped) + args->offset_bytes,
                  args->size_bytes);
  } else {
    err = clEnqueueReadBuffer(q, args->buffer->mem, CL_FALSE, static_cast<size_t>(args->offset_bytes),
                              static_cast<size_t>(args->size_bytes), args->host_pointer, 0, nullptr, nullptr);
  }
  if (err != CL_SUCCESS) return cl_failure("buffer_read", "clEnqueueReadBuffer", err);
  return nullptr;
}

// ---- Streams: in-order queues with profiling ----

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
  if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    DeviceState& d = *args->device->state;
    if (CMTR_Error* e = d.ensure_context("stream_create")) return e;
    cl_command_queue q = nullptr;
    if (CMTR_Error* e = d.create_queue("stream_create", &q)) return e;
    auto* s = new CMTR_Stream();
    s->device = args->device;
    s->queue = q;
    args->stream = s;
    return nullptr;
  });
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (CMTR_Error* e =
          sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream", "opencl", "stream"))
    return e;
  args->stream->magic = 0;
  clFinish(args->stream->queue);
  clReleaseCommandQueue(args->stream->queue);
  delete args->stream;
  return nullptr;
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
  cl_command_queue q = args->stream->queue;
  const cl_int err = clFinish(q);
  if (err != CL_SUCCESS)
    return cl_failure("stream_synchronize on " + args->stream->device->state->label, "clFinish", err);
  return nullptr;
}

// ---- Events: profiled markers ----

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    cl_event ev = nullptr;
    cl_int err = clEnqueueMarkerWithWaitList(args->stream->queue, 0, nullptr, &ev);
    if (err != CL_SUCCESS) return cl_failure("event_record", "clEnqueueMarkerWithWaitList", err);
    clFlush(args->stream->queue);  // start the work before it, so the device timeline begins now
    auto* e = new CMTR_Event();
    e->event = ev;
    args->event = e;
    return nullptr;
  });
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (CMTR_Error* e =
          sdk::check_handle(args->start, kEventMagic, "event_elapsed", "start", "opencl", "event"))
    return e;
  if (CMTR_Error* e = sdk::check_handle(args->stop, kEventMagic, "event_elapsed", "stop", "opencl", "event"))
    return e;
  cl_event both[2] = {args->start->event, args->stop->event};
  cl_int err = clWaitForEvents(2, both);
  if (err != CL_SUCCESS) return cl_failure("event_elapsed", "clWaitForEvents", err);
  cl_ulong t0 = 0, t1 = 0;
  err = clGetEventProfilingInfo(args->start->event, CL_PROFILING_COMMAND_END, sizeof t0, &t0, nullptr);
  if (err == CL_SUCCESS)
    err = clGetEventProfilingInfo(args->stop->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
  if (err != CL_SUCCESS)
    return cl_failure("event_elapsed", "clGetEventProfilingInfo(CL_PROFILING_COMMAND_END)", err);
  args->elapsed_s = t1 >= t0 ? static_cast<double>(t1 - t0) * 1e-9 : -static_cast<double>(t0 - t1) * 1e-9;
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e =
          sdk::check_handle(args->event, kEventMagic, "event_destroy", "event", "opencl", "event"))
    return e;
  args->event->magic = 0;
  clReleaseEvent(args->event->event);
  delete args->event;
  return nullptr;
}

// ---- Ops ----

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    OpPlan plan = plan_op(args->device, sdk::view(args->name), args->params, args->num_params, false);
    return sdk::answer_query(args, plan.status, plan.reason, plan.error);
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = args->device->state->ensure_context("op_create")) return e;
    OpPlan plan = plan_op(args->device, sdk::view(args->name), args->params, args->num_params, true);
    if (plan.status != OpPlan::kSupported) return sdk::create_error(plan.status, plan.reason, plan.error);
    auto* op = new CMTR_Op();
    op->device = args->device;
    op->impl = std::move(plan.op);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_attributes", "op", "opencl", "op")) return e;
  args->attributes = args->op->impl->attributes.data();
  args->num_attributes = args->op->impl->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_enqueue", "op", "opencl", "op")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  if (args->stream->device != args->op->device)
    return invalid("op_enqueue: the op and the stream belong to different devices");
  return sdk::guarded([&]() -> CMTR_Error* {
    return args->op->impl->enqueue(args->stream->queue, args->buffers, args->num_buffers);
  });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_destroy", "op", "opencl", "op")) return e;
  args->op->magic = 0;
  delete args->op;
  return nullptr;
}

const CMTR_Api kApi =
    sdk::ApiBuilder()
        .plugin(&plugin_initialize, &plugin_shutdown, &plugin_devices)
        .device(&device_attributes, nullptr)  // OpenCL has no portable telemetry query
        .buffers(&buffer_create, &buffer_destroy, &buffer_host_pointer, &buffer_write, &buffer_read)
        .streams(&stream_create, &stream_destroy, &stream_synchronize)
        .events(&event_record, &event_elapsed, &event_destroy)
        .ops(&op_query, &op_create, &op_attributes, &op_enqueue, &op_destroy)
        .build();

}  // namespace
}  // namespace cmeter::opencl

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::opencl::kApi;
}
