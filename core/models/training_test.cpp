// The training workload's host side: params are checked like the profile checks them, the seeded data
// is reproducible, the mirror trainer learns, the trajectory comparison separates a skipped weight
// decay from a faithful replay, loss scaling skips overflowed steps, and the olympic mean drops the
// extremes.
#include "core/models/training.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cmeter::models {
namespace {

TEST_CASE("training params: defaults, unknown keys, ranges and presets") {
  auto s = train_settings_from_params({});
  REQUIRE(s.ok());
  CHECK(s->mlp.name == "mlp-tiny");
  CHECK(s->dtype == DType::kBF16);
  CHECK(s->batches() == s->train_samples / s->batch);
  CHECK(check_training_param("lr", 0.01).empty());
  CHECK(check_training_param("learning_rate", 0.01).find("unknown training parameter") != std::string::npos);
  CHECK(check_training_param("dtype", std::string("f64")).find("bf16, f16 or f32") != std::string::npos);
  CHECK(check_training_param("model", std::string("mlp-huge")).find("unknown training model") !=
        std::string::npos);
  CHECK(check_training_param("form", std::string("lm")).empty());
  CHECK(check_training_param("form", std::string("cnn")).find("unknown training form") != std::string::npos);
  CHECK(check_training_param("model", std::string("lm-tiny")).empty());
  // A model of the other form is named as such.
  auto mixed = train_settings_from_params({{"form", std::string("lm")}, {"model", std::string("mlp-tiny")}});
  REQUIRE_FALSE(mixed.ok());
  CHECK(mixed.error().message.find("not an lm model") != std::string::npos);
  CHECK_FALSE(train_settings_from_params({{"model", std::string("lm-tiny")}}).ok());
  // The lm form's defaults, and whole held-out batches.
  auto lm = train_settings_from_params({{"form", std::string("lm")}});
  REQUIRE(lm.ok());
  CHECK(lm->lm.name == "lm-tiny");
  CHECK(lm->model_name() == "lm-tiny");
  CHECK(lm->target == doctest::Approx(kLmDefaultTarget));
  CHECK(lm->eval_samples % lm->batch == 0);
  CHECK_FALSE(train_settings_from_params({{"form", std::string("lm")}, {"eval_samples", int64_t{100}}}).ok());
  // lm-small brings its own defaults (a profile param still overrides each), and no reference band
  // (not measured for it: docs/results/training-cpu.md).
  auto lm_small =
      train_settings_from_params({{"form", std::string("lm")}, {"model", std::string("lm-small")}});
  REQUIRE(lm_small.ok());
  CHECK(lm_small->lm.student.hidden == 512);
  CHECK(lm_small->lm.seq_len == 128);
  CHECK(lm_small->target == doctest::Approx(0.85));
  CHECK(lm_small->lr == doctest::Approx(3e-3));
  CHECK(lm_small->eval_every == 10);
  CHECK(lm_small->train_samples == 4096);
  CHECK(lm_small->eval_samples % lm_small->batch == 0);
  CHECK_FALSE(reference_band(*lm_small).has_value());
  auto overridden = train_settings_from_params(
      {{"form", std::string("lm")}, {"model", std::string("lm-small")}, {"target", 0.8}, {"lr", 1e-3}});
  REQUIRE(overridden.ok());
  CHECK(overridden->target == doctest::Approx(0.8));
  CHECK(overridden->lr == doctest::Approx(1e-3));
  CHECK(reference_band(*lm).has_value());  // lm-tiny's, measured
  CHECK(check_training_param("batch", int64_t{0}).find("outside") != std::string::npos);
  CHECK(check_training_param("batch", 1.5).find("integer") != std::string::npos);
  CHECK_FALSE(train_settings_from_params({{"batch", int64_t{64}}, {"train_samples", int64_t{32}}}).ok());
  CHECK_FALSE(train_settings_from_params({{"weight_decay", std::string("0.1")}}).ok());
  auto small = train_settings_from_params({{"model", std::string("mlp-small")}, {"runs", int64_t{5}}});
  REQUIRE(small.ok());
  CHECK(small->mlp.in == 256);
  CHECK(small->runs == 5);
}

TEST_CASE("training data: a pure function of the seed, targets O(1), the zero predictor scores 1") {
  TrainSettings s =
      *train_settings_from_params({{"train_samples", int64_t{256}}, {"eval_samples", int64_t{64}}});
  const MlpData a = make_mlp_data(s, 1), b = make_mlp_data(s, 1), c = make_mlp_data(s, 2);
  CHECK(a.t_train == b.t_train);
  CHECK(a.t_train != c.t_train);
  CHECK(a.x_train.size() == 256 * 64);
  CHECK(a.eval_target_mean_square > 0.1);
  CHECK(a.eval_target_mean_square < 10);
  MlpWeights zero{std::vector<float>(static_cast<size_t>(2 * s.mlp.hidden * s.mlp.in), 0.0f),
                  std::vector<float>(static_cast<size_t>(s.mlp.out * s.mlp.hidden), 0.0f)};
  CHECK(mlp_eval_nmse(s.mlp, zero, a) == doctest::Approx(1.0));
}

TEST_CASE("host trainer: the loss falls, and the trajectory check catches a skipped weight decay") {
  TrainSettings s =
      *train_settings_from_params({{"train_samples", int64_t{512}}, {"eval_samples", int64_t{64}}});
  const MlpData d = make_mlp_data(s, 7);
  HostMlpTrainer a(s, d, 7);
  a.step();
  const double first = a.last_loss();
  for (int i = 0; i < 40; ++i) a.step();
  CHECK(a.last_loss() < 0.8 * first);
  CHECK(a.steps_done() == 41);

  TrainSettings no_decay = s;
  no_decay.weight_decay = 0;
  HostMlpTrainer faithful(s, d, 7), skipped(no_decay, d, 7), again(s, d, 7);
  for (int i = 0; i < 4; ++i) {
    faithful.step();
    skipped.step();
    again.step();
  }
  const double bound = learning_rate_sum(s, 4);
  CHECK(bound == doctest::Approx(s.lr * (1 + 2 + 3 + 4) / (s.warmup_steps + 1.0)));
  const TrajectoryCheck same = compare_trajectory(again.master(), faithful.master(), bound, 4, 2e-3, 3);
  CHECK(same.passed);
  CHECK(same.p90_error == 0);
  const TrajectoryCheck bad = compare_trajectory(skipped.master(), faithful.master(), bound, 4, 2e-3, 3);
  CHECK_FALSE(bad.passed);
  CHECK(bad.p90_error > 5e-3);  // measured near 2e-2: wd · |w| for the typical weight
  CHECK(bad.worst.find("device") != std::string::npos);
  // The student changed: the masters moved by about the learning rates' sum, no more.
  double moved = 0;
  const MlpWeights init = student_init(s.mlp, 7);
  for (size_t i = 0; i < init.w1.size(); ++i)
    moved = std::max(moved, double(std::abs(init.w1[i] - faithful.master().w1[i])));
  CHECK(moved > 0.5 * bound);
  CHECK(moved < 1.5 * bound);
}

TEST_CASE("loss scaler: an overflow skips the step and halves the scale; clean steps grow it") {
  TrainSettings s;
  s.dtype = DType::kF16;
  s.loss_scale = 1024;
  LossScaler l = make_loss_scaler(s);
  CHECK(l.enabled);
  CHECK_FALSE(l.update(false));
  CHECK(l.scale == 512);
  CHECK(l.skips == 1);
  l.growth_interval = 3;
  CHECK(l.update(true));
  CHECK(l.update(true));
  CHECK(l.update(true));
  CHECK(l.scale == 1024);
  s.dtype = DType::kBF16;
  LossScaler off = make_loss_scaler(s);
  CHECK(off.scale == 1);
  CHECK(off.update(false));  // bf16: no scaling, every step applies
}

TEST_CASE("olympic mean and the reference band") {
  CHECK(olympic_mean({3, 1, 10, 2}) == doctest::Approx(2.5));
  CHECK(olympic_mean({4}) == 4);
  CHECK(olympic_mean({4, 6}) == 5);
  CHECK(std::isnan(olympic_mean({})));
  TrainSettings s = *train_settings_from_params({{"runs", int64_t{5}}, {"max_steps", int64_t{900}}});
  auto band = reference_band(s);
  REQUIRE(band);
  CHECK(band->min_steps > 0);
  CHECK(band->min_steps < band->max_steps);
  s.lr = 0.05;
  CHECK_FALSE(reference_band(s));
}

}  // namespace
}  // namespace cmeter::models
