// plugins/cuda/cuda_plugin.cpp - the ABI entry points of libcmeter-cuda.so: one device per CUDA GPU
// the driver shows (`cuda:0`, `cuda:1`, ...), timed with CUDA events.
//
// Why this file exists: it is the CUDA plugin's side of cmeter/plugin_abi.h, on the SDK adapter
// (cmeter/plugin_adapter.hpp checks every call: struct sizes, NULL and foreign handles, ranges, device
// match, and answers with error objects, never a crash or an exception; this file has the hooks). It finds
// the driver at plugin_initialize and, without one, loads anyway with zero devices and says why in
// plugin.status; it maps buffers, streams and events onto cudaMalloc / cudaHostAlloc, non-blocking streams
// and cudaEvents, with the stream hold described in runtime.hpp; and it serves NVML telemetry through
// device_telemetry.
#include <cmeter/plugin_abi.h>
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <cmeter/physical_id.hpp>
#include <cmeter/plugin_adapter.hpp>
#include <cmeter/plugin_ops.hpp>
#include <cmeter/plugin_sdk.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "nvml.hpp"
#include "ops.hpp"
#include "runtime.hpp"
#include "sku_peaks.hpp"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif

namespace cmeter::cuda {

std::string cuda_error_text(cudaError_t status) {
  const char* name = cudaGetErrorName(status);
  const char* text = cudaGetErrorString(status);
  return std::string(name ? name : "cudaError") + " (" + (text ? text : "?") + ")";
}

std::string cublas_status_text(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "cublasStatus " + std::to_string(static_cast<int>(status));
}

CMTR_Error* cuda_failure(cudaError_t status, const std::string& what) {
  CMTR_ErrorCode code = CMTR_ERROR_INTERNAL;
  switch (status) {
    case cudaErrorMemoryAllocation:
      code = CMTR_ERROR_RESOURCE_EXHAUSTED;
      break;
    case cudaErrorInvalidValue:
      code = CMTR_ERROR_INVALID_ARGUMENT;
      break;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNotReady:
      code = CMTR_ERROR_UNAVAILABLE;
      break;
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
      code = CMTR_ERROR_DEVICE_LOST;
      break;
    default:
      break;
  }
  return sdk::make_error(code, what + ": " + cuda_error_text(status));
}

namespace {

// Plugin-wide state. Never destroyed (CUDA and NVML keep threads and contexts until process exit),
// so nothing depends on static destruction order.
struct PluginState {
  std::mutex mutex;
  bool initialized = false;
  bool probed = false;
  bool hold_enabled = true;
  std::string status;
  sdk::KeyValueList plugin_attributes;
  std::vector<std::unique_ptr<CMTR_Device>> devices;
  std::vector<CMTR_Device*> device_list;
  std::unique_ptr<Nvml> nvml;
};

PluginState& state() {
  static PluginState* s = new PluginState();
  return *s;
}

std::string version_text(int v) {  // 13000 -> "13.0"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string uuid_text(const cudaUUID_t& u) {
  char buf[48];
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

int device_attribute(cudaDeviceAttr attr, int ordinal) {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, attr, ordinal) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return v;
}

// Builds one device's attributes; returns "" or why the device is skipped.
std::string probe_device(int ordinal, CMTR_Device& d, const std::string& driver_text,
                         const std::string& runtime_text, const Nvml* nvml, bool hold_enabled) {
  cudaDeviceProp prop{};
  if (cudaError_t st = cudaGetDeviceProperties(&prop, ordinal); st != cudaSuccess) {
    (void)cudaGetLastError();
    return "cudaGetDeviceProperties: " + cuda_error_text(st);
  }
  d.ordinal = ordinal;
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  d.sm_count = prop.multiProcessorCount;
  d.mem_bytes = prop.totalGlobalMem;
  d.name = prop.name;
  char bus[32];
  std::snprintf(bus, sizeof bus, "%04x:%02x:%02x.0", static_cast<unsigned>(prop.pciDomainID),
                static_cast<unsigned>(prop.pciBusID), static_cast<unsigned>(prop.pciDeviceID));
  const std::string uuid = uuid_text(prop.uuid);
  DeviceFacts facts;
  facts.name = d.name;
  facts.cc_major = prop.major;
  facts.cc_minor = prop.minor;
  facts.sm_count = prop.multiProcessorCount;
  facts.sm_clock_mhz = device_attribute(cudaDevAttrClockRate, ordinal) / 1000.0;
  facts.mem_clock_mhz = device_attribute(cudaDevAttrMemoryClockRate, ordinal) / 1000.0;
  facts.mem_bus_bits = prop.memoryBusWidth;
  facts.mem_bytes = prop.totalGlobalMem;

  sdk::KeyValueList& kv = d.attributes;
  kv.clear();
  kv.set("name", d.name);
  kv.set("vendor", "NVIDIA");
  kv.set("kind", "gpu");
  kv.set("driver.version", driver_text);
  kv.set("runtime.version", runtime_text);
  kv.set("uuid", uuid);
  kv.set("pci.bus_id", std::string(bus));
  kv.set("physical.id", sdk::pci_physical_id(bus));
  {
    std::ifstream numa(std::string("/sys/bus/pci/devices/") + bus + "/numa_node");
    int node = -1;
    if (numa >> node && node >= 0) kv.set("numa.node", static_cast<int64_t>(node));
  }
  kv.set("mem.bytes", static_cast<int64_t>(prop.totalGlobalMem));
  if (prop.l2CacheSize > 0) kv.set("cache.llc.bytes", static_cast<int64_t>(prop.l2CacheSize));
  kv.set("compute_units", static_cast<int64_t>(prop.multiProcessorCount));
  if (facts.sm_clock_mhz > 0) kv.set("clock.core.mhz", facts.sm_clock_mhz);
  if (facts.mem_clock_mhz > 0) kv.set("clock.mem.mhz", facts.mem_clock_mhz);
  kv.set("cuda.ordinal", static_cast<int64_t>(ordinal));
  kv.set("cuda.compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
  kv.set("cuda.mem.bus_bits", static_cast<int64_t>(prop.memoryBusWidth));
  DeclaredPeaks peaks = declared_peaks(facts);
  for (const auto& [key, value] : peaks.values) kv.set("peak." + key, value);
  kv.set("peak.source", peaks.source);
  if (!peaks.sku.empty()) kv.set("peak.sku", peaks.sku);
  kv.set("timer.kind", hold_enabled
                           ? "cuda.event; a spin kernel holds the stream while each timed batch is enqueued"
                           : "cuda.event (stream hold disabled by CMETER_CUDA_NO_HOLD)");
  if (nvml != nullptr && nvml->available()) {
    d.nvml_device = nvml->find_device(uuid, bus);
    const double limit = nvml->power_limit_w(d.nvml_device);
    if (limit > 0) kv.set("power.limit.w", limit);
  }
  return {};
}

// Finds the driver and the devices. Never fails: without a driver the plugin has zero devices and
// state().status says why.
void probe(PluginState& s) {
  s.probed = true;
  const char* no_hold = std::getenv("CMETER_CUDA_NO_HOLD");
  s.hold_enabled = !(no_hold != nullptr && *no_hold != '\0' && std::strcmp(no_hold, "0") != 0);
  // The static CUDA runtime loads libcuda.so.1 itself; looking first gives a precise reason.
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (driver == nullptr) {
    const char* why = dlerror();
    s.status = std::string("no CUDA driver: libcuda.so.1 not found (") + (why ? why : "dlopen failed") + ")";
    return;
  }
  int runtime_version = 0, driver_version = 0;
  cudaRuntimeGetVersion(&runtime_version);
  cudaDriverGetVersion(&driver_version);
  int count = 0;
  if (cudaError_t st = cudaGetDeviceCount(&count); st != cudaSuccess) {
    (void)cudaGetLastError();
    s.status = "cudaGetDeviceCount: " + cuda_error_text(st) + "; " +
               (driver_version > 0 ? "the driver supports CUDA " + version_text(driver_version)
                                   : std::string("the driver reports no CUDA version")) +
               ", this plugin's runtime is CUDA " + version_text(runtime_version) +
               (driver_version > 0 && driver_version < runtime_version ? " (a newer driver is needed)" : "");
    return;
  }
  if (count == 0) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    s.status = std::string("the CUDA driver shows no device") +
               (visible ? std::string(" (CUDA_VISIBLE_DEVICES=") + visible + ")" : std::string());
    return;
  }
  s.nvml = std::make_unique<Nvml>();
  const std::string nvml_driver = s.nvml->driver_version();
  const std::string driver_text = (nvml_driver.empty() ? std::string() : nvml_driver + ", ") + "CUDA " +
                                  version_text(driver_version) + " driver API";
  const auto lt = static_cast<int>(cublasLtGetVersion());
  const std::string runtime_text = "CUDA runtime " + version_text(runtime_version) + " (static), cuBLASLt " +
                                   std::to_string(lt / 10000) + "." + std::to_string((lt / 100) % 100) + "." +
                                   std::to_string(lt % 100);
  std::string skipped;
  for (int i = 0; i < count; ++i) {
    auto d = std::make_unique<CMTR_Device>();
    std::string why = probe_device(i, *d, driver_text, runtime_text, s.nvml.get(), s.hold_enabled);
    if (!why.empty()) {
      skipped += (skipped.empty() ? "" : "; ") + std::string("CUDA device ") + std::to_string(i) +
                 " skipped: " + why;
      continue;
    }
    s.device_list.push_back(d.get());
    s.devices.push_back(std::move(d));
  }
  s.status = skipped;
  if (!s.nvml->available()) s.status += (s.status.empty() ? "" : "; ") + s.nvml->status();
}

// Reports spin-kernel timeouts seen on a stream once (they mean a batch's time may include host
// enqueue gaps: the figure is then pessimistic, never optimistic).
void report_timeouts(CMTR_Stream* s) {
  if (s->flag_host == nullptr) return;
  const uint32_t seen = s->flag_host[1];
  if (seen != s->timeouts_reported) {
    std::fprintf(
        stderr,
        "cmeter cuda: the stream hold on cuda:%d timed out %u time(s) (host enqueue took over %.1f s); those "
        "batches' device time may include enqueue gaps\n",
        s->device->ordinal, seen - s->timeouts_reported, kHoldTimeoutNs * 1e-9);
    s->timeouts_reported = seen;
  }
}

// True when `p` is plain pageable host memory (a copy from it may wait for the stream).
bool is_pageable(const void* p) {
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return true;
  }
  return attr.type == cudaMemoryTypeUnregistered;
}

// The CUDA part of the ABI; cmeter/plugin_adapter.hpp does the checks around each hook. The stream
// hold (runtime.hpp) lives in the hooks: a hook that may wait for the device releases it first.
struct CudaPlugin : sdk::Adapter<CudaPlugin> {
  static constexpr const char* kName = "cuda";
  static constexpr uint32_t kDeviceMagic = cuda::kDeviceMagic, kBufferMagic = cuda::kBufferMagic,
                            kStreamMagic = cuda::kStreamMagic, kEventMagic = cuda::kEventMagic,
                            kOpMagic = cuda::kOpMagic;
  static constexpr bool kTelemetry = true;

