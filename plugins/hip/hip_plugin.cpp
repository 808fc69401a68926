// plugins/hip/hip_plugin.cpp - the ABI entry points of libcmeter-hip.so: AMD GPUs (Instinct, Radeon)
// and HIP-compatible accelerators (Hygon DCU through DTK) through the HIP runtime.
//
// Why this file exists: it is the HIP plugin's side of cmeter/plugin_abi.h, built like the CUDA
// plugin's cuda_plugin.cpp on the SDK adapter: every call is validated and answered with an error
// object, never a crash; without a GPU or driver (no /dev/kfd, hipErrorNoDevice) it loads with zero
// devices and plugin.status says why; buffers, streams and events map onto hipMalloc/hipHostMalloc,
// hipStream_t and hipEvent_t; telemetry comes from rocm-smi (dlopen'd, libs.cpp). What differs from
// the CUDA plugin: no stream hold (a timed batch of short launches includes host enqueue gaps) and no
// per-SKU peak table (declared peaks come from the CU count and clock only for known architectures).
#include <cmeter/plugin_abi.h>
#include <sys/stat.h>
#include <cmeter/plugin_ops.hpp>
#include <cmeter/plugin_sdk.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime.hpp"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif

namespace cmeter::hip {

std::string hip_error_text(hipError_t status) {
  const char* name = hipGetErrorName(status);
  const char* text = hipGetErrorString(status);
  const std::string n = name ? name : "hipError " + std::to_string(static_cast<int>(status));
  return text == nullptr || n == text ? n : n + " (" + text + ")";
}

CMTR_Error* hip_failure(hipError_t status, const std::string& what) {
  CMTR_ErrorCode code = CMTR_ERROR_INTERNAL;
  switch (status) {
    case hipErrorOutOfMemory:
      code = CMTR_ERROR_RESOURCE_EXHAUSTED;
      break;
    case hipErrorIllegalAddress:
    case hipErrorLaunchFailure:
    case hipErrorECCNotCorrectable:
    case hipErrorAssert:
      code = CMTR_ERROR_DEVICE_LOST;
      break;
    case hipErrorInvalidValue:
      code = CMTR_ERROR_INVALID_ARGUMENT;
      break;
    default:
      break;
  }
  return sdk::make_error(code, what + ": " + hip_error_text(status));
}

namespace {

// Plugin-wide state. Never destroyed (the HIP runtime keeps threads until process exit).
struct PluginState {
  std::mutex mutex;
  bool initialized = false;
  bool probed = false;
  std::string status;
  sdk::KeyValueList plugin_attributes;
  std::vector<std::unique_ptr<CMTR_Device>> devices;
  std::vector<CMTR_Device*> device_list;
  std::unique_ptr<RocmSmi> smi;
};

PluginState& state() {
  static PluginState* s = new PluginState();
  return *s;
}

int device_attribute(hipDeviceAttribute_t attr, int ordinal) {
  int v = 0;
  if (hipDeviceGetAttribute(&v, attr, ordinal) != hipSuccess) {
    (void)hipGetLastError();
    return 0;
  }
  return v;
}

// Vector FLOP per CU per clock (2 per FMA) for architectures whose rates AMD publishes, the highest
// dense vector rate (packed FP32 from CDNA2 on). Matrix-core peaks are not declared (they depend on
// the SKU). MI50 13.3 TF f32 = 60 CU x 1.725 GHz x 128; MI250X 95.7 TF packed = 220 x 1.7 GHz x 256.
struct ArchRates {
  const char* prefix;
  int f32_flops_per_cu_clock;
  int f64_flops_per_cu_clock;
};
constexpr ArchRates kArchRates[] = {
    {"gfx906", 128, 64},   // MI50/MI60 (Vega 20); gfx906-class Hygon DCUs
    {"gfx908", 128, 64},   // MI100 (CDNA)
    {"gfx90a", 256, 128},  // MI210/MI250 (CDNA2): packed FP32
    {"gfx940", 256, 128}, {"gfx941", 256, 128}, {"gfx942", 256, 128},  // MI300 (CDNA3)
};

// The vendor from the PCI vendor id in sysfs: AMD (0x1002), Hygon (0x1d94: DCUs run HIP through DTK).
std::string pci_vendor(const char* bus) {
  std::ifstream in(std::string("/sys/bus/pci/devices/") + bus + "/vendor");
  std::string id;
  if (!(in >> id)) return "AMD";  // not on PCI (or no sysfs): HIP's own platform
  if (id == "0x1002") return "AMD";
  if (id == "0x1d94") return "Hygon";
  return "PCI vendor " + id;
}

// Builds one device's attributes; returns "" or why the device is skipped.
std::string probe_device(int ordinal, CMTR_Device& d, const std::string& runtime_text, const RocmSmi* smi) {
  hipDeviceProp_t prop{};
  if (hipError_t st = hipGetDeviceProperties(&prop, ordinal); st != hipSuccess) {
    (void)hipGetLastError();
    return "hipGetDeviceProperties: " + hip_error_text(st);
  }
  d.ordinal = ordinal;
  d.mem_bytes = prop.totalGlobalMem;
  d.arch = prop.gcnArchName;
  char bus[32];
  std::snprintf(bus, sizeof bus, "%04x:%02x:%02x.0", static_cast<unsigned>(prop.pciDomainID),
                static_cast<unsigned>(prop.pciBusID), static_cast<unsigned>(prop.pciDeviceID));
  sdk::KeyValueList& kv = d.attributes;
  kv.clear();
  kv.set("name", std::string(prop.name));
  kv.set("vendor", pci_vendor(bus));
  kv.set("kind", "gpu");
  int driver_version = 0;
  if (hipDriverGetVersion(&driver_version) == hipSuccess)
    kv.set("driver.version", std::to_string(driver_version));
  kv.set("runtime.version", runtime_text);
  kv.set("pci.bus_id", std::string(bus));
  {
    std::ifstream numa(std::string("/sys/bus/pci/devices/") + bus + "/numa_node");
    int node = -1;
    if (numa >> node && node >= 0) kv.set("numa.node", static_cast<int64_t>(node));
  }
  kv.set("mem.bytes", static_cast<int64_t>(prop.totalGlobalMem));
  if (prop.l2CacheSize > 0) kv.set("cache.llc.bytes", static_cast<int64_t>(prop.l2CacheSize));
  kv.set("compute_units", static_cast<int64_t>(prop.multiProcessorCount));
  const double clock_mhz = device_attribute(hipDeviceAttributeClockRate, ordinal) / 1000.0;
  const double mem_clock_mhz = device_attribute(hipDeviceAttributeMemoryClockRate, ordinal) / 1000.0;
  if (clock_mhz > 0) kv.set("clock.core.mhz", clock_mhz);
  if (mem_clock_mhz > 0) kv.set("clock.mem.mhz", mem_clock_mhz);
  kv.set("hip.ordinal", static_cast<int64_t>(ordinal));
  kv.set("hip.arch", d.arch);
  kv.set("hip.mem.bus_bits", static_cast<int64_t>(prop.memoryBusWidth));
  for (const ArchRates& r : kArchRates) {
    if (d.arch.rfind(r.prefix, 0) != 0 || clock_mhz <= 0) continue;
    const double per_clock = static_cast<double>(prop.multiProcessorCount) * clock_mhz * 1e6;
    kv.set("peak.flops.f32.vector", per_clock * r.f32_flops_per_cu_clock);
    kv.set("peak.flops.f64.vector", per_clock * r.f64_flops_per_cu_clock);
    kv.set("peak.source",
           std::string("formula: compute units x clock.core.mhz x vector FLOP per CU per clock of ") +
               r.prefix + " (matrix cores not declared)");
    break;
  }
  kv.set("timer.kind", "hip.event (no stream hold: short timed batches include host enqueue gaps)");
  if (smi != nullptr && smi->available())
    d.smi_index = smi->index_of(static_cast<uint32_t>(prop.pciDomainID), static_cast<uint32_t>(prop.pciBusID),
                                static_cast<uint32_t>(prop.pciDeviceID), 0);
  return {};
}

// Finds the driver and the devices. Never fails: without one the plugin has zero devices and
// state().status says why.
void probe(PluginState& s) {
  s.probed = true;
  int runtime_version = 0;
  (void)hipRuntimeGetVersion(&runtime_version);
  const std::string runtime_text = "HIP runtime " + std::to_string(runtime_version / 10000000) + "." +
                                   std::to_string((runtime_version / 100000) % 100) + " (" +
                                   std::to_string(runtime_version) + ")";
  int count = 0;
  if (hipError_t st = hipGetDeviceCount(&count); st != hipSuccess || count == 0) {
    (void)hipGetLastError();
    struct stat kfd {};
    const bool has_kfd = stat("/dev/kfd", &kfd) == 0;
    const char* visible = std::getenv("HIP_VISIBLE_DEVICES");
    s.status =
        std::string("hipGetDeviceCount: ") + (st != hipSuccess ? hip_error_text(st) : "0 devices") + "; " +
        (has_kfd ? "/dev/kfd exists (check permissions: the video and render groups)"
                 : "no /dev/kfd: no amdgpu kernel driver (or DCU driver) on this machine") +
        (visible ? std::string("; HIP_VISIBLE_DEVICES=") + visible : std::string()) + "; " + runtime_text;
    return;
  }
  s.smi = std::make_unique<RocmSmi>();
  std::string skipped;
  for (int i = 0; i < count; ++i) {
    auto d = std::make_unique<CMTR_Device>();
    std::string why = probe_device(i, *d, runtime_text, s.smi.get());
    if (!why.empty()) {
      skipped +=
          (skipped.empty() ? "" : "; ") + std::string("HIP device ") + std::to_string(i) + " skipped: " + why;
      continue;
    }
    s.device_list.push_back(d.get());
    s.devices.push_back(std::move(d));
  }
  s.status = skipped;
  if (!s.smi->available()) s.status += (s.status.empty() ? "" : "; ") + s.smi->status();
}

using sdk::not_initialised;

CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
  PluginState& s = state();
  bool ours = false;
  for (const CMTR_Device* d : s.device_list) ours = ours || d == device;
  return sdk::check_device(device, call, "hip", s.initialized, ours);
}

template <class Handle>
CMTR_Error* check_live(const Handle* h, uint32_t magic, const char* call, const char* role) {
  if (CMTR_Error* e = sdk::check_handle(h, magic, call, role, "hip", role)) return e;
  return state().initialized ? nullptr : not_initialised(call);
}
CMTR_Error* check_stream(const CMTR_Stream* s, const char* call) {
  return check_live(s, kStreamMagic, call, "stream");
}
CMTR_Error* check_event(const CMTR_Event* e, const char* what, const char* call) {
  return sdk::check_handle(e, kEventMagic, call, what, "hip", "event");
}

// ---- Plugin ----

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = sdk::check_initialize(args, "hip")) return e;
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.probed) {
      probe(s);
      s.plugin_attributes.clear();
      s.plugin_attributes.set("plugin.name", "hip");
      s.plugin_attributes.set("plugin.version", CMETER_VERSION);
      s.plugin_attributes.set("plugin.vendor", "cmeter");
      if (!s.status.empty()) s.plugin_attributes.set("plugin.status", s.status);
    }
    s.initialized = true;
    args->attributes = s.plugin_attributes.data();
    args->num_attributes = s.plugin_attributes.size();
    return nullptr;
  });
}

