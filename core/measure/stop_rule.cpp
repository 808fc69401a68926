// The stop, warmup and batch-size rules of the measurement loop. Each is a small pure function so
// the contract in MEASUREMENT.md can be read (and tested) here rather than inside the device loop.
#include "core/measure/stop_rule.h"

#include <algorithm>
#include <cmath>

namespace cmeter::measure {

const char* to_string(StopDecision decision) {
  switch (decision) {
    case StopDecision::kContinue:
      return "continue";
    case StopDecision::kConverged:
      return "converged";
    case StopDecision::kCapped:
      return "capped";
  }
  return "?";
}

StopDecision decide_stop(const StopRule& rule, const Statistics& stats, double elapsed_s) {
  const bool converged = stats.n > 0 && stats.n >= rule.min_samples && elapsed_s >= rule.min_s &&
                         relative_ci_half_width(stats) <= rule.noise;
  if (converged) return StopDecision::kConverged;
  if (elapsed_s >= rule.max_s) return StopDecision::kCapped;
  return StopDecision::kContinue;
}

StopDecision decide_stop(const StopRule& rule, std::span<const double> samples, double elapsed_s) {
  return decide_stop(rule, compute_statistics(samples), elapsed_s);
}

bool warmup_done(int runs, double elapsed_s, double last_batch_s, double previous_batch_s, int min_runs,
                 double min_s, double noise) {
  if (elapsed_s >= 5.0 * min_s + 1.0) return true;  // safety cap
  if (runs < min_runs || elapsed_s < min_s) return false;
  // Comparisons are false for NaN, so a missing or broken batch time never counts as agreement.
  if (!(last_batch_s > 0.0 && previous_batch_s > 0.0)) return false;
  return std::fabs(last_batch_s - previous_batch_s) <= noise * std::max(last_batch_s, previous_batch_s);
}

int64_t calibrate_batch(double seconds_per_call, double sample_min_s, int64_t max_batch) {
  const int64_t cap = std::max<int64_t>(1, max_batch);
  if (!(sample_min_s > 0.0) || std::isnan(seconds_per_call) || std::isinf(seconds_per_call)) return 1;
  if (seconds_per_call <= 0.0) return cap;
  const double ratio = sample_min_s / seconds_per_call;
  if (!(ratio < static_cast<double>(cap))) return cap;  // also catches ratio = inf
  auto batch = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ratio)));
  // The quotient is rounded, so its ceiling can be one off either way (0.001 / 0.0001 is
  // 10.000000000000002): settle on the product, which is what "expected time" means.
  if (batch > 1 && static_cast<double>(batch - 1) * seconds_per_call >= sample_min_s) --batch;
  if (static_cast<double>(batch) * seconds_per_call < sample_min_s) ++batch;
  return std::min(batch, cap);
}

}  // namespace cmeter::measure
