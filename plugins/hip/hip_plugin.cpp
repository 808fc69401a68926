// plugins/hip/hip_plugin.cpp - the ABI entry points of libcmeter-hip.so: AMD GPUs (Instinct, Radeon)
// and HIP-compatible accelerators (Hygon DCU through DTK) through the HIP runtime.
//
// Why this file exists: it is the HIP plugin's side of cmeter/plugin_abi.h, built like the CUDA
// plugin's cuda_plugin.cpp on the SDK adapter (cmeter/plugin_adapter.hpp validates every call and
// answers with an error object, never a crash; this file has the hooks); without a GPU or driver (no
// /dev/kfd, hipErrorNoDevice) it loads with zero devices and plugin.status says why; buffers, streams and
// events map onto hipMalloc/hipHostMalloc, hipStream_t and hipEvent_t; telemetry comes from rocm-smi
// (dlopen'd, libs.cpp). What differs from the CUDA plugin: no stream hold (a timed batch of short launches
// includes host enqueue gaps) and no per-SKU peak table (declared peaks come from the CU count and clock only
// for known architectures).
#include <cmeter/plugin_abi.h>
#include <sys/stat.h>
#include <cmeter/plugin_adapter.hpp>
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

// The HIP part of the ABI; cmeter/plugin_adapter.hpp does the checks around each hook.
struct HipPlugin : sdk::Adapter<HipPlugin> {
  static constexpr const char* kName = "hip";
  static constexpr uint32_t kDeviceMagic = hip::kDeviceMagic, kBufferMagic = hip::kBufferMagic,
                            kStreamMagic = hip::kStreamMagic, kEventMagic = hip::kEventMagic,
                            kOpMagic = hip::kOpMagic;
  static constexpr bool kTelemetry = true;

  // ---- Plugin ----
  static CMTR_Error* initialize(const sdk::KeyValueList** attributes) {
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
    *attributes = &s.plugin_attributes;
    return nullptr;
  }
  static void shutdown() {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.initialized = false;  // devices and rocm-smi stay: another initialize finds them again
  }
  static bool initialised() { return state().initialized; }
  static sdk::DeviceList devices() { return {state().device_list.data(), state().device_list.size()}; }