CMTR_Error* plugin_shutdown(CMTR_Plugin_Shutdown_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Shutdown_Args, extension);
  PluginState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.initialized = false;  // devices and rocm-smi stay: another initialize finds them again
  return nullptr;
}

CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Devices_Args, num_devices);
  PluginState& s = state();
  if (!s.initialized) return not_initialised("plugin_devices");
  args->devices = s.device_list.empty() ? nullptr : s.device_list.data();
  args->num_devices = s.device_list.size();
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

CMTR_Error* device_telemetry(CMTR_Device_Telemetry_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Device_Telemetry_Args, num_readings);
  if (CMTR_Error* e = check_device(args->device, "device_telemetry")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    const RocmSmi* smi = state().smi.get();
    // Without rocm-smi (or for a device it does not list) there is no telemetry here: UNIMPLEMENTED,
    // which plugin check reports as not applicable and a run as "telemetry unavailable: <why>".
    if (smi == nullptr || !smi->available())
      return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED, smi ? smi->status() : "rocm-smi not loaded");
    CMTR_Device* d = args->device;
    if (d->smi_index < 0)
      return sdk::make_error(
          CMTR_ERROR_UNIMPLEMENTED,
          "rocm-smi does not know hip:" + std::to_string(d->ordinal) + " (PCI bus id not found)");
    std::lock_guard<std::mutex> lock(d->telemetry_mutex);
    smi->read(d->smi_index, d->telemetry);
    args->readings = d->telemetry.data();
    args->num_readings = d->telemetry.size();
    return nullptr;
  });
}

