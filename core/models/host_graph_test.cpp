// host_gemm against the plain triple loop it replaces: the same sums in the same order, so the results
// are equal bit for bit, over transposes, odd sizes (a row and a column panel left over), batches with
// strides and offsets, and beta both zero (C never read: NaN there stays out) and not.
#include "core/models/host_graph.h"

#include <cmath>
#include <random>

#include <doctest/doctest.h>

namespace cmeter::models {
namespace {

struct Shape {
  int64_t m, n, k, batch;
  bool ta, tb;
  double alpha, beta;
};

TEST_CASE("host_gemm equals the plain triple loop bit for bit") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const Shape& s : {Shape{1, 1, 1, 1, false, false, 1, 0}, Shape{5, 9, 7, 1, false, false, 1.5, 0},
                         Shape{7, 17, 33, 3, true, false, 1, 1}, Shape{16, 8, 64, 2, false, true, -2, 0.5},
                         Shape{3, 23, 5, 4, true, true, 1, 0}, Shape{33, 41, 129, 1, false, false, 1, -1}}) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    CAPTURE(s.k);
    CAPTURE(s.ta);
    CAPTURE(s.tb);
    // Leading dimensions one larger than the minimum, strides with a gap, offsets of 2, 3 and 1.
    const int64_t lda = (s.ta ? s.k : s.m) + 1, ldb = (s.tb ? s.n : s.k) + 1, ldc = s.m + 1;
    const int64_t sa = lda * (s.ta ? s.m : s.k) + 3, sb = ldb * (s.tb ? s.k : s.n) + 2, sc = ldc * s.n + 1;
    std::vector<double> a(static_cast<size_t>(2 + sa * s.batch)), b(static_cast<size_t>(3 + sb * s.batch));
    std::vector<double> c(static_cast<size_t>(1 + sc * s.batch));
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    for (auto& v : c) v = s.beta != 0 ? u(rng) : NAN;
    std::vector<double> want = c;
    for (int64_t p = 0; p < s.batch; ++p)
      for (int64_t j = 0; j < s.n; ++j)
        for (int64_t i = 0; i < s.m; ++i) {
          double acc = 0;
          for (int64_t l = 0; l < s.k; ++l) {
            const double x = s.ta ? a[static_cast<size_t>(2 + p * sa + l + i * lda)]
                                  : a[static_cast<size_t>(2 + p * sa + i + l * lda)];
            const double y = s.tb ? b[static_cast<size_t>(3 + p * sb + j + l * ldb)]
                                  : b[static_cast<size_t>(3 + p * sb + l + j * ldb)];
            acc += x * y;
          }
          double& out = want[static_cast<size_t>(1 + p * sc + i + j * ldc)];
          out = s.alpha * acc + (s.beta != 0 ? s.beta * out : 0.0);
        }
    const KeyValues params = {{"m", s.m},
                              {"n", s.n},
                              {"k", s.k},
                              {"trans_a", s.ta},
                              {"trans_b", s.tb},
                              {"lda", lda},
                              {"ldb", ldb},
                              {"ldc", ldc},
                              {"batch", s.batch},
                              {"stride_a", sa},
                              {"stride_b", sb},
                              {"stride_c", sc},
                              {"offset_a", int64_t{2}},
                              {"offset_b", int64_t{3}},
                              {"offset_c", int64_t{1}},
                              {"alpha", s.alpha},
                              {"beta", s.beta}};
    REQUIRE(host_gemm(params, a, b, c));
    size_t differ = 0;
    for (size_t i = 0; i < c.size(); ++i)
      if (!(c[i] == want[i] || (std::isnan(c[i]) && std::isnan(want[i])))) ++differ;
    CHECK(differ == 0);
  }
}

}  // namespace
}  // namespace cmeter::models
