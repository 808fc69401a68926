// The per-op error bounds behind the NMSE limits; the derivation, term by term, is in
// docs/conformance.md ("Limits") and in op_tolerance.h.
#include "core/validate/op_tolerance.h"

#include <cmath>

namespace cmeter::validate::limits {

double nmse_limit(double rel_error) {
  return (kMargin * rel_error) * (kMargin * rel_error);
}

double rmsnorm_rel_error(DType out, int64_t dim) {
  const double sum_sq = static_cast<double>(dim + 1) * kF32 + 2 * kF32;  // squares, sums, mean, + eps
  return sum_sq / 2 + kFunction + 2 * kF32 + epsilon(out);
}

double rope_rel_error(DType out, int64_t max_pos, double theta) {
  const double angle = static_cast<double>(max_pos) * (kFunction + (std::log(theta) + 2) * kF32);
  return angle + 2 * kFunction + 3 * std::sqrt(2.0) * kF32 + epsilon(out);
}

double softmax_rel_error(DType out, int64_t cols, double max_abs_scaled) {
  return kFunction + 3 * max_abs_scaled * kF32 + static_cast<double>(cols) * kF32 + kF32 + epsilon(out);
}

double swiglu_rel_error(DType out) {
  return kFunction + 4 * kF32 + epsilon(out);
}

double eltwise_rel_error(const std::string& kind, DType out) {
  const double arith = kind == "cast" ? 0.0 : kind == "scale" ? 2 * kF32 : kF32;
  return arith + epsilon(out);
}

double attention_rel_error(DType out, int64_t positions, double max_abs_score, double score_abs_error) {
  const double probabilities =
      kFunction + 2 * score_abs_error + 3 * max_abs_score * kF32 + static_cast<double>(positions + 2) * kF32;
  return probabilities + static_cast<double>(positions) * kF32 + epsilon(out);
}

double nmse_limit_abs(const std::vector<double>& abs_bound, const std::vector<double>& want) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < want.size() && i < abs_bound.size(); ++i) {
    err += (kMargin * abs_bound[i]) * (kMargin * abs_bound[i]);
    norm += want[i] * want[i];
  }
  return norm > 0 ? err / norm : 0.0;
}

double rmsnorm_backward_rel_error(DType out, int64_t dim) {
  return static_cast<double>(dim + 1) * kF32 + 3 * kFunction + 4 * kF32 + epsilon(out);
}

double swiglu_backward_rel_error(DType out) {
  return kFunction + 8 * kF32 + epsilon(out);
}

double softmax_backward_rel_error(DType out, int64_t cols) {
  return static_cast<double>(cols + 4) * kF32 + epsilon(out);
}

double cross_entropy_rel_error(DType out, int64_t vocab, double max_abs_logit) {
  return 2 * kFunction + 2 * max_abs_logit * kF32 + static_cast<double>(vocab + 3) * kF32 + epsilon(out);
}

double sum_rel_error(int64_t terms) {
  return static_cast<double>(terms + 3) * kF32;
}

double adamw_rel_error(DType out) {
  return 16 * kF32 + epsilon(out);
}

}  // namespace cmeter::validate::limits
