// The accuracy pass's op-local check: every step of the decoder graph is recomputed on the host from
// the device's own inputs (read back before the step) with the FP64 op references and compared with
// the device's output (read back after it) by normalised mean squared error over the elements the op
// touched. The first step over its limit names the layer and op that diverged, so a subtly wrong
// kernel (rope off by one position, a mask off by one) is named rather than found as bad logits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/plugin/device.h"
#include "core/util/scratch_buffer.h"
#include "core/validate/dtype.h"
#include "core/workloads/inference_graph.h"

namespace cmeter::workloads {

// Per-op NMSE limit for a storage dtype: about 100x the error of rounding a correct result once.
double op_nmse_limit(DType dtype);

class StepChecker {
 public:
  StepChecker(Stream& stream, DType dtype) : stream_(stream), dtype_(dtype) {}
  // An observer to pass to DeviceLlm's enqueue calls.
  StepObserver observer();
  int64_t steps_checked() const { return steps_; }
  double worst_nmse() const { return worst_; }
  // The first step over its limit ("layer 0 rope (q) (rope.v1, impl ...): NMSE 3e-2 > 1e-4").
  const std::optional<std::string>& first_divergence() const { return first_; }

 private:
  Status before(const GraphStep& step);
  Status after(const GraphStep& step);
  Stream& stream_;
  DType dtype_;
  std::vector<std::vector<uint8_t>> inputs_;  // per step buffer, read before the step
  ScratchBuffer<float> weights_;              // a gemm step's A (the weights), widened
  int64_t steps_ = 0;
  double worst_ = 0;
  std::optional<std::string> first_;
};

}  // namespace cmeter::workloads
