// plugins/cpu/cpu_plugin.cpp - the ABI entry points of libcmeter-cpu.so: one device, `cpu:0`, the
// whole machine as far as this process may use it.
//
// Why this file exists: it is the CPU plugin's side of cmeter/plugin_abi.h. It validates every call
// (struct sizes, NULL and foreign handles, ranges) and answers with error objects, never a crash;
// it owns the plugin-wide state (the CPU probe, the TBB arena) between plugin_initialize and
// plugin_shutdown; and it maps buffers, streams and events onto host memory and a steady clock.
#include <cmeter/plugin_abi.h>
#include <oneapi/tbb/version.h>
#include <cmeter/plugin_sdk.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "cpu_info.hpp"
#include "openblas_select.hpp"
#include "ops.hpp"
#include "runtime.hpp"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif

namespace cmeter::cpu {

Runtime::Runtime(CpuInfo probed)
    : info(std::move(probed)),
      kernels(info.kernels),
      threads(info.compute_units),
      arena(std::make_unique<tbb::task_arena>(info.compute_units)) {
  openblas_use_threads(threads);
  blas = openblas_description();
}

Runtime::~Runtime() = default;

namespace {

using sdk::make_error;

// Plugin-wide state. Never destroyed (the plugin is linked -z nodelete and may hold thread pools),
// so nothing depends on static destruction order at process exit.
struct PluginState {
  std::mutex mutex;
  std::unique_ptr<Runtime> runtime;
  sdk::KeyValueList plugin_attributes;
  CMTR_Device device;
  CMTR_Device* device_list[1] = {&device};
};

PluginState& state() {
  static PluginState* s = new PluginState();
  return *s;
}

CMTR_Error* invalid(std::string message) {
  return make_error(CMTR_ERROR_INVALID_ARGUMENT, std::move(message));
}

// The runtime for calls that need an initialised plugin and a valid device handle.
CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
  if (device == nullptr) return invalid(std::string(call) + ": device is NULL");
  if (device != &state().device || device->magic != kDeviceMagic)
    return invalid(std::string(call) + ": not a device of the cpu plugin");
  if (!state().runtime)
    return make_error(CMTR_ERROR_UNAVAILABLE, std::string(call) + ": plugin is not initialised");
  return nullptr;
}

Runtime& runtime() {
  return *state().runtime;
}

CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
  if (b == nullptr || b->magic != kBufferMagic)
    return invalid(std::string(call) + ": buffer is NULL or not a live cpu buffer");
  if (!state().runtime)
    return make_error(CMTR_ERROR_UNAVAILABLE, std::string(call) + ": plugin is not initialised");
  return nullptr;
}

CMTR_Error* check_stream(const CMTR_Stream* s, const char* call) {
  if (s == nullptr || s->magic != kStreamMagic)
    return invalid(std::string(call) + ": stream is NULL or not a live cpu stream");
  if (!state().runtime)
    return make_error(CMTR_ERROR_UNAVAILABLE, std::string(call) + ": plugin is not initialised");
  return nullptr;
}

CMTR_Error* check_range(const CMTR_Buffer* b, uint64_t offset_bytes, uint64_t size_bytes, const void* host,
                        const char* call) {
  if (host == nullptr) return invalid(std::string(call) + ": host_pointer is NULL");
  if (size_bytes == 0) return invalid(std::string(call) + ": size_bytes is 0");
  uint64_t end = 0;
  if (__builtin_add_overflow(offset_bytes, size_bytes, &end) || end > b->size_bytes)
    return invalid(std::string(call) + ": offset " + std::to_string(offset_bytes) + " + size " +
                   std::to_string(size_bytes) + " is outside the buffer's " + std::to_string(b->size_bytes) +
                   " bytes");
  return nullptr;
}