// ---- Buffers ----

CMTR_Error* buffer_create(CMTR_Buffer_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Create_Args, buffer);
  if (CMTR_Error* e = check_device(args->device, "buffer_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    if (args->size_bytes == 0) return invalid("buffer_create: size_bytes is 0");
    if (args->memory_kind != CMTR_MEMORY_DEVICE && args->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return invalid("buffer_create: unknown memory_kind " + std::to_string(args->memory_kind));
    CMTR_Device* d = args->device;
    if (args->memory_kind == CMTR_MEMORY_DEVICE && args->size_bytes > d->mem_bytes)
      return sdk::make_error(CMTR_ERROR_RESOURCE_EXHAUSTED,
                             "buffer_create: " + std::to_string(args->size_bytes) +
                                 " bytes exceed the device's memory (" + std::to_string(d->mem_bytes) +
                                 " bytes)");
    if (CMTR_Error* e = use_device(d, "buffer_create")) return e;
    void* p = nullptr;
    const bool device = args->memory_kind == CMTR_MEMORY_DEVICE;
    hipError_t st =
        device ? hipMalloc(&p, args->size_bytes) : hipHostMalloc(&p, args->size_bytes, hipHostMallocPortable);
    if (st != hipSuccess) {
      (void)hipGetLastError();
      return hip_failure(st, std::string("buffer_create: ") + (device ? "hipMalloc" : "hipHostMalloc") +
                                 " of " + std::to_string(args->size_bytes) + " bytes");
    }
    auto* b = new CMTR_Buffer();
    b->device = d;
    b->data = p;
    b->size_bytes = args->size_bytes;
    b->memory_kind = args->memory_kind;
    args->buffer = b;
    return nullptr;
  });
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (CMTR_Error* e =
          sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer", "hip", "buffer"))
    return e;
  CMTR_Buffer* b = args->buffer;
  b->magic = 0;
  (void)use_device(b->device, "buffer_destroy");
  if (b->memory_kind == CMTR_MEMORY_DEVICE)
    (void)hipFree(b->data);
  else
    (void)hipHostFree(b->data);
  delete b;
  return nullptr;
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  if (args->buffer->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                           "buffer_host_pointer: device memory is not host-addressable");
  args->host_pointer = args->buffer->data;
  return nullptr;
}

// Host<->buffer copies, asynchronous on the stream (pageable host memory makes HIP stage them).
CMTR_Error* copy(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size, bool to_device,
                 const char* call) {
  if (CMTR_Error* e = check_stream(s, call)) return e;
  if (CMTR_Error* e = check_buffer(b, call)) return e;
  if (CMTR_Error* e = sdk::check_range(b->size_bytes, offset, size, host, call)) return e;
  if (s->device != b->device)
    return invalid(std::string(call) + ": the stream and the buffer are on different devices");
  if (CMTR_Error* e = use_device(s->device, call)) return e;
  char* at = static_cast<char*>(b->data) + offset;
  hipError_t st = to_device ? hipMemcpyAsync(at, host, size, hipMemcpyHostToDevice, s->stream)
                            : hipMemcpyAsync(host, at, size, hipMemcpyDeviceToHost, s->stream);
  if (st != hipSuccess) return hip_failure(st, std::string(call) + ": hipMemcpyAsync");
  return nullptr;
}

CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
  return copy(args->stream, args->buffer, args->offset_bytes, const_cast<void*>(args->host_pointer),
              args->size_bytes, true, "buffer_write");
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  return copy(args->stream, args->buffer, args->offset_bytes, args->host_pointer, args->size_bytes, false,
              "buffer_read");
}

