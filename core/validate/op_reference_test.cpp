// Tests for the FP64 inference-op references, on values worked out by hand.
#include "core/validate/op_reference.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace cmeter::validate::ref {
namespace {

TEST_CASE("op reference: rmsnorm, swiglu, embedding, argmax by hand") {
  std::vector<double> x = {3, 4}, w = {1, 2}, y(2);
  rmsnorm(x.data(), w.data(), y.data(), 1, 2, 0);  // rms = sqrt(12.5)
  CHECK(y[0] == doctest::Approx(3 / std::sqrt(12.5)));
  CHECK(y[1] == doctest::Approx(8 / std::sqrt(12.5)));
  std::vector<double> gu = {0, 2, 5, 7}, s(2);  // g = {0, 2}, u = {5, 7}
  swiglu(gu.data(), s.data(), 1, 2);
  CHECK(s[0] == 0);
  CHECK(s[1] == doctest::Approx(2 / (1 + std::exp(-2.0)) * 7));
  std::vector<double> table = {1, 2, 3, 4, 5, 6}, e(6);
  std::vector<int32_t> ids = {2, -1, 0};
  embedding(table.data(), ids.data(), e.data(), 3, 3, 2);
  CHECK(e == std::vector<double>{5, 6, 0, 0, 1, 2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> logits = {1, 3, 3, nan, nan, nan};
  std::vector<int32_t> best(2);
  argmax(logits.data(), best.data(), 2, 3);
  CHECK(best == std::vector<int32_t>{1, 0});
}

TEST_CASE("op reference: rope rotates pairs by position, both layouts") {
  // head_dim 4: pair 0 at frequency 1, pair 1 at theta^-0.5 = 0.01 (theta 10000).
  std::vector<double> half = {1, 0, 0, 1}, inter = {1, 0, 0, 1};
  std::vector<int32_t> pos = {2};
  rope(half.data(), pos.data(), 1, 1, 4, false, 10000);  // pairs (x0, x2), (x1, x3)
  CHECK(half[0] == doctest::Approx(std::cos(2.0)));
  CHECK(half[2] == doctest::Approx(std::sin(2.0)));
  CHECK(half[1] == doctest::Approx(-std::sin(0.02)));
  CHECK(half[3] == doctest::Approx(std::cos(0.02)));
  rope(inter.data(), pos.data(), 1, 1, 4, true, 10000);  // pairs (x0, x1), (x2, x3)
  CHECK(inter[0] == doctest::Approx(std::cos(2.0)));
  CHECK(inter[1] == doctest::Approx(std::sin(2.0)));
  CHECK(inter[2] == doctest::Approx(-std::sin(0.02)));
  std::vector<double> same = {1, 2, 3, 4};
  std::vector<int32_t> none = {-1};
  rope(same.data(), none.data(), 1, 1, 4, false, 10000);
  CHECK(same == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("op reference: softmax with lengths, kv_append and attention agree with a hand computation") {
  std::vector<double> x = {0, std::log(3.0), 9, 1, 1, 1}, y(6);
  std::vector<int32_t> len = {2, 0};
  softmax(x.data(), y.data(), 2, 3, 1, len.data());
  CHECK(y[0] == doctest::Approx(0.25));
  CHECK(y[1] == doctest::Approx(0.75));
  CHECK(y[2] == 0);
  CHECK(y[3] == 0);
  // Cache: 2 slots, 1 KV head, capacity 2, head_dim 2. Two heads share the KV head (GQA).
  std::vector<double> k(8, 0), v(8, 0);
  std::vector<double> k_rows = {1, 0, 0, 1}, v_rows = {10, 0, 0, 20};
  std::vector<int32_t> slot = {1, 1}, pos = {0, 1};
  kv_append(k_rows.data(), k.data(), slot.data(), pos.data(), 2, 1, 2, 2, 2);
  kv_append(v_rows.data(), v.data(), slot.data(), pos.data(), 2, 1, 2, 2, 2);
  CHECK(k == std::vector<double>{0, 0, 0, 0, 1, 0, 0, 1});
  std::vector<double> q = {std::log(2.0), 0, 0, 0}, o(4);  // one row, heads 2
  std::vector<int32_t> qs = {1}, qp = {1};
  attention(q.data(), k.data(), v.data(), qs.data(), qp.data(), o.data(), 1, 2, 1, 2, 2, 2, 1.0);
  // head 0: scores (ln 2, 0) -> weights (2/3, 1/3): o = (20/3, 20/3); head 1: equal weights: (5, 10).
  CHECK(o[0] == doctest::Approx(20.0 / 3));
  CHECK(o[1] == doctest::Approx(20.0 / 3));
  CHECK(o[2] == doctest::Approx(5));
  CHECK(o[3] == doctest::Approx(10));
  std::vector<int32_t> bad = {5};
  attention(q.data(), k.data(), v.data(), bad.data(), qp.data(), o.data(), 1, 2, 1, 2, 2, 2, 1.0);
  CHECK(o == std::vector<double>{0, 0, 0, 0});
}

TEST_CASE("op reference: nmse") {
  std::vector<double> want = {1, 2}, got = {1, 3}, zero = {0, 0};
  CHECK(nmse(got.data(), want.data(), 2) == doctest::Approx(0.2));
  CHECK(nmse(zero.data(), zero.data(), 2) == 0);
  CHECK(std::isinf(nmse(want.data(), zero.data(), 2)));
}

}  // namespace
}  // namespace cmeter::validate::ref
