// Host side of the `training` workload (docs/measurement.md, "Training"): the student/teacher MLP
// form's configuration and presets, the fixed hyperparameters a profile sets, the data a seeded teacher
// defines (generated on the host before the clock), the FP32 host trainer that mirrors the device
// graph's storage rounding step by step (the trajectory check replays the first steps with it), the
// host recomputation of the quality from read-back weights, and the run statistics (olympic mean, the
// reference band). Pure host code: the profile parser checks params through it and the unit tests train
// without a device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/key_values.h"
#include "core/models/lm_training.h"
#include "core/util/result.h"
#include "core/validate/dtype.h"

namespace cmeter::models {

// y = W2 · swiglu(W1 · x): W1 is [2·hidden, in] (gate rows then up rows, as swiglu.v1 reads them), W2
// is [out, hidden]; the teacher has the same form at `teacher_hidden`.
struct MlpConfig {
  std::string name;
  int64_t in = 0, hidden = 0, out = 0, teacher_hidden = 0;
  int64_t parameters() const { return 2 * hidden * in + out * hidden; }
};
// mlp-tiny (CI smoke: 64 -> 128 -> 16, teacher 32 wide), mlp-small (256 -> 512 -> 64, teacher 64).
std::optional<MlpConfig> mlp_preset(std::string_view name);
std::vector<std::string> mlp_preset_names();

// The lm form's default quality target: KL(teacher‖student) in nats per token on the held-out set.
inline constexpr double kLmDefaultTarget = 0.5;

// Everything fixed by the profile: a vendor cannot change it (the workload rejects unknown keys).
struct TrainSettings {
  std::string form = "mlp";  // "mlp" or "lm"
  MlpConfig mlp;
  LmConfig lm;                 // form lm: the student and teacher decoders; batch and samples count sequences
  DType dtype = DType::kBF16;  // storage of weights and activations; master weights and moments f32
  int64_t batch = 64;
  int64_t train_samples = 4096;  // the training set (step s reads batch (s mod batches))
  int64_t eval_samples = 512;    // held-out set
  double lr = 1e-2;              // peak learning rate, after `warmup_steps` of linear warm-up
  int64_t warmup_steps = 20;
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.1;
  int64_t max_steps = 2000;  // step budget: not at the target by then is `failed`
  int64_t eval_every = 20;
  double target = 0.05;  // mlp: eval MSE / mean square of the targets; lm: KL(teacher‖student), nats/token
  int64_t runs = 1;      // runs with different seeds; olympic mean from 3 on
  int64_t replay_steps = 4;
  double loss_scale = 1024;  // f16 only: initial core-managed loss scale
  int64_t batches() const { return train_samples / batch; }
  const std::string& model_name() const { return form == "lm" ? lm.name : mlp.name; }
};

// Reads a `training` case's params (unknown keys and bad ranges are errors); keys read go to `used`.
Result<TrainSettings> train_settings_from_params(const KeyValues& params);
// One param as the profile gives it: "" when fine, else the message (profile parser: file:line:col).
std::string check_training_param(const std::string& key, const Value& value);
const std::vector<std::string>& training_param_keys();

// Learning rate of step `step` (0-based): linear warm-up to lr, then constant.
double learning_rate(const TrainSettings& s, int64_t step);
// Sum of the learning rates of steps 0..steps-1.
double learning_rate_sum(const TrainSettings& s, int64_t steps);
// Model tensor FLOPs of one training step (forward 2·params·batch, backward twice that).
double mlp_step_flop(const MlpConfig& c, int64_t batch);
double mlp_eval_flop(const MlpConfig& c, int64_t samples);

// Core-managed loss scaling (f16): the loss gradient is multiplied by `scale`, the optimiser divides
// it out (adamw.v1's grad_scale); a step whose gradients overflowed (a non-finite squared norm) is
// skipped and the scale halved; after `growth_interval` clean steps it doubles. Disabled: scale 1.
struct LossScaler {
  bool enabled = false;
  double scale = 1;
  int64_t growth_interval = 200;
  int64_t good_steps = 0, skips = 0;
  // Records one step's outcome; returns whether its update is applied.
  bool update(bool gradients_finite);
};
LossScaler make_loss_scaler(const TrainSettings& s);

// Row-major tensors as float (values already rounded to the storage dtype where the device stores
// them so).
struct MlpWeights {
  std::vector<float> w1, w2;
};
// The student's initial master weights (f32) of run seed `seed`, and the teacher's (exact in dtype).
MlpWeights student_init(const MlpConfig& c, uint64_t seed);
MlpWeights teacher_weights(const MlpConfig& c, uint64_t seed, DType dtype);

// The data a seeded teacher defines: inputs uniform in [-1, 1) (exact in every storage dtype), targets
// the teacher's FP64 outputs rounded to `dtype`. Row-major [samples, in] and [samples, out].
struct MlpData {
  std::vector<float> x_train, t_train, x_eval, t_eval;
  double eval_target_mean_square = 0;  // the zero predictor's MSE on the held-out set
};
MlpData make_mlp_data(const TrainSettings& s, uint64_t seed);

// FP64 forward of the held-out set with weights as the device holds them (rounded to dtype); returns
// the normalised MSE (MSE / mean square of the targets): the host-recomputed quality.
double mlp_eval_nmse(const MlpConfig& c, const MlpWeights& w, const MlpData& d);

// The FP32 host trainer: the device graph's arithmetic (f32 accumulation, results rounded to the
// storage dtype wherever the device stores them in it, f32 gradients and AdamW state), one step at a
// time. The trajectory check compares its master weights after `replay_steps` with the device's.
class HostMlpTrainer {
 public:
  HostMlpTrainer(const TrainSettings& s, const MlpData& data, uint64_t seed);
  void step();
  int64_t steps_done() const { return step_; }
  const MlpWeights& master() const { return master_; }
  // The storage copy the forward reads (master rounded to dtype).
  MlpWeights stored() const;
  double last_loss() const { return last_loss_; }  // training-batch MSE of the last step's forward
  const LossScaler& scaler() const { return scaler_; }

