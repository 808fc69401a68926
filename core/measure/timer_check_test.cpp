// Tests for the device-timer rules: honest timers pass, scaled and impossible ones are caught.
#include "core/measure/timer_check.h"

#include <doctest/doctest.h>

namespace cmeter::measure {
namespace {

TEST_CASE("timer check: an honest device timer passes, and the summary gives the ratio") {
  std::vector<double> host = {0.0101, 0.0102, 0.0100, 0.0103}, device = {0.0100, 0.0101, 0.0099, 0.0100};
  auto c = check_device_timer(device, host);
  CHECK_FALSE(c.fault);
  CHECK(c.long_samples == 4);
  CHECK(c.median_long_ratio == doctest::Approx(0.99).epsilon(0.01));
  CHECK(c.summary().find("median 0.99") != std::string::npos);
  // Short samples (launch-bound, host overhead dominates) may have any ratio below 1.
  CHECK_FALSE(check_device_timer({1e-6, 1e-6}, {1e-4, 1e-4}).fault);
}

TEST_CASE("timer check: more device time than passed, or a timer scaled down, is a fault") {
  auto more = check_device_timer({0.010, 0.025}, {0.0101, 0.0100});
  REQUIRE(more.fault);
  CHECK(more.fault->find("0.025 s for a sampled batch that the host clock saw take 0.01 s (sample 2)") !=
        std::string::npos);
  CHECK_FALSE(check_device_timer({0.01005}, {0.0100}).fault);  // within the clocks' granularity
  for (double scale : {0.1, 1e-9}) {
    std::vector<double> host(20, 0.01), device(20, 0.01 * scale);
    auto c = check_device_timer(device, host);
    REQUIRE(c.fault);
    CHECK(c.fault->find("far below 1") != std::string::npos);
  }
  CHECK_FALSE(check_device_timer({}, {}).fault);
}

TEST_CASE("timer check: a short-batch case is not judged on the few samples a preemption made long") {
  // 19 batches of 0.5 ms agree; one took 5 ms of host time (preempted) with 0.5 ms on the device.
  std::vector<double> host(19, 0.0005), device(19, 0.00049);
  host.push_back(0.005);
  device.push_back(0.0005);
  auto c = check_device_timer(device, host);
  CHECK(c.long_samples == 1);
  CHECK_FALSE(c.fault);
  // The same ratio on most samples is judged (a timer scaled by 0.1 on batches of 5 ms).
  std::vector<double> slow_host(6, 0.005), slow_device(6, 0.0005);
  CHECK(check_device_timer(slow_device, slow_host).fault);
}

TEST_CASE("timer check: short samples the rule are judged on their median against a lower bound") {
  // Samples of two calls, 0.4 ms of host time each (STREAM on a fast GPU): an honest timer with 25%
  // overhead passes, and the summary gives the medium-sample median.
  std::vector<double> host(20, 0.0004), device(20, 0.0003);
  auto honest = check_device_timer(device, host);
  CHECK_FALSE(honest.fault);
  CHECK(honest.long_samples == 0);
  CHECK(honest.medium_samples == 20);
  CHECK(honest.summary().find("median 0.750 over 20 samples >= 0.3 ms") != std::string::npos);
  // A timer scaled by 0.1 on the same samples is a fault; so is one where overhead would have to be
  // nine times the work. One preempted sample (ratio 0.05) among honest ones is not.
  std::vector<double> scaled(20, 0.00004);
  auto c = check_device_timer(scaled, host);
  REQUIRE(c.fault);
  CHECK(c.fault->find("median 0.1 of the host time") != std::string::npos);
  device[3] = 0.00002;
  CHECK_FALSE(check_device_timer(device, host).fault);
  // Samples below 0.3 ms are not judged at all (launch overhead may dominate them).
  std::vector<double> tiny_host(20, 0.0001), tiny_device(20, 0.00001);
  CHECK_FALSE(check_device_timer(tiny_device, tiny_host).fault);
}

}  // namespace
}  // namespace cmeter::measure