  // ---- Devices ----
  static CMTR_Error* telemetry(CMTR_Device* d, const CMTR_KeyValue** readings, size_t* num_readings) {
    const RocmSmi* smi = state().smi.get();
    // Without rocm-smi (or for a device it does not list) there is no telemetry here: UNIMPLEMENTED,
    // which plugin check reports as not applicable and a run as "telemetry unavailable: <why>".
    if (smi == nullptr || !smi->available())
      return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED, smi ? smi->status() : "rocm-smi not loaded");
    if (d->smi_index < 0)
      return sdk::make_error(
          CMTR_ERROR_UNIMPLEMENTED,
          "rocm-smi does not know hip:" + std::to_string(d->ordinal) + " (PCI bus id not found)");
    std::lock_guard<std::mutex> lock(d->telemetry_mutex);
    smi->read(d->smi_index, d->telemetry);
    *readings = d->telemetry.data();
    *num_readings = d->telemetry.size();
    return nullptr;
  }

  // ---- Buffers ----
  static uint64_t memory_bytes(const CMTR_Device* d, int32_t memory_kind) {
    return memory_kind == CMTR_MEMORY_DEVICE ? d->mem_bytes : UINT64_MAX;  // pinned: host memory
  }
  static CMTR_Error* allocate(CMTR_Device* d, uint64_t size_bytes, int32_t memory_kind, CMTR_Buffer** out) {
    if (CMTR_Error* e = use_device(d, "buffer_create")) return e;
    void* p = nullptr;
    const bool device = memory_kind == CMTR_MEMORY_DEVICE;
    hipError_t st = device ? hipMalloc(&p, size_bytes) : hipHostMalloc(&p, size_bytes, hipHostMallocPortable);
    if (st != hipSuccess) {
      (void)hipGetLastError();
      return hip_failure(st, std::string("buffer_create: ") + (device ? "hipMalloc" : "hipHostMalloc") +
                                 " of " + std::to_string(size_bytes) + " bytes");
    }
    auto* b = new CMTR_Buffer();
    b->device = d;
    b->data = p;
    b->size_bytes = size_bytes;
    b->memory_kind = memory_kind;
    *out = b;
    return nullptr;
  }
  static CMTR_Error* free_buffer(CMTR_Buffer* b) {
    (void)use_device(b->device, "buffer_destroy");
    if (b->memory_kind == CMTR_MEMORY_DEVICE)
      (void)hipFree(b->data);
    else
      (void)hipHostFree(b->data);
    delete b;
    return nullptr;
  }
  static CMTR_Error* host_pointer(CMTR_Buffer* b, void** out) {
    if (b->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                             "buffer_host_pointer: device memory is not host-addressable");
    *out = b->data;
    return nullptr;
  }
  // Host<->buffer copies, asynchronous on the stream (pageable host memory makes HIP stage them).
  static CMTR_Error* copy(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size,
                          bool to_device, const char* call) {
    if (CMTR_Error* e = use_device(s->device, call)) return e;
    char* at = static_cast<char*>(b->data) + offset;
    hipError_t st = to_device ? hipMemcpyAsync(at, host, size, hipMemcpyHostToDevice, s->stream)
                              : hipMemcpyAsync(host, at, size, hipMemcpyDeviceToHost, s->stream);
    if (st != hipSuccess) return hip_failure(st, std::string(call) + ": hipMemcpyAsync");
    return nullptr;
  }
  static CMTR_Error* write(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) {
    return copy(s, b, offset, const_cast<void*>(host), size, true, "buffer_write");
  }
  static CMTR_Error* read(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) {
    return copy(s, b, offset, host, size, false, "buffer_read");
  }

  // ---- Streams and events ----
  static CMTR_Error* create_stream(CMTR_Device* d, CMTR_Stream** out) {
    if (CMTR_Error* e = use_device(d, "stream_create")) return e;
    hipStream_t stream = nullptr;
    if (hipError_t st = hipStreamCreateWithFlags(&stream, hipStreamNonBlocking); st != hipSuccess)
      return hip_failure(st, "stream_create: hipStreamCreateWithFlags");
    auto* s = new CMTR_Stream();
    s->device = d;
    s->stream = stream;
    *out = s;
    return nullptr;
  }
  static CMTR_Error* free_stream(CMTR_Stream* s) {
    (void)use_device(s->device, "stream_destroy");
    (void)hipStreamSynchronize(s->stream);
    (void)hipStreamDestroy(s->stream);
    delete s;
    return nullptr;
  }
  static CMTR_Error* synchronize(CMTR_Stream* s) {
    if (CMTR_Error* e = use_device(s->device, "stream_synchronize")) return e;
    if (hipError_t st = hipStreamSynchronize(s->stream); st != hipSuccess)
      return hip_failure(st, "stream_synchronize: hipStreamSynchronize");
    return nullptr;
  }
  static CMTR_Error* record(CMTR_Stream* s, CMTR_Event** out) {
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
    *out = e;
    return nullptr;
  }
  static CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s) {
    if (CMTR_Error* e = use_device(start->device, "event_elapsed")) return e;
    float ms = 0;
    hipError_t st = hipEventElapsedTime(&ms, start->event, stop->event);
    if (st == hipErrorNotReady) {
      (void)hipGetLastError();
      return sdk::make_error(CMTR_ERROR_UNAVAILABLE,
                             "event_elapsed: an event has not completed (synchronize first)");
    }
    if (st != hipSuccess) return hip_failure(st, "event_elapsed: hipEventElapsedTime");
    *elapsed_s = static_cast<double>(ms) * 1e-3;
    return nullptr;
  }
  static CMTR_Error* free_event(CMTR_Event* ev) {
    (void)use_device(ev->device, "event_destroy");
    (void)hipEventDestroy(ev->event);
    delete ev;
    return nullptr;
  }

  // ---- Ops ----
  static OpPlan plan(CMTR_Device* d, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
                     bool for_create) {
    if (for_create) {
      OpPlan failed;
      failed.status = sdk::OpStatus::kFailed;
      if ((failed.error = use_device(d, "op_create")) != nullptr) return failed;
    }
    return plan_op(d, name, params, num_params, for_create);
  }
  static CMTR_Error* make_op(CMTR_Device* d, OpPlan& plan, CMTR_Op** out) {
    auto* op = new CMTR_Op();
    op->device = d;
    op->impl = std::move(plan.impl);
    *out = op;
    return nullptr;
  }
  static CMTR_Error* launch(CMTR_Op* op, CMTR_Stream* s, CMTR_Buffer* const* buffers, size_t num_buffers) {
    if (CMTR_Error* e = use_device(s->device, "op_enqueue")) return e;
    return op->impl->enqueue(s, buffers, num_buffers);
  }
  static CMTR_Error* free_op(CMTR_Op* op) {
    (void)use_device(op->device, "op_destroy");
    delete op;
    return nullptr;
  }
};

const CMTR_Api kApi = HipPlugin::api();

}  // namespace

CMTR_Error* use_device(const CMTR_Device* device, const char* call) {
  if (hipError_t st = hipSetDevice(device->ordinal); st != hipSuccess)
    return hip_failure(st, std::string(call) + ": hipSetDevice(" + std::to_string(device->ordinal) + ")");
  return nullptr;
}

CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
  return HipPlugin::check_buffer(b, call);
}

const Rocblas& rocblas() {
  static const Rocblas* r = new Rocblas();
  return *r;
}

}  // namespace cmeter::hip

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::hip::kApi;
}
