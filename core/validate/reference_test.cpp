// Tests of the host references: gemm.v1 against hand-computed matrices in every layout (transposes,
// padded leading dimensions, batch strides), its tolerance (alpha scales the summation term only, a
// correctly rounded result passes, a missing term fails), fma_peak.v1 simulated in the device's
// arithmetic, and stream.v1's closed forms.
#include "core/validate/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "core/validate/half.h"
#include "core/validate/host_data.h"

namespace cmeter::validate {
namespace {

const uint8_t* bytes(const std::vector<double>& v) {
  return reinterpret_cast<const uint8_t*>(v.data());
}

// Stores the m x n matrix `rows` (row-major as written) column-major with leading dimension ld at
// offset `at` of `out`; transposed when `trans` (then it stores the n x m transpose).
void store(std::vector<double>& out, size_t at, const std::vector<std::vector<double>>& rows, int64_t ld,
           bool trans) {
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j)
      out[at + (trans ? j + i * static_cast<size_t>(ld) : i + j * static_cast<size_t>(ld))] = rows[i][j];
}

const std::vector<std::vector<double>> kA = {{1, 2, 3}, {4, 5, 6}};     // 2 x 3
const std::vector<std::vector<double>> kB = {{1, -1}, {0, 2}, {3, 1}};  // 3 x 2
// A B = {{10, 6}, {22, 12}}

TEST_CASE("gemm reference: alpha A B + beta C0, tight layout") {
  GemmProblem p{DType::kF64, DType::kF64, DType::kF64, 2, 2, 3};
  p.alpha = 2;
  p.beta = 0.5;
  set_tight_layout(p);
  CHECK(p.lda == 2);
  CHECK(p.ldb == 3);
  CHECK(p.ldc == 2);
  const auto counts = gemm_element_counts(p);
  CHECK(counts.a == 6);
  CHECK(counts.b == 6);
  CHECK(counts.c == 4);
  std::vector<double> a(6), b(6), c0 = {4, 4, 4, 4}, out = {22, 46, 14, 26};
  store(a, 0, kA, 2, false);
  store(b, 0, kB, 3, false);
  const GemmOperands in{bytes(a), bytes(b), bytes(c0)};
  const double expected[2][2] = {{22, 14}, {46, 26}};
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 2; ++j) {
      const Check c = gemm_element_check(p, in, bytes(out), 0, i, j);
      CHECK(c.expected == expected[i][j]);
      CHECK(c.got == expected[i][j]);
      CHECK(passes(c));
    }
  }
  out[1] = 47;  // C[1,0]
  ValidationSummary s;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) add_gemm_element(s, p, in, bytes(out), 0, i, j);
  CHECK(s.points == 4);
  CHECK(s.failures == 1);
  CHECK(s.first_failure.rfind("C[1,0] batch 0: got 47, expected 46", 0) == 0);
}

TEST_CASE("gemm reference: transposes, padded leading dimensions and batch strides") {
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      CAPTURE(trans_a);
      CAPTURE(trans_b);
      GemmProblem p{DType::kF64, DType::kF64, DType::kF64, 2, 2, 3, trans_a, trans_b};
      p.batch = 2;
      p.lda = (trans_a ? 3 : 2) + 1;
      p.ldb = (trans_b ? 2 : 3) + 2;
      p.ldc = 2 + 3;
      p.stride_a = p.lda * (trans_a ? 2 : 3) + 4;
      p.stride_b = p.ldb * (trans_b ? 3 : 2) + 1;
      p.stride_c = p.ldc * 2 + 2;
      const auto counts = gemm_element_counts(p);
      CHECK(counts.a == static_cast<size_t>(p.stride_a + p.lda * (trans_a ? 2 : 3)));
      CHECK(counts.c == static_cast<size_t>(p.stride_c + p.ldc * 2));
      std::vector<double> a(counts.a, 99), b(counts.b, 99), c0(counts.c, 0), out(counts.c, 0);
      // Batch 0: A B; batch 1: (2 A) B. Padding holds 99, which must never be read.
      std::vector<std::vector<double>> a2 = kA;
      for (auto& row : a2)
        for (double& v : row) v *= 2;
      store(a, 0, kA, p.lda, trans_a);
      store(a, static_cast<size_t>(p.stride_a), a2, p.lda, trans_a);
      store(b, 0, kB, p.ldb, trans_b);
      store(b, static_cast<size_t>(p.stride_b), kB, p.ldb, trans_b);
      const GemmOperands in{bytes(a), bytes(b), bytes(c0)};
      CHECK(gemm_c_index(p, 1, 1, 1) == static_cast<size_t>(p.stride_c + 1 + p.ldc));
      CHECK(gemm_element_check(p, in, bytes(out), 0, 0, 0).expected == 10);
      CHECK(gemm_element_check(p, in, bytes(out), 0, 1, 1).expected == 12);
      CHECK(gemm_element_check(p, in, bytes(out), 1, 1, 0).expected == 44);
      CHECK(gemm_element_check(p, in, bytes(out), 1, 0, 1).expected == 12);
    }
  }
}

