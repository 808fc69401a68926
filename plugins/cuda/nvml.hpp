// plugins/cuda/nvml.hpp - NVIDIA Management Library, loaded at run time for telemetry.
//
// Why this file exists: power, energy, temperature, clocks and throttle reasons come from NVML, which
// ships with the driver (libnvidia-ml.so.1), not the toolkit. Loading it with dlopen and a handful of
// hand-declared entry points keeps the plugin free of a link-time dependency: without NVML (or with
// an NVML that lacks a call) only the telemetry it would have given is missing.
#ifndef CMETER_PLUGINS_CUDA_NVML_HPP_
#define CMETER_PLUGINS_CUDA_NVML_HPP_

#include <cmeter/plugin_sdk.hpp>

#include <string>

namespace cmeter::cuda {

class Nvml {
 public:
  // Loads and initialises NVML; on failure `available()` is false and `status()` says why.
  Nvml();
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  bool available() const { return init_ok_; }
  const std::string& status() const { return status_; }
  std::string driver_version() const;

  // The NVML device for a CUDA device, by UUID ("GPU-...") and then PCI bus id; nullptr if not found.
  void* find_device(const std::string& uuid, const std::string& pci_bus_id) const;
  // Current readings (power.w, energy.j, temp.c, clock.core.mhz, clock.mem.mhz, util.pct,
  // throttle.reasons); each only when NVML gives it.
  void read(void* device, sdk::KeyValueList& out) const;
  // Enforced power limit in watts, or a negative value.
  double power_limit_w(void* device) const;

  // "sw_power_cap,hw_thermal_slowdown" for a throttle/clock-event reason mask; "none" for 0.
  static std::string describe_throttle_reasons(unsigned long long mask);

 private:
  struct Fns;
  void* lib_ = nullptr;
  Fns* fns_ = nullptr;
  bool init_ok_ = false;
  std::string status_;
};

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_NVML_HPP_
