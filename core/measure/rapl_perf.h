// CPU package energy from RAPL through Linux perf events (the `power` PMU's energy-pkg event), the
// second way to read the counter RaplReader reads from powercap: since the 2020 RAPL side-channel fix
// powercap's energy_uj is root-only on most distributions, while perf's power events are open to a
// user with CAP_PERFMON or perf_event_paranoid <= 0. The PMU lists its type, the event's encoding and
// its scale (J per count) in sysfs, and one CPU per package in `cpumask`: one counter is opened per
// listed CPU, each counting its whole package (cores, caches, uncore), 64 bits with the hardware
// counter's 32-bit wraps unwound by the kernel.
// The sysfs root is /sys/bus/event_source/devices unless CMETER_PERF_EVENTS_ROOT names another (tests
// plant a fake tree); the counter itself is read through an injectable function (tests count in
// memory; this machine may have no power PMU).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace cmeter::measure {

// The power PMU's energy-pkg event as sysfs describes it.
struct PerfEnergyEvent {
  uint32_t type = 0;            // <root>/power/type
  uint64_t config = 0;          // from <root>/power/events/energy-pkg ("event=0x02")
  double joules_per_count = 0;  // <root>/power/events/energy-pkg.scale (unit "Joules")
  std::vector<int> cpus;        // <root>/power/cpumask: one CPU per package
};

// Reads the event's description; errors name the file that is missing or malformed.
Result<PerfEnergyEvent> read_perf_energy_event(const std::string& event_source_root);

// A "0,24" or "0-3,8" CPU list.
Result<std::vector<int>> parse_cpu_list(const std::string& text);

// The counter access: open one counter per CPU, read one (its running count). The real ones use
// perf_event_open(2) and read(2).
struct PerfCounterAccess {
  std::function<Result<int>(const PerfEnergyEvent& event, int cpu)> open;
  std::function<std::optional<uint64_t>(int handle)> read;
  std::function<void(int handle)> close;
};
PerfCounterAccess real_perf_counter_access();

class RaplPerfReader {
 public:
  explicit RaplPerfReader(std::string event_source_root,
                          PerfCounterAccess access = real_perf_counter_access());
  ~RaplPerfReader();
  RaplPerfReader(const RaplPerfReader&) = delete;
  RaplPerfReader& operator=(const RaplPerfReader&) = delete;
  RaplPerfReader(RaplPerfReader&& other) noexcept;
  RaplPerfReader& operator=(RaplPerfReader&&) = delete;

  // The root from CMETER_PERF_EVENTS_ROOT, else /sys/bus/event_source/devices.
  static std::string default_root();

  bool available() const { return !handles_.empty(); }
  // Why not available ("no energy source: ..."), or "".
  const std::string& unavailable_reason() const { return reason_; }
  // "rapl perf events power/energy-pkg on cpus 0, 24 (package-level: ...)".
  std::string source() const;
  // Energy since the first call, in J, summed over the packages; nullopt when a counter cannot be read.
  std::optional<double> energy_j();

 private:
  std::string root_;
  PerfCounterAccess access_;
  PerfEnergyEvent event_;
  std::string reason_;
  std::vector<int> handles_;
  std::vector<uint64_t> first_;
};

}  // namespace cmeter::measure