TEST_CASE("gemm tolerance: alpha scales the summation bound, not the output rounding") {
  GemmProblem p{DType::kF32, DType::kF32, DType::kF32, 64, 64, 4096};
  const double at_1 = gemm_element_tolerance(p, 1, 1, 3.0, 0.0);
  CHECK(at_1 == gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 4096, 1, 1, 3.0));
  p.alpha = -2;
  CHECK(gemm_element_tolerance(p, 1, 1, 3.0, 0.0) ==
        gemm_abs_tolerance(DType::kF32, DType::kF32, DType::kF32, 4096, 2, 1, 3.0));
  p.alpha = 1;
  p.beta = 0.5;
  CHECK(gemm_element_tolerance(p, 1, 1, 3.0, 8.0) == at_1 + 4 * epsilon(DType::kF32) * 4.0);
  // Integer GEMM is exact.
  GemmProblem ints{DType::kI8, DType::kI32, DType::kI32, 8, 8, 1000};
  ints.beta = 1;
  CHECK(gemm_element_tolerance(ints, 127, 127, 1e6, 100) == 0);
}

TEST_CASE("gemm tolerance: a correctly rounded f16 result with alpha 0.5 passes") {
  // 0.5 (1 + 2^-10) (1.5) = 0.75 + 2^-11 + 2^-12: a tie in f16, stored as 0.75 + 2^-10 (error 2^-12).
  GemmProblem p{DType::kF16, DType::kF32, DType::kF16, 1, 1, 1};
  p.alpha = 0.5;
  set_tight_layout(p);
  const uint16_t a = f32_to_f16_bits(1.0f + 0x1p-10f), b = f32_to_f16_bits(1.5f), c0 = 0;
  const uint16_t out = f32_to_f16_bits(0.75f + 0x1p-11f + 0x1p-12f);
  REQUIRE(f16_bits_to_f32(out) == 0.75f + 0x1p-10f);
  GemmOperands in{reinterpret_cast<const uint8_t*>(&a), reinterpret_cast<const uint8_t*>(&b),
                  reinterpret_cast<const uint8_t*>(&c0), 1.5, 1.5};
  const Check c = gemm_element_check(p, in, reinterpret_cast<const uint8_t*>(&out), 0, 0, 0);
  CHECK(c.expected == 0.75 + 0x1p-11 + 0x1p-12);
  CHECK(std::fabs(c.got - c.expected) == 0x1p-12);
  CHECK(passes(c));
}