// ---- Streams and events ----

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
  if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = use_device(args->device, "stream_create")) return e;
    hipStream_t stream = nullptr;
    if (hipError_t st = hipStreamCreateWithFlags(&stream, hipStreamNonBlocking); st != hipSuccess)
      return hip_failure(st, "stream_create: hipStreamCreateWithFlags");
    auto* s = new CMTR_Stream();
    s->device = args->device;
    s->stream = stream;
    args->stream = s;
    return nullptr;
  });
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (CMTR_Error* e =
          sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream", "hip", "stream"))
    return e;
  CMTR_Stream* s = args->stream;
  s->magic = 0;
  (void)use_device(s->device, "stream_destroy");
  (void)hipStreamSynchronize(s->stream);
  (void)hipStreamDestroy(s->stream);
  delete s;
  return nullptr;
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
  if (CMTR_Error* e = use_device(args->stream->device, "stream_synchronize")) return e;
  if (hipError_t st = hipStreamSynchronize(args->stream->stream); st != hipSuccess)
    return hip_failure(st, "stream_synchronize: hipStreamSynchronize");
  return nullptr;
}

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    CMTR_Stream* s = args->stream;
    if (CMTR_Error* e = use_device(s->device, "event_record")) return e;
    hipEvent_t ev = nullptr;
    if (hipError_t st = hipEventCreate(&ev); st != hipSuccess)
      return hip_failure(st, "event_record: hipEventCreate");
    if (hipError_t st = hipEventRecord(ev, s->stream); st != hipSuccess) {
      (void)hipEventDestroy(ev);
      return hip_failure(st, "event_record: hipEventRecord");
    }
    auto* e = new CMTR_Event();
    e->device = s->device;
    e->event = ev;
    args->event = e;
    return nullptr;
  });
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (CMTR_Error* e = check_event(args->start, "start", "event_elapsed")) return e;
  if (CMTR_Error* e = check_event(args->stop, "stop", "event_elapsed")) return e;
  if (args->start->device != args->stop->device)
    return invalid("event_elapsed: the events are on different devices");
  if (CMTR_Error* e = use_device(args->start->device, "event_elapsed")) return e;
  float ms = 0;
  hipError_t st = hipEventElapsedTime(&ms, args->start->event, args->stop->event);
  if (st == hipErrorNotReady) {
    (void)hipGetLastError();
    return sdk::make_error(CMTR_ERROR_UNAVAILABLE,
                           "event_elapsed: an event has not completed (synchronize first)");
  }
  if (st != hipSuccess) return hip_failure(st, "event_elapsed: hipEventElapsedTime");
  args->elapsed_s = static_cast<double>(ms) * 1e-3;
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e = check_event(args->event, "event", "event_destroy")) return e;
  args->event->magic = 0;
  (void)use_device(args->event->device, "event_destroy");
  (void)hipEventDestroy(args->event->event);
  delete args->event;
  return nullptr;
}

