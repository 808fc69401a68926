// plugins/vulkan/vulkan_plugin.cpp - the ABI entry points of libcmeter-vulkan.so: every Vulkan physical
// device with a compute queue becomes `vulkan:N`, in the loader's order.
//
// Why this file exists: it is the Vulkan plugin's side of cmeter/plugin_abi.h, on the SDK adapter
// (cmeter/plugin_sdk.hpp: struct sizes, handle and range checks, the table builder). It maps buffers
// onto VkBuffers (host-pinned ones in mapped host-visible memory), streams onto command buffers
// submitted in order to the device's compute queue, events onto timestamp queries (device time, in
// timestampPeriod units), and transfers: from or to a host-pinned buffer a direct vkCmdCopyBuffer;
// from or to pageable memory through the stream's staging buffer, in stream order (the host copy is
// inside the timed interval, as a pageable transfer costs it). No Vulkan driver is not an error: the
// plugin then has zero devices and `plugin.status` says why.
#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_sdk.hpp>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ops.hpp"
#include "runtime.hpp"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif

namespace cmeter::vulkan {
namespace {

using sdk::invalid;
using sdk::make_error;
using sdk::not_initialised;

// Plugin-wide state; never destroyed (the plugin is linked -z nodelete: drivers keep threads).
struct PluginState {
  std::mutex mutex;
  bool initialized = false;
  VkInstance instance = VK_NULL_HANDLE;
  std::vector<std::unique_ptr<CMTR_Device>> devices;
  std::vector<CMTR_Device*> device_list;
  // Devices of earlier initialisations: their VkDevices are gone, the handle objects stay (magic 0),
  // so a buffer, event or op the host destroys after plugin_shutdown reads a live object.
  std::vector<std::unique_ptr<CMTR_Device>> retired;
  sdk::KeyValueList plugin_attributes;
};

PluginState& state() {
  static PluginState* s = new PluginState();
  return *s;
}

CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
  bool ours = false;
  for (const CMTR_Device* d : state().device_list) ours = ours || (d == device && d->magic == kDeviceMagic);
  return sdk::check_device(device, call, "vulkan", state().initialized, ours);
}

template <class Handle>
CMTR_Error* check_live(const Handle* h, uint32_t magic, const char* call, const char* role) {
  if (CMTR_Error* e = sdk::check_handle(h, magic, call, role, "vulkan", role)) return e;
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
  s.plugin_attributes.set("plugin.name", "vulkan");
  s.plugin_attributes.set("plugin.version", CMETER_VERSION);
  s.plugin_attributes.set("plugin.vendor", "cmeter");
  std::string status;
  s.instance = create_instance(&status);
  if (s.instance == VK_NULL_HANDLE) {
    s.plugin_attributes.set("plugin.status", status);
    return;
  }
  uint32_t n = 0;
  VkResult r = vkEnumeratePhysicalDevices(s.instance, &n, nullptr);
  std::vector<VkPhysicalDevice> physical(n);
  if (r == VK_SUCCESS && n > 0) r = vkEnumeratePhysicalDevices(s.instance, &n, physical.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
    s.plugin_attributes.set("plugin.status",
                            std::string("vkEnumeratePhysicalDevices failed: ") + vk_result_name(r));
    return;
  }
  for (VkPhysicalDevice pd : physical) {
    auto device = std::make_unique<CMTR_Device>();
    device->state = std::make_unique<DeviceState>();
    DeviceState& d = *device->state;
    if (!probe_device(pd, &d.info)) continue;  // no compute queue
    d.label = "vulkan:" + std::to_string(s.devices.size()) + " (" + d.info.props.deviceName + ")";
    build_attributes(d.info, device->attributes);
    s.device_list.push_back(device.get());
    s.devices.push_back(std::move(device));
  }
  if (s.devices.empty())
    s.plugin_attributes.set("plugin.status", physical.empty()
                                                 ? "Vulkan instance created, but no physical devices"
                                                 : "no Vulkan physical device has a compute queue");
}

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = sdk::check_initialize(args, "vulkan")) return e;
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
    for (auto& d : s.devices) {
      d->magic = 0;
      d->state->shutdown();
      s.retired.push_back(std::move(d));
    }
    s.device_list.clear();
    s.devices.clear();
    if (s.instance != VK_NULL_HANDLE) vkDestroyInstance(s.instance, nullptr);
    s.instance = VK_NULL_HANDLE;
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
    if (args->size_bytes > d.info.device_local_bytes)
      return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, what + ": exceeds the device's largest memory heap (" +
                                                           std::to_string(d.info.device_local_bytes) +
                                                           " bytes)");
    if (CMTR_Error* e = d.ensure_device("buffer_create")) return e;
    const bool pinned = args->memory_kind == CMTR_MEMORY_HOST_PINNED;
    auto b = std::make_unique<CMTR_Buffer>();
    if (CMTR_Error* e = d.allocate(what, args->size_bytes, pinned, &b->alloc)) return e;
    b->device = args->device;
    b->size_bytes = args->size_bytes;
    b->memory_kind = args->memory_kind;
    if (pinned) {
      std::memset(b->alloc.mapped, 0, static_cast<size_t>(args->size_bytes));  // pages touched now
      std::lock_guard<std::mutex> lock(d.pinned_mutex);
      d.pinned.push_back(b.get());
    } else {
      // Zero-filled on the device now, so a lazy allocation fails here and not in a timed enqueue.
      const VkBuffer vb = b->alloc.buffer;
      if (CMTR_Error* e = d.run_now(what + " (zero fill)", [vb](VkCommandBuffer cmd) {
            vkCmdFillBuffer(cmd, vb, 0, VK_WHOLE_SIZE, 0);
          })) {
        d.release(b->alloc);
        return e;
      }
    }
    args->buffer = b.release();
    return nullptr;
  });
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (CMTR_Error* e =
          sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer", "vulkan", "buffer"))
    return e;
  CMTR_Buffer* b = args->buffer;
  b->magic = 0;
  if (b->device != nullptr && b->device->magic == kDeviceMagic) {
    DeviceState& d = *b->device->state;
    d.wait_idle();  // submitted work may still use it
    {
      std::lock_guard<std::mutex> lock(d.pinned_mutex);
      for (size_t i = 0; i < d.pinned.size(); ++i)
        if (d.pinned[i] == b) {
          d.pinned.erase(d.pinned.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
    }
    d.release(b->alloc);
  }
  delete b;
  return nullptr;
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  if (args->buffer->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return make_error(
        CMTR_ERROR_UNIMPLEMENTED,
        "buffer_host_pointer: a device buffer of the vulkan plugin is not host-addressable (use "
        "CMTR_MEMORY_HOST_PINNED)");
  args->host_pointer = args->buffer->alloc.mapped;
  return nullptr;
}

CMTR_Error* check_same_device(const CMTR_Stream* s, const CMTR_Buffer* b, const char* call) {
  if (s->device != b->device)
    return invalid(std::string(call) + ": the buffer and the stream belong to different devices");
  return nullptr;
}

// The host-pinned buffer of `device` that holds [host, host + size), and the offset in it; NULL if none.
const CMTR_Buffer* pinned_holding(DeviceState& d, const void* host, uint64_t size, uint64_t* offset) {
  std::lock_guard<std::mutex> lock(d.pinned_mutex);
  const auto p = reinterpret_cast<uintptr_t>(host);
  for (const CMTR_Buffer* b : d.pinned) {
    const auto base = reinterpret_cast<uintptr_t>(b->alloc.mapped);
    if (p >= base && p - base <= b->size_bytes && size <= b->size_bytes - (p - base)) {
      *offset = p - base;
      return b;
    }
  }
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
  return sdk::guarded([&]() -> CMTR_Error* {
    StreamState& s = *args->stream->state;
    VkBufferCopy region{0, args->offset_bytes, args->size_bytes};
    VkBuffer src = VK_NULL_HANDLE;
    if (const CMTR_Buffer* pinned =
            pinned_holding(s.device(), args->host_pointer, args->size_bytes, &region.srcOffset)) {
      src = pinned->alloc.buffer;  // a DMA from page-locked memory, in stream order
    } else {
      // Pageable: the host copies into the staging buffer once everything before it is done, then
      // the device copies on; the device timeline includes the host copy.
      if (CMTR_Error* e = s.synchronize("buffer_write")) return e;
      Allocation* staging = nullptr;
      if (CMTR_Error* e = s.staging("buffer_write", args->size_bytes, &staging)) return e;
      std::memcpy(staging->mapped, args->host_pointer, static_cast<size_t>(args->size_bytes));
      src = staging->buffer;
    }
    const VkBuffer dst = args->buffer->alloc.buffer;
    return s.record("buffer_write", [&](VkCommandBuffer cmd) -> CMTR_Error* {
      vkCmdCopyBuffer(cmd, src, dst, 1, &region);
      return nullptr;
    });
  });
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_read")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = check_same_device(args->stream, args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                       args->host_pointer, "buffer_read"))
    return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    StreamState& s = *args->stream->state;
    VkBufferCopy region{args->offset_bytes, 0, args->size_bytes};
    const VkBuffer src = args->buffer->alloc.buffer;
    if (const CMTR_Buffer* pinned =
            pinned_holding(s.device(), args->host_pointer, args->size_bytes, &region.dstOffset)) {
      const VkBuffer dst = pinned->alloc.buffer;
      return s.record("buffer_read", [&](VkCommandBuffer cmd) -> CMTR_Error* {
        vkCmdCopyBuffer(cmd, src, dst, 1, &region);
        return nullptr;
      });
    }
    // Pageable: device -> staging, wait, staging -> host, all before the call returns (stream order).
    if (CMTR_Error* e = s.synchronize("buffer_read")) return e;
    Allocation* staging = nullptr;
    if (CMTR_Error* e = s.staging("buffer_read", args->size_bytes, &staging)) return e;
    const VkBuffer dst = staging->buffer;
    if (CMTR_Error* e = s.record("buffer_read", [&](VkCommandBuffer cmd) -> CMTR_Error* {
          vkCmdCopyBuffer(cmd, src, dst, 1, &region);
          return nullptr;
        }))
      return e;
    if (CMTR_Error* e = s.synchronize("buffer_read")) return e;
    std::memcpy(args->host_pointer, staging->mapped, static_cast<size_t>(args->size_bytes));
    return nullptr;
  });
}

// ---- Streams ----

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
  if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    DeviceState& d = *args->device->state;
    if (CMTR_Error* e = d.ensure_device("stream_create")) return e;
    auto s = std::make_unique<CMTR_Stream>();
    s->device = args->device;
    s->state = std::make_unique<StreamState>(d);
    if (CMTR_Error* e = s->state->init("stream_create")) return e;
    args->stream = s.release();
    return nullptr;
  });
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (CMTR_Error* e =
          sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream", "vulkan", "stream"))
    return e;
  args->stream->magic = 0;
  if (CMTR_Error* e = args->stream->state->synchronize("stream_destroy")) discard(e);
  delete args->stream;
  return nullptr;
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
  return sdk::guarded(
      [&]() -> CMTR_Error* { return args->stream->state->synchronize("stream_synchronize"); });
}

