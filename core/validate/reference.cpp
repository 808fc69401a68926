// Host references for gemm.v1, fma_peak.v1 and stream.v1, and their per-element tolerances.
#include "core/validate/reference.h"

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

double fma_peak_item(DType type, int64_t lanes, int64_t iters, double a, double b, double x0, double dx) {
  const double ar = round_to(type, a), br = round_to(type, b);
  double sum = 0;
  for (int64_t l = 0; l < lanes; ++l) {
    double x = round_to(type, x0 + static_cast<double>(l) * dx);
    for (int64_t i = 0; i < iters; ++i) {
      if (type == DType::kF64)
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
