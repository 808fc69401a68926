// The decoder's host reference: the same model as the device graph (same seeded weights, rounded to
// the storage dtype exactly as uploaded), computed with FP64 arithmetic through the op references of
// core/validate/op_reference.h. The accuracy pass and the audit run it teacher-forced on the device's
// own tokens, so one near-tie the device resolved the other way does not derail the comparison of
// every later step. Also the logit comparisons they use (top-1 and its margin, NMSE, KL).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/models/llm_config.h"
#include "core/util/scratch_buffer.h"
#include "core/validate/dtype.h"

namespace cmeter::models {

class LlmReference {
 public:
  // Weights are kept in memory (as float) up to `cache_elements`, else regenerated per forward.
  LlmReference(LlmConfig config, uint64_t seed, DType dtype, int64_t cache_elements = int64_t{64} << 20);
  ~LlmReference();
  LlmReference(const LlmReference&) = delete;
  LlmReference& operator=(const LlmReference&) = delete;

  const LlmConfig& config() const { return config_; }
  // Teacher-forced forward over `tokens` (positions 0..T-1, causal); returns the logits of each row
  // in `positions` (each vocab values), in that order.
  std::vector<std::vector<double>> logits(const std::vector<int32_t>& tokens,
                                          const std::vector<int64_t>& positions) const;

 private:
  // Tensor `index` as floats: the cached copy, or regenerated into `scratch`.
  const float* weights(size_t index, ScratchBuffer<float>& scratch) const;
  LlmConfig config_;
  uint64_t seed_;
  DType dtype_;
  std::vector<WeightTensor> tensors_;
  std::vector<std::vector<float>> cache_;  // empty when not cached
};

struct LogitComparison {
  int32_t ref_top1 = 0;
  int32_t device_top1 = 0;
  double ref_margin = 0;  // reference top-1 minus runner-up
  double nmse = 0;        // device vs reference logits
  double kl = 0;          // KL(softmax(ref) || softmax(device)), nats
};
LogitComparison compare_logits(const std::vector<double>& device, const std::vector<double>& reference);
// Top-1 index (lowest on ties) and its margin over the runner-up.
std::pair<int32_t, double> top1_with_margin(const std::vector<double>& logits);

}  // namespace cmeter::models
