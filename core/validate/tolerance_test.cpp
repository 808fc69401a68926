// Tests for the GEMM tolerance (correct blocked f32 / f16-input / bf16-input / tf32 results pass
// with a wide margin; a missing term or transposed result fails), the validation summary, and the
// choice of matrix points to check.
#include "core/validate/tolerance.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/validate/half.h"

namespace cmeter::validate {
namespace {

// Uniform [-1, 1) with 24 random bits: exact in f32.
struct Lcg {
  uint64_t state;
  float uniform() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<double>(state >> 40) * 0x1p-23 - 1.0);
  }
};

// A (m x k) and B (k x n), row-major, with each value passed through `to_input`.
struct Problem {
  int64_t m, n, k;
  std::vector<float> a, b;
  double max_a = 0, max_b = 0;
  float at(int64_t i, int64_t l) const { return a[static_cast<size_t>(i * k + l)]; }
  float bt(int64_t l, int64_t j) const { return b[static_cast<size_t>(l * n + j)]; }
};

Problem make_problem(int64_t m, int64_t n, int64_t k, uint64_t seed,
                     const std::function<float(float)>& to_input) {
  Problem p{m, n, k, {}, {}};
  Lcg rng{seed};
  p.a.resize(static_cast<size_t>(m * k));
  p.b.resize(static_cast<size_t>(k * n));
  for (float& v : p.a) {
    v = to_input(rng.uniform());
    p.max_a = std::max(p.max_a, std::fabs(static_cast<double>(v)));
  }
  for (float& v : p.b) {
    v = to_input(rng.uniform());
    p.max_b = std::max(p.max_b, std::fabs(static_cast<double>(v)));
  }
  return p;
}

double reference(const Problem& p, int64_t i, int64_t j) {
  double s = 0;
  for (int64_t l = 0; l < p.k; ++l) s += static_cast<double>(p.at(i, l)) * static_cast<double>(p.bt(l, j));
  return s;
}

// What a blocked BLAS kernel does: FMA partial sums over blocks of 256, then the partials added.
// `operand` models what the hardware does to each input (tf32 rounding); `skip` drops one term.
float blocked_f32(const Problem& p, int64_t i, int64_t j, const std::function<float(float)>& operand,
                  int64_t skip = -1) {
  float acc = 0;
  for (int64_t l0 = 0; l0 < p.k; l0 += 256) {
    float partial = 0;
    for (int64_t l = l0; l < std::min(p.k, l0 + 256); ++l) {
      if (l != skip) partial = std::fma(operand(p.at(i, l)), operand(p.bt(l, j)), partial);
    }
    acc += partial;
  }
  return acc;
}

float identity(float x) {
  return x;
}
float to_f16(float x) {
  return f16_bits_to_f32(f32_to_f16_bits(x));
}
float to_bf16(float x) {
  return bf16_bits_to_f32(f32_to_bf16_bits(x));
}
float to_tf32(float x) {
  return static_cast<float>(round_to(DType::kTF32, x));
}
float truncate_tf32(float x) {  // what some tensor cores do: drop the 13 low mantissa bits
  return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0xffffe000u);
}

struct Outcome {
  ValidationSummary summary;
  double worst_ratio = 0;  // max |error| / tolerance
};

// Validates sampled elements of C; `device` gives the device's stored value of C[i, j].
Outcome validate(const Problem& p, DType input, DType compute, DType output,
                 const std::function<double(int64_t, int64_t)>& device) {
  Outcome out;
  for (auto [i, j] : sample_matrix_points(p.m, p.n, 128, 7)) {
    const double expected = reference(p, i, j);
    const double tol = gemm_abs_tolerance(input, compute, output, p.k, p.max_a, p.max_b, std::fabs(expected));
    const double got = device(i, j);
    out.worst_ratio = std::max(out.worst_ratio, std::fabs(got - expected) / tol);
    add(out.summary, fmt::format("C[{},{}] batch 0", i, j), expected, got, tol);
  }
  return out;
}

TEST_CASE("tolerance: a correct blocked f32 GEMM at k = 4096 passes with a wide margin") {
  const Problem p = make_problem(48, 48, 4096, 1, identity);
  auto r = validate(p, DType::kF32, DType::kF32, DType::kF32,
                    [&](int64_t i, int64_t j) { return blocked_f32(p, i, j, identity); });
  CHECK(r.summary.passed());
  CHECK(r.summary.points > 128);
  CHECK(r.worst_ratio < 0.01);  // > 100x margin
  // The tolerance is of the documented size: 3 * 2^-24 * 64 * 4096 ~ 0.047.
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 4096, 1, 1, 0) ==
        doctest::Approx(3.0 * 64 * 4096 * 0x1p-24).epsilon(1e-6));
}

