// Host references for gemm.v1, fma_peak.v1 and stream.v1, and their per-element tolerances.
#include "core/validate/reference.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/validate/half.h"
#include "core/validate/host_data.h"

namespace cmeter::validate {

void set_tight_layout(GemmProblem& p) {
  p.lda = p.trans_a ? p.k : p.m;
  p.ldb = p.trans_b ? p.n : p.k;
  p.ldc = p.m;
  p.stride_a = p.m * p.k;
  p.stride_b = p.k * p.n;
  p.stride_c = p.m * p.n;
}

GemmElementCounts gemm_element_counts(const GemmProblem& p) {
  const int64_t cols_a = p.trans_a ? p.m : p.k, cols_b = p.trans_b ? p.k : p.n;
  return {static_cast<size_t>(p.stride_a * (p.batch - 1) + p.lda * cols_a),
          static_cast<size_t>(p.stride_b * (p.batch - 1) + p.ldb * cols_b),
          static_cast<size_t>(p.stride_c * (p.batch - 1) + p.ldc * p.n)};
}

size_t gemm_c_index(const GemmProblem& p, int64_t batch, int64_t i, int64_t j) {
  return static_cast<size_t>(batch * p.stride_c + i + j * p.ldc);
}

double gemm_element_tolerance(const GemmProblem& p, double max_abs_a, double max_abs_b, double expected,
                              double c0) {
  return gemm_abs_tolerance(p.input, p.compute, p.output, p.k, std::fabs(p.alpha) * max_abs_a, max_abs_b,
                            std::fabs(expected)) +
         4 * epsilon(p.compute) * std::fabs(p.beta * c0);
}

Check gemm_element_check(const GemmProblem& p, const GemmOperands& in, const uint8_t* c_out, int64_t batch,
                         int64_t i, int64_t j) {
  double acc = 0;
  for (int64_t q = 0; q < p.k; ++q) {
    const int64_t ai = batch * p.stride_a + (p.trans_a ? q + i * p.lda : i + q * p.lda);
    const int64_t bj = batch * p.stride_b + (p.trans_b ? j + q * p.ldb : q + j * p.ldb);
    acc += element_as_double(p.input, in.a, static_cast<size_t>(ai)) *
           element_as_double(p.input, in.b, static_cast<size_t>(bj));
  }
  const size_t ci = gemm_c_index(p, batch, i, j);
  const double c0 = element_as_double(p.output, in.c0, ci);
  const double expected = p.alpha * acc + p.beta * c0;
  return {expected, element_as_double(p.output, c_out, ci),
          gemm_element_tolerance(p, in.max_abs_a, in.max_abs_b, expected, c0)};
}

void add_gemm_element(ValidationSummary& summary, const GemmProblem& problem, const GemmOperands& operands,
                      const uint8_t* c_out, int64_t batch, int64_t i, int64_t j) {
  add(summary, fmt::format("C[{},{}] batch {}", i, j, batch),
      gemm_element_check(problem, operands, c_out, batch, i, j));
}

double fma_peak_item(DType type, int64_t lanes, int64_t iters, double a, double b, double x0, double dx,
                     double item_offset, bool fused) {
  const double ar = round_to(type, a), br = round_to(type, b);
  double sum = 0;
  for (int64_t l = 0; l < lanes; ++l) {
    double x = round_to(type, x0 + static_cast<double>(l) * dx + item_offset);
    for (int64_t i = 0; i < iters; ++i) {
      if (!fused) {
        // The product rounded first; volatile keeps the compiler from contracting it into an fma.
        volatile double product = type == DType::kF64 ? x * ar : round_to(type, x * ar);
        x = round_to(type, static_cast<double>(product) + br);
      } else if (type == DType::kF64)
        x = std::fma(x, ar, br);
      else if (type == DType::kF32)
        x = std::fmaf(static_cast<float>(x), static_cast<float>(ar), static_cast<float>(br));
      else
        x = round_to(type, std::fma(x, ar, br));
    }
    sum += x;
  }
  return sum;
}

FmaPeakChain fma_peak_default_chain(DType type, int64_t lanes, int64_t iters) {
  // Mantissa bits (the unit in the last place at 1 is 2^-mantissa) and the largest finite value.
  const int mantissa = type == DType::kF16 ? 10 : type == DType::kBF16 ? 7 : type == DType::kF64 ? 52 : 23;
  const double max_finite = type == DType::kF16    ? 65504.0
                            : type == DType::kBF16 ? 0x1.fep127
                            : type == DType::kF64  ? 0x1.fffffffffffffp1023
                                                   : 0x1.fffffep127;
  FmaPeakChain c;
  int p = mantissa;
  if (type == DType::kF32 || type == DType::kF64) {
    // iters * 2^-p <= 2: the chain grows by at most ~e^2 (the rounding adds < 2^-24 per round).
    int log2_iters = 0;
    while (log2_iters < 62 && (int64_t{1} << log2_iters) < iters) ++log2_iters;
    p = std::clamp(log2_iters - 1, 1, std::min(mantissa, 23));
  }
  c.a = 1 + std::ldexp(1.0, -p);
  // The start values use f32's [1, 2) grid at most (exact in f32 whatever the dtype).
  const int grid = std::min(mantissa, 23);
  c.b = 3 * std::ldexp(1.0, -(grid + 3));
  int log2_lanes = 0;
  while ((int64_t{1} << log2_lanes) < lanes) ++log2_lanes;
  c.x0 = 1;
  c.dx = std::ldexp(1.0, -log2_lanes);
  c.item_dx = std::ldexp(1.0, -grid);
  c.item_period = std::max<int64_t>(1, int64_t{1} << std::max(0, grid - log2_lanes));
  // |x| after n rounds: each round multiplies by a and rounds up by at most a unit in the last place
  // and adds b: at most (a + 2^-grid)·x + b, bounded by (x + 1)·(a + 2^-grid)^n.
  const double start_max = c.x0 + static_cast<double>(lanes) * c.dx + 1;
  c.grown_bound = start_max * std::exp(static_cast<double>(iters) * std::log(c.a + std::ldexp(1.0, -grid)));
  if (!(c.grown_bound < max_finite / 4)) c.grown_bound = HUGE_VAL;
  return c;
}

double fma_peak_item_offset(const FmaPeakChain& chain, int64_t item) {
  return static_cast<double>(item % chain.item_period) * chain.item_dx;
}

double fma_peak_tolerance(int64_t lanes, double expected) {
  return (static_cast<double>(lanes) + 1) * 0x1p-24 * std::fabs(expected) + 1e-30;
}

int stream_output_array(std::string_view kind) {
  return kind == "copy" ? 2 : kind == "scale" ? 1 : kind == "add" ? 2 : 0;
}

double check_stream_output(ValidationSummary& summary, std::string_view kind, double scalar, DType type,
                           const uint8_t* const inputs[3], const uint8_t* out, int64_t n) {
  const double eps = epsilon(type);
  const char out_name = "ABC"[stream_output_array(kind)];
  double tol_max = 0;
  for (int64_t i = 0; i < n; ++i) {
    const size_t u = static_cast<size_t>(i);
    const double a = element_as_double(type, inputs[0], u), b = element_as_double(type, inputs[1], u),
                 c = element_as_double(type, inputs[2], u);
    const double expected = kind == "copy"    ? a
                            : kind == "scale" ? scalar * c
                            : kind == "add"   ? a + b
                                              : b + scalar * c;
    const double tol = kind == "copy" ? 0 : 4 * eps * (std::fabs(expected) + std::fabs(scalar * c));
    tol_max = std::max(tol_max, tol);
    const double value = element_as_double(type, out, u);
    if (std::fabs(value - expected) > tol || !std::isfinite(value) || i == 0 || i == n - 1)
      add(summary, fmt::format("{}[{}]", out_name, i), expected, value, tol);
    else
      summary.points++;
  }
  return tol_max;
}

}  // namespace cmeter::validate
