// Error bounds for checking device GEMM results against an FP64 host reference, the validation
// summary, and the choice of elements to check.
//
// The GEMM bound. An inner product of k terms summed in a precision with unit roundoff u has the
// worst-case error bound gamma_k * sum|a_i b_i| ~ k u sum|a_i b_i| (Higham, Accuracy and Stability
// of Numerical Algorithms, 3.1), reached only if every rounding error has the same sign and size.
// Rounding errors of real summations behave like independent zero-mean variables, which gives the
// probabilistic bound lambda * sqrt(k) * u * sum|a_i b_i| (Higham & Mary, SIAM J. Sci. Comput. 41(5),
// 2019). We bound sum|a_i b_i| by k |a|max |b|max (we know the maxima, not each element's sum) and
// take lambda = c = 3:
//   c * u * sqrt(k) * k * |a|max * |b|max.
// Measured with uniform [-1, 1] and [0, 1] inputs, k = 16 .. 65536, f32 FMA summation (sequential
// and blocked by 256), and f16 / bf16 accumulation of uniform [-1, 1] data, the largest error seen
// is 0.23 of the bound with c = 1 (at small k, where few roundings happen; at k = 4096 blocked f32
// it is 0.001): c = 3 leaves a margin of 13x to 3000x. At k = 4096 in f32 the bound is
// 3 * 2^-24 * 64 * 4096 = 0.047 for |a|, |b| <= 1, while one missing or wrong term of a uniform
// [-1, 1] product is larger than that four times in five and a transposed operand changes elements
// by ~sqrt(k)/3 = 21: over the ~1000 sampled elements a wrong kernel always fails. Limits: low
// precision accumulation (f16 / bf16 compute) of same-sign data at k >= ~8192 stagnates and can
// exceed the bound - such a result is then genuinely inaccurate - and at that precision the bound
// is loose (e.g. 128 at k = 4096 in f16), so f16-compute validation only catches gross errors.
//
// The other terms: the FP64 reference has its own summation error, the same formula with u(f64).
// Tensor-core tf32 rounds f32 inputs to 11 significant bits and accumulates in f32: each product
// then carries a relative error below 2 ulps of tf32 (4 u; 4 rather than 2 so that truncating
// hardware also passes), zero-mean over random signs, so c * sqrt(k) * 4 u * |a|max * |b|max.
// Storing the result rounds it once more: u(output) relative plus, near zero, half the smallest
// subnormal; storing a float result as an integer can be off by 0.5 more.
#include "core/validate/tolerance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>

namespace cmeter::validate {
namespace {

bool is_integer(DType type) {
  return type == DType::kI8 || type == DType::kI32;
}

// Half the smallest positive subnormal: the largest absolute rounding error near zero.
double half_min_subnormal(DType type) {
  switch (type) {
    case DType::kF16:
      return 0x1p-25;
    case DType::kBF16:
      return 0x1p-134;
    case DType::kTF32:
      return 0x1p-137;
    case DType::kF32:
      return 0x1p-150;
    case DType::kF64:
    case DType::kI8:
    case DType::kI32:
      return 0.0;
  }
  return 0.0;
}

// splitmix64: a tiny generator whose output is the same on every platform (the standard
// distributions are implementation-defined, so they are not used for anything reproducible).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n >= 1 (modulo bias below n / 2^64: irrelevant here).
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

// m distinct values from [0, n) (all of them when m >= n), by Floyd's algorithm: m draws, no
// rejection loop however close m is to n.
std::vector<int64_t> distinct_sample(int64_t n, int64_t m, SplitMix64& rng) {
  std::vector<int64_t> out;
  if (n <= 0 || m <= 0) return out;
  if (m >= n) {
    out.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = i;
    return out;
  }
  std::unordered_set<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(m) * 2);
  out.reserve(static_cast<size_t>(m));
  for (int64_t j = n - m; j < n; ++j) {
    const int64_t t = rng.below(j + 1);
    const int64_t pick = chosen.insert(t).second ? t : j;
    if (pick == j) chosen.insert(j);
    out.push_back(pick);
  }
  return out;
}

}  // namespace

