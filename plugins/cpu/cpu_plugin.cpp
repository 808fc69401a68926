// plugins/cpu/cpu_plugin.cpp - the ABI entry points of libcmeter-cpu.so: one device, `cpu:0`, the
// whole machine as far as this process may use it.
//
// Why this file exists: it is the CPU plugin's side of cmeter/plugin_abi.h. It validates every call
// (struct sizes, NULL and foreign handles, ranges) and answers with error objects, never a crash;
// it owns the plugin-wide state (the CPU probe, the TBB arena) between plugin_initialize and
// plugin_shutdown; and it maps buffers, streams and events onto host memory and a steady clock.
#include <cmeter/plugin_abi.h>
#include <oneapi/tbb/version.h>
#include <cmeter/physical_id.hpp>
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

using sdk::invalid;

// The runtime for calls that need an initialised plugin and a valid device handle.
CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
  return sdk::check_device(device, call, "cpu", state().runtime != nullptr,
                           device == &state().device && device->magic == kDeviceMagic);
}

Runtime& runtime() {
  return *state().runtime;
}

// Live-handle checks (sdk::check_handle), then: the plugin must be initialised.
template <class Handle>
CMTR_Error* check_live(const Handle* h, uint32_t magic, const char* call, const char* role) {
  if (CMTR_Error* e = sdk::check_handle(h, magic, call, role, "cpu", role)) return e;
  if (!state().runtime) return sdk::not_initialised(call);
  return nullptr;
}
CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
  return check_live(b, kBufferMagic, call, "buffer");
}
CMTR_Error* check_stream(const CMTR_Stream* s, const char* call) {
  return check_live(s, kStreamMagic, call, "stream");
}

void build_device_attributes(const Runtime& rt, sdk::KeyValueList& kv) {
  const CpuInfo& info = rt.info;
  kv.clear();
  kv.set("name", info.model_name.empty() ? std::string("x86-64 CPU") : info.model_name);
  kv.set("vendor", info.vendor);
  kv.set("kind", "cpu");
  kv.set("runtime.version",
         rt.blas + "; oneTBB " + TBB_runtime_version() + "; " + info.kernels->isa + " kernels" +
             (info.low.onednn ? "; " + info.low.library + " " + info.low.isa : "; " + info.low.note));
  kv.set("compute_units", static_cast<int64_t>(info.compute_units));
  kv.set("physical.id", sdk::host_cpu_physical_id());
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
  kv.set("peak.flops.bf16", info.peak_bf16);
  if (info.peak_i8 > 0) kv.set("peak.flops.i8", info.peak_i8);
  kv.set("peak.source", info.peak_source);
  kv.set("timer.kind", "host.steady_clock in stream order");
}

// ---- Plugin ----

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = sdk::check_initialize(args, "cpu")) return e;
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
  if (!state().runtime) return sdk::not_initialised("plugin_devices");
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
  if (CMTR_Error* e =
          sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer", "cpu", "buffer"))
    return e;
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
  if (CMTR_Error* e = sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                       args->host_pointer, "buffer_write"))
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
  if (CMTR_Error* e = sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                       args->host_pointer, "buffer_read"))
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
  if (CMTR_Error* e =
          sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream", "cpu", "stream"))
    return e;
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
  if (CMTR_Error* e = sdk::check_handle(args->start, kEventMagic, "event_elapsed", "start", "cpu", "event"))
    return e;
  if (CMTR_Error* e = sdk::check_handle(args->stop, kEventMagic, "event_elapsed", "stop", "cpu", "event"))
    return e;
  args->elapsed_s = std::chrono::duration<double>(args->stop->time - args->start->time).count();
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e = sdk::check_handle(args->event, kEventMagic, "event_destroy", "event", "cpu", "event"))
    return e;
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
    return sdk::answer_query(args, plan.status, plan.reason);
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    OpPlan plan = plan_op(runtime(), sdk::view(args->name), args->params, args->num_params, true);
    if (plan.status != sdk::OpStatus::kSupported) return sdk::create_error(plan.status, plan.reason);
    auto* op = new CMTR_Op();
    op->impl = std::move(plan.op);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_attributes", "op", "cpu", "op")) return e;
  args->attributes = args->op->impl->attributes.data();
  args->num_attributes = args->op->impl->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_enqueue", "op", "cpu", "op")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  return sdk::guarded([&]() -> CMTR_Error* { return args->op->impl->run(args->buffers, args->num_buffers); });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_destroy", "op", "cpu", "op")) return e;
  args->op->magic = 0;
  delete args->op;
  return nullptr;
}

const CMTR_Api kApi =
    sdk::ApiBuilder()
        .plugin(&plugin_initialize, &plugin_shutdown, &plugin_devices)
        .device(&device_attributes, nullptr)  // no telemetry on this CPU
        .buffers(&buffer_create, &buffer_destroy, &buffer_host_pointer, &buffer_write, &buffer_read)
        .streams(&stream_create, &stream_destroy, &stream_synchronize)
        .events(&event_record, &event_elapsed, &event_destroy)
        .ops(&op_query, &op_create, &op_attributes, &op_enqueue, &op_destroy)
        .build();

}  // namespace
}  // namespace cmeter::cpu

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::cpu::kApi;
}
