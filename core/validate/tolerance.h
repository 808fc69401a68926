// How far a device result may be from the FP64 host reference and still be correct, and the record
// of a validation pass (MEASUREMENT.md, step 6). The bounds are tight enough that a wrong kernel
// (a missing term, a transposed operand, a skipped tile) fails, and loose enough that every correct
// summation order a BLAS may choose passes with a wide margin.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/validate/dtype.h"

namespace cmeter::validate {

// The constant c of the GEMM bound (see gemm_abs_tolerance and tolerance.cpp for its derivation).
inline constexpr double kGemmToleranceC = 3.0;

// Absolute error bound for one element of C = A * B (k terms per element) with inputs exactly
// representable in `input`, products and sums in `compute`, stored as `output`:
//   c * sqrt(k) * k * |a|max * |b|max * (u(accumulate) + u(f64))      summation, device and reference
// + c * sqrt(k) * 4 * u(compute) * |a|max * |b|max                     inputs rounded to compute (tf32)
// + u(output) * (|c_ref| + the above) + half the smallest subnormal    storing the result
// where u = epsilon() (the unit roundoff, half an ulp of 1) and tf32 accumulates in f32. Integer
// compute (i8 inputs, i32 accumulate) is exact: 0. Float compute stored as an integer adds 0.5.
// Assumes zero-mean inputs such as uniform [-1, 1] (the sqrt(k) random-walk form); see tolerance.cpp.
double gemm_abs_tolerance(DType input, DType compute, DType output, int64_t k, double max_abs_a,
                          double max_abs_b, double max_abs_c_ref);

// One compared element.
struct Check {
  double expected = 0;
  double got = 0;
  double tolerance = 0;
};

// Passes when got is finite and |got - expected| <= tolerance (NaN or inf in got always fails).
bool passes(const Check& check);

struct ValidationSummary {
  int64_t points = 0;
  int64_t failures = 0;
  double max_abs_error = 0;     // +inf once a non-finite value was seen
  double max_rel_error = 0;     // over points with expected != 0
  double tolerance_at_max = 0;  // the tolerance at the point of max_abs_error
  std::string first_failure;    // "C[12,7] batch 0: got 1.25, expected 1.5, tolerance 0.001"
  // At least one point checked and none failed (nothing checked is not a pass).
  bool passed() const { return points > 0 && failures == 0; }
};

// Records one compared element; label names it ("C[12,7] batch 0") for the first failure message.
void add(ValidationSummary& summary, std::string_view label, double expected, double got, double tolerance);
void add(ValidationSummary& summary, std::string_view label, const Check& check);

// Elements of a rows x cols matrix to validate, as (row, col), sorted row-major, no duplicates:
// the four corners, points on every edge (max(2, count / 32) per edge, fewer on short edges), and
// `count` pseudo-random interior points (all of them when the interior is smaller; from the whole
// matrix when it has no interior, one or two rows or columns). Deterministic for a seed on every
// platform. When rows * cols <= count + 4, every element. Empty for an empty matrix.
std::vector<std::pair<int64_t, int64_t>> sample_matrix_points(int64_t rows, int64_t cols, int count,
                                                              uint64_t seed);

}  // namespace cmeter::validate