TEST_CASE("gemm reference: an f32 kernel passes, the same kernel missing one term fails") {
  GemmProblem p{DType::kF32, DType::kF32, DType::kF32, 17, 19, 23};
  set_tight_layout(p);
  const auto counts = gemm_element_counts(p);
  auto rng = make_rng(5, "kernel");
  const auto a = random_elements(DType::kF32, counts.a, rng), b = random_elements(DType::kF32, counts.b, rng),
             c0 = random_elements(DType::kF32, counts.c, rng);
  // A device kernel: f32 accumulation, summed backwards (another order than the reference's).
  auto kernel = [&](int64_t skip_q) {
    std::vector<float> c(counts.c);
    for (int64_t j = 0; j < p.n; ++j) {
      for (int64_t i = 0; i < p.m; ++i) {
        float acc = 0;
        for (int64_t q = p.k - 1; q >= 0; --q)
          if (q != skip_q)
            acc += static_cast<float>(
                element_as_double(DType::kF32, a.data(), static_cast<size_t>(i + q * p.m)) *
                element_as_double(DType::kF32, b.data(), static_cast<size_t>(q + j * p.k)));
        c[static_cast<size_t>(i + j * p.m)] = acc;
      }
    }
    return c;
  };
  const GemmOperands in{a.data(), b.data(), c0.data()};
  auto summarise = [&](const std::vector<float>& c) {
    ValidationSummary s;
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t i = 0; i < p.m; ++i)
        add_gemm_element(s, p, in, reinterpret_cast<const uint8_t*>(c.data()), 0, i, j);
    return s;
  };
  const ValidationSummary good = summarise(kernel(-1));
  CHECK(good.passed());
  CHECK(good.points == 17 * 19);
  const ValidationSummary bad = summarise(kernel(11));
  CHECK_FALSE(bad.passed());
  CHECK(bad.failures > 17 * 19 / 2);
}

TEST_CASE("fma_peak reference: simulated in the device's arithmetic") {
  // f64: every lane adds iters * b exactly: lanes 1 and 1.5, plus 4 * 0.25 each.
  CHECK(fma_peak_item(DType::kF64, 2, 4, 1.0, 0.25, 1.0, 0.5) == 4.5);
  // f16 stagnates at 2048 (2049 ties to even), f32 at 1 + 2^-30 -> 1; f64 does not.
  CHECK(fma_peak_item(DType::kF16, 1, 10, 1.0, 1.0, 2048, 0) == 2048);
  CHECK(fma_peak_item(DType::kF64, 1, 10, 1.0, 1.0, 2048, 0) == 2058);
  CHECK(fma_peak_item(DType::kF32, 1, 10, 1.0, 0x1p-30, 1.0, 0) == 1.0);
  CHECK(fma_peak_item(DType::kF64, 1, 10, 1.0, 0x1p-30, 1.0, 0) == 1.0 + 10 * 0x1p-30);
  // bf16: 1 + 2^-8 is a tie, to even (1).
  CHECK(fma_peak_item(DType::kBF16, 1, 3, 1.0, 0x1p-8, 1.0, 0) == 1.0);
  // x = 0.5 x + 1 converges to 2 from x0 = 0: 1, 1.5, 1.75.
  CHECK(fma_peak_item(DType::kF32, 1, 3, 0.5, 1.0, 0.0, 0) == 1.75);
  CHECK(fma_peak_tolerance(8, 100.0) == 9 * 0x1p-24 * 100.0 + 1e-30);
  CHECK(fma_peak_tolerance(1, 0.0) > 0);
  // The item offset shifts every lane's start.
  CHECK(fma_peak_item(DType::kF64, 2, 4, 1.0, 0.25, 1.0, 0.5, 0.125) == 4.75);
}

