// The decoder's weights and prompts, generated from the run's seed by the counter-based generator
// (counter_rng.h): element i of tensor t is a function of (seed, t, i) alone, so a tensor (or a single
// weight) can be regenerated on the host at any time without the rest, and nothing is downloaded.
// Scales keep activations O(1) through the layers: projections at unit gain (uniform with variance
// 1/fan_in), the residual writers (wo, w_down) at 1/sqrt(2·layers), the embedding rows at unit norm
// (so a tied lm_head does not simply echo the input token), and the final norm's gain sets the logit
// spread (kLogitScale) so the greedy top-1 usually stands clear of low-precision noise (measured in
// llm_weights_test.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/models/llm_config.h"
#include "core/validate/dtype.h"

namespace cmeter::models {

// Standard deviation the logits aim at (the final norm's gain).
inline constexpr double kLogitScale = 4.0;

// Weight element `index` (row-major) of tensor `t`, before storage rounding.
float weight_value(const LlmConfig& config, uint64_t seed, const WeightTensor& t, int64_t index);
// The whole tensor rounded to `dtype` and widened to float (exact for f16, bf16 and f32): the values
// the device holds, as the host reference reads them.
std::vector<float> weight_values(const LlmConfig& config, uint64_t seed, const WeightTensor& t, DType dtype);
// Elements [begin, end) of the same into out[0, end - begin) (parallel; no allocation).
void weight_values(const LlmConfig& config, uint64_t seed, const WeightTensor& t, DType dtype, int64_t begin,
                   int64_t end, float* out);
// The whole tensor in `dtype`'s bytes, ready to upload.
std::vector<uint8_t> weight_bytes(const LlmConfig& config, uint64_t seed, const WeightTensor& t, DType dtype);

// The prompt of query `query`: `length` token ids in [0, vocab). Distinct queries get distinct prompts
// (the first two tokens spell the query number when length >= 2 and queries < vocab²).
std::vector<int32_t> prompt_tokens(const LlmConfig& config, uint64_t seed, int64_t query, int64_t length);

}  // namespace cmeter::models
