// Summary statistics of one case's timing samples (MEASUREMENT.md, step 5): the median is the quoted
// figure, and the distribution-free 95% confidence interval of the median is what the stop rule
// (stop_rule.h) uses to decide that enough samples have been taken. Pure functions, no allocation
// beyond one sorted copy of the samples.
#pragma once

#include <cstdint>
#include <span>

namespace cmeter::measure {

struct Statistics {
  int64_t n = 0;          // samples used (NaN samples are skipped, see nan_count)
  int64_t nan_count = 0;  // NaN samples skipped (a timer bug; the caller may reject the case)
  double median = 0;      // the quoted figure (mean of the two middle values for even n)
  double mean = 0;
  double stdev = 0;  // sample standard deviation (n - 1 denominator); 0 for n < 2
  double cv = 0;     // stdev / mean; 0 when mean == 0
  double min = 0;
  double max = 0;
  double p5 = 0;   // percentiles by linear interpolation between order statistics,
  double p95 = 0;  // Hyndman & Fan type 7 (numpy's default, Excel PERCENTILE.INC)
  // 95% confidence interval of the median: [x(ci_low_rank), x(ci_high_rank)], 1-based order
  // statistics chosen by the binomial (order-statistic) method. ci_coverage is the exact coverage of
  // that interval (>= 0.95 when ci_exact; normal approximation for n > 100'000). For n < 6 no pair of ranks
  // reaches 95%: the interval is then [min, max], ci_exact is false and ci_coverage is what [min, max]
  // achieves (1 - 2^(1-n)).
  double ci_low = 0;
  double ci_high = 0;
  int64_t ci_low_rank = 0;
  int64_t ci_high_rank = 0;
  double ci_coverage = 0;
  bool ci_exact = false;
};

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