 private:
  const TrainSettings& s_;
  const MlpData& d_;
  MlpWeights master_, m_, v_;
  LossScaler scaler_;
  int64_t step_ = 0, applied_ = 0;
  double last_loss_ = 0;
};

// Trajectory comparison of sampled master weights after `steps` steps: each element's error is
// |device − host| / bound, with bound the sum of the steps' learning rates (how far Adam's normalised
// update may move a weight, weight decay aside), and the check passes when
// the 90th percentile is within `tolerance` (a rare near-zero gradient whose Adam update flips sign does
// not fail it; a skipped or wrong term in every update does).
struct TrajectoryCheck {
  int64_t steps = 0;
  int64_t sampled = 0;
  double p90_error = 0, max_error = 0, tolerance = 0;
  double median_error = 0;  // the lm form's rule (workloads/training.cpp)
  bool passed = false;
  std::string worst;  // "w1[123]: device 0.0123, host 0.0119"
};
// The same over any set of named tensors (device and host values of each, same sizes): samples are
// drawn over their concatenation and the worst is named "name[index]".
struct TrajectoryTensor {
  std::string name;
  const std::vector<float>* device = nullptr;
  const std::vector<float>* host = nullptr;
};
TrajectoryCheck compare_trajectory(const std::vector<TrajectoryTensor>& tensors, double bound, int64_t steps,
                                   double tolerance, uint64_t seed, int64_t samples = 512);
TrajectoryCheck compare_trajectory(const MlpWeights& device, const MlpWeights& host, double bound,
                                   int64_t steps, double tolerance, uint64_t seed, int64_t samples = 512);

// Olympic mean: drop the fastest and slowest when there are at least 3 values, average the rest.
double olympic_mean(std::vector<double> values);

// The reference band of steps to target (measured with the host trainer, docs/measurement.md): a run
// reaching the target in fewer steps than `min_steps` is implausible. Known only for a preset at the
// profile's default hyperparameters; nullopt otherwise (the report says no band applied).
struct ReferenceBand {
  int64_t min_steps = 0, max_steps = 0;
  std::string source;
};
std::optional<ReferenceBand> reference_band(const TrainSettings& s);

}  // namespace cmeter::models
