// Tests for the telemetry sampler: energy from the counter (exact whatever the reading rate), power
// from readings when there is no counter, throttling flags, failures that only lose telemetry.
#include "core/measure/telemetry.h"

#include <doctest/doctest.h>

#include <thread>

namespace cmeter::measure {
namespace {

// A device drawing `watts` since construction, with an energy counter, a clock and reasons.
struct FakeDevice {
  double watts = 250;
  bool counter = true;
  double clock_mhz = 1980;
  std::string reasons = "none";
  TelemetrySampler::Clock::time_point t0 = TelemetrySampler::Clock::now();
  int reads = 0;
  Result<KeyValues> read() {
    ++reads;
    const double s = std::chrono::duration<double>(TelemetrySampler::Clock::now() - t0).count();
    KeyValues kv{{"power.w", watts},
                 {"temp.c", 40.0 + reads},
                 {"clock.core.mhz", clock_mhz},
                 {"clock.mem.mhz", 2619.0},
                 {"throttle.reasons", reasons}};
    if (counter) kv["energy.j"] = 1000.0 + watts * s;
    return kv;
  }
};

void spin_for(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

}  // namespace

TEST_CASE("telemetry: energy and average power from the energy counter") {
  FakeDevice dev;
  TelemetrySampler sampler([&] { return dev.read(); }, 0.02);
  sampler.begin();
  for (int i = 0; i < 10; ++i) {
    spin_for(0.01);
    sampler.poll();
  }
  TelemetrySummary s = sampler.finish();
  REQUIRE(s.available);
  CHECK(s.samples >= 3);
  CHECK(s.samples < 12);  // rate-limited to one per 20 ms (plus begin and finish)
  CHECK(s.duration_s > 0.09);
  REQUIRE(s.energy_j.has_value());
  REQUIRE(s.power_avg_w.has_value());
  CHECK(*s.power_avg_w == doctest::Approx(250).epsilon(0.02));
  CHECK(*s.energy_j == doctest::Approx(250 * s.duration_s).epsilon(0.02));
  CHECK(s.power_source == "energy counter");
  CHECK(*s.power_max_w == 250);
  CHECK(*s.temp_max_c == 40 + dev.reads);
  CHECK_FALSE(s.throttled);
  CHECK(s.throttle_reasons.empty());
  auto j = s.to_json();
  CHECK(j["avg_power_w"].get<double>() == doctest::Approx(250).epsilon(0.02));
  CHECK(j["throttled"] == false);
}

TEST_CASE("telemetry: power readings when there is no energy counter; throttling is flagged") {
  FakeDevice dev;
  dev.counter = false;
  dev.reasons = "gpu_idle";
  TelemetrySampler sampler([&] { return dev.read(); }, 0.0);
  sampler.begin();
  dev.watts = 350;
  dev.clock_mhz = 1500;  // below 90% of 1980
  dev.reasons = "sw_power_cap,gpu_idle";
  sampler.poll();
  TelemetrySummary s = sampler.finish();
  REQUIRE(s.available);
  CHECK_FALSE(s.energy_j.has_value());
  CHECK(s.power_source == "power readings");
  CHECK(*s.power_avg_w == doctest::Approx((250.0 + 350 + 350) / 3));
  CHECK(*s.power_max_w == 350);
  CHECK(s.throttled);
  CHECK(s.throttle_reasons == std::set<std::string>{"sw_power_cap"});
  CHECK(*s.clock_core_min_mhz == 1500);
  CHECK(*s.clock_core_max_mhz == 1980);
}

TEST_CASE("telemetry: a failing read ends sampling and says why; nothing is invented") {
  int calls = 0;
  TelemetrySampler failing([&]() -> Result<KeyValues> {
    ++calls;
    return Error{ErrorCode::kUnavailable, "NVML not loaded"};
  });
  failing.begin();
  failing.poll();
  TelemetrySummary s = failing.finish();
  CHECK_FALSE(s.available);
  CHECK(s.unavailable_reason == "NVML not loaded");
  CHECK(calls == 1);
  CHECK(s.to_json()["reason"] == "NVML not loaded");
  CHECK_FALSE(s.to_json().contains("avg_power_w"));
  // Readings without power or energy: available, but no power figure.
  TelemetrySampler temp_only([] { return Result<KeyValues>(KeyValues{{"temp.c", 55.0}}); });
  temp_only.begin();
  TelemetrySummary t = temp_only.finish();
  CHECK(t.available);
  CHECK_FALSE(t.power_avg_w.has_value());
  CHECK(*t.temp_max_c == 55);
}

}  // namespace cmeter::measure