  // ---- Plugin ----
  static CMTR_Error* initialize(const sdk::KeyValueList** attributes) {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.probed) {
      probe(s);
      s.plugin_attributes.clear();
      s.plugin_attributes.set("plugin.name", "cuda");
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
    // Devices, contexts and NVML stay: another initialize finds them again, and process exit frees them.
    s.initialized = false;
  }
  static bool initialised() { return state().initialized; }
  static sdk::DeviceList devices() { return {state().device_list.data(), state().device_list.size()}; }

  // ---- Devices ----
  static CMTR_Error* telemetry(CMTR_Device* d, const CMTR_KeyValue** readings, size_t* num_readings) {
    const Nvml* nvml = state().nvml.get();
    if (nvml == nullptr || !nvml->available())
      return sdk::make_error(CMTR_ERROR_UNAVAILABLE, nvml ? nvml->status() : "NVML not loaded");
    if (d->nvml_device == nullptr)
      return sdk::make_error(CMTR_ERROR_UNAVAILABLE, "NVML does not know cuda:" + std::to_string(d->ordinal) +
                                                         " (MIG instance, or UUID and PCI bus id not found)");
    std::lock_guard<std::mutex> lock(d->telemetry_mutex);
    nvml->read(d->nvml_device, d->telemetry);
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
    release_all(d);
    void* p = nullptr;
    cudaError_t st = memory_kind == CMTR_MEMORY_DEVICE ? cudaMalloc(&p, size_bytes)
                                                       : cudaHostAlloc(&p, size_bytes, cudaHostAllocPortable);
    if (st != cudaSuccess) {
      (void)cudaGetLastError();
      return cuda_failure(st, std::string("buffer_create: ") +
                                  (memory_kind == CMTR_MEMORY_DEVICE ? "cudaMalloc" : "cudaHostAlloc") +
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
    CMTR_Error* error = use_device(b->device, "buffer_destroy");
    release_all(b->device);
    cudaError_t st = b->memory_kind == CMTR_MEMORY_DEVICE ? cudaFree(b->data) : cudaFreeHost(b->data);
    if (st != cudaSuccess && error == nullptr) error = cuda_failure(st, "buffer_destroy");
    delete b;
    return error;
  }
  static CMTR_Error* host_pointer(CMTR_Buffer* b, void** out) {
    if (b->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                             "buffer_host_pointer: device memory is not host-addressable");
    *out = b->data;
    return nullptr;
  }
  static CMTR_Error* copy(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t bytes,
                          bool to_buffer, const char* call) {
    if (CMTR_Error* e = use_device(s->device, call)) return e;
    // A copy that may wait for the stream (pageable memory is staged; host-to-host copies are
    // synchronous) must not meet a held stream.
    if (s->held && (b->memory_kind == CMTR_MEMORY_HOST_PINNED || s->held_launches + 1 > kMaxHeldLaunches ||
                    is_pageable(host)))
      release(s);
    char* buffer_ptr = static_cast<char*>(b->data) + offset;
    cudaError_t st = to_buffer ? cudaMemcpyAsync(buffer_ptr, host, bytes, cudaMemcpyDefault, s->stream)
                               : cudaMemcpyAsync(host, buffer_ptr, bytes, cudaMemcpyDefault, s->stream);
    if (st != cudaSuccess) return cuda_failure(st, std::string(call) + ": cudaMemcpyAsync");
    if (s->held) s->held_launches += 1;
    return nullptr;
  }
  static CMTR_Error* write(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) {
    return copy(s, b, offset, const_cast<void*>(host), size, true, "buffer_write");
  }
  static CMTR_Error* read(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) {
    return copy(s, b, offset, host, size, false, "buffer_read");
  }

  // ---- Streams ----
  static CMTR_Error* create_stream(CMTR_Device* d, CMTR_Stream** out) {
    if (CMTR_Error* e = use_device(d, "stream_create")) return e;
    auto s = std::make_unique<CMTR_Stream>();
    s->device = d;
    if (cudaError_t st = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking); st != cudaSuccess)
      return cuda_failure(st, "stream_create: cudaStreamCreateWithFlags");
    // The hold's flag: two words of host-mapped page-locked memory. Any failure only disables the hold.
    s->hold_enabled = state().hold_enabled;
    if (s->hold_enabled) {
      void* host = nullptr;
      void* dev = nullptr;
      bool ok = cudaHostAlloc(&host, 2 * sizeof(uint32_t), cudaHostAllocMapped | cudaHostAllocPortable) ==
                cudaSuccess;
      if (ok) {
        std::memset(host, 0, 2 * sizeof(uint32_t));
        ok = cudaHostGetDevicePointer(&dev, host, 0) == cudaSuccess;
      }
      // Warm the spin kernel (generation 0 is already released): loads its module outside any hold.
      if (ok)
        ok = launch_spin(s->stream, static_cast<volatile uint32_t*>(dev), 0, kHoldTimeoutNs) == cudaSuccess;
      if (ok) ok = cudaStreamSynchronize(s->stream) == cudaSuccess;
      if (ok) {
        s->flag_host = static_cast<volatile uint32_t*>(host);
        s->flag_device = static_cast<volatile uint32_t*>(dev);
      } else {
        (void)cudaGetLastError();
        if (host != nullptr) cudaFreeHost(host);
        s->hold_enabled = false;
      }
    }
    {
      std::lock_guard<std::mutex> lock(d->mutex);
      d->streams.insert(s.get());
    }
    *out = s.release();
    return nullptr;
  }
  static CMTR_Error* free_stream(CMTR_Stream* s) {
    {
      std::lock_guard<std::mutex> lock(s->device->mutex);
      s->device->streams.erase(s);
    }
    CMTR_Error* error = use_device(s->device, "stream_destroy");
    release(s);
    cudaError_t st = cudaStreamSynchronize(s->stream);  // the spin kernel reads the flag until it ends
    if (st != cudaSuccess && error == nullptr)
      error = cuda_failure(st, "stream_destroy: cudaStreamSynchronize");
    cudaStreamDestroy(s->stream);
    if (s->flag_host != nullptr) cudaFreeHost(const_cast<uint32_t*>(s->flag_host));
    delete s;
    return error;
  }
  static CMTR_Error* synchronize(CMTR_Stream* s) {
    if (CMTR_Error* e = use_device(s->device, "stream_synchronize")) return e;
    release(s);
    s->batch_open = false;
    cudaError_t st = cudaStreamSynchronize(s->stream);
    report_timeouts(s);
    return st == cudaSuccess ? nullptr : cuda_failure(st, "stream_synchronize");
  }

  // ---- Events ----
  static CMTR_Error* record(CMTR_Stream* s, CMTR_Event** out) {
    if (CMTR_Error* e = use_device(s->device, "event_record")) return e;
    cudaEvent_t ev = nullptr;
    if (cudaError_t st = cudaEventCreate(&ev); st != cudaSuccess)
      return cuda_failure(st, "event_record: cudaEventCreate");
    // Start of a timed batch: hold the stream, then mark. End: mark, then let the batch run.
    const bool opening = !s->batch_open;
    if (opening) hold(s);
    cudaError_t st = cudaEventRecord(ev, s->stream);
    if (!opening) release(s);
    s->batch_open = opening;
    if (st != cudaSuccess) {
      release(s);
      cudaEventDestroy(ev);
      return cuda_failure(st, "event_record: cudaEventRecord");
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
    cudaError_t st = cudaEventElapsedTime(&ms, start->event, stop->event);
    if (st == cudaErrorNotReady) {
      (void)cudaGetLastError();
      return sdk::make_error(CMTR_ERROR_UNAVAILABLE,
                             "event_elapsed: an event has not completed (synchronize first)");
    }
    if (st != cudaSuccess) return cuda_failure(st, "event_elapsed: cudaEventElapsedTime");
    *elapsed_s = static_cast<double>(ms) * 1e-3;
    return nullptr;
  }
  static CMTR_Error* free_event(CMTR_Event* ev) {
    (void)use_device(ev->device, "event_destroy");
    cudaEventDestroy(ev->event);
    delete ev;
    return nullptr;
  }

  // ---- Ops ----
  static OpPlan plan(CMTR_Device* d, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
                     bool for_create) {
    OpPlan failed;
    failed.status = OpPlan::kFailed;
    if ((failed.error = use_device(d, for_create ? "op_create" : "op_query")) != nullptr) return failed;
    if (for_create) release_all(d);  // gemm allocates and times candidates
    return plan_op(d, name, params, num_params, for_create);
  }
  static CMTR_Error* make_op(CMTR_Device* d, OpPlan& plan, CMTR_Op** out) {
    auto* op = new CMTR_Op();
    op->device = d;
    op->impl = std::move(plan.op);
    *out = op;
    return nullptr;
  }
  static CMTR_Error* launch(CMTR_Op* handle, CMTR_Stream* s, CMTR_Buffer* const* buffers,
                            size_t num_buffers) {
    OpImpl& op = *handle->impl;
    if (CMTR_Error* e = use_device(s->device, "op_enqueue")) return e;
    // A first launch may load a module (which waits for the device); a full launch queue would block
    // the host while the device waits for it: neither may happen on a held stream.
    if (s->held && (!op.warmed || s->held_launches + op.launches > kMaxHeldLaunches)) release(s);
    CMTR_Error* e = op.enqueue(s, buffers, num_buffers);
    if (e == nullptr) {
      op.warmed = true;
      if (s->held) s->held_launches += op.launches;
    }
    return e;
  }
  static CMTR_Error* free_op(CMTR_Op* op) {
    (void)use_device(op->device, "op_destroy");
    release_all(op->device);  // the op may free its workspace
    delete op;
    return nullptr;
  }
};

const CMTR_Api kApi = CudaPlugin::api();

}  // namespace

// ---- Shared helpers (runtime.hpp) ----

CMTR_Error* use_device(const CMTR_Device* device, const char* call) {
  cudaError_t st = cudaSetDevice(device->ordinal);
  return st == cudaSuccess ? nullptr : cuda_failure(st, std::string(call) + ": cudaSetDevice");
}

bool hold(CMTR_Stream* s) {
  if (!s->hold_enabled || s->held || s->flag_device == nullptr) return false;
  const uint32_t next = s->generation + 1;
  if (launch_spin(s->stream, s->flag_device, next, kHoldTimeoutNs) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  s->generation = next;
  s->held = true;
  s->held_launches = 0;
  return true;
}

void release(CMTR_Stream* s) {
  if (!s->held) return;
  __atomic_store_n(const_cast<uint32_t*>(&s->flag_host[0]), s->generation, __ATOMIC_SEQ_CST);
  s->held = false;
}

void release_all(CMTR_Device* device) {
  std::lock_guard<std::mutex> lock(device->mutex);
  for (CMTR_Stream* s : device->streams) release(s);
}

CMTR_Error* lt_handle(CMTR_Device* device, cublasLtHandle_t* out) {
  std::lock_guard<std::mutex> lock(device->mutex);
  if (device->lt == nullptr) {
    cublasStatus_t st = cublasLtCreate(&device->lt);
    if (st != CUBLAS_STATUS_SUCCESS) {
      device->lt = nullptr;
      return sdk::make_error(CMTR_ERROR_INTERNAL, "cublasLtCreate: " + cublas_status_text(st));
    }
  }
  *out = device->lt;
  return nullptr;
}

CMTR_Error* check_op_buffer(CMTR_Buffer* const* buffers, size_t num_buffers, size_t index, const char* role,
                            const CMTR_Device* device, uint64_t bytes, const char* op) {
  if (index >= num_buffers) return invalid(std::string(op) + ": buffer " + role + " is missing");
  const CMTR_Buffer* b = buffers[index];
  if (b == nullptr || b->magic != kBufferMagic)
    return invalid(std::string(op) + ": buffer " + role + " is NULL or not a live cuda buffer");
  if (b->device != device) return invalid(std::string(op) + ": buffer " + role + " is on another device");
  if (b->memory_kind != CMTR_MEMORY_DEVICE)
    return invalid(std::string(op) + ": buffer " + role + " is not device memory");
  if (b->size_bytes < bytes)
    return invalid(std::string(op) + ": buffer " + role + " has " + std::to_string(b->size_bytes) +
                   " bytes, needs " + std::to_string(bytes));
  return nullptr;
}

CMTR_Error* gather_op_buffers(CMTR_Buffer* const* buffers, size_t num_buffers,
                              const std::vector<sdk::BufferNeed>& needs, const CMTR_Device* device,
                              const char* op, void** data) {
  if (CMTR_Error* e = sdk::check_buffer_count(op, buffers, num_buffers, needs)) return e;
  if (needs.size() > kMaxOpBuffers)
    return sdk::make_error(CMTR_ERROR_INTERNAL,
                           std::string(op) + ": more buffers than the cuda plugin gathers");
  for (size_t i = 0; i < needs.size(); ++i) {
    if (CMTR_Error* e =
            check_op_buffer(buffers, num_buffers, i, needs[i].role, device, needs[i].size_bytes, op))
      return e;
    data[i] = buffers[i]->data;
  }
  return nullptr;
}

}  // namespace cmeter::cuda

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::cuda::kApi;
}