TEST_CASE("fma_peak default chain: items apart, exact starts, no closed form, no overflow") {
  for (DType t : {DType::kF16, DType::kBF16, DType::kF32, DType::kF64}) {
    for (int64_t lanes : {1, 5, 8, 32}) {
      const std::string dtype_name(to_string(t));
      CAPTURE(dtype_name);
      CAPTURE(lanes);
      const FmaPeakChain c = fma_peak_default_chain(t, lanes, 2048);
      CHECK(c.a > 1);
      CHECK(round_to(t, c.a) == c.a);
      CHECK(round_to(t, c.b) == c.b);
      CHECK(std::isfinite(c.grown_bound));
      CHECK(c.item_period > 1);
      // Lanes' start ranges do not overlap: a period of items fits between two lanes.
      CHECK(static_cast<double>(c.item_period) * c.item_dx <= c.dx);
      CHECK(c.x0 + static_cast<double>(lanes) * c.dx <= 2);
      // Start values of the period (all of it for f16/bf16, its two ends for f32/f64), in every lane,
      // exact in f32 and different from all others.
      std::vector<int64_t> items;
      for (int64_t i = 0; i < c.item_period; ++i)
        if (c.item_period <= 4096 || i < 2048 || i >= c.item_period - 2048) items.push_back(i);
      std::vector<double> starts;
      for (int64_t i : items)
        for (int64_t l = 0; l < lanes; ++l) {
          const double x = c.x0 + static_cast<double>(l) * c.dx + fma_peak_item_offset(c, i);
          REQUIRE(static_cast<double>(static_cast<float>(x)) == x);
          REQUIRE(round_to(t, x) == x);
          starts.push_back(x);
        }
      std::sort(starts.begin(), starts.end());
      CHECK(std::adjacent_find(starts.begin(), starts.end()) == starts.end());
      CHECK(fma_peak_item_offset(c, c.item_period) == 0);
    }
  }
  // The chain's output stays below its bound, and f32's differs from the closed form of its rounds.
  const FmaPeakChain c = fma_peak_default_chain(DType::kF32, 8, 2048);
  int closed_form_off = 0;
  for (int64_t item : {0, 1, 77, 4095, 100000, 1000003}) {
    const double offset = fma_peak_item_offset(c, item);
    const double got = fma_peak_item(DType::kF32, 8, 2048, c.a, c.b, c.x0, c.dx, offset);
    CHECK(got < 8 * c.grown_bound);
    const double an = std::pow(c.a, 2048.0);
    double closed = 0;
    for (int l = 0; l < 8; ++l) closed += (c.x0 + l * c.dx + offset) * an + c.b * (an - 1) / (c.a - 1);
    if (std::fabs(closed - got) > fma_peak_tolerance(8, got)) ++closed_form_off;
  }
  CHECK(closed_form_off > 0);
  // f16 with very many rounds would overflow: the bound says so (the workload then runs a = 1).
  CHECK_FALSE(std::isfinite(fma_peak_default_chain(DType::kF16, 8, 100000).grown_bound));
}

TEST_CASE("stream reference: closed forms, output arrays, failures labelled") {
  CHECK(stream_output_array("copy") == 2);
  CHECK(stream_output_array("scale") == 1);
  CHECK(stream_output_array("add") == 2);
  CHECK(stream_output_array("triad") == 0);
  const std::vector<double> a = {1, 2, 3, 4, 5}, b = {0.5, 0.5, 0.5, 0.5, 0.5}, c = {2, 4, 6, 8, 10};
  const uint8_t* const inputs[3] = {bytes(a), bytes(b), bytes(c)};
  struct Case {
    const char* kind;
    std::vector<double> out;
  };
  const Case cases[] = {{"copy", a},
                        {"scale", {-3, -6, -9, -12, -15}},
                        {"add", {1.5, 2.5, 3.5, 4.5, 5.5}},
                        {"triad", {-2.5, -5.5, -8.5, -11.5, -14.5}}};
  for (const Case& k : cases) {
    CAPTURE(k.kind);
    ValidationSummary ok;
    const double tol_max = check_stream_output(ok, k.kind, -1.5, DType::kF64, inputs, bytes(k.out), 5);
    CHECK(ok.passed());
    CHECK(ok.points == 5);
    if (std::string(k.kind) == "copy")
      CHECK(tol_max == 0);  // exact
    else
      CHECK(tol_max > 0);
    std::vector<double> wrong = k.out;
    wrong[2] += 1e-3;
    ValidationSummary bad;
    check_stream_output(bad, k.kind, -1.5, DType::kF64, inputs, bytes(wrong), 5);
    CHECK(bad.failures == 1);
    CHECK(bad.points == 5);
    const std::string label = std::string(1, "ABC"[stream_output_array(k.kind)]) + "[2]";
    CHECK(bad.first_failure.rfind(label, 0) == 0);
  }
  // A tolerance of a few ulps: one ulp off passes, a NaN never does.
  std::vector<double> scaled = {-3, -6, std::nextafter(-9.0, 0.0), -12, NAN};
  ValidationSummary s;
  check_stream_output(s, "scale", -1.5, DType::kF64, inputs, bytes(scaled), 5);
  CHECK(s.failures == 1);
  CHECK(s.first_failure.rfind("B[4]", 0) == 0);
}

}  // namespace
}  // namespace cmeter::validate