double gemm_abs_tolerance(DType input, DType compute, DType output, int64_t k, double max_abs_a,
                          double max_abs_b, double max_abs_c_ref) {
  if (is_integer(compute)) {
    // Integer products and sums are exact (the FP64 reference too, below 2^53); so is storing
    // them as an integer. Storing an integer result as a float rounds it.
    if (is_integer(output)) return 0.0;
    return epsilon(output) * std::fabs(max_abs_c_ref) + half_min_subnormal(output);
  }
  const double kd = static_cast<double>(std::max<int64_t>(k, 0));
  const double ab = std::fabs(max_abs_a) * std::fabs(max_abs_b);
  const double sqrt_k = std::sqrt(kd);
  const DType accumulate = compute == DType::kTF32 ? DType::kF32 : compute;
  double bound = kGemmToleranceC * sqrt_k * kd * ab * (epsilon(accumulate) + epsilon(DType::kF64));
  // Inputs finer than the compute type are rounded to it before multiplying (f32 inputs on tf32).
  if (!is_integer(input) && epsilon(compute) > epsilon(input)) {
    bound += kGemmToleranceC * sqrt_k * 4.0 * epsilon(compute) * ab;
  }
  if (is_integer(output)) return bound + 0.5;
  return bound + epsilon(output) * (std::fabs(max_abs_c_ref) + bound) + half_min_subnormal(output);
}

bool passes(const Check& check) {
  return std::isfinite(check.got) && std::fabs(check.got - check.expected) <= check.tolerance;
}

void add(ValidationSummary& summary, std::string_view label, const Check& check) {
  ++summary.points;
  double error = std::fabs(check.got - check.expected);
  if (std::isnan(error) || !std::isfinite(check.got)) error = std::numeric_limits<double>::infinity();
  if (summary.points == 1 || error > summary.max_abs_error) {
    summary.max_abs_error = error;
    summary.tolerance_at_max = check.tolerance;
  }
  if (check.expected != 0.0 && std::isfinite(check.expected)) {
    summary.max_rel_error = std::max(summary.max_rel_error, error / std::fabs(check.expected));
  }
  if (passes(check)) return;
  ++summary.failures;
  if (summary.first_failure.empty()) {
    summary.first_failure = fmt::format("{}: got {}, expected {}, tolerance {}", label, check.got,
                                        check.expected, check.tolerance);
  }
}

void add(ValidationSummary& summary, std::string_view label, double expected, double got, double tolerance) {
  add(summary, label, Check{expected, got, tolerance});
}

std::vector<std::pair<int64_t, int64_t>> sample_matrix_points(int64_t rows, int64_t cols, int count,
                                                              uint64_t seed) {
  std::vector<std::pair<int64_t, int64_t>> points;
  if (rows <= 0 || cols <= 0) return points;
  const int64_t want = std::max(count, 0);
  if (rows <= (want + 4) / cols) {  // rows * cols <= count + 4, without overflow
    points.reserve(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) points.emplace_back(r, c);
    }
    return points;
  }
  SplitMix64 rng(seed);
  points = {{0, 0}, {0, cols - 1}, {rows - 1, 0}, {rows - 1, cols - 1}};
  // Edges without their corners: rows 0 and rows - 1 over columns 1 .. cols - 2, columns 0 and
  // cols - 1 over rows 1 .. rows - 2.
  const int64_t per_edge = std::max<int64_t>(2, want / 32);
  for (int64_t r : {int64_t{0}, rows - 1}) {
    for (int64_t c : distinct_sample(cols - 2, per_edge, rng)) points.emplace_back(r, c + 1);
  }
  for (int64_t c : {int64_t{0}, cols - 1}) {
    for (int64_t r : distinct_sample(rows - 2, per_edge, rng)) points.emplace_back(r + 1, c);
  }
  // Interior: rows 1 .. rows - 2, columns 1 .. cols - 2. A matrix of one or two rows or columns
  // is all edge: its `count` points are drawn from the whole of it instead.
  if (rows > 2 && cols > 2) {
    const int64_t inner_cols = cols - 2;
    for (int64_t i : distinct_sample((rows - 2) * inner_cols, want, rng)) {
      points.emplace_back(1 + i / inner_cols, 1 + i % inner_cols);
    }
  } else {
    for (int64_t i : distinct_sample(rows * cols, want, rng)) points.emplace_back(i / cols, i % cols);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

}  // namespace cmeter::validate
