// CPU package energy from RAPL through the Linux powercap sysfs tree (<root>/intel-rapl:N, one zone per
// package; AMD's RAPL appears there too). A package counter covers the whole socket (cores, caches,
// uncore), not one process or one device's share of it: readings are marked package-level with their
// source. The counter wraps at max_energy_range_uj; a reading difference handles one wrap.
// The root is /sys/class/powercap unless CMETER_POWERCAP_ROOT names another (tests plant a fake tree).
// Where powercap has no readable package zone (root-only on most systems), the same counters are read
// through perf events when the power PMU allows it (core/measure/rapl_perf.h); the source says which.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/measure/rapl_perf.h"

namespace cmeter::measure {

struct RaplZone {
  std::string name;  // "package-0"
  std::string dir;   // <root>/intel-rapl:0
  double max_energy_range_uj = 0;
};

class RaplReader {
 public:
  // Finds the package zones (intel-rapl:N, not their subzones) whose energy_uj is readable; without
  // any, opens the perf events under perf_root (RaplPerfReader::default_root()).
  explicit RaplReader(std::string powercap_root, std::string perf_root = RaplPerfReader::default_root(),
                      PerfCounterAccess perf_access = real_perf_counter_access());
  // The root from CMETER_POWERCAP_ROOT, else /sys/class/powercap.
  static std::string default_root();

  bool available() const { return !zones_.empty() || (perf_ && perf_->available()); }
  // Why not available ("no energy source: ..."), or "".
  const std::string& unavailable_reason() const { return reason_; }
  // "rapl powercap <root>: package-0 + package-1 (package-level: the whole socket)".
  std::string source() const;
  const std::vector<RaplZone>& zones() const { return zones_; }

  // Energy since the first call, in J, summed over the packages, each counter's wraps unwound (a
  // counter that moved backwards wrapped once); nullopt when a counter cannot be read.
  std::optional<double> energy_j();

 private:
  std::string root_;
  std::string reason_;
  std::vector<RaplZone> zones_;
  std::vector<double> last_uj_;
  std::vector<double> total_uj_;
  std::optional<RaplPerfReader> perf_;  // opened only where powercap gave no zone
};

}  // namespace cmeter::measure