void build_device_attributes(const Runtime& rt, sdk::KeyValueList& kv) {
  const CpuInfo& info = rt.info;
  kv.clear();
  kv.set("name", info.model_name.empty() ? std::string("x86-64 CPU") : info.model_name);
  kv.set("vendor", info.vendor);
  kv.set("kind", "cpu");
  kv.set("runtime.version",
         rt.blas + "; oneTBB " + TBB_runtime_version() + "; " + info.kernels->isa + " kernels");
  kv.set("compute_units", static_cast<int64_t>(info.compute_units));
  if (info.numa_node) kv.set("numa.node", static_cast<int64_t>(*info.numa_node));
  kv.set("mem.bytes", info.mem_bytes);
  kv.set_bool("mem.host_shared", true);
  if (info.llc_bytes > 0) kv.set("cache.llc.bytes", info.llc_bytes);
  kv.set("simd.lanes.f32", static_cast<int64_t>(info.simd_lanes_f32));
  kv.set("fma.pipes", static_cast<int64_t>(info.fma_pipes));
  kv.set("clock.core.mhz", info.clock_hz / 1e6);
  if (info.nominal_mhz > 0) kv.set("clock.nominal.mhz", info.nominal_mhz);
  kv.set("peak.flops.f32", info.peak_f32);
  kv.set("peak.flops.f64", info.peak_f64);
  kv.set("peak.flops.f16", info.peak_f32);
  kv.set("peak.flops.bf16", info.peak_f32);
  kv.set("peak.source", info.peak_source);
  kv.set("timer.kind", "host.steady_clock in stream order");
}

// ---- Plugin ----

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  return sdk::guarded([&]() -> CMTR_Error* {
    if (args->host_abi_major != CMTR_ABI_MAJOR)
      return make_error(CMTR_ERROR_UNIMPLEMENTED,
                        "the cpu plugin implements ABI " + std::to_string(CMTR_ABI_MAJOR) +
                            ".x; the host speaks " + std::to_string(args->host_abi_major));
    if (args->num_options > 0 && args->options == nullptr)
      return invalid("plugin_initialize: options is NULL but num_options is " +
                     std::to_string(args->num_options));
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    openblas_restore_environment();
    if (!s.runtime) {
      auto rt = std::make_unique<Runtime>(probe_cpu());
      build_device_attributes(*rt, s.device.attributes);
      s.device.magic = kDeviceMagic;
      s.plugin_attributes.clear();
      s.plugin_attributes.set("plugin.name", "cpu");
      s.plugin_attributes.set("plugin.version", CMETER_VERSION);
      s.plugin_attributes.set("plugin.vendor", "cmeter");
      s.runtime = std::move(rt);
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
    s.runtime.reset();
    s.device.attributes.clear();
    return nullptr;
  });
}

CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Devices_Args, num_devices);
  if (!state().runtime)
    return make_error(CMTR_ERROR_UNAVAILABLE, "plugin_devices: plugin is not initialised");
  args->devices = state().device_list;
  args->num_devices = 1;
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
    const Runtime& rt = runtime();
    if (args->size_bytes > static_cast<uint64_t>(rt.info.mem_bytes))
      return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "buffer_create: " + std::to_string(args->size_bytes) +
                                                           " bytes exceed the host's memory (" +
                                                           std::to_string(rt.info.mem_bytes) + " bytes)");
    const uint64_t alloc_bytes = (args->size_bytes + 63) / 64 * 64;
    void* data = std::aligned_alloc(64, alloc_bytes);
    if (data == nullptr)
      return make_error(
          CMTR_ERROR_RESOURCE_EXHAUSTED,
          "buffer_create: cannot allocate " + std::to_string(args->size_bytes) + " bytes of host memory");
    // First touch by the cores that will work on each chunk (NUMA-local pages, no faults later).
    parallel_zero(rt, data, alloc_bytes);
    auto* b = new CMTR_Buffer();
    b->data = data;
    b->size_bytes = args->size_bytes;
    b->memory_kind = args->memory_kind;
    args->buffer = b;
    return nullptr;
  });
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (args->buffer == nullptr || args->buffer->magic != kBufferMagic)
    return invalid("buffer_destroy: buffer is NULL or not a live cpu buffer");
  args->buffer->magic = 0;
  std::free(args->buffer->data);
  delete args->buffer;
  return nullptr;
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  args->host_pointer = args->buffer->data;  // device and host-pinned memory are both host memory
  return nullptr;
}

CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_write")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_write")) return e;
  if (CMTR_Error* e =
          check_range(args->buffer, args->offset_bytes, args->size_bytes, args->host_pointer, "buffer_write"))
    return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    parallel_copy(runtime(), static_cast<char*>(args->buffer->data) + args->offset_bytes, args->host_pointer,
                  args->size_bytes);
    return nullptr;
  });
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_read")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e =
          check_range(args->buffer, args->offset_bytes, args->size_bytes, args->host_pointer, "buffer_read"))
    return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    parallel_copy(runtime(), args->host_pointer,
                  static_cast<const char*>(args->buffer->data) + args->offset_bytes, args->size_bytes);
    return nullptr;
  });
}

