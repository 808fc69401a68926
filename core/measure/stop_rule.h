// When to stop warming up, how many calls make one sample, and when to stop sampling
// (MEASUREMENT.md, steps 2-4). Kept apart from the loop that drives devices so each rule is a pure
// function of what has been observed, testable without a device or a clock.
#pragma once

#include <cstdint>
#include <span>

#include "core/measure/statistics.h"

namespace cmeter::measure {

struct StopRule {
  int min_samples = 20;  // n >= min_samples ...
  double min_s = 2.0;    // ... and elapsed >= min_s ...
  double noise = 0.01;   // ... and relative half-width of the median's 95% CI <= noise: converged
  double max_s = 60.0;   // elapsed >= max_s without converging: capped (the result is noisy)
};

enum class StopDecision {
  kContinue,   // take another sample
  kConverged,  // all three conditions hold
  kCapped,     // hit max_s first: the caller marks the result noisy, never silently accepts it
};

const char* to_string(StopDecision decision);

// Converged wins over capped when both hold at the same call. elapsed_s is the sampling time so far.
StopDecision decide_stop(const StopRule& rule, std::span<const double> samples, double elapsed_s);
// The same from statistics already computed over the samples.
StopDecision decide_stop(const StopRule& rule, const Statistics& stats, double elapsed_s);

// Warmup is done when runs >= min_runs, elapsed_s >= min_s and the last two batch times agree
// within noise (|last - previous| <= noise * max(last, previous), both > 0) - or, whatever the
// batches do, once elapsed_s >= 5 * min_s + 1 s (a safety cap for devices that never settle).
bool warmup_done(int runs, double elapsed_s, double last_batch_s, double previous_batch_s, int min_runs,
                 double min_s, double noise);

// The smallest batch (>= 1 call) whose expected time batch * seconds_per_call is >= sample_min_s,
// capped at max_batch (at least 1). A call too fast to time (seconds_per_call <= 0) gets max_batch;
// a non-finite or NaN seconds_per_call, or sample_min_s <= 0, gets 1.
int64_t calibrate_batch(double seconds_per_call, double sample_min_s, int64_t max_batch);

}  // namespace cmeter::measure
