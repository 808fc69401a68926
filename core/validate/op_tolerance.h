// NMSE limits of the 1.1 inference ops (docs/conformance.md, "Limits"): how far a device's output may
// be from the FP64 reference (op_reference.h), as a normalised mean squared error, derived from the
// output type's unit roundoff and the f32 arithmetic each op does. The derivation is written before
// any device is measured and never tuned to one: a per-element bound on the relative error (worst
// case, first order in the unit roundoffs), doubled, squared. NMSE <= max relative error squared, so
// a correct op is below the limit by construction; a wrong op (an off-by-one position, a missing
// weight, a skipped row) is orders of magnitude above it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/validate/dtype.h"

namespace cmeter::validate::limits {

// Unit roundoff of f32, the ops' arithmetic type.
inline constexpr double kF32 = 0x1p-24;
// Relative error allowed to one f32 transcendental (exp, sin, cos, pow, rsqrt): 16 ulp = 32 u(f32),
// the bound of CUDA's fast intrinsics over the arguments used here; OpenCL full profile is <= 4 ulp.
inline constexpr double kFunction = 32 * kF32;
// Margin on the relative bound: covers the O(u^2) terms the first-order bounds leave out.
inline constexpr double kMargin = 2.0;

// The NMSE limit for a per-element relative error bound: (kMargin * rel)^2.
double nmse_limit(double rel_error);

// Per-element relative error bounds (relative to the reference element, or to the norm of the pair
// rope rotates), each the f32 arithmetic's bound plus u(out) for the final rounding.

// rmsnorm over `dim`: sum of squares (dim + 1) u, mean and eps 2 u, rsqrt kFunction (its relative error
// halves the sum's), then x * inv * w 2 u.
double rmsnorm_rel_error(DType out, int64_t dim);
// rope with positions below `max_pos`: the angle pos * theta^(-2i/d) carries an absolute error of
// max_pos * (kFunction + (ln(theta) + 2) u) (pow, its exponent, the product), sin and cos kFunction
// each, the rotation 3 u sqrt(2) per pair.
double rope_rel_error(DType out, int64_t max_pos, double theta);
// softmax over `cols` columns whose scaled inputs are at most `max_abs_scaled` in magnitude: exp
// kFunction plus its argument's error 3 max_abs_scaled u (scale * x, minus the max), the sum cols u, the
// division u.
double softmax_rel_error(DType out, int64_t cols, double max_abs_scaled);
// swiglu: exp kFunction (scaled by e/(1+e) <= 1), then 1 + e, the division and the product, 1 u each
// (4 u with the negation's rounding of a non-f32 input counted).
double swiglu_rel_error(DType out);
// eltwise: add, mul 1 u; scale 2 u (the scalar rounded to f32, the product); cast 0; plus u(out).
double eltwise_rel_error(const std::string& kind, DType out);
// attention: per element, relative to max|V| of the row's head (not to the element): probabilities
// carry softmax_rel_error's terms with scores of magnitude `max_abs_score` whose own absolute error is
// (head_dim + 1) u |scale| sum|q||k|  (<= `score_abs_error`), and the weighted sum over `positions`
// adds positions u.
double attention_rel_error(DType out, int64_t positions, double max_abs_score, double score_abs_error);

// ---- ABI 1.2 training ops ----
// Backward ops subtract terms of similar size (softmax's dy - sum(dy y), rmsnorm's projection), so no
// bound relative to each output element exists. Their bounds are absolute per element: rel * mag_i,
// where mag_i is the sum of the magnitudes of the terms that form element i (the check computes it
// from the inputs), and the NMSE limit is sum((kMargin rel mag_i)^2) / sum(want_i^2).
double nmse_limit_abs(const std::vector<double>& abs_bound, const std::vector<double>& want);
// rmsnorm_backward DX: the dot over `dim` (dim + 1) u, rsqrt kFunction (cubed: 3x), the products 4 u.
double rmsnorm_backward_rel_error(DType out, int64_t dim);
// swiglu_backward: the sigmoid kFunction + 2 u, 1 - s and the products 6 u.
double swiglu_backward_rel_error(DType out);
// softmax_backward over `cols` columns: the dot (cols + 1) u, the difference and products 3 u.
double softmax_backward_rel_error(DType out, int64_t cols);
// cross_entropy over `vocab` columns with logits up to `max_abs_logit`: exp kFunction plus its
// argument's rounding 2 max_abs_logit u, the sum vocab u, division and scale 3 u (DX); the loss adds
// log's kFunction on |log(sum)| (the check's mag includes |max| + |x_t|).
double cross_entropy_rel_error(DType out, int64_t vocab, double max_abs_logit);
// A sum of `terms` f32 values (reduce, embedding_backward, rmsnorm_backward's DW): (terms + 2) u, + u(f32).
double sum_rel_error(int64_t terms);
// adamw: the moments 5 u each, the constants rounded to f32 (lr/bc1, 1/sqrt(bc2), decay) 3 u, sqrt,
// sum and division 3 u, the product and difference 2 u: 16 u on |W decay| + |update|, + u(out).
double adamw_rel_error(DType out);

}  // namespace cmeter::validate::limits
