// Tests for the stop, warmup and batch-calibration rules: every branch, a tight sequence that
// converges exactly at min_samples and a noisy one that runs into the cap.
#include "core/measure/stop_rule.h"

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace cmeter::measure {
namespace {

TEST_CASE("stop rule: a tight sequence converges exactly at min_samples") {
  const StopRule rule{.min_samples = 20, .min_s = 0.5, .noise = 0.01, .max_s = 10.0};
  std::vector<double> samples;
  for (int i = 0; i < 19; ++i) samples.push_back(1.0 + 0.001 * ((i * 7) % 5));  // within 0.4%
  CHECK(decide_stop(rule, samples, 1.0) == StopDecision::kContinue);            // n = 19 < 20
  samples.push_back(1.002);
  CHECK(decide_stop(rule, samples, 1.0) == StopDecision::kConverged);  // n = 20
  CHECK(decide_stop(rule, samples, 0.4) == StopDecision::kContinue);   // elapsed < min_s
  // Converged wins over capped when both hold.
  CHECK(decide_stop(rule, samples, 10.0) == StopDecision::kConverged);
}

TEST_CASE("stop rule: a noisy sequence caps") {
  const StopRule rule{.min_samples = 5, .min_s = 0.2, .noise = 0.03, .max_s = 2.0};
  std::vector<double> samples;
  double elapsed = 0.0;
  StopDecision decision = StopDecision::kContinue;
  for (int i = 0; decision == StopDecision::kContinue && i < 1000; ++i) {
    samples.push_back(i % 2 == 0 ? 1.0 : 2.0);  // bimodal: the median's CI never narrows
    elapsed += 0.01;
    decision = decide_stop(rule, samples, elapsed);
  }
  CHECK(decision == StopDecision::kCapped);
  CHECK(elapsed >= 2.0);
  CHECK(samples.size() >= 199);
}

TEST_CASE("stop rule: branches and edge cases") {
  const StopRule rule{.min_samples = 5, .min_s = 0.0, .noise = 0.05, .max_s = 1.0};
  std::vector<double> flat(5, 3.0);
  CHECK(decide_stop(rule, flat, 0.0) == StopDecision::kConverged);  // n = 5: CI = [min, max] = 0 wide
  std::vector<double> empty;
  CHECK(decide_stop(rule, empty, 0.5) == StopDecision::kContinue);
  CHECK(decide_stop(rule, empty, 1.0) == StopDecision::kCapped);
  std::vector<double> spread = {1.0, 1.2, 1.4, 1.6, 1.8};
  CHECK(decide_stop(rule, spread, 0.5) == StopDecision::kContinue);
  CHECK(decide_stop(rule, spread, 1.5) == StopDecision::kCapped);
  // The Statistics overload agrees.
  CHECK(decide_stop(rule, compute_statistics(flat), 0.0) == StopDecision::kConverged);
  CHECK(std::string_view(to_string(StopDecision::kCapped)) == "capped");
}

TEST_CASE("stop rule: warmup") {
  // min_runs 3, min_s 0.5, noise 2%: all three must hold...
  CHECK(warmup_done(3, 0.5, 1.00, 1.01, 3, 0.5, 0.02));
  CHECK_FALSE(warmup_done(2, 0.5, 1.00, 1.01, 3, 0.5, 0.02));  // too few runs
  CHECK_FALSE(warmup_done(3, 0.4, 1.00, 1.01, 3, 0.5, 0.02));  // too early
  CHECK_FALSE(warmup_done(3, 0.5, 1.00, 1.10, 3, 0.5, 0.02));  // batches disagree (clock ramp)
  CHECK_FALSE(warmup_done(3, 0.5, 1.00, 0.0, 3, 0.5, 0.02));   // no previous batch yet
  CHECK_FALSE(warmup_done(3, 0.5, std::numeric_limits<double>::quiet_NaN(), 1.0, 3, 0.5, 0.02));
  // ... unless the safety cap 5 * min_s + 1 s is reached, whatever the batches or run count.
  CHECK_FALSE(warmup_done(100, 3.49, 1.0, 2.0, 3, 0.5, 0.02));
  CHECK(warmup_done(1, 3.5, 1.0, 2.0, 3, 0.5, 0.02));
  CHECK(warmup_done(0, 1.0, 0.0, 0.0, 3, 0.0, 0.02));  // min_s = 0: the cap is 1 s
}

TEST_CASE("stop rule: batch calibration") {
  CHECK(calibrate_batch(1e-4, 1e-3, 1'000'000) == 10);  // exactly 10 calls, despite 10.000000000000002
  CHECK(calibrate_batch(3e-4, 1e-3, 1'000'000) == 4);   // 3 calls = 0.9 ms < 1 ms
  CHECK(calibrate_batch(2e-3, 1e-3, 1'000'000) == 1);   // one call is already long enough
  CHECK(calibrate_batch(1e-9, 1e-3, 1000) == 1000);     // capped
  CHECK(calibrate_batch(0.0, 1e-3, 500) == 500);        // too fast to time: the cap
  CHECK(calibrate_batch(1e-6, 0.0, 500) == 1);
  CHECK(calibrate_batch(1e-6, 1e-3, 0) == 1);  // cap at least 1
  CHECK(calibrate_batch(std::numeric_limits<double>::quiet_NaN(), 1e-3, 500) == 1);
  CHECK(calibrate_batch(1e-300, 1.0, INT64_MAX) == INT64_MAX);  // no overflow
  // Smallest batch whose expected time reaches the target, for many awkward ratios.
  for (int i = 1; i < 2000; ++i) {
    const double spc = 1e-6 * i / 7.0;
    const int64_t b = calibrate_batch(spc, 1e-3, 1'000'000'000);
    CHECK(static_cast<double>(b) * spc >= 1e-3);
    if (b > 1) CHECK(static_cast<double>(b - 1) * spc < 1e-3);
  }
}

}  // namespace
}  // namespace cmeter::measure
