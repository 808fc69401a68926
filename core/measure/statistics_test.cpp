// Tests for the sample statistics against hand-computed values: binomial ranks of the median's
// confidence interval (n = 6, 10, 20, 100), type-7 percentiles, sample stdev, degenerate inputs.
#include "core/measure/statistics.h"

#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

namespace cmeter::measure {
namespace {

TEST_CASE("statistics: median CI ranks match the binomial tables") {
  // n = 10: P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024, so [x(2), x(9)].
  auto r10 = median_ci_ranks(10);
  CHECK(r10.exact);
  CHECK(r10.low == 2);
  CHECK(r10.high == 9);
  CHECK(r10.coverage == doctest::Approx(1.0 - 22.0 / 1024.0));
  // n = 20: P(B <= 5) = 21700/2^20 = 0.0207, P(B <= 6) = 0.0577, so [x(6), x(15)].
  auto r20 = median_ci_ranks(20);
  CHECK(r20.low == 6);
  CHECK(r20.high == 15);
  CHECK(r20.coverage == doctest::Approx(1.0 - 2.0 * 21700.0 / 1048576.0));
  // n = 100: P(B <= 39) = 0.0176, P(B <= 40) = 0.0284, so [x(40), x(61)].
  auto r100 = median_ci_ranks(100);
  CHECK(r100.low == 40);
  CHECK(r100.high == 61);
  CHECK(r100.coverage == doctest::Approx(0.9648).epsilon(1e-4));
  // n = 6 is the smallest n with a 95% interval: [min, max] covers 1 - 2/64.
  auto r6 = median_ci_ranks(6);
  CHECK(r6.exact);
  CHECK(r6.low == 1);
  CHECK(r6.high == 6);
  CHECK(r6.coverage == doctest::Approx(0.96875));
  // n = 5: even [min, max] covers only 1 - 2/32 = 93.75%.
  auto r5 = median_ci_ranks(5);
  CHECK_FALSE(r5.exact);
  CHECK(r5.low == 1);
  CHECK(r5.high == 5);
  CHECK(r5.coverage == doctest::Approx(0.9375));
  CHECK(median_ci_ranks(0).low == 0);
  CHECK(median_ci_ranks(1).coverage == 0.0);
}

TEST_CASE("statistics: exact and normal-approximation ranks agree around the switch") {
  for (int64_t n : {int64_t{100'000}, int64_t{100'001}, int64_t{1'000'000}}) {
    auto r = median_ci_ranks(n);
    const double expected = std::floor(static_cast<double>(n) / 2.0 + 0.5 - 1.959964 * std::sqrt(n) / 2.0);
    CHECK(r.exact);
    CHECK(std::fabs(static_cast<double>(r.low) - expected) <= 1.0);
    CHECK(r.high == n + 1 - r.low);
    CHECK(r.coverage >= 0.95);
    CHECK(r.coverage < 0.952);
  }
  // Every exact interval covers at least 95%, and moving one rank inwards would not.
  for (int64_t n = 6; n <= 300; ++n) {
    auto r = median_ci_ranks(n);
    REQUIRE(r.exact);
    CHECK(r.coverage >= 0.95);
    CHECK(r.low <= r.high);
  }
}

TEST_CASE("statistics: 1..20 shuffled") {
  std::vector<double> x = {7, 19, 3, 12, 1, 20, 15, 9, 4, 11, 18, 2, 6, 14, 10, 17, 5, 13, 8, 16};
  auto s = compute_statistics(x);
  CHECK(s.n == 20);
  CHECK(s.median == 10.5);
  CHECK(s.mean == 10.5);
  CHECK(s.stdev == doctest::Approx(std::sqrt(35.0)));  // sample stdev of 1..n = sqrt(n(n+1)/12)
  CHECK(s.cv == doctest::Approx(std::sqrt(35.0) / 10.5));
  CHECK(s.min == 1);
  CHECK(s.max == 20);
  CHECK(s.p5 == doctest::Approx(1.95));    // h = 19 * 0.05 = 0.95: x(1) + 0.95 (x(2) - x(1))
  CHECK(s.p95 == doctest::Approx(19.05));  // h = 18.05: x(19) + 0.05 (x(20) - x(19))
  CHECK(s.ci_low == 6);                    // x(6), 1-based
  CHECK(s.ci_high == 15);                  // x(15)
  CHECK(s.ci_exact);
  CHECK(relative_ci_half_width(s) == doctest::Approx((15.0 - 6.0) / 2.0 / 10.5));
}

TEST_CASE("statistics: sample stdev and odd n") {
  std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};
  auto s = compute_statistics(x);
  CHECK(s.mean == 5.0);
  CHECK(s.stdev == doctest::Approx(std::sqrt(32.0 / 7.0)));
  CHECK(s.median == 4.5);
  std::vector<double> odd = {3, 1, 2};
  auto o = compute_statistics(odd);
  CHECK(o.median == 2);
  CHECK(o.p5 == doctest::Approx(1.1));
  CHECK(o.p95 == doctest::Approx(2.9));
  CHECK_FALSE(o.ci_exact);  // n < 6: [min, max]
  CHECK(o.ci_low == 1);
  CHECK(o.ci_high == 3);
  CHECK(o.ci_coverage == doctest::Approx(0.75));
}

TEST_CASE("statistics: degenerate inputs") {
  auto e = compute_statistics({});
  CHECK(e.n == 0);
  CHECK(e.median == 0);
  CHECK(e.mean == 0);
  CHECK(e.stdev == 0);
  CHECK(e.ci_low == 0);
  CHECK(e.ci_high == 0);
  CHECK(std::isinf(relative_ci_half_width(e)));

  std::vector<double> one = {2.5};
  auto s1 = compute_statistics(one);
  CHECK(s1.n == 1);
  CHECK(s1.median == 2.5);
  CHECK(s1.stdev == 0);
  CHECK(s1.p5 == 2.5);
  CHECK(s1.p95 == 2.5);
  CHECK(relative_ci_half_width(s1) == 0.0);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> with_nan = {1.0, nan, 3.0};
  auto sn = compute_statistics(with_nan);
  CHECK(sn.n == 2);
  CHECK(sn.nan_count == 1);
  CHECK(sn.median == 2.0);

  std::vector<double> zeros(10, 0.0);
  CHECK(relative_ci_half_width(compute_statistics(zeros)) == 0.0);
  std::vector<double> around_zero = {-1, 1, -1, 1, 0, 0, -1, 1, -1, 1, 0};
  CHECK(std::isinf(relative_ci_half_width(compute_statistics(around_zero))));
}

}  // namespace
}  // namespace cmeter::measure