// ---- Events: timestamp queries ----

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    StreamState& s = *args->stream->state;
    DeviceState& d = s.device();
    if (d.info.timestamp_valid_bits == 0)
      return make_error(CMTR_ERROR_UNIMPLEMENTED, "event_record: the compute queue of " + d.label +
                                                      " has no timestamps (timestampValidBits 0)");
    VkQueryPoolCreateInfo qci{};
    qci.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qci.queryCount = 1;
    VkQueryPool pool = VK_NULL_HANDLE;
    const VkResult r = vkCreateQueryPool(d.device(), &qci, nullptr, &pool);
    if (r != VK_SUCCESS) return vk_failure("event_record on " + d.label, "vkCreateQueryPool", r);
    CMTR_Error* e = s.record("event_record", [&](VkCommandBuffer cmd) -> CMTR_Error* {
      vkCmdResetQueryPool(cmd, pool, 0, 1);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, 0);
      return nullptr;
    });
    if (e == nullptr) e = s.flush("event_record");  // the device starts on the work before it now
    if (e != nullptr) {
      // Not submitted: nothing will write the query; make sure nothing runs it before destroying.
      if (CMTR_Error* e2 = s.synchronize("event_record")) discard(e2);
      vkDestroyQueryPool(d.device(), pool, nullptr);
      return e;
    }
    auto* ev = new CMTR_Event();
    ev->device = args->stream->device;
    ev->pool = pool;
    args->event = ev;
    return nullptr;
  });
}

