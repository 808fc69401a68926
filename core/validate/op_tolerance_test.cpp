// Tests of the NMSE limits: the formulas by hand, and that they separate a correct f32 implementation
// (simulated here in float, rounded to the storage type) from a subtly wrong one by a wide margin.
#include "core/validate/op_tolerance.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/validate/half.h"
#include "core/validate/host_data.h"
#include "core/validate/op_reference.h"

namespace cmeter::validate::limits {
namespace {

TEST_CASE("op limits: the formulas") {
  CHECK(nmse_limit(1e-3) == doctest::Approx(4e-6));
  // rmsnorm f32, dim 4096: (4097 + 2) u / 2 + 32 u + 2 u + u.
  CHECK(rmsnorm_rel_error(DType::kF32, 4096) == doctest::Approx((4099.0 / 2 + 35) * 0x1p-24));
  // Low precision: the output's rounding dominates.
  CHECK(rmsnorm_rel_error(DType::kBF16, 64) == doctest::Approx(0x1p-8).epsilon(0.01));
  CHECK(rmsnorm_rel_error(DType::kF16, 64) > 0x1p-11);
  CHECK(swiglu_rel_error(DType::kF32) == doctest::Approx(37 * 0x1p-24));
  CHECK(eltwise_rel_error("cast", DType::kF16) == 0x1p-11);
  CHECK(eltwise_rel_error("scale", DType::kF32) == 3 * 0x1p-24);
  CHECK(eltwise_rel_error("add", DType::kBF16) == 0x1p-8 + 0x1p-24);
  // Grows with the sizes that add roundings.
  CHECK(rope_rel_error(DType::kF32, 4096, 1e4) > 100 * rope_rel_error(DType::kF32, 16, 1e4));
  CHECK(softmax_rel_error(DType::kF32, 1000, 1) > softmax_rel_error(DType::kF32, 10, 1));
  CHECK(softmax_rel_error(DType::kF32, 10, 120) > softmax_rel_error(DType::kF32, 10, 1));
  CHECK(attention_rel_error(DType::kF32, 100, 4, 1e-5) > attention_rel_error(DType::kF32, 10, 4, 1e-5));
}

// rope in float arithmetic (powf, sinf, cosf), rounded to `t`: what a correct device does.
std::vector<double> rope_float(const std::vector<double>& x, const std::vector<int32_t>& pos, int64_t rows,
                               int64_t heads, int64_t hd, double theta, DType t, int shift) {
  std::vector<double> y = x;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        const float freq =
            std::pow(static_cast<float>(theta), -2.0f * static_cast<float>(i) / static_cast<float>(hd));
        const float angle = static_cast<float>(pos[static_cast<size_t>(r)] + shift) * freq;
        const float c = std::cos(angle), s = std::sin(angle);
        const size_t ia = static_cast<size_t>((r * heads + h) * hd + i),
                     ib = ia + static_cast<size_t>(hd / 2);
        const float a = static_cast<float>(x[ia]), b = static_cast<float>(x[ib]);
        y[ia] = round_to(t, a * c - b * s);
        y[ib] = round_to(t, a * s + b * c);
      }
  return y;
}

TEST_CASE("op limits: a correct float rope passes, rope off by one position fails by far") {
  const int64_t rows = 64, heads = 2, hd = 64;
  const double theta = 10000;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
    auto rng = make_rng(7, "rope");
    std::vector<uint8_t> raw = random_elements(t, static_cast<size_t>(rows * heads * hd), rng);
    std::vector<double> x(static_cast<size_t>(rows * heads * hd));
    for (size_t i = 0; i < x.size(); ++i) x[i] = element_as_double(t, raw.data(), i);
    std::vector<int32_t> pos(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) pos[static_cast<size_t>(r)] = static_cast<int32_t>(r * 61 % 4096);
    std::vector<double> want = x;
    ref::rope(want.data(), pos.data(), rows, heads, hd, false, theta);
    const double limit = nmse_limit(rope_rel_error(t, 4096, theta));
    const auto good = rope_float(x, pos, rows, heads, hd, theta, t, 0);
    const auto off = rope_float(x, pos, rows, heads, hd, theta, t, 1);
    const double nmse_good = ref::nmse(good.data(), want.data(), want.size());
    const double nmse_off = ref::nmse(off.data(), want.data(), want.size());
    CAPTURE(to_string(t));
    CHECK(nmse_good < limit);
    CHECK(nmse_off > 20 * limit);  // bf16 at positions up to 4096: ~85x
  }
}

TEST_CASE("op limits: a correct float rmsnorm and softmax pass; a skipped weight or a lost max fail") {
  const int64_t rows = 8, dim = 1000;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
    auto rng = make_rng(9, "rmsnorm");
    std::vector<uint8_t> rx = random_elements(t, static_cast<size_t>(rows * dim), rng, -4, 4);
    std::vector<uint8_t> rw = random_elements(t, static_cast<size_t>(dim), rng, 0.5, 1.5);
    std::vector<double> x(static_cast<size_t>(rows * dim)), w(static_cast<size_t>(dim));
    for (size_t i = 0; i < x.size(); ++i) x[i] = element_as_double(t, rx.data(), i);
    for (size_t i = 0; i < w.size(); ++i) w[i] = element_as_double(t, rw.data(), i);
    std::vector<double> want(x.size()), good(x.size()), no_w(x.size());
    ref::rmsnorm(x.data(), w.data(), want.data(), rows, dim, 1e-5);
    for (int64_t r = 0; r < rows; ++r) {
      float ss = 0;
      for (int64_t i = 0; i < dim; ++i)
        ss += static_cast<float>(x[static_cast<size_t>(r * dim + i)]) *
              static_cast<float>(x[static_cast<size_t>(r * dim + i)]);
      const float inv = 1.0f / std::sqrt(ss / static_cast<float>(dim) + 1e-5f);
      for (int64_t i = 0; i < dim; ++i) {
        const size_t k = static_cast<size_t>(r * dim + i);
        good[k] = round_to(t, static_cast<float>(x[k]) * inv * static_cast<float>(w[static_cast<size_t>(i)]));
        no_w[k] = round_to(t, static_cast<float>(x[k]) * inv);
      }
    }
    const double limit = nmse_limit(rmsnorm_rel_error(t, dim));
    CAPTURE(to_string(t));
    CHECK(ref::nmse(good.data(), want.data(), want.size()) < limit);
    CHECK(ref::nmse(no_w.data(), want.data(), want.size()) > 100 * limit);
  }
  // softmax of a row of large values: exp without the max subtracted overflows in f32.
  std::vector<double> x = {100, 110, 120, 115}, want(4), naive(4);
  ref::softmax(x.data(), want.data(), 1, 4, 1.0, nullptr);
  float sum = 0;
  for (double v : x) sum += std::exp(static_cast<float>(v));
  for (size_t i = 0; i < 4; ++i) naive[i] = std::exp(static_cast<float>(x[i])) / sum;
  const double nmse_naive = ref::nmse(naive.data(), want.data(), 4);
  CHECK(!(nmse_naive < nmse_limit(softmax_rel_error(DType::kF32, 4, 120))));
}

}  // namespace
}  // namespace cmeter::validate::limits
