// The statistics of one case's timing samples as plain data: what a metric carries into the journal
// and the report. How they are computed (median CI ranks, percentiles) is core/measure/statistics.h.
#pragma once

#include <cstdint>

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

}  // namespace cmeter::measure