CMTR_Error* read_timestamp(const CMTR_Event* ev, uint64_t* out) {
  DeviceState& d = *ev->device->state;
  const VkResult r = vkGetQueryPoolResults(d.device(), ev->pool, 0, 1, sizeof *out, out, sizeof *out,
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (r != VK_SUCCESS) return vk_failure("event_elapsed on " + d.label, "vkGetQueryPoolResults", r);
  if (d.info.timestamp_valid_bits < 64) *out &= (uint64_t{1} << d.info.timestamp_valid_bits) - 1;
  return nullptr;
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (CMTR_Error* e =
          sdk::check_handle(args->start, kEventMagic, "event_elapsed", "start", "vulkan", "event"))
    return e;
  if (CMTR_Error* e = sdk::check_handle(args->stop, kEventMagic, "event_elapsed", "stop", "vulkan", "event"))
    return e;
  if (args->start->device != args->stop->device)
    return invalid("event_elapsed: the two events belong to different devices");
  if (args->start->device->magic != kDeviceMagic) return not_initialised("event_elapsed");
  uint64_t t0 = 0, t1 = 0;
  if (CMTR_Error* e = read_timestamp(args->start, &t0)) return e;
  if (CMTR_Error* e = read_timestamp(args->stop, &t1)) return e;
  const double period_s = args->start->device->state->info.timestamp_period_ns * 1e-9;
  args->elapsed_s =
      t1 >= t0 ? static_cast<double>(t1 - t0) * period_s : -static_cast<double>(t0 - t1) * period_s;
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e =
          sdk::check_handle(args->event, kEventMagic, "event_destroy", "event", "vulkan", "event"))
    return e;
  CMTR_Event* ev = args->event;
  ev->magic = 0;
  if (ev->device->magic == kDeviceMagic) {
    uint64_t t = 0;  // its timestamp was submitted at event_record: wait until written, then destroy
    if (CMTR_Error* e = read_timestamp(ev, &t)) discard(e);
    vkDestroyQueryPool(ev->device->state->device(), ev->pool, nullptr);
  }
  delete ev;
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
    OpPlan plan = plan_op(args->device, sdk::view(args->name), args->params, args->num_params, true);
    if (plan.status != sdk::OpStatus::kSupported)
      return sdk::create_error(plan.status, plan.reason, plan.error);
    auto* op = new CMTR_Op();
    op->device = args->device;
    op->impl = std::move(plan.op);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_attributes", "op", "vulkan", "op")) return e;
  args->attributes = args->op->impl->attributes.data();
  args->num_attributes = args->op->impl->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_enqueue", "op", "vulkan", "op")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  if (args->stream->device != args->op->device)
    return invalid("op_enqueue: the op and the stream belong to different devices");
  return sdk::guarded([&]() -> CMTR_Error* {
    Op& op = *args->op->impl;
    if (CMTR_Error* e = op.check(args->op->device, args->buffers, args->num_buffers)) return e;
    return args->stream->state->record("op_enqueue", [&](VkCommandBuffer cmd) -> CMTR_Error* {
      return op.record(cmd, args->buffers, args->num_buffers);
    });
  });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = sdk::check_handle(args->op, kOpMagic, "op_destroy", "op", "vulkan", "op")) return e;
  args->op->magic = 0;
  if (args->op->device->magic == kDeviceMagic) args->op->device->state->wait_idle();  // may be in flight
  delete args->op;
  return nullptr;
}

const CMTR_Api kApi =
    sdk::ApiBuilder()
        .plugin(&plugin_initialize, &plugin_shutdown, &plugin_devices)
        .device(&device_attributes, nullptr)  // no portable Vulkan telemetry
        .buffers(&buffer_create, &buffer_destroy, &buffer_host_pointer, &buffer_write, &buffer_read)
        .streams(&stream_create, &stream_destroy, &stream_synchronize)
        .events(&event_record, &event_elapsed, &event_destroy)
        .ops(&op_query, &op_create, &op_attributes, &op_enqueue, &op_destroy)
        .build();

}  // namespace
}  // namespace cmeter::vulkan

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::vulkan::kApi;
}
