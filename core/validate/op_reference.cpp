// FP64 references of the inference and training ops: plain loops, written for clarity, not speed (the
// conformance shapes are small and the model reference runs a few teacher-forced tokens).
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

namespace {
void rotate_pairs(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim,
                  bool interleaved, double theta, double sign) {
  const int64_t half = head_dim / 2;
  for (int64_t r = 0; r < rows; ++r) {
    if (pos[r] < 0) continue;
    for (int64_t h = 0; h < heads; ++h) {
      double* v = x + (r * heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(pos[r]) *
                             std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
        const double c = std::cos(angle), s = sign * std::sin(angle);
        double& a = interleaved ? v[2 * i] : v[i];
        double& b = interleaved ? v[2 * i + 1] : v[i + half];
        const double a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = a0 * s + b0 * c;
      }
    }
  }
}

}  // namespace

void rope(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim, bool interleaved,
          double theta) {
  rotate_pairs(x, pos, rows, heads, head_dim, interleaved, theta, 1.0);
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

void rmsnorm_backward(const double* x, const double* w, const double* dy, double* dx, double* dw,
                      int64_t rows, int64_t dim, double eps) {
  std::fill_n(dw, dim, 0.0);
  std::vector<double> g(static_cast<size_t>(dim));
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * dim;
    const double* dyr = dy + r * dim;
    double sum_sq = 0;
    for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
    const double inv = 1.0 / std::sqrt(sum_sq / static_cast<double>(dim) + eps);
    double dot = 0;
    for (int64_t i = 0; i < dim; ++i) {
      g[static_cast<size_t>(i)] = dyr[i] * w[i];
      dot += g[static_cast<size_t>(i)] * xr[i] * inv;
      dw[i] += dyr[i] * xr[i] * inv;
    }
    const double mean = dot / static_cast<double>(dim);
    for (int64_t i = 0; i < dim; ++i)
      dx[r * dim + i] = inv * (g[static_cast<size_t>(i)] - xr[i] * inv * mean);
  }
}

void swiglu_backward(const double* gu, const double* dy, double* dgu, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < dim; ++i) {
      const double g = gu[r * 2 * dim + i], u = gu[r * 2 * dim + dim + i], d = dy[r * dim + i];
      const double s = 1.0 / (1.0 + std::exp(-g));
      dgu[r * 2 * dim + i] = d * u * s * (1.0 + g * (1.0 - s));
      dgu[r * 2 * dim + dim + i] = d * g * s;
    }
}

void softmax_backward(const double* y, const double* dy, double* dx, int64_t rows, int64_t cols, double scale,
                      const int32_t* len) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t valid = len == nullptr ? cols : std::clamp<int64_t>(len[r], 0, cols);
    double dot = 0;
    for (int64_t c = 0; c < valid; ++c) dot += dy[r * cols + c] * y[r * cols + c];
    for (int64_t c = 0; c < cols; ++c)
      dx[r * cols + c] = c < valid ? scale * y[r * cols + c] * (dy[r * cols + c] - dot) : 0.0;
  }
}

void rope_backward(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim,
                   bool interleaved, double theta) {
  rotate_pairs(x, pos, rows, heads, head_dim, interleaved, theta, -1.0);
}

void cross_entropy(const double* x, const int32_t* t, double* loss, double* dx, int64_t rows, int64_t vocab,
                   double grad_scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * vocab;
    if (t[r] < 0 || t[r] >= vocab) {
      loss[r] = 0;
      if (dx != nullptr) std::fill_n(dx + r * vocab, vocab, 0.0);
      continue;
    }
    double max_v = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < vocab; ++c) max_v = std::max(max_v, xr[c]);
    double sum = 0;
    for (int64_t c = 0; c < vocab; ++c) sum += std::exp(xr[c] - max_v);
    const double target = xr[t[r]];
    loss[r] = std::log(sum) + max_v - target;
    if (dx == nullptr) continue;
    for (int64_t c = 0; c < vocab; ++c)
      dx[r * vocab + c] = (std::exp(xr[c] - max_v) / sum - (c == t[r] ? 1.0 : 0.0)) * grad_scale;
  }
}

void embedding_backward(const double* dy, const int32_t* ids, double* dtable, int64_t rows, int64_t vocab,
                        int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    if (ids[r] < 0 || ids[r] >= vocab) continue;
    for (int64_t i = 0; i < dim; ++i) dtable[static_cast<int64_t>(ids[r]) * dim + i] += dy[r * dim + i];
  }
}

void reduce(const double* x, double* y, int64_t rows, int64_t cols, bool axis_rows, bool squares,
            double scale) {
  std::fill_n(y, axis_rows ? cols : rows, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double v = x[r * cols + c];
      y[axis_rows ? c : r] += squares ? v * v : v;
    }
  for (int64_t i = 0; i < (axis_rows ? cols : rows); ++i) y[i] *= scale;
}

void adamw(double* w, const double* g, double* m, double* v, int64_t n, double lr, double step,
           double grad_scale, double beta1, double beta2, double eps, double weight_decay) {
  if (!(step >= 1) || !std::isfinite(lr) || !std::isfinite(grad_scale)) return;
  const double bc1 = 1.0 - std::pow(beta1, step), bc2 = 1.0 - std::pow(beta2, step);
  for (int64_t i = 0; i < n; ++i) {
    const double gi = g[i] * grad_scale;
    m[i] = beta1 * m[i] + (1.0 - beta1) * gi;
    v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi;
    w[i] = w[i] * (1.0 - lr * weight_decay) - lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
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