TEST_CASE("tolerance: a missing term or a transposed result fails") {
  const Problem p = make_problem(48, 48, 4096, 2, identity);
  auto missing = validate(p, DType::kF32, DType::kF32, DType::kF32,
                          [&](int64_t i, int64_t j) { return blocked_f32(p, i, j, identity, p.k - 1); });
  CHECK_FALSE(missing.summary.passed());
  CHECK(missing.summary.failures > missing.summary.points / 2);  // ~80% of elements
  // A term whose product is large is caught in every element.
  auto missing_big = validate(p, DType::kF32, DType::kF32, DType::kF32, [&](int64_t i, int64_t j) {
    int64_t skip = 0;
    for (int64_t l = 0; l < p.k; ++l) {
      if (std::fabs(p.at(i, l) * p.bt(l, j)) > 0.25f) skip = l;
    }
    return blocked_f32(p, i, j, identity, skip);
  });
  CHECK(missing_big.summary.failures == missing_big.summary.points);
  // C transposed: every off-diagonal element is wrong by ~ sqrt(k) / 3.
  auto transposed = validate(p, DType::kF32, DType::kF32, DType::kF32,
                             [&](int64_t i, int64_t j) { return blocked_f32(p, j, i, identity); });
  CHECK_FALSE(transposed.summary.passed());
  CHECK(transposed.summary.failures >= transposed.summary.points - 48);
}

TEST_CASE("tolerance: f16 / bf16 inputs with f32 compute, rounded outputs, pass") {
  const Problem h = make_problem(40, 40, 4096, 3, to_f16);
  auto f16_out = validate(h, DType::kF16, DType::kF32, DType::kF16, [&](int64_t i, int64_t j) {
    return static_cast<double>(to_f16(blocked_f32(h, i, j, identity)));
  });
  CHECK(f16_out.summary.passed());
  // The f16 output rounding dominates: at most half an ulp, which is what the tolerance allows for it
  // (u * |c|, from u / 2 to u relative to the binade), so it passes by construction, not by margin.
  CHECK(f16_out.worst_ratio < 1.0);
  auto f32_out = validate(h, DType::kF16, DType::kF32, DType::kF32,
                          [&](int64_t i, int64_t j) { return blocked_f32(h, i, j, identity); });
  CHECK(f32_out.summary.passed());
  CHECK(f32_out.worst_ratio < 0.01);

  const Problem b = make_problem(40, 40, 4096, 4, to_bf16);
  auto bf16_out = validate(b, DType::kBF16, DType::kF32, DType::kBF16, [&](int64_t i, int64_t j) {
    return static_cast<double>(to_bf16(blocked_f32(b, i, j, identity)));
  });
  CHECK(bf16_out.summary.passed());
  CHECK(bf16_out.worst_ratio < 1.0);
  auto bf16_missing = validate(b, DType::kBF16, DType::kF32, DType::kF32,
                               [&](int64_t i, int64_t j) { return blocked_f32(b, i, j, identity, 5); });
  CHECK_FALSE(bf16_missing.summary.passed());
}

TEST_CASE("tolerance: tf32 (f32 inputs rounded or truncated on the device) passes") {
  const Problem p = make_problem(40, 40, 4096, 5, identity);
  auto rounded = validate(p, DType::kF32, DType::kTF32, DType::kF32,
                          [&](int64_t i, int64_t j) { return blocked_f32(p, i, j, to_tf32); });
  CHECK(rounded.summary.passed());
  CHECK(rounded.worst_ratio < 0.2);
  auto truncated = validate(p, DType::kF32, DType::kTF32, DType::kF32,
                            [&](int64_t i, int64_t j) { return blocked_f32(p, i, j, truncate_tf32); });
  CHECK(truncated.summary.passed());
  auto transposed = validate(p, DType::kF32, DType::kTF32, DType::kF32,
                             [&](int64_t i, int64_t j) { return blocked_f32(p, j, i, to_tf32); });
  CHECK_FALSE(transposed.summary.passed());
  // Inputs already in tf32 need no input-rounding term.
  CHECK(gemm_abs_tolerance(DType::kTF32, DType::kTF32, DType::kF32, 4096, 1, 1, 0) <
        gemm_abs_tolerance(DType::kF32, DType::kTF32, DType::kF32, 4096, 1, 1, 0));
}

TEST_CASE("tolerance: integer and degenerate cases") {
  CHECK(gemm_abs_tolerance(DType::kI8, DType::kI32, DType::kI32, 4096, 127, 127, 1e7) == 0.0);
  CHECK(gemm_abs_tolerance(DType::kI8, DType::kI32, DType::kF32, 4096, 127, 127, 1e7) ==
        doctest::Approx(1e7 * 0x1p-24));
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 0, 1, 1, 0) > 0.0);  // subnormal floor
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 4096, 0, 0, 0) < 1e-40);
  CHECK(gemm_abs_tolerance(DType::kF16, DType::kF32, DType::kF16, 1, 1, 1, 1) >= 0x1p-11);
  // Grows with k, dtype and magnitudes.
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 8192, 1, 1, 1) >
        gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 4096, 1, 1, 1));
  CHECK(gemm_abs_tolerance(DType::kF16, DType::kF16, DType::kF16, 64, 1, 1, 1) >
        gemm_abs_tolerance(DType::kF16, DType::kF32, DType::kF16, 64, 1, 1, 1));
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 64, 2, 3, 1) ==
        doctest::Approx(6 * gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 64, 1, 1, 0))
            .epsilon(1e-3));
  CHECK(gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kI8, 16, 1, 1, 5) > 0.5);
}

