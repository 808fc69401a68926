// plugins/vulkan/vulkan_plugin.cpp - the ABI entry points of libcmeter-vulkan.so: every Vulkan physical
// device with a compute queue becomes `vulkan:N`, in the loader's order.
//
// Why this file exists: it is the Vulkan plugin's side of cmeter/plugin_abi.h, on the SDK adapter
// (cmeter/plugin_adapter.hpp: struct sizes, handle, device and range checks, the table). It maps buffers
// onto VkBuffers (host-pinned ones in mapped host-visible memory), streams onto command buffers
// submitted in order to the device's compute queue, events onto timestamp queries (device time, in
// timestampPeriod units), and transfers: from or to a host-pinned buffer a direct vkCmdCopyBuffer;
// from or to pageable memory through the stream's staging buffer, in stream order (the host copy is
// inside the timed interval, as a pageable transfer costs it). No Vulkan driver is not an error: the
// plugin then has zero devices and `plugin.status` says why.
#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_adapter.hpp>
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

CMTR_Error* read_timestamp(const CMTR_Event* ev, uint64_t* out) {
  DeviceState& d = *ev->device->state;
  const VkResult r = vkGetQueryPoolResults(d.device(), ev->pool, 0, 1, sizeof *out, out, sizeof *out,
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (r != VK_SUCCESS) return vk_failure("event_elapsed on " + d.label, "vkGetQueryPoolResults", r);
  if (d.info.timestamp_valid_bits < 64) *out &= (uint64_t{1} << d.info.timestamp_valid_bits) - 1;
  return nullptr;
}

// The Vulkan part of the ABI; cmeter/plugin_adapter.hpp does the checks around each hook.
struct VulkanPlugin : sdk::Adapter<VulkanPlugin> {
  static constexpr const char* kName = "vulkan";
  static constexpr uint32_t kDeviceMagic = vulkan::kDeviceMagic, kBufferMagic = vulkan::kBufferMagic,
                            kStreamMagic = vulkan::kStreamMagic, kEventMagic = vulkan::kEventMagic,
                            kOpMagic = vulkan::kOpMagic;
  static constexpr const char* kMemoryName = "the device's largest memory heap";

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
  }
  static bool initialised() { return state().initialized; }
  static sdk::DeviceList devices() { return {state().device_list.data(), state().device_list.size()}; }

  // ---- Buffers ----
  static uint64_t memory_bytes(const CMTR_Device* device, int32_t) {
    return device->state->info.device_local_bytes;  // the largest memory heap
  }
  static CMTR_Error* allocate(CMTR_Device* device, uint64_t size_bytes, int32_t memory_kind,
                              CMTR_Buffer** out) {
    DeviceState& d = *device->state;
    const std::string what = "buffer_create of " + std::to_string(size_bytes) + " bytes on " + d.label;
    if (CMTR_Error* e = d.ensure_device("buffer_create")) return e;
    const bool pinned = memory_kind == CMTR_MEMORY_HOST_PINNED;
    auto b = std::make_unique<CMTR_Buffer>();
    if (CMTR_Error* e = d.allocate(what, size_bytes, pinned, &b->alloc)) return e;
    b->device = device;
    b->size_bytes = size_bytes;
    b->memory_kind = memory_kind;
    if (pinned) {
      std::memset(b->alloc.mapped, 0, static_cast<size_t>(size_bytes));  // pages touched now
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
    *out = b.release();
    return nullptr;
  }
  static CMTR_Error* free_buffer(CMTR_Buffer* b) {
    if (b->device != nullptr && b->device->magic == vulkan::kDeviceMagic) {
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
  static CMTR_Error* host_pointer(CMTR_Buffer* b, void** out) {
    if (b->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return make_error(
          CMTR_ERROR_UNIMPLEMENTED,
          "buffer_host_pointer: a device buffer of the vulkan plugin is not host-addressable (use "
          "CMTR_MEMORY_HOST_PINNED)");
    *out = b->alloc.mapped;
    return nullptr;
  }
  static CMTR_Error* write(CMTR_Stream* stream, CMTR_Buffer* b, uint64_t offset, const void* host,
                           uint64_t size) {
    StreamState& s = *stream->state;
    VkBufferCopy region{0, offset, size};
    VkBuffer src = VK_NULL_HANDLE;
    if (const CMTR_Buffer* pinned = pinned_holding(s.device(), host, size, &region.srcOffset)) {
      src = pinned->alloc.buffer;  // a DMA from page-locked memory, in stream order
    } else {
      // Pageable: the host copies into the staging buffer once everything before it is done, then
      // the device copies on; the device timeline includes the host copy.
      if (CMTR_Error* e = s.synchronize("buffer_write")) return e;
      Allocation* staging = nullptr;
      if (CMTR_Error* e = s.staging("buffer_write", size, &staging)) return e;
      std::memcpy(staging->mapped, host, static_cast<size_t>(size));
      src = staging->buffer;
    }
    const VkBuffer dst = b->alloc.buffer;
    return s.record("buffer_write", [&](VkCommandBuffer cmd) -> CMTR_Error* {
      vkCmdCopyBuffer(cmd, src, dst, 1, &region);
      return nullptr;
    });
  }
  static CMTR_Error* read(CMTR_Stream* stream, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) {
    StreamState& s = *stream->state;
    VkBufferCopy region{offset, 0, size};
    const VkBuffer src = b->alloc.buffer;
    if (const CMTR_Buffer* pinned = pinned_holding(s.device(), host, size, &region.dstOffset)) {
      const VkBuffer dst = pinned->alloc.buffer;
      return s.record("buffer_read", [&](VkCommandBuffer cmd) -> CMTR_Error* {
        vkCmdCopyBuffer(cmd, src, dst, 1, &region);
        return nullptr;
      });
    }
    // Pageable: device -> staging, wait, staging -> host, all before the call returns (stream order).
    if (CMTR_Error* e = s.synchronize("buffer_read")) return e;
    Allocation* staging = nullptr;
    if (CMTR_Error* e = s.staging("buffer_read", size, &staging)) return e;
    const VkBuffer dst = staging->buffer;
    if (CMTR_Error* e = s.record("buffer_read", [&](VkCommandBuffer cmd) -> CMTR_Error* {
          vkCmdCopyBuffer(cmd, src, dst, 1, &region);
          return nullptr;
        }))
      return e;
    if (CMTR_Error* e = s.synchronize("buffer_read")) return e;
    std::memcpy(host, staging->mapped, static_cast<size_t>(size));
    return nullptr;
  }

  // ---- Streams ----
  static CMTR_Error* create_stream(CMTR_Device* device, CMTR_Stream** out) {
    DeviceState& d = *device->state;
    if (CMTR_Error* e = d.ensure_device("stream_create")) return e;
    auto s = std::make_unique<CMTR_Stream>();
    s->device = device;
    s->state = std::make_unique<StreamState>(d);
    if (CMTR_Error* e = s->state->init("stream_create")) return e;
    *out = s.release();
    return nullptr;
  }
  static CMTR_Error* free_stream(CMTR_Stream* s) {
    if (CMTR_Error* e = s->state->synchronize("stream_destroy")) discard(e);
    delete s;
    return nullptr;
  }
  static CMTR_Error* synchronize(CMTR_Stream* s) { return s->state->synchronize("stream_synchronize"); }

  // ---- Events: timestamp queries ----
  static CMTR_Error* record(CMTR_Stream* stream, CMTR_Event** out) {
    StreamState& s = *stream->state;
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
    ev->device = stream->device;
    ev->pool = pool;
    *out = ev;
    return nullptr;
  }
  static CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s) {
    if (start->device->magic != vulkan::kDeviceMagic) return not_initialised("event_elapsed");
    uint64_t t0 = 0, t1 = 0;
    if (CMTR_Error* e = read_timestamp(start, &t0)) return e;
    if (CMTR_Error* e = read_timestamp(stop, &t1)) return e;
    const double period_s = start->device->state->info.timestamp_period_ns * 1e-9;
    *elapsed_s =
        t1 >= t0 ? static_cast<double>(t1 - t0) * period_s : -static_cast<double>(t0 - t1) * period_s;
    return nullptr;
  }
  static CMTR_Error* free_event(CMTR_Event* ev) {
    if (ev->device->magic == vulkan::kDeviceMagic) {
      uint64_t t = 0;  // its timestamp was submitted at event_record: wait until written, then destroy
      if (CMTR_Error* e = read_timestamp(ev, &t)) discard(e);
      vkDestroyQueryPool(ev->device->state->device(), ev->pool, nullptr);
    }
    delete ev;
    return nullptr;
  }

  // ---- Ops ----
  static OpPlan plan(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                     size_t num_params, bool for_create) {
    return plan_op(device, name, params, num_params, for_create);
  }
  static CMTR_Error* make_op(CMTR_Device* device, OpPlan& plan, CMTR_Op** out) {
    auto* op = new CMTR_Op();
    op->device = device;
    op->impl = std::move(plan.op);
    *out = op;
    return nullptr;
  }
  static CMTR_Error* launch(CMTR_Op* handle, CMTR_Stream* s, CMTR_Buffer* const* buffers,
                            size_t num_buffers) {
    Op& op = *handle->impl;
    if (CMTR_Error* e = op.check(handle->device, buffers, num_buffers)) return e;
    return s->state->record("op_enqueue", [&](VkCommandBuffer cmd) -> CMTR_Error* {
      return op.record(cmd, buffers, num_buffers);
    });
  }
  static CMTR_Error* free_op(CMTR_Op* op) {
    if (op->device->magic == vulkan::kDeviceMagic) op->device->state->wait_idle();  // may be in flight
    delete op;
    return nullptr;
  }
};

const CMTR_Api kApi = VulkanPlugin::api();

}  // namespace
}  // namespace cmeter::vulkan

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::vulkan::kApi;
}
