// Host side of the training workload's `lm` form (docs/measurement.md, "Training"): a Llama-like
// student decoder (llm_config.h) trained with next-token cross-entropy on sequences that a seeded
// teacher decoder samples on the host before the clock. The quality is KL(teacher‖student) in nats
// per token on held-out sequences: the device reports its Monte Carlo form (the mean over held-out
// tokens of log p_teacher − log p_student, the teacher's term exact in FP64 on the host) would carry
// sampling noise of ~0.02 nats at 4096 held-out tokens, enough to move the step at which a run first
// crosses the target by hundreds. So the device computes the exact KL over the vocabulary: per row,
// cross-entropy against the sampled target (cross_entropy.v1) plus Σ_v (onehot − p_teacher)·logit
// (eltwise.v1 cast and mul, reduce.v1), which is logsumexp − Σ_v p_teacher·logit; minus the teacher's
// mean entropy. The host recomputes the same from the weights the device holds.
// The student's training step is one op graph (op_graph.h) built here from the ABI 1.1/1.2 op set:
// the device runs it through the plugin and the host replays it through the FP64 references
// (host_graph.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/host_graph.h"
#include "core/models/llm_config.h"
#include "core/models/op_graph.h"
#include "core/util/result.h"

namespace cmeter::models {

struct LmConfig {
  std::string name;
  LlmConfig student, teacher;
  int64_t seq_len = 0;               // tokens a training sequence predicts
  double teacher_temperature = 1.0;  // the teacher samples from softmax(logits / temperature)
  // The form's defaults for this model (each a profile param that overrides it): sequences per step,
  // training and held-out sequences, peak learning rate, target (held-out KL, nats per token), step
  // budget and evaluation interval.
  int64_t batch = 16, train_sequences = 4096, eval_sequences = 128;
  double lr = 1e-2, target = 0.5;
  int64_t max_steps = 3000, eval_every = 50;
};
// lm-tiny: a 2-layer student (hidden 64, 4 heads over 2 KV heads, ffn 128, vocab 64) learning a
// 1-layer teacher from 32-token sequences; trains to its target in seconds on 2 CPU cores, a step
// bound by op dispatch rather than GEMM throughput (the CI and smoke form).
// lm-small: a 2-layer student (hidden 256, 8 heads over 4 KV heads, ffn 768, vocab 256; 1.6 M
// parameters, ~22 GFLOP a step at 16 sequences of 128 tokens) learning a 1-layer teacher (hidden 64):
// large enough that GEMMs dominate a step, so its MFU measures the device rather than the launch path.
std::optional<LmConfig> lm_preset(std::string_view name);
std::vector<std::string> lm_preset_names();

// Sequences of seq_len + 1 tokens (inputs are tokens 0..T-1, targets 1..T), row-major; the held-out
// set also carries the teacher's log-probability of each target and its whole next-token
// distribution (float, vocab per position).
struct LmData {
  int64_t seq_len = 0, vocab = 0;
  std::vector<int32_t> train_ids, train_targets;  // [train_sequences·seq_len]
  std::vector<int32_t> eval_ids, eval_targets;    // [eval_sequences·seq_len]
  std::vector<double> eval_teacher_logp;          // log p_teacher(target), per held-out token
  std::vector<float> eval_teacher_probs;          // [eval tokens, vocab]
  std::vector<float> eval_soft;                   // p_teacher − onehot(target), [eval tokens, vocab]
  double eval_teacher_nll = 0;                    // mean of −eval_teacher_logp
  double eval_teacher_entropy = 0;                // mean entropy of the teacher's distributions
  int64_t train_sequences() const { return seq_len ? static_cast<int64_t>(train_ids.size()) / seq_len : 0; }
  int64_t eval_sequences() const { return seq_len ? static_cast<int64_t>(eval_ids.size()) / seq_len : 0; }
};
// Samples the data from the teacher of seed `seed` (FP64, KV-cached; parallel over sequences).
LmData make_lm_data(const LmConfig& c, int64_t train_sequences, int64_t eval_sequences, uint64_t seed);

// The student's initial value of tensor `t` under run seed `seed` (norm gains 1; the rest as the
// decoder's seeded generator scales them), f32.
std::vector<float> lm_student_init(const LmConfig& c, const WeightTensor& t, uint64_t seed);

// Fixed optimiser settings the graph's adamw.v1 ops carry.
struct LmOptimizer {
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.1;
};

// The student's graph at `batch` sequences per step, storage dtype `dtype`. Lists:
//   "forward"    ids → logits (embedding, the layers with attention composed from per-head batched
//                gemm.v1 and causal softmax.v1, final norm, lm_head);
//   "backward"   cross_entropy.v1 with its gradient, then every weight gradient (f32);
//   "update"     adamw.v1 on every tensor (HYPER = lr, step, grad_scale);
//   "train loss" the batch's mean loss into `train_loss`;
//   "eval K"     for held-out batch K: cross_entropy.v1 without gradient, plus −Σ (p_teacher −
//                onehot)·logit, summed into `eval_sum` (accumulating): the batch's soft cross-entropy;
//   "grad norm"  the gradients' squared norm into `grad_norm` (f16 loss scaling).
struct LmGraph {
  OpGraph graph;
  int64_t batch = 0, rows = 0;  // rows = batch · seq_len
  DType dtype = DType::kBF16;
  int ids = -1, targets = -1, pos = -1, len = -1, gscale = -1, hyper = -1;
  int train_loss = -1, eval_sum = -1, grad_norm = -1, logits = -1;
  struct Param {
    WeightTensor tensor;
    int stored = -1, master = -1, grad = -1, m = -1, v = -1;
  };
  std::vector<Param> params;
  std::vector<int> eval_soft;  // per held-out batch: p_teacher − onehot, f32 [rows, vocab] (uploaded once)
  // The constant inputs: positions (row r: r mod seq_len) and softmax lengths (t + 1).
  std::vector<int32_t> pos_values() const;
  std::vector<int32_t> len_values() const;
  int64_t seq_len = 0;
  LlmConfig model;  // the student
};
Result<LmGraph> build_lm_graph(const LmConfig& c, int64_t batch, DType dtype, const LmOptimizer& opt,
                               int64_t eval_batches = 1);

// Model tensor FLOPs (MLPerf's: the projections, lm_head and the causal half of the attention products,
// llm_config.h forward_flop) of one evaluation pass over `batch` sequences, and of one training step
// (3x: the backward computes each product's two gradients). The graph's GEMMs compute the whole T×T
// score square (the mask is applied by softmax), a few percent more than this counts.
double lm_step_flop(const LmGraph& g);
double lm_eval_flop(const LmGraph& g);

// The host's replay of the graph: weights set from float vectors (masters f32, stored rounded),
// steps run through host_graph.h.
class HostLm {
 public:
  explicit HostLm(const LmGraph& g) : g_(g), host_(g.graph) {}
  // Masters (f32) per param in graph order; the stored copies are their rounding; moments zero.
  void reset(const std::vector<std::vector<float>>& masters);
  // Stored weights only (the quality recomputation from the device's read-back copies).
  void set_stored(const std::vector<std::vector<float>>& stored);
  // One training step on batch `index` of the training set: forward, backward, update with
  // (lr, step, grad_scale); gscale is the cross-entropy gradient's factor (1/rows × loss scale).
  Status step(const LmData& d, int64_t index, double lr, double step, double grad_scale, double gscale);
  std::vector<std::vector<float>> masters() const;
  // Quality of the stored weights on the held-out set: the exact KL over the vocabulary (as the device
  // computes it) and its Monte Carlo form over the sampled tokens, nats per token.
  struct Quality {
    double mc_kl = 0, exact_kl = 0;
  };
  Result<Quality> quality(const LmData& d);
  // The exact KL as the device computes it: the graph's "eval K" lists through the host executor.
  Result<double> graph_quality(const LmData& d);

 private:
  const LmGraph& g_;
  HostGraph host_;
};

// The batch `index` (mod the set's batches) of `batch` sequences: ids and targets, each rows values.
const int32_t* lm_batch_ids(const LmData& d, bool eval, int64_t index, int64_t batch);
const int32_t* lm_batch_targets(const LmData& d, bool eval, int64_t index, int64_t batch);

}  // namespace cmeter::models
