// The tiled FP64 dot products against a plain triple loop: every tile edge (m and n around the 4 x 2
// tile and the 32 x 32 block), k below, at and around the 8-wide step, padded leading dimensions whose
// padding must stay untouched, float and double `a`, and accumulate. The sums differ from the plain
// loop's only by order, so the bound is a few FP64 ulps of the sum of |products|.
#include "core/validate/fp64_matmul.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

namespace cmeter::validate {
namespace {

template <typename TA>
void check_shape(int64_t m, int64_t n, int64_t k, bool accumulate, std::mt19937_64& rng) {
  const int64_t lda = k + 3, ldb = k + 1, ldc = m + 2;
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<TA> a(static_cast<size_t>(m * lda));
  std::vector<double> b(static_cast<size_t>(n * ldb)), c(static_cast<size_t>(n * ldc));
  for (auto& v : a) v = static_cast<TA>(u(rng));
  for (auto& v : b) v = u(rng);
  for (auto& v : c) v = u(rng);
  const std::vector<double> before = c;
  fp64_dot_products(a.data(), lda, b.data(), ldb, c.data(), ldc, m, n, k, accumulate);
  int64_t bad = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < ldc; ++i) {
      const size_t at = static_cast<size_t>(j * ldc + i);
      if (i >= m) {  // padding
        bad += c[at] != before[at];
        continue;
      }
      double want = accumulate ? before[at] : 0.0, mag = std::abs(want);
      for (int64_t l = 0; l < k; ++l) {
        const double p =
            static_cast<double>(a[static_cast<size_t>(i * lda + l)]) * b[static_cast<size_t>(j * ldb + l)];
        want += p;
        mag += std::abs(p);
      }
      bad += !(std::abs(c[at] - want) <= 1e-14 * mag);
    }
  INFO("m ", m, " n ", n, " k ", k, " accumulate ", accumulate, " a ", sizeof(TA) == 4 ? "float" : "double");
  CHECK(bad == 0);
}

TEST_CASE("fp64 dot products: every tile and block edge, k around the vector step, float and double a") {
  std::mt19937_64 rng(7);
  for (int64_t m : {1, 2, 3, 4, 5, 7, 33, 70})
    for (int64_t n : {1, 2, 3, 5, 34})
      for (int64_t k : {1, 7, 8, 9, 31, 100}) {
        check_shape<double>(m, n, k, false, rng);
        check_shape<float>(m, n, k, (m + n + k) % 2 == 0, rng);
      }
}

TEST_CASE("fp64 dot products: sums in FP64 (a float product would lose these terms)") {
  // 1 + 2^-40 - 1 per output: f32 arithmetic gives 0, FP64 gives 2^-40 exactly.
  const int64_t k = 24;
  std::vector<float> a(static_cast<size_t>(k), 1.0f);
  std::vector<double> b(static_cast<size_t>(k), 0.0), c(1, 5.0);
  b[0] = 1.0;
  b[9] = std::ldexp(1.0, -40);
  b[17] = -1.0;
  fp64_dot_products(a.data(), k, b.data(), k, c.data(), 1, 1, 1, k, false);
  CHECK(c[0] == std::ldexp(1.0, -40));
  // Zero k leaves a plain write at 0 and an accumulate unchanged.
  fp64_dot_products(a.data(), k, b.data(), k, c.data(), 1, 1, 1, 0, true);
  CHECK(c[0] == std::ldexp(1.0, -40));
  fp64_dot_products(a.data(), k, b.data(), k, c.data(), 1, 1, 1, 0, false);
  CHECK(c[0] == 0.0);
}

}  // namespace
}  // namespace cmeter::validate
