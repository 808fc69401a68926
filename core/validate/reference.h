// The host references of the catalogue ops and the tolerances their device results are judged by,
// written once for the workloads (which check the output of a timed call) and the conformance checks
// (which check a plugin over a matrix of shapes): gemm.v1 against an FP64 reference, fma_peak.v1
// against a simulation in the device's arithmetic, stream.v1 against its closed form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/validate/dtype.h"
#include "core/validate/tolerance.h"

namespace cmeter::validate {

// ---- gemm.v1

// One gemm.v1 call as the reference sees it (column-major, docs/abi-keys.md): for every batch,
// C = alpha * op(A) * op(B) + beta * C0, leading dimensions and batch strides in elements.
struct GemmProblem {
  DType input = DType::kF32;  // A and B
  DType compute = DType::kF32;
  DType output = DType::kF32;  // C
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  int64_t batch = 1;
  double alpha = 1, beta = 0;
};

// Sets the leading dimensions and batch strides of tightly packed operands.
void set_tight_layout(GemmProblem& problem);

struct GemmElementCounts {
  size_t a = 0, b = 0, c = 0;
};
// Elements each operand buffer holds (the last batch ends at its last column).
GemmElementCounts gemm_element_counts(const GemmProblem& problem);

// Index of C[i, j] of batch `batch` in the C buffer.
size_t gemm_c_index(const GemmProblem& problem, int64_t batch, int64_t i, int64_t j);

// The host's copies of the inputs (in the problem's input and output types) and bounds on |A| and
// |B| for the tolerance.
struct GemmOperands {
  const uint8_t* a = nullptr;
  const uint8_t* b = nullptr;
  const uint8_t* c0 = nullptr;
  double max_abs_a = 1;
  double max_abs_b = 1;
};

// Tolerance of one element whose reference is `expected` with initial C0 element `c0`: the bound of
// gemm_abs_tolerance for k products of |alpha| |a|max by |b|max (alpha scales the summation error),
// plus 4 u(compute) |beta c0| for scaling and adding C0.
double gemm_element_tolerance(const GemmProblem& problem, double max_abs_a, double max_abs_b, double expected,
                              double c0);

// C[i, j] of batch `batch`: the FP64 reference (k products summed in order, then alpha, beta) and the
// device's value in `c_out` with its tolerance.
Check gemm_element_check(const GemmProblem& problem, const GemmOperands& operands, const uint8_t* c_out,
                         int64_t batch, int64_t i, int64_t j);

// Adds gemm_element_check to `summary`, labelled "C[i,j] batch b".
void add_gemm_element(ValidationSummary& summary, const GemmProblem& problem, const GemmOperands& operands,
                      const uint8_t* c_out, int64_t batch, int64_t i, int64_t j);

// ---- fma_peak.v1

// One item of fma_peak.v1 simulated in `type` arithmetic: `lanes` chains x = fma(x, a, b) from
// x0 + lane * dx + item_offset, `iters` rounds each, rounded to `type` after every fma; the sum of the
// lanes. item_offset is the item's (i mod item_period) * item_dx (ABI 1.3). `fused` false: each round
// rounds the product to `type` before the add (a device whose op says `fma.fused` = 0).
double fma_peak_item(DType type, int64_t lanes, int64_t iters, double a, double b, double x0, double dx,
                     double item_offset = 0, bool fused = true);

// The chain fma_peak runs unless a profile says otherwise, chosen so that a kernel cannot answer without
// doing every round of every item (docs/measurement.md, "Timed work proven done"):
// - a = 1 + 2^-p: every round multiplies, so its rounding depends on the value (no closed form x0 + n·b
//   matches the rounded chain), and each round moves x by one or two units in the last place (a chain
//   never stalls, so stopping when x stops changing is not a shortcut); p grows with `iters` for f32/f64
//   so that x stays within a factor of ~8, and is the mantissa width for f16/bf16;
// - b = 3/8 of a unit in the last place at 1 (of f32 for f64): a multiply without the add rounds
//   differently;
// - lanes start 1 + l·dx with lanes·dx <= 1, and items (i mod item_period)·item_dx apart with
//   item_dx one unit in the last place in [1, 2) and item_period·item_dx = dx: within a period no two
//   chains of any items start alike (f32/f64: 2^23/lanes items, f16: 2^10/lanes, bf16: 2^7/lanes).
// Every start value and the sums that form it are exact in f32 (the ABI's promise to plugins).
// `grown_bound` is an upper bound of |x| after `iters` rounds; items beyond it could overflow.
struct FmaPeakChain {
  double a = 1, b = 0, x0 = 1, dx = 1.0 / 64, item_dx = 0;
  int64_t item_period = 1;
  double grown_bound = 0;
};
FmaPeakChain fma_peak_default_chain(DType type, int64_t lanes, int64_t iters);

// Item i's start offset: (i mod item_period) * item_dx.
double fma_peak_item_offset(const FmaPeakChain& chain, int64_t item);

// Tolerance of an item's f32 output: one f32 rounding per lane's addition and one for the store.
double fma_peak_tolerance(int64_t lanes, double expected);

// ---- stream.v1

// The array (0 = A, 1 = B, 2 = C) that stream.v1 `kind` writes: copy C = A, scale B = s C,
// add C = A + B, triad A = B + s C.
int stream_output_array(std::string_view kind);

// Checks the n output elements `out` of stream.v1 `kind` against the closed form over the inputs
// A, B, C (in `type`): failures and the two ends are recorded in full (labelled "A[i]" etc.), other
// passing elements only counted. Returns the largest tolerance used.
double check_stream_output(ValidationSummary& summary, std::string_view kind, double scalar, DType type,
                           const uint8_t* const inputs[3], const uint8_t* out, int64_t n);

}  // namespace cmeter::validate
