// Summary statistics and the order-statistic confidence interval of the median. The interval needs
// no assumption about the timing distribution (often skewed, multi-modal): the number of samples
// below the true median is Binomial(n, 1/2) whatever the distribution, so ranks can be chosen from
// the binomial alone.
#include "core/measure/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace cmeter::measure {
namespace {

// Largest n for which the binomial tail is summed exactly (O(n) logs, well under a millisecond).
constexpr int64_t kExactCiMaxN = 100'000;

// Standard normal CDF.
double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Inverse of normal_cdf by bisection (only used for n > kExactCiMaxN; 200 halvings is exact).
double normal_quantile(double p) {
  double lo = -40.0;
  double hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Type 7 percentile of sorted data: h = (n - 1) p, interpolate between x[floor h] and x[floor h + 1].
double percentile_sorted(const std::vector<double>& x, double p) {
  const double h = static_cast<double>(x.size() - 1) * p;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

}  // namespace

MedianCiRanks median_ci_ranks(int64_t n, double confidence) {
  MedianCiRanks r;
  if (n <= 0) return r;
  r.low = 1;
  r.high = n;
  // Coverage of [x(1), x(n)] is 1 - 2 * P(B = 0) = 1 - 2^(1-n).
  r.coverage = 1.0 - std::ldexp(1.0, static_cast<int>(std::max<int64_t>(1 - n, -2000)));
  if (!(confidence > 0.0 && confidence < 1.0)) return r;
  const double tail = (1.0 - confidence) / 2.0;  // allowed mass in each tail
  const int64_t max_low = (n + 1) / 2;           // symmetric ranks must not cross
  int64_t low = 0;                               // largest rank with P(B <= low - 1) <= tail
  double below = 0.0;                            // P(B <= low - 1)
  if (n <= kExactCiMaxN) {
    const double nd = static_cast<double>(n);
    double log_pmf = -nd * std::log(2.0);  // log P(B = 0)
    double cdf = 0.0;                      // P(B <= i - 1) at the top of iteration i
    for (int64_t i = 0; i < max_low; ++i) {
      const double next = cdf + std::exp(log_pmf);
      if (next > tail) break;
      cdf = next;
      low = i + 1;
      below = cdf;
      log_pmf += std::log((nd - static_cast<double>(i)) / static_cast<double>(i + 1));
    }
  } else {
    // P(B <= j) ~ Phi((j + 0.5 - n/2) / (sqrt(n)/2)); want the largest j = low - 1 with that <= tail.
    const double half = static_cast<double>(n) / 2.0;
    const double sd = std::sqrt(static_cast<double>(n)) / 2.0;
    const double z = normal_quantile(tail);  // negative
    low = std::clamp<int64_t>(static_cast<int64_t>(std::floor(half + z * sd + 0.5)), 0, max_low);
    below = normal_cdf((static_cast<double>(low - 1) + 0.5 - half) / sd);
  }
  if (low < 1) return r;  // n too small: keep [1, n], not exact
  r.low = low;
  r.high = n + 1 - low;
  r.coverage = 1.0 - 2.0 * below;
  r.exact = true;
  return r;
}

Statistics compute_statistics(std::span<const double> samples) {
  Statistics s;
  std::vector<double> x;
  x.reserve(samples.size());
  for (double v : samples) {
    if (std::isnan(v)) {
      ++s.nan_count;
    } else {
      x.push_back(v);
    }
  }
  if (x.empty()) return s;
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  s.n = static_cast<int64_t>(n);
  s.min = x.front();
  s.max = x.back();
  s.median = n % 2 == 1 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
  s.p5 = percentile_sorted(x, 0.05);
  s.p95 = percentile_sorted(x, 0.95);

  double sum = 0.0;
  for (double v : x) sum += v;
  s.mean = sum / static_cast<double>(n);
  if (n >= 2) {
    double ss = 0.0;  // two-pass: sum of squared deviations from the mean
    for (double v : x) ss += (v - s.mean) * (v - s.mean);
    s.stdev = std::sqrt(ss / static_cast<double>(n - 1));
  }
  s.cv = s.mean != 0.0 ? s.stdev / s.mean : 0.0;

  const MedianCiRanks ranks = median_ci_ranks(s.n);
  s.ci_low_rank = ranks.low;
  s.ci_high_rank = ranks.high;
  s.ci_low = x[static_cast<size_t>(ranks.low - 1)];
  s.ci_high = x[static_cast<size_t>(ranks.high - 1)];
  s.ci_coverage = ranks.coverage;
  s.ci_exact = ranks.exact;
  return s;
}

double relative_ci_half_width(const Statistics& stats) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (stats.n == 0) return kInf;
  const double half_width = (stats.ci_high - stats.ci_low) / 2.0;
  if (stats.median == 0.0) return half_width == 0.0 ? 0.0 : kInf;
  return half_width / std::fabs(stats.median);
}

}  // namespace cmeter::measure
