// Telemetry during a measurement (MEASUREMENT.md step 8): power, energy, temperature, clocks and
// throttle reasons, where the plugin offers device_telemetry. Readings are taken by the measuring
// thread between timed batches (never inside one), at most every `interval_s`, so no plugin ever
// sees telemetry calls racing its stream calls and the timed work is untouched; the energy counter,
// read when sampling starts and ends, gives exact energy whatever the reading rate. The summary goes
// into the case result: average and peak power, energy, energy per call, efficiency per watt,
// temperature, clock range, and a throttling flag with the reasons seen.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/key_values.h"
#include "core/util/result.h"

namespace cmeter::measure {

struct TelemetrySummary {
  bool available = false;  // at least one reading was taken
  std::string unavailable_reason;
  int64_t samples = 0;
  double duration_s = 0;                    // host wall time from the first to the last reading
  std::optional<double> energy_j;           // energy counter difference over duration_s
  std::optional<double> power_avg_w;        // energy_j / duration_s, else the mean of power readings
  std::string power_source;                 // "energy counter" or "power readings"
  std::string energy_source;                // where the energy came from (plugin, RAPL package counter)
  std::optional<double> power_max_w;        // highest power reading
  std::optional<double> energy_per_call_j;  // power_avg_w x median time per call (set by the caller)
  std::optional<double> temp_max_c;
  std::optional<double> clock_core_min_mhz, clock_core_max_mhz;
  std::optional<double> clock_mem_min_mhz, clock_mem_max_mhz;
  std::set<std::string> throttle_reasons;  // as the plugin names them, idle/"none" left out
  bool throttled = false;  // a slowdown reason seen, or the core clock fell below 90% of its peak

  nlohmann::json to_json() const;
};

// Reason names (NVML's, as the CUDA plugin spells them) that only describe the state, not a slowdown.
bool is_benign_throttle_reason(const std::string& reason);

class TelemetrySampler {
 public:
  using ReadFn = std::function<Result<KeyValues>()>;
  using Clock = std::chrono::steady_clock;
  explicit TelemetrySampler(ReadFn read, double interval_s = 0.1);

  // First reading (start of the sampled phase).
  void begin();
  // A reading if `interval_s` has passed since the last one.
  void poll();
  // Last reading and the summary. The first failing read ends sampling (its error becomes the reason
  // when nothing was read).
  TelemetrySummary finish();

 private:
  void read_now();
  ReadFn read_;
  double interval_s_;
  bool failed_ = false;
  Clock::time_point last_;
  std::optional<Clock::time_point> first_time_, last_time_;
  std::optional<double> first_energy_j_, last_energy_j_;
  std::vector<double> power_w_;
  TelemetrySummary summary_;
};

}  // namespace cmeter::measure