// ---- Ops ----

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    OpPlan plan = plan_op(args->device, sdk::view(args->name), args->params, args->num_params, false);
    return sdk::answer_query(args, plan.status, plan.reason);
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = use_device(args->device, "op_create")) return e;
    OpPlan plan = plan_op(args->device, sdk::view(args->name), args->params, args->num_params, true);
    if (plan.status != sdk::OpStatus::kSupported) return sdk::create_error(plan.status, plan.reason);
    auto* op = new CMTR_Op();
    op->device = args->device;
    op->impl = std::move(plan.impl);
    args->op = op;
    return nullptr;
  });
}

CMTR_Error* check_op(const CMTR_Op* op, const char* call) {
  return sdk::check_handle(op, kOpMagic, call, "op", "hip", "op");
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_op(args->op, "op_attributes")) return e;
  args->attributes = args->op->impl->attributes.data();
  args->num_attributes = args->op->impl->attributes.size();
  return nullptr;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = check_op(args->op, "op_enqueue")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  if (args->stream->device != args->op->device)
    return invalid("op_enqueue: the op and the stream are on different devices");
  return sdk::guarded([&]() -> CMTR_Error* {
    if (CMTR_Error* e = use_device(args->stream->device, "op_enqueue")) return e;
    return args->op->impl->enqueue(args->stream, args->buffers, args->num_buffers);
  });
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = check_op(args->op, "op_destroy")) return e;
  args->op->magic = 0;
  (void)use_device(args->op->device, "op_destroy");
  delete args->op;
  return nullptr;
}

const CMTR_Api kApi =
    sdk::ApiBuilder()
        .plugin(&plugin_initialize, &plugin_shutdown, &plugin_devices)
        .device(&device_attributes, &device_telemetry)
        .buffers(&buffer_create, &buffer_destroy, &buffer_host_pointer, &buffer_write, &buffer_read)
        .streams(&stream_create, &stream_destroy, &stream_synchronize)
        .events(&event_record, &event_elapsed, &event_destroy)
        .ops(&op_query, &op_create, &op_attributes, &op_enqueue, &op_destroy)
        .build();

}  // namespace

CMTR_Error* use_device(const CMTR_Device* device, const char* call) {
  if (hipError_t st = hipSetDevice(device->ordinal); st != hipSuccess)
    return hip_failure(st, std::string(call) + ": hipSetDevice(" + std::to_string(device->ordinal) + ")");
  return nullptr;
}

CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
  return check_live(b, kBufferMagic, call, "buffer");
}

const Rocblas& rocblas() {
  static const Rocblas* r = new Rocblas();
  return *r;
}

}  // namespace cmeter::hip

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::hip::kApi;
}
