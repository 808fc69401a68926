// plugins/cuda/nvml.cpp - NVML through dlopen: the few calls the plugin needs, declared by hand from
// NVML's documented C API (nvml.h is not needed to build).
#include "nvml.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>

namespace cmeter::cuda {
namespace {

using nvmlReturn_t = int;  // NVML_SUCCESS = 0
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr int kClockGraphics = 0, kClockSm = 1, kClockMem = 2;  // nvmlClockType_t
constexpr int kTemperatureGpu = 0;                              // nvmlTemperatureSensors_t
struct Utilization {
  unsigned int gpu, memory;
};  // nvmlUtilization_t

}  // namespace

struct Nvml::Fns {
  nvmlReturn_t (*init)() = nullptr;  // nvmlInit_v2
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*driver_version)(char*, unsigned int) = nullptr;
  nvmlReturn_t (*by_uuid)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*by_pci)(const char*, nvmlDevice_t*) = nullptr;         // nvmlDeviceGetHandleByPciBusId_v2
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*) = nullptr;         // milliwatts
  nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long*) = nullptr;  // millijoules since driver load
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned int*) = nullptr;
  nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned int*) = nullptr;  // nvmlDeviceGetClockInfo, MHz
  nvmlReturn_t (*reasons)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, Utilization*) = nullptr;
  nvmlReturn_t (*power_limit)(nvmlDevice_t, unsigned int*) = nullptr;  // enforced, milliwatts
};

namespace {
template <class F>
void bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
}
}  // namespace

Nvml::Nvml() {
  lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib_ == nullptr) {
    const char* why = dlerror();
    status_ = std::string("NVML not loaded (no telemetry): ") + (why ? why : "libnvidia-ml.so.1 not found");
    return;
  }
  fns_ = new Fns();
  bind(lib_, fns_->init, "nvmlInit_v2");
  bind(lib_, fns_->shutdown, "nvmlShutdown");
  bind(lib_, fns_->error_string, "nvmlErrorString");
  bind(lib_, fns_->driver_version, "nvmlSystemGetDriverVersion");
  bind(lib_, fns_->by_uuid, "nvmlDeviceGetHandleByUUID");
  bind(lib_, fns_->by_pci, "nvmlDeviceGetHandleByPciBusId_v2");
  bind(lib_, fns_->power, "nvmlDeviceGetPowerUsage");
  bind(lib_, fns_->energy, "nvmlDeviceGetTotalEnergyConsumption");
  bind(lib_, fns_->temperature, "nvmlDeviceGetTemperature");
  bind(lib_, fns_->clock, "nvmlDeviceGetClockInfo");
  // Renamed "clocks event reasons" in CUDA 12.2's NVML; the old name stays exported.
  bind(lib_, fns_->reasons, "nvmlDeviceGetCurrentClocksEventReasons");
  if (fns_->reasons == nullptr) bind(lib_, fns_->reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
  bind(lib_, fns_->utilization, "nvmlDeviceGetUtilizationRates");
  bind(lib_, fns_->power_limit, "nvmlDeviceGetEnforcedPowerLimit");
  if (fns_->init == nullptr) {
    status_ = "NVML has no nvmlInit_v2 (no telemetry)";
    return;
  }
  const nvmlReturn_t st = fns_->init();
  if (st != kNvmlSuccess) {
    status_ = "nvmlInit_v2 failed (no telemetry): " +
              std::string(fns_->error_string ? fns_->error_string(st) : "error " + std::to_string(st));
    return;
  }
  init_ok_ = true;
  status_ = "NVML loaded";
}

Nvml::~Nvml() {
  if (init_ok_ && fns_->shutdown) fns_->shutdown();
  delete fns_;
  // lib_ stays loaded: NVML may keep threads, and unloading buys nothing.
}

std::string Nvml::driver_version() const {
  if (!init_ok_ || fns_->driver_version == nullptr) return {};
  char buf[96] = {};
  if (fns_->driver_version(buf, sizeof buf - 1) != kNvmlSuccess) return {};
  return buf;
}

void* Nvml::find_device(const std::string& uuid, const std::string& pci_bus_id) const {
  if (!init_ok_) return nullptr;
  nvmlDevice_t d = nullptr;
  if (fns_->by_uuid && !uuid.empty() && fns_->by_uuid(uuid.c_str(), &d) == kNvmlSuccess) return d;
  if (fns_->by_pci && !pci_bus_id.empty() && fns_->by_pci(pci_bus_id.c_str(), &d) == kNvmlSuccess) return d;
  return nullptr;
}

void Nvml::read(void* device, sdk::KeyValueList& out) const {
  out.clear();
  if (!init_ok_ || device == nullptr) return;
  unsigned int u = 0;
  unsigned long long ull = 0;
  if (fns_->power && fns_->power(device, &u) == kNvmlSuccess) out.set("power.w", u / 1000.0);
  if (fns_->energy && fns_->energy(device, &ull) == kNvmlSuccess)
    out.set("energy.j", static_cast<double>(ull) / 1000.0);
  if (fns_->temperature && fns_->temperature(device, kTemperatureGpu, &u) == kNvmlSuccess)
    out.set("temp.c", static_cast<double>(u));
  if (fns_->clock && fns_->clock(device, kClockSm, &u) == kNvmlSuccess)
    out.set("clock.core.mhz", static_cast<double>(u));
  else if (fns_->clock && fns_->clock(device, kClockGraphics, &u) == kNvmlSuccess)
    out.set("clock.core.mhz", static_cast<double>(u));
  if (fns_->clock && fns_->clock(device, kClockMem, &u) == kNvmlSuccess)
    out.set("clock.mem.mhz", static_cast<double>(u));
  Utilization util{};
  if (fns_->utilization && fns_->utilization(device, &util) == kNvmlSuccess)
    out.set("util.pct", static_cast<double>(util.gpu));
  if (fns_->reasons && fns_->reasons(device, &ull) == kNvmlSuccess)
    out.set("throttle.reasons", describe_throttle_reasons(ull));
}

double Nvml::power_limit_w(void* device) const {
  unsigned int mw = 0;
  if (!init_ok_ || device == nullptr || fns_->power_limit == nullptr ||
      fns_->power_limit(device, &mw) != kNvmlSuccess)
    return -1;
  return mw / 1000.0;
}

std::string Nvml::describe_throttle_reasons(unsigned long long mask) {
  // nvmlClocksEventReason* / nvmlClocksThrottleReason* bits (nvml.h).
  static const std::pair<unsigned long long, const char*> kBits[] = {
      {0x1ull, "gpu_idle"},
      {0x2ull, "applications_clocks_setting"},
      {0x4ull, "sw_power_cap"},
      {0x8ull, "hw_slowdown"},
      {0x10ull, "sync_boost"},
      {0x20ull, "sw_thermal_slowdown"},
      {0x40ull, "hw_thermal_slowdown"},
      {0x80ull, "hw_power_brake_slowdown"},
      {0x100ull, "display_clock_setting"},
  };
  std::string s;
  unsigned long long known = 0;
  for (const auto& [bit, name] : kBits) {
    known |= bit;
    if ((mask & bit) == 0) continue;
    if (!s.empty()) s.push_back(',');
    s.append(name);
  }
  if (mask & ~known) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%sother:0x%llx", s.empty() ? "" : ",", mask & ~known);
    s.append(buf);
  }
  if (s.empty()) s = "none";
  return s;
}

}  // namespace cmeter::cuda
