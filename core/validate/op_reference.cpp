// FP64 references of the inference ops: plain loops, written for clarity, not speed (the conformance
// shapes are small and the model reference runs a few teacher-forced tokens).
#include "core/validate/op_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace cmeter::validate::ref {

void rmsnorm(const double* x, const double* w, double* y, int64_t rows, int64_t dim, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * dim;
    double sum_sq = 0;
    for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
    const double inv = 1.0 / std::sqrt(sum_sq / static_cast<double>(dim) + eps);
    double* yr = y + r * dim;
    for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * inv * w[i];
  }
}

void rope(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim, bool interleaved,
          double theta) {
  const int64_t half = head_dim / 2;
  for (int64_t r = 0; r < rows; ++r) {
    if (pos[r] < 0) continue;
    for (int64_t h = 0; h < heads; ++h) {
      double* v = x + (r * heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(pos[r]) *
                             std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
        const double c = std::cos(angle), s = std::sin(angle);
        double& a = interleaved ? v[2 * i] : v[i];
        double& b = interleaved ? v[2 * i + 1] : v[i + half];
        const double a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = a0 * s + b0 * c;
      }
    }
  }
}

void softmax(const double* x, double* y, int64_t rows, int64_t cols, double scale, const int32_t* len) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * cols;
    double* yr = y + r * cols;
    int64_t valid = len == nullptr ? cols : std::clamp<int64_t>(len[r], 0, cols);
    double max_v = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < valid; ++c) max_v = std::max(max_v, scale * xr[c]);
    double sum = 0;
    std::vector<double> e(static_cast<size_t>(valid));
    for (int64_t c = 0; c < valid; ++c) sum += e[static_cast<size_t>(c)] = std::exp(scale * xr[c] - max_v);
    for (int64_t c = 0; c < valid; ++c) yr[c] = e[static_cast<size_t>(c)] / sum;
    for (int64_t c = valid; c < cols; ++c) yr[c] = 0;
  }
}

void swiglu(const double* gu, double* y, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* g = gu + r * 2 * dim;
    const double* u = g + dim;
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  }
}

void kv_append(const double* src, double* cache, const int32_t* slot, const int32_t* pos, int64_t rows,
               int64_t kv_heads, int64_t head_dim, int64_t slots, int64_t capacity) {
  for (int64_t r = 0; r < rows; ++r) {
    if (slot[r] < 0 || slot[r] >= slots || pos[r] < 0 || pos[r] >= capacity) continue;
    for (int64_t h = 0; h < kv_heads; ++h)
      std::copy_n(src + (r * kv_heads + h) * head_dim, head_dim,
                  cache + ((slot[r] * kv_heads + h) * capacity + pos[r]) * head_dim);
  }
}

void embedding(const double* table, const int32_t* ids, double* y, int64_t rows, int64_t vocab, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    if (ids[r] < 0 || ids[r] >= vocab)
      std::fill_n(y + r * dim, dim, 0.0);
    else
      std::copy_n(table + static_cast<int64_t>(ids[r]) * dim, dim, y + r * dim);
  }
}

void argmax(const double* x, int32_t* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * cols;
    int64_t best = -1;
    for (int64_t c = 0; c < cols; ++c)
      if (!std::isnan(xr[c]) && (best < 0 || xr[c] > xr[best])) best = c;
    out[r] = static_cast<int32_t>(best < 0 ? 0 : best);
  }
}

void attention(const double* q, const double* k_cache, const double* v_cache, const int32_t* slot,
               const int32_t* pos, double* o, int64_t rows, int64_t heads, int64_t kv_heads, int64_t head_dim,
               int64_t slots, int64_t capacity, double scale) {
  const int64_t group = heads / kv_heads;
  std::vector<double> scores;
  for (int64_t r = 0; r < rows; ++r) {
    double* orow = o + r * heads * head_dim;
    if (slot[r] < 0 || slot[r] >= slots || pos[r] < 0 || pos[r] >= capacity) {
      std::fill_n(orow, heads * head_dim, 0.0);
      continue;
    }
    const int64_t n = pos[r] + 1;
    scores.assign(static_cast<size_t>(n), 0.0);
    for (int64_t h = 0; h < heads; ++h) {
      const double* qh = q + (r * heads + h) * head_dim;
      const int64_t base = (slot[r] * kv_heads + h / group) * capacity * head_dim;
      double max_v = -std::numeric_limits<double>::infinity();
      for (int64_t p = 0; p < n; ++p) {
        double dot = 0;
        for (int64_t d = 0; d < head_dim; ++d) dot += qh[d] * k_cache[base + p * head_dim + d];
        scores[static_cast<size_t>(p)] = scale * dot;
        max_v = std::max(max_v, scale * dot);
      }
      double sum = 0;
      for (auto& s : scores) sum += s = std::exp(s - max_v);
      double* oh = orow + h * head_dim;
      std::fill_n(oh, head_dim, 0.0);
      for (int64_t p = 0; p < n; ++p)
        for (int64_t d = 0; d < head_dim; ++d)
          oh[d] += scores[static_cast<size_t>(p)] / sum * v_cache[base + p * head_dim + d];
    }
  }
}

double nmse(const double* got, const double* want, size_t n) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = got[i] - want[i];
    err += d * d;
    norm += want[i] * want[i];
  }
  if (std::isnan(err)) return err;
  if (norm == 0) return err == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return err / norm;
}

}  // namespace cmeter::validate::ref
