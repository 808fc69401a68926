// The counter-based generator: reproducible, random access (any element alone equals the same element
// of a sequential fill), and statistically uniform enough for weights (mean, variance, no repeats).
#include "core/models/counter_rng.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

namespace cmeter::models {
namespace {

TEST_CASE("counter rng: random access equals the sequential fill, and seeds/streams differ") {
  std::vector<float> seq(10000);
  for (uint64_t i = 0; i < seq.size(); ++i) seq[i] = counter_uniform(42, 7, i);
  for (uint64_t i : {9999ull, 0ull, 5000ull, 123ull}) CHECK(counter_uniform(42, 7, i) == seq[i]);
  int same_seed = 0, same_stream = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    same_seed += counter_uniform(43, 7, i) == seq[i];
    same_stream += counter_uniform(42, 8, i) == seq[i];
  }
  CHECK(same_seed < 3);
  CHECK(same_stream < 3);
}

TEST_CASE("counter rng: uniform on -1 to 1 (1 excluded): mean 0, variance 1/3, range, few repeats") {
  const int n = 200000;
  double sum = 0, sq = 0;
  float lo = 1, hi = -1;
  std::set<uint64_t> bits;
  for (int i = 0; i < n; ++i) {
    const float u = counter_uniform(1, 0, static_cast<uint64_t>(i));
    sum += u;
    sq += double(u) * u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    bits.insert(counter_bits(1, 0, static_cast<uint64_t>(i)));
  }
  CHECK(std::abs(sum / n) < 0.01);
  CHECK(sq / n == doctest::Approx(1.0 / 3).epsilon(0.01));
  CHECK(lo >= -1.0f);
  CHECK(hi < 1.0f);
  CHECK(lo < -0.999f);
  CHECK(hi > 0.999f);
  CHECK(bits.size() == static_cast<size_t>(n));
}

}  // namespace
}  // namespace cmeter::models
