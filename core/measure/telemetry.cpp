// Telemetry sampling and its summary.
#include "core/measure/telemetry.h"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace cmeter::measure {

bool is_benign_throttle_reason(const std::string& reason) {
  return reason == "none" || reason == "gpu_idle" || reason == "applications_clocks_setting" ||
         reason == "display_clock_setting" || reason.empty();
}

nlohmann::json TelemetrySummary::to_json() const {
  nlohmann::json j;
  j["available"] = available;
  if (!available) {
    j["reason"] = unavailable_reason;
    return j;
  }
  j["samples"] = samples;
  j["duration_s"] = duration_s;
  auto put = [&j](const char* key, const std::optional<double>& v) {
    if (v) j[key] = *v;
  };
  put("energy_j", energy_j);
  if (energy_j && !energy_source.empty()) j["energy_source"] = energy_source;
  put("avg_power_w", power_avg_w);
  if (power_avg_w) j["power_source"] = power_source;
  put("max_power_w", power_max_w);
  put("energy_per_call_j", energy_per_call_j);
  put("max_temp_c", temp_max_c);
  put("min_clock_core_mhz", clock_core_min_mhz);
  put("max_clock_core_mhz", clock_core_max_mhz);
  put("min_clock_mem_mhz", clock_mem_min_mhz);
  put("max_clock_mem_mhz", clock_mem_max_mhz);
  j["throttle_reasons"] =
      nlohmann::json(std::vector<std::string>(throttle_reasons.begin(), throttle_reasons.end()));
  j["throttled"] = throttled;
  return j;
}

TelemetrySampler::TelemetrySampler(ReadFn read, double interval_s)
    : read_(std::move(read)), interval_s_(interval_s) {}

void TelemetrySampler::begin() {
  read_now();
}

void TelemetrySampler::poll() {
  if (failed_ || std::chrono::duration<double>(Clock::now() - last_).count() < interval_s_) return;
  read_now();
}

void TelemetrySampler::read_now() {
  if (failed_) return;
  last_ = Clock::now();
  auto r = read_();
  if (!r) {
    failed_ = true;
    if (summary_.samples == 0) summary_.unavailable_reason = r.error().message;
    return;
  }
  const KeyValues& kv = *r;
  ++summary_.samples;
  if (!first_time_) first_time_ = last_;
  last_time_ = last_;
  auto widen = [](std::optional<double>& lo, std::optional<double>& hi, double v) {
    if (lo)
      lo = std::min(*lo, v);
    else
      lo = v;
    if (hi)
      hi = std::max(*hi, v);
    else
      hi = v;
  };
  if (auto e = get_number(kv, "energy.j")) {
    if (auto source = get_string(kv, "energy.source")) summary_.energy_source = *source;
    if (!first_energy_j_) first_energy_j_ = *e;
    last_energy_j_ = *e;
  }
  if (auto p = get_number(kv, "power.w")) {
    power_w_.push_back(*p);
    summary_.power_max_w = std::max(summary_.power_max_w.value_or(*p), *p);
  }
  if (auto t = get_number(kv, "temp.c")) summary_.temp_max_c = std::max(summary_.temp_max_c.value_or(*t), *t);
  if (auto c = get_number(kv, "clock.core.mhz"))
    widen(summary_.clock_core_min_mhz, summary_.clock_core_max_mhz, *c);
  if (auto c = get_number(kv, "clock.mem.mhz"))
    widen(summary_.clock_mem_min_mhz, summary_.clock_mem_max_mhz, *c);
  if (auto reasons = get_string(kv, "throttle.reasons")) {
    std::stringstream ss(*reasons);
    std::string one;
    while (std::getline(ss, one, ','))
      if (!is_benign_throttle_reason(one)) summary_.throttle_reasons.insert(one);
  }
}

TelemetrySummary TelemetrySampler::finish() {
  read_now();
  TelemetrySummary s = summary_;
  s.available = s.samples > 0;
  if (!s.available) {
    if (s.unavailable_reason.empty()) s.unavailable_reason = "no readings";
    return s;
  }
  s.duration_s = std::chrono::duration<double>(*last_time_ - *first_time_).count();
  if (first_energy_j_ && last_energy_j_ && *last_energy_j_ >= *first_energy_j_ && s.duration_s > 0) {
    s.energy_j = *last_energy_j_ - *first_energy_j_;
    // A counter that has not moved over a short phase (coarse update) says nothing about power.
    if (*s.energy_j > 0) {
      s.power_avg_w = *s.energy_j / s.duration_s;
      s.power_source = "energy counter";
    }
  }
  if (!s.power_avg_w && !power_w_.empty()) {
    s.power_avg_w =
        std::accumulate(power_w_.begin(), power_w_.end(), 0.0) / static_cast<double>(power_w_.size());
    s.power_source = "power readings";
  }
  s.throttled = !s.throttle_reasons.empty() || (s.clock_core_min_mhz && s.clock_core_max_mhz &&
                                                *s.clock_core_min_mhz < 0.9 * *s.clock_core_max_mhz);
  return s;
}

}  // namespace cmeter::measure