TEST_CASE("tolerance: validation summary") {
  ValidationSummary s;
  CHECK_FALSE(s.passed());  // nothing checked
  add(s, "C[0,0] batch 0", 1.0, 1.0005, 1e-3);
  add(s, "C[0,1] batch 0", 2.0, 2.0, 1e-3);
  CHECK(s.passed());
  CHECK(s.points == 2);
  CHECK(s.max_abs_error == doctest::Approx(0.0005));
  CHECK(s.max_rel_error == doctest::Approx(0.0005));
  CHECK(s.tolerance_at_max == 1e-3);
  add(s, "C[12,7] batch 0", 1.5, 1.25, 1e-3);
  add(s, "C[13,7] batch 0", 1.5, 1.0, 1e-3);
  CHECK_FALSE(s.passed());
  CHECK(s.failures == 2);
  CHECK(s.first_failure == "C[12,7] batch 0: got 1.25, expected 1.5, tolerance 0.001");
  CHECK(s.max_abs_error == 0.5);
  add(s, "C[0,2] batch 0", 0.0, 0.0, 0.0);  // expected 0: no relative error, exact match passes
  CHECK(s.failures == 2);

  ValidationSummary n;
  add(n, "nan", 1.0, std::numeric_limits<double>::quiet_NaN(), 1e300);
  add(n, "inf", std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), 1e300);
  CHECK(n.failures == 2);
  CHECK(std::isinf(n.max_abs_error));
  CHECK(n.first_failure.rfind("nan: got nan", 0) == 0);
  CHECK(passes(Check{1.0, 1.0, 0.0}));
  CHECK_FALSE(passes(Check{1.0, -std::numeric_limits<double>::infinity(), 1e308}));
}

TEST_CASE("tolerance: matrix sampling") {
  auto pts = sample_matrix_points(1000, 700, 1024, 42);
  std::set<std::pair<int64_t, int64_t>> unique(pts.begin(), pts.end());
  CHECK(unique.size() == pts.size());
  CHECK(std::is_sorted(pts.begin(), pts.end()));
  for (auto corner : {std::pair<int64_t, int64_t>{0, 0}, {0, 699}, {999, 0}, {999, 699}})
    CHECK(unique.count(corner) == 1);
  int top = 0, bottom = 0, left = 0, right = 0, interior = 0;
  for (auto [r, c] : pts) {
    REQUIRE(r >= 0);
    REQUIRE(r < 1000);
    REQUIRE(c >= 0);
    REQUIRE(c < 700);
    const bool corner = (r == 0 || r == 999) && (c == 0 || c == 699);
    if (corner) continue;
    if (r == 0)
      ++top;
    else if (r == 999)
      ++bottom;
    else if (c == 0)
      ++left;
    else if (c == 699)
      ++right;
    else
      ++interior;
  }
  CHECK(top == 32);
  CHECK(bottom == 32);
  CHECK(left == 32);
  CHECK(right == 32);
  CHECK(interior == 1024);
  CHECK(pts.size() == 4 + 4 * 32 + 1024);
  // Deterministic for a seed, different for another.
  CHECK(sample_matrix_points(1000, 700, 1024, 42) == pts);
  CHECK(sample_matrix_points(1000, 700, 1024, 43) != pts);

  // Small matrices: every element, once.
  auto all = sample_matrix_points(10, 10, 96, 1);
  CHECK(all.size() == 100);
  CHECK(all.front() == std::pair<int64_t, int64_t>{0, 0});
  CHECK(all.back() == std::pair<int64_t, int64_t>{9, 9});
  // Interior smaller than count: all of it, plus corners and edge points.
  auto dense = sample_matrix_points(12, 12, 120, 1);
  CHECK(dense.size() == 4 + 4 * 3 + 100);
  // No interior (a single row): points drawn from the whole row.
  auto row = sample_matrix_points(1, 5000, 100, 9);
  CHECK(row.size() >= 100);
  CHECK(row.front() == std::pair<int64_t, int64_t>{0, 0});
  CHECK(row.back() == std::pair<int64_t, int64_t>{0, 4999});
  CHECK(sample_matrix_points(1, 1, 10, 0).size() == 1);
  CHECK(sample_matrix_points(0, 10, 10, 0).empty());
  CHECK(sample_matrix_points(3, 3, 0, 0).size() >= 4);
}

}  // namespace
}  // namespace cmeter::validate
