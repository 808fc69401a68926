// plugins/cpu/cpu_plugin.cpp - the ABI entry points of libcmeter-cpu.so: one device, `cpu:0`, the
// whole machine as far as this process may use it.
//
// Why this file exists: it is the CPU plugin's side of cmeter/plugin_abi.h, on the SDK adapter
// (cmeter/plugin_adapter.hpp checks every call: struct sizes, NULL and foreign handles, ranges). What
// is the CPU's own is here: the plugin-wide state (the CPU probe, the TBB arena) between
// plugin_initialize and plugin_shutdown, and buffers, streams and events on host memory and a steady clock.
#include <cmeter/plugin_abi.h>
#include <oneapi/tbb/version.h>
#include <cmeter/physical_id.hpp>
#include <cmeter/plugin_adapter.hpp>
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

Runtime& runtime() {
  return *state().runtime;
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

// The CPU's part of the ABI; cmeter/plugin_adapter.hpp does the checks around each hook.
struct CpuPlugin : sdk::Adapter<CpuPlugin> {
  static constexpr const char* kName = "cpu";
  static constexpr uint32_t kDeviceMagic = cpu::kDeviceMagic, kBufferMagic = cpu::kBufferMagic,
                            kStreamMagic = cpu::kStreamMagic, kEventMagic = cpu::kEventMagic,
                            kOpMagic = cpu::kOpMagic;
  static constexpr const char* kMemoryName = "the host's memory";

  // ---- Plugin ----
  static CMTR_Error* initialize(const sdk::KeyValueList** attributes) {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    openblas_restore_environment();
    if (!s.runtime) {
      auto rt = std::make_unique<Runtime>(probe_cpu());
      build_device_attributes(*rt, s.device.attributes);
      s.device.magic = cpu::kDeviceMagic;
      s.plugin_attributes.clear();
      s.plugin_attributes.set("plugin.name", "cpu");
      s.plugin_attributes.set("plugin.version", CMETER_VERSION);
      s.plugin_attributes.set("plugin.vendor", "cmeter");
      s.runtime = std::move(rt);
    }
    *attributes = &s.plugin_attributes;
    return nullptr;
  }
  static void shutdown() {
    PluginState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.runtime.reset();
    s.device.attributes.clear();
  }
  static bool initialised() { return state().runtime != nullptr; }
  static sdk::DeviceList devices() { return {state().device_list, 1}; }

  // ---- Buffers: 64-byte-aligned host memory (device and host-pinned alike) ----
  static uint64_t memory_bytes(const CMTR_Device*, int32_t) {
    return static_cast<uint64_t>(runtime().info.mem_bytes);
  }
  static CMTR_Error* allocate(CMTR_Device* device, uint64_t size_bytes, int32_t memory_kind,
                              CMTR_Buffer** out) {
    const uint64_t alloc_bytes = (size_bytes + 63) / 64 * 64;
    void* data = std::aligned_alloc(64, alloc_bytes);
    if (data == nullptr)
      return make_error(
          CMTR_ERROR_RESOURCE_EXHAUSTED,
          "buffer_create: cannot allocate " + std::to_string(size_bytes) + " bytes of host memory");
    // First touch by the cores that will work on each chunk (NUMA-local pages, no faults later).
    parallel_zero(runtime(), data, alloc_bytes);
    auto* b = new CMTR_Buffer();
    b->device = device;
    b->data = data;
    b->size_bytes = size_bytes;
    b->memory_kind = memory_kind;
    *out = b;
    return nullptr;
  }
  static CMTR_Error* free_buffer(CMTR_Buffer* b) {
    std::free(b->data);
    delete b;
    return nullptr;
  }
  static CMTR_Error* host_pointer(CMTR_Buffer* b, void** out) {
    *out = b->data;  // device and host-pinned memory are both host memory
    return nullptr;
  }
  static CMTR_Error* write(CMTR_Stream*, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) {
    parallel_copy(runtime(), static_cast<char*>(b->data) + offset, host, size);
    return nullptr;
  }
  static CMTR_Error* read(CMTR_Stream*, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) {
    parallel_copy(runtime(), host, static_cast<const char*>(b->data) + offset, size);
    return nullptr;
  }

  // ---- Streams: work runs inside each call, so a stream is only an ordering token ----
  static CMTR_Error* create_stream(CMTR_Device* device, CMTR_Stream** out) {
    auto* s = new CMTR_Stream();
    s->device = device;
    *out = s;
    return nullptr;
  }
  static CMTR_Error* free_stream(CMTR_Stream* s) {
    delete s;
    return nullptr;
  }
  static CMTR_Error* synchronize(CMTR_Stream*) { return nullptr; }  // everything enqueued has already run

  // ---- Events: steady_clock readings taken in stream order ----
  static CMTR_Error* record(CMTR_Stream* s, CMTR_Event** out) {
    auto* ev = new CMTR_Event();
    ev->device = s->device;
    ev->time = std::chrono::steady_clock::now();
    *out = ev;
    return nullptr;
  }
  static CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s) {
    *elapsed_s = std::chrono::duration<double>(stop->time - start->time).count();
    return nullptr;
  }
  static CMTR_Error* free_event(CMTR_Event* ev) {
    delete ev;
    return nullptr;
  }

  // ---- Ops ----
  static OpPlan plan(CMTR_Device*, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
                     bool for_create) {
    return plan_op(runtime(), name, params, num_params, for_create);
  }
  static CMTR_Error* make_op(CMTR_Device* device, OpPlan& plan, CMTR_Op** out) {
    auto* op = new CMTR_Op();
    op->device = device;
    op->impl = std::move(plan.op);
    *out = op;
    return nullptr;
  }
  static CMTR_Error* launch(CMTR_Op* op, CMTR_Stream*, CMTR_Buffer* const* buffers, size_t num_buffers) {
    return op->impl->run(buffers, num_buffers);
  }
};

const CMTR_Api kApi = CpuPlugin::api();

}  // namespace
}  // namespace cmeter::cpu

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &cmeter::cpu::kApi;
}
