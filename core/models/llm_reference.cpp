// FP64 forward of the decoder over the FP64 op references (see llm_reference.h).
#include "core/models/llm_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/models/llm_weights.h"
#include "core/validate/fp64_matmul.h"
#include "core/validate/op_reference.h"

namespace cmeter::models {
namespace {

// y[t][o] (+)= sum_i x[t][i] * w[o][i]: x is rows x in, w is out x in (row-major), y is rows x out.
void project(const std::vector<double>& x, const float* w, std::vector<double>& y, int64_t rows, int64_t in,
             int64_t out, bool accumulate) {
  if (!accumulate) y.resize(static_cast<size_t>(rows * out));
  validate::fp64_dot_products(w, in, x.data(), in, y.data(), out, out, rows, in, accumulate);
}

}  // namespace

LlmReference::LlmReference(LlmConfig config, uint64_t seed, DType dtype, int64_t cache_elements)
    : config_(std::move(config)), seed_(seed), dtype_(dtype), tensors_(weight_tensors(config_)) {
  if (parameter_count(config_) <= cache_elements)
    for (const WeightTensor& t : tensors_) cache_.push_back(weight_values(config_, seed_, t, dtype_));
}

LlmReference::~LlmReference() = default;

const float* LlmReference::weights(size_t index, ScratchBuffer<float>& scratch) const {
  if (!cache_.empty()) return cache_[index].data();
  const WeightTensor& t = tensors_[index];
  float* out = scratch.get(static_cast<size_t>(t.elements()));
  weight_values(config_, seed_, t, dtype_, 0, t.elements(), out);
  return out;
}

std::vector<std::vector<double>> LlmReference::logits(const std::vector<int32_t>& tokens,
                                                      const std::vector<int64_t>& positions) const {
  const LlmConfig& c = config_;
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t H = c.hidden;
  // Embedding (tensor 0): only the rows of the tokens.
  std::vector<double> x(static_cast<size_t>(T * H), 0.0);
  {
    std::vector<float> row(static_cast<size_t>(H));
    for (int64_t t = 0; t < T; ++t) {
      const int32_t id = tokens[static_cast<size_t>(t)];
      if (id < 0 || id >= c.vocab) continue;
      const float* src = row.data();
      if (!cache_.empty())
        src = cache_[0].data() + static_cast<int64_t>(id) * H;
      else
        weight_values(c, seed_, tensors_[0], dtype_, id * H, (id + 1) * H, row.data());
      std::copy_n(src, H, x.begin() + t * H);
    }
  }
  // One buffer for every regenerated tensor, sized for the largest at the start.
  ScratchBuffer<float> scratch;
  if (cache_.empty()) {
    int64_t largest = 0;
    for (const WeightTensor& t : tensors_) largest = std::max(largest, t.elements());
    scratch.get(static_cast<size_t>(largest));
  }
  auto w = [&](size_t index) { return weights(index, scratch); };
  auto norm_weights = [&](size_t index) {
    const float* p = w(index);
    return std::vector<double>(p, p + H);
  };
  std::vector<int32_t> pos(static_cast<size_t>(T)), slot(static_cast<size_t>(T), 0);
  for (int64_t t = 0; t < T; ++t) pos[static_cast<size_t>(t)] = static_cast<int32_t>(t);
  std::vector<double> hn, q, k, v, o, gu, act, kc, vc;
  size_t ti = 1;
  for (int64_t l = 0; l < c.layers; ++l, ti += 8) {
    hn.resize(x.size());
    validate::ref::rmsnorm(x.data(), norm_weights(ti).data(), hn.data(), T, H, c.norm_eps);
    project(hn, w(ti + 1), q, T, H, c.q_dim(), false);
    project(hn, w(ti + 2), k, T, H, c.kv_dim(), false);
    project(hn, w(ti + 3), v, T, H, c.kv_dim(), false);
    validate::ref::rope(q.data(), pos.data(), T, c.heads, c.head_dim, false, c.rope_theta);
    validate::ref::rope(k.data(), pos.data(), T, c.kv_heads, c.head_dim, false, c.rope_theta);
    kc.assign(static_cast<size_t>(c.kv_dim() * T), 0.0);
    vc.assign(kc.size(), 0.0);
    validate::ref::kv_append(k.data(), kc.data(), slot.data(), pos.data(), T, c.kv_heads, c.head_dim, 1, T);
    validate::ref::kv_append(v.data(), vc.data(), slot.data(), pos.data(), T, c.kv_heads, c.head_dim, 1, T);
    o.assign(static_cast<size_t>(T * c.q_dim()), 0.0);
    validate::ref::attention(q.data(), kc.data(), vc.data(), slot.data(), pos.data(), o.data(), T, c.heads,
                             c.kv_heads, c.head_dim, 1, T, 1.0 / std::sqrt(static_cast<double>(c.head_dim)));
    project(o, w(ti + 4), x, T, c.q_dim(), H, true);
    validate::ref::rmsnorm(x.data(), norm_weights(ti + 5).data(), hn.data(), T, H, c.norm_eps);
    project(hn, w(ti + 6), gu, T, H, 2 * c.ffn, false);
    act.assign(static_cast<size_t>(T * c.ffn), 0.0);
    validate::ref::swiglu(gu.data(), act.data(), T, c.ffn);
    project(act, w(ti + 7), x, T, c.ffn, H, true);
  }
  // Final norm (tensor ti) and the lm_head (the embedding when tied) on the requested rows only.
  const int64_t P = static_cast<int64_t>(positions.size());
  std::vector<double> rows(static_cast<size_t>(P * H));
  for (int64_t r = 0; r < P; ++r)
    std::copy_n(x.begin() + positions[static_cast<size_t>(r)] * H, H, rows.begin() + r * H);
  std::vector<double> normed(rows.size());
  validate::ref::rmsnorm(rows.data(), norm_weights(ti).data(), normed.data(), P, H, c.norm_eps);
  std::vector<double> logits;
  project(normed, w(c.tied_lm_head ? 0 : ti + 1), logits, P, H, c.vocab, false);
  std::vector<std::vector<double>> out(static_cast<size_t>(P));
  for (int64_t r = 0; r < P; ++r)
    out[static_cast<size_t>(r)].assign(logits.begin() + r * c.vocab, logits.begin() + (r + 1) * c.vocab);
  return out;
}

std::pair<int32_t, double> top1_with_margin(const std::vector<double>& logits) {
  int32_t best = 0;
  double first = -std::numeric_limits<double>::infinity(), second = first;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double v = logits[i];
    if (v > first) {
      second = first;
      first = v;
      best = static_cast<int32_t>(i);
    } else if (v > second) {
      second = v;
    }
  }
  return {best, first - second};
}

LogitComparison compare_logits(const std::vector<double>& device, const std::vector<double>& reference) {
  LogitComparison c;
  auto [rt, margin] = top1_with_margin(reference);
  c.ref_top1 = rt;
  c.ref_margin = margin;
  c.device_top1 = top1_with_margin(device).first;
  c.nmse = validate::ref::nmse(device.data(), reference.data(), std::min(device.size(), reference.size()));
  auto log_softmax = [](const std::vector<double>& z) {
    const double m = *std::max_element(z.begin(), z.end());
    double s = 0;
    for (double v : z) s += std::exp(v - m);
    std::vector<double> out(z.size());
    for (size_t i = 0; i < z.size(); ++i) out[i] = z[i] - m - std::log(s);
    return out;
  };
  if (device.size() == reference.size() && !device.empty()) {
    const auto lp = log_softmax(reference), lq = log_softmax(device);
    double kl = 0;
    for (size_t i = 0; i < lp.size(); ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    c.kl = kl;
  } else {
    c.kl = std::numeric_limits<double>::infinity();
  }
  return c;
}

}  // namespace cmeter::models