// ---- Streams: work runs inside each call, so a stream is only an ordering token ----

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
  if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    args->stream = new CMTR_Stream();
    return nullptr;
  });
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (args->stream == nullptr || args->stream->magic != kStreamMagic)
    return invalid("stream_destroy: stream is NULL or not a live cpu stream");
  args->stream->magic = 0;
  delete args->stream;
  return nullptr;
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  return check_stream(args->stream, "stream_synchronize");  // everything enqueued has already run
}

// ---- Events: steady_clock readings taken in stream order ----

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    auto* ev = new CMTR_Event();
    ev->time = std::chrono::steady_clock::now();
    args->event = ev;
    return nullptr;
  });
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (args->start == nullptr || args->start->magic != kEventMagic)
    return invalid("event_elapsed: start is NULL or not a live cpu event");
  if (args->stop == nullptr || args->stop->magic != kEventMagic)
    return invalid("event_elapsed: stop is NULL or not a live cpu event");
  args->elapsed_s = std::chrono::duration<double>(args->stop->time - args->start->time).count();
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (args->event == nullptr || args->event->magic != kEventMagic)
    return invalid("event_destroy: event is NULL or not a live cpu event");
  args->event->magic = 0;
  delete args->event;
  return nullptr;
}

// ---- Ops ----

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    OpPlan plan = plan_op(runtime(), sdk::view(args->name), args->params, args->num_params, false);
    if (plan.status == OpPlan::kInvalid) return invalid(plan.reason);
    args->supported = plan.status == OpPlan::kSupported ? 1 : 0;
    sdk::write_reason(args, plan.reason);
    return nullptr;
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    OpPlan plan = plan_op(runtime(), sdk::view(args->name), args->params, args->num_params, true);
    switch (plan.status) {
      case OpPlan::kInvalid:
        return invalid(plan.reason);
      case OpPlan::kUnknownOp:
        return make_error(CMTR_ERROR_NOT_FOUND, plan.reason);
      case OpPlan::kUnsupported:
        return make_error(CMTR_ERROR_UNIMPLEMENTED, plan.reason);
      case OpPlan::kSupported:
        break;
    }
    auto* op = new CMTR_Op();
    op->impl = std::move(plan.op);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (args->op == nullptr || args->op->magic != kOpMagic)
    return invalid("op_attributes: op is NULL or not a live cpu op");
  args->attributes = args->op->impl->attributes.data();
  args->num_attributes = args->op->impl->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (args->op == nullptr || args->op->magic != kOpMagic)
    return invalid("op_enqueue: op is NULL or not a live cpu op");
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  return sdk::guarded([&]() -> CMTR_Error* { return args->op->impl->run(args->buffers, args->num_buffers); });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (args->op == nullptr || args->op->magic != kOpMagic)
    return invalid("op_destroy: op is NULL or not a live cpu op");
  args->op->magic = 0;
  delete args->op;
  return nullptr;
}

const CMTR_Api kApi = {
    .struct_size = CMTR_API_STRUCT_SIZE_1_0,
    .extension = nullptr,
    .abi_major = CMTR_ABI_MAJOR,
    .abi_minor = CMTR_ABI_MINOR,
    .error_info = &sdk::error_info,
    .error_destroy = &sdk::error_destroy,
    .plugin_initialize = &plugin_initialize,
    .plugin_shutdown = &plugin_shutdown,
    .plugin_devices = &plugin_devices,
    .device_attributes = &device_attributes,
    .device_telemetry = nullptr,  // no telemetry on this CPU
    .buffer_create = &buffer_create,
    .buffer_destroy = &buffer_destroy,
    .buffer_host_pointer = &buffer_host_pointer,
    .buffer_write = &buffer_write,
    .buffer_read = &buffer_read,
    .stream_create = &stream_create,
    .stream_destroy = &stream_destroy,
    .stream_synchronize = &stream_synchronize,
    .event_record = &event_record,
    .event_elapsed = &event_elapsed,
    .event_destroy = &event_destroy,
    .op_query = &op_query,
    .op_create = &op_create,
    .op_attributes = &op_attributes,
    .op_enqueue = &op_enqueue,
    .op_destroy = &op_destroy,
};

}  // namespace
}  // namespace cmeter::cpu

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::cpu::kApi;
}
