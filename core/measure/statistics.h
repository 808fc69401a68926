// Summary statistics of one case's timing samples (MEASUREMENT.md, step 5): the median is the quoted
// figure, and the distribution-free 95% confidence interval of the median is what the stop rule
// (stop_rule.h) uses to decide that enough samples have been taken. Pure functions, no allocation
// beyond one sorted copy of the samples.
#pragma once

#include <cstdint>
#include <span>

#include "core/model/statistics.h"

namespace cmeter::measure {

// Ranks (1-based) of the order statistics bounding a confidence interval of the median of n samples.
struct MedianCiRanks {
  int64_t low = 0;
  int64_t high = 0;
  double coverage = 0;  // P(x(low) <= true median <= x(high)) for any continuous distribution
  bool exact = false;   // reaches the confidence; false: n too small, ranks are [1, n]
};

// The symmetric ranks (low, n + 1 - low) with the largest low whose coverage is >= confidence.
// Coverage = P(low <= B <= n - low), B ~ Binomial(n, 1/2), summed exactly in log space for
// n <= 100'000 and by the normal approximation (with continuity correction) beyond.
MedianCiRanks median_ci_ranks(int64_t n, double confidence = 0.95);

// Statistics of the samples (any order). Empty input (or only NaNs) gives all zeros with n = 0.
Statistics compute_statistics(std::span<const double> samples);

// (ci_high - ci_low) / 2 / |median|: the noise figure the stop rule compares with its target.
// +infinity when n == 0, or when median == 0 and the interval is not a single point.
double relative_ci_half_width(const Statistics& stats);

}  // namespace cmeter::measure
