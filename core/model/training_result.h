// TrainingResult: what the `training` workload adds to a CaseResult (the model and the fixed
// hyperparameters, each run with its logged seed, time to quality, loss/quality curve and anti-cheat
// checks, the olympic mean over the runs, throughput and MFU). Plain data with one JSON form, which the
// report schema and renderers read under "training"; absent for every other workload.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace cmeter {

struct TrainingCurvePoint {
  int64_t step = 0;       // steps done when evaluated
  double time_s = 0;      // clock at the evaluation's read-back
  double train_loss = 0;  // last training batch's loss (mlp: MSE / mean square of targets)
  double quality = 0;     // held-out quality the device computed (mlp: eval NMSE)
  double loss_scale = 0;  // f16: the loss scale in force; 0 otherwise
};

struct TrainingRun {
  int64_t index = 0;
  uint64_t seed = 0;
  bool converged = false;
  double time_to_quality_s = 0;        // converged runs: from the first step to the evaluation at the target
  int64_t steps = 0;                   // steps done (to the target, or the whole budget)
  double device_quality = 0;           // last evaluation on the device
  std::optional<double> host_quality;  // recomputed on the host from the read-back weights
  std::optional<double> tokens_per_s;  // lm: training tokens per second
  double samples_per_s = 0;
  std::optional<double> mfu;
  int64_t loss_scale_skips = 0;  // f16: steps skipped after a gradient overflow
  // Trajectory check after replay_steps (training.h: p90 of |device − host| / Σ lr).
  int64_t trajectory_steps = 0;
  double trajectory_p90 = 0, trajectory_max = 0;
  std::optional<double> trajectory_median;  // lm (1.4): its rule is on the median
  bool trajectory_passed = false;
  std::string trajectory_worst;
  std::optional<double> energy_j;
  std::string problem;  // "" for a clean run; else why it does not count
  std::vector<TrainingCurvePoint> curve;
};

struct TrainingResult {
  std::string form;  // mlp or lm
  std::string model;
  std::string dtype;
  int64_t parameters = 0;
  nlohmann::json hyperparameters = nlohmann::json::object();
  std::string quality_metric;  // "eval NMSE (MSE / mean square of the teacher's targets)"
  double target = 0;
  double step_flop = 0;  // model tensor FLOPs per training step
  int64_t samples_per_step = 0;
  std::optional<double> olympic_mean_s;  // time to quality over the converged runs
  std::optional<double> spread;          // (slowest − fastest) / olympic mean over converged runs
  int64_t converged_runs = 0;
  std::optional<double> mfu;  // olympic-mean run's model FLOP/s ÷ declared peak
  std::string mfu_peak_key;
  std::optional<int64_t> band_min_steps, band_max_steps;  // reference band; absent when none applies
  std::string band_source;
  double trajectory_tolerance = 0;
  double quality_tolerance = 0;                 // |device − host| allowed on the final quality (relative)
  std::map<std::string, std::string> op_paths;  // op name: impl
  std::vector<TrainingRun> runs;
};

nlohmann::json to_json(const TrainingResult& r);
Result<TrainingResult> training_result_from_json(const nlohmann::json& j);

}  // namespace cmeter
