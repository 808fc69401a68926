// The decoder as a graph of ABI ops on one device (docs/abi-keys.md, "Op catalogue 1.1"): every op is
// created once per case with static shapes (prefill: one sequence's prompt_len rows; decode: one row
// per KV slot over the first r slots, one graph per bucket r = 1, 2, 4, ..., max_batch, the step
// taking the smallest bucket that holds the highest active slot, inactive slots below it masked), and
// what changes per call (token ids, positions, slots, lengths) is written into small device buffers
// before the enqueues. New queries take the lowest free slot (core/models/scenario.cpp), so a lightly
// loaded server decodes one or two rows, not max_batch. The decode
// token loop stays on the device: argmax.v1 writes the IDS that the next step's embedding.v1 reads.
// Attention runs as attention.v1 where the plugin has it, else composed on the same device from
// gemm.v1 (with offsets, ABI >= 1.1) and softmax.v1 with per-row lengths.
//
// Layout: activations are row-major [rows, width] (a column-major width x rows matrix for gemm.v1);
// a projection y = W x with W stored [out, in] is gemm(trans_a, A = W, m = out, n = rows, k = in).
// KV caches per layer: [slot][kv_head][capacity][head_dim] (kv_append.v1). The logits buffer holds one
// row per slot; a prefill writes its last row's logits into its slot's row, and one argmax over all
// rows refreshes the slots' next ids (the other rows' argmax is unchanged).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/key_values.h"
#include "core/models/llm_config.h"
#include "core/plugin/device.h"
#include "core/validate/dtype.h"

namespace cmeter::workloads {

struct GraphShape {
  models::LlmConfig config;
  DType dtype = DType::kBF16;
  int64_t prompt_len = 1;
  int64_t capacity = 1;  // prompt_len + output_len
  int64_t max_batch = 1;
};

// One enqueued op of the graph, with what a checker needs to recompute it on the host.
struct GraphStep {
  std::string label;  // "layer 0 wq", "layer 1 attention (composed QK head 3)"
  int64_t layer = -1;
  std::string op;  // "gemm.v1"
  const KeyValues* params = nullptr;
  std::vector<Buffer*> buffers;
};
// Called before and after each step is enqueued (the accuracy pass syncs and reads buffers there).
struct StepObserver {
  std::function<Status(const GraphStep&)> before;
  std::function<Status(const GraphStep&)> after;
};

// The decode buckets of a graph with `max_batch` slots: 1, 2, 4, ... below max_batch, then max_batch.
std::vector<int64_t> decode_buckets(int64_t max_batch);
// The bucket a decode step with these positions runs (pos[slot] < 0 or >= capacity: idle): the
// smallest that holds the highest active slot and at least `min_rows` rows.
int64_t decode_rows(const std::vector<int32_t>& pos, int64_t capacity, int64_t min_rows = 1);

class DeviceLlm {
 public:
  // The ops the graph needs with their params (for op_query before anything is allocated).
  static std::vector<std::pair<std::string, KeyValues>> required_ops(const GraphShape& shape,
                                                                     bool fused_attention, bool with_offsets);
  static KeyValues attention_params(const GraphShape& shape, int64_t rows);
  // Device bytes the graph allocates (weights, caches, activations).
  static uint64_t device_bytes(const GraphShape& shape, bool fused_attention);

  // Uploads the seeded weights, zeroes the caches and creates every op.
  static Result<std::unique_ptr<DeviceLlm>> create(const Device& device, Stream& stream,
                                                   const GraphShape& shape, uint64_t seed,
                                                   bool fused_attention);
  ~DeviceLlm();

  // Enqueues the prefill of `prompt` (prompt_len ids) into `slot`, then the argmax refreshing IDS.
  Status enqueue_prefill(int64_t slot, const std::vector<int32_t>& prompt,
                         const StepObserver* observer = nullptr);
  // Enqueues one decode step: pos[slot] is the position of the token each slot processes (-1: idle),
  // over the bucket decode_rows(pos, capacity, min_rows) (min_rows: the accuracy pass checks the
  // largest bucket's ops too).
  Status enqueue_decode(const std::vector<int32_t>& pos, const StepObserver* observer = nullptr,
                        int64_t min_rows = 1);
  // Enqueues a read of the slots' next ids (max_batch i32) into `ids` (valid after synchronize).
  Status enqueue_read_ids(std::vector<int32_t>& ids);
  // Enqueues a read of the logits (max_batch x vocab, storage dtype) into `bytes`.
  Status enqueue_read_logits(std::vector<uint8_t>& bytes);

  const GraphShape& shape() const { return shape_; }
  // "attention": "fused" | "composed", and each op name: the plugin's impl (ops with several
  // shapes list the distinct impls joined by " | ").
  std::map<std::string, std::string> op_paths() const;

  struct Impl;  // the buffers and ops (inference_graph.cpp)

 private:
  explicit DeviceLlm(std::unique_ptr<Impl> impl, GraphShape shape);
  std::unique_ptr<Impl> impl_;
  GraphShape shape_;
};

}  // namespace cmeter::workloads
