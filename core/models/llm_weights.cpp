// Weight and prompt generation (see llm_weights.h for the scales and why).
#include "core/models/llm_weights.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/models/counter_rng.h"
#include "core/validate/half.h"

namespace cmeter::models {
namespace {

constexpr uint64_t kRowGainStream = 1ull << 32;  // streams above this hold per-row gains
constexpr uint64_t kPromptStream = 1ull << 40;

double tensor_scale(const LlmConfig& c, const WeightTensor& t) {
  const double residual = 1.0 / std::sqrt(2.0 * static_cast<double>(c.layers));
  const double fan_in = std::sqrt(3.0 / static_cast<double>(t.cols));  // uniform[-1,1)·this: variance 1/cols
  if (t.kind == WeightKind::kEmbedding || t.kind == WeightKind::kLmHead) return fan_in;
  if (t.name.ends_with("wo")) return fan_in * residual;
  // silu(g)·u of unit-variance g and u has an RMS near 0.6: w_down makes up for it.
  if (t.name.ends_with("w_down")) return fan_in * residual * 1.7;
  return fan_in;
}

// An embedding or lm_head row's factor e^(±0.5).
double row_gain(uint64_t seed, const WeightTensor& t, int64_t row) {
  return std::exp(0.5 * counter_uniform(seed, kRowGainStream + t.id, static_cast<uint64_t>(row)));
}

}  // namespace

float weight_value(const LlmConfig& c, uint64_t seed, const WeightTensor& t, int64_t index) {
  const float u = counter_uniform(seed, t.id, static_cast<uint64_t>(index));
  if (t.kind == WeightKind::kNorm) {
    const double gain = t.name == "final_norm" ? kLogitScale : 1.0;
    return static_cast<float>(gain * (1.0 + 0.1 * u));
  }
  double v = tensor_scale(c, t) * u;
  if (t.kind == WeightKind::kEmbedding || t.kind == WeightKind::kLmHead) {
    // Rows of varying norm (a factor e^(±0.5)) give the logits a heavier upper tail, so the top-1
    // stands further from the runner-up than among equal-norm rows.
    v *= row_gain(seed, t, index / t.cols);
  }
  return static_cast<float>(v);
}

namespace {

// Elements [begin, end) of tensor t, in order, through fn(index, value): the values of weight_value,
// with the tensor's scale computed once and an embedding row's gain (one exp) once per row rather than
// per element (the same double operations in the same order, so the same floats).
template <typename Fn>
void generate(const LlmConfig& c, uint64_t seed, const WeightTensor& t, int64_t begin, int64_t end, Fn&& fn) {
  if (t.kind == WeightKind::kNorm) {
    for (int64_t i = begin; i < end; ++i) fn(i, weight_value(c, seed, t, i));
    return;
  }
  const double scale = tensor_scale(c, t);
  if (t.kind != WeightKind::kEmbedding && t.kind != WeightKind::kLmHead) {
    for (int64_t i = begin; i < end; ++i)
      fn(i, static_cast<float>(scale * counter_uniform(seed, t.id, static_cast<uint64_t>(i))));
    return;
  }
  for (int64_t i = begin; i < end;) {
    const int64_t row = i / t.cols, row_end = std::min(end, (row + 1) * t.cols);
    const double gain = row_gain(seed, t, row);
    for (; i < row_end; ++i) {
      double v = scale * counter_uniform(seed, t.id, static_cast<uint64_t>(i));
      v *= gain;
      fn(i, static_cast<float>(v));
    }
  }
}

// round_to(dtype, v) for a float v, by bits for the storage types (the uploads' own conversion).
float round_float(DType dtype, float v) {
  switch (dtype) {
    case DType::kBF16:
      return bf16_bits_to_f32(f32_to_bf16_bits(v));
    case DType::kF16:
      return f16_bits_to_f32(f32_to_f16_bits(v));
    case DType::kF32:
      return v;
    default:
      return static_cast<float>(round_to(dtype, v));
  }
}

constexpr int64_t kGrain = int64_t{1} << 16;

}  // namespace

void weight_values(const LlmConfig& c, uint64_t seed, const WeightTensor& t, DType dtype, int64_t begin,
                   int64_t end, float* out) {
  tbb::parallel_for(tbb::blocked_range<int64_t>(begin, end, kGrain), [&](const auto& r) {
    generate(c, seed, t, r.begin(), r.end(),
             [&](int64_t i, float v) { out[i - begin] = round_float(dtype, v); });
  });
}

std::vector<float> weight_values(const LlmConfig& c, uint64_t seed, const WeightTensor& t, DType dtype) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  weight_values(c, seed, t, dtype, 0, t.elements(), out.data());
  return out;
}

std::vector<uint8_t> weight_bytes(const LlmConfig& c, uint64_t seed, const WeightTensor& t, DType dtype) {
  const size_t size = size_bytes(dtype);
  std::vector<uint8_t> out(static_cast<size_t>(t.elements()) * size);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, t.elements(), kGrain), [&](const auto& r) {
    generate(c, seed, t, r.begin(), r.end(), [&](int64_t i, float v) {
      uint8_t* dst = out.data() + static_cast<size_t>(i) * size;
      if (dtype == DType::kBF16) {
        const uint16_t b = f32_to_bf16_bits(v);
        std::memcpy(dst, &b, 2);
      } else if (dtype == DType::kF16) {
        const uint16_t b = f32_to_f16_bits(v);
        std::memcpy(dst, &b, 2);
      } else {
        std::memcpy(dst, &v, 4);
      }
    });
  });
  return out;
}

std::vector<int32_t> prompt_tokens(const LlmConfig& c, uint64_t seed, int64_t query, int64_t length) {
  std::vector<int32_t> tokens(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i)
    tokens[static_cast<size_t>(i)] = static_cast<int32_t>(
        counter_bits(seed, kPromptStream + static_cast<uint64_t>(query), static_cast<uint64_t>(i)) %
        static_cast<uint64_t>(c.vocab));
  if (length >= 1) tokens[0] = static_cast<int32_t>(query % c.vocab);
  if (length >= 2) tokens[1] = static_cast<int32_t>((query / c.vocab) % c.vocab);
  return tokens;
}

}  // namespace cmeter::models
