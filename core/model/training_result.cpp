// JSON form of TrainingResult (the "training" member of a case result): field names are the contract
// the report schema and renderers read; non-finite numbers become null, unknown figures null.
#include "core/model/training_result.h"

#include <cmath>

#include "core/model/json_fields.h"

namespace cmeter {
nlohmann::json to_json(const TrainingResult& r) {
  nlohmann::json runs = nlohmann::json::array();
  for (const TrainingRun& run : r.runs) {
    nlohmann::json curve = nlohmann::json::array();
    for (const TrainingCurvePoint& p : run.curve)
      curve.push_back({{"step", p.step},
                       {"time_s", json_fields::num(p.time_s)},
                       {"train_loss", json_fields::num(p.train_loss)},
                       {"quality", json_fields::num(p.quality)},
                       {"loss_scale", json_fields::num(p.loss_scale)}});
    runs.push_back({{"index", run.index},
                    {"seed", run.seed},
                    {"converged", run.converged},
                    {"time_to_quality_s",
                     run.converged ? json_fields::num(run.time_to_quality_s) : nlohmann::json(nullptr)},
                    {"steps", run.steps},
                    {"device_quality", json_fields::num(run.device_quality)},
                    {"host_quality", json_fields::opt(run.host_quality)},
                    {"samples_per_s", json_fields::num(run.samples_per_s)},
                    {"mfu", json_fields::opt(run.mfu)},
                    {"loss_scale_skips", run.loss_scale_skips},
                    {"trajectory",
                     {{"steps", run.trajectory_steps},
                      {"p90_error", json_fields::num(run.trajectory_p90)},
                      {"max_error", json_fields::num(run.trajectory_max)},
                      {"passed", run.trajectory_passed},
                      {"worst", run.trajectory_worst}}},
                    {"energy_j", json_fields::opt(run.energy_j)},
                    {"problem", run.problem},
                    {"curve", std::move(curve)}});
    // The lm form only (schema 1.4): tokens per second and the exact KL over the vocabulary.
    if (run.tokens_per_s) runs.back()["tokens_per_s"] = json_fields::num(*run.tokens_per_s);
    if (run.trajectory_median)
      runs.back()["trajectory"]["median_error"] = json_fields::num(*run.trajectory_median);
  }
  nlohmann::json band = nullptr;
  if (r.band_min_steps && r.band_max_steps)
    band = {{"min_steps", *r.band_min_steps}, {"max_steps", *r.band_max_steps}, {"source", r.band_source}};
  return {{"form", r.form},
          {"model", r.model},
          {"dtype", r.dtype},
          {"parameters", r.parameters},
          {"hyperparameters", r.hyperparameters},
          {"quality_metric", r.quality_metric},
          {"target", json_fields::num(r.target)},
          {"step_flop", json_fields::num(r.step_flop)},
          {"samples_per_step", r.samples_per_step},
          {"olympic_mean_s", json_fields::opt(r.olympic_mean_s)},
          {"spread", json_fields::opt(r.spread)},
          {"converged_runs", r.converged_runs},
          {"mfu", json_fields::opt(r.mfu)},
          {"mfu_peak_key", r.mfu_peak_key},
          {"reference_band", band},
          {"trajectory_tolerance", json_fields::num(r.trajectory_tolerance)},
          {"quality_tolerance", json_fields::num(r.quality_tolerance)},
          {"op_paths", r.op_paths},
          {"runs", std::move(runs)}};
}

Result<TrainingResult> training_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "training: not an object");
  TrainingResult r;
  r.form = json_fields::read_text(j, "form");
  r.model = json_fields::read_text(j, "model");
  r.dtype = json_fields::read_text(j, "dtype");
  r.parameters = json_fields::read_int(j, "parameters");
  if (auto it = j.find("hyperparameters"); it != j.end() && it->is_object()) r.hyperparameters = *it;
  r.quality_metric = json_fields::read_text(j, "quality_metric");
  r.target = json_fields::read_num(j, "target");
  r.step_flop = json_fields::read_num(j, "step_flop");
  r.samples_per_step = json_fields::read_int(j, "samples_per_step");
  r.olympic_mean_s = json_fields::read_opt(j, "olympic_mean_s");
  r.spread = json_fields::read_opt(j, "spread");
  r.converged_runs = json_fields::read_int(j, "converged_runs");
  r.mfu = json_fields::read_opt(j, "mfu");
  r.mfu_peak_key = json_fields::read_text(j, "mfu_peak_key");
  if (auto it = j.find("reference_band"); it != j.end() && it->is_object()) {
    r.band_min_steps = json_fields::read_int(*it, "min_steps");
    r.band_max_steps = json_fields::read_int(*it, "max_steps");
    r.band_source = json_fields::read_text(*it, "source");
  }
  r.trajectory_tolerance = json_fields::read_num(j, "trajectory_tolerance");
  r.quality_tolerance = json_fields::read_num(j, "quality_tolerance");
  if (auto it = j.find("op_paths"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) r.op_paths[k] = v.get<std::string>();
  auto runs = j.find("runs");
  if (runs == j.end() || !runs->is_array())
    return make_error(ErrorCode::kInvalidArgument, "training: no runs");
  for (const nlohmann::json& rj : *runs) {
    if (!rj.is_object()) return make_error(ErrorCode::kInvalidArgument, "training: a run is not an object");
    TrainingRun run;
    run.index = json_fields::read_int(rj, "index");
    if (auto it = rj.find("seed"); it != rj.end() && it->is_number_unsigned()) run.seed = it->get<uint64_t>();
    run.converged = json_fields::read_flag(rj, "converged");
    run.time_to_quality_s = json_fields::read_num(rj, "time_to_quality_s");
    run.steps = json_fields::read_int(rj, "steps");
    run.device_quality = json_fields::read_num(rj, "device_quality");
    run.host_quality = json_fields::read_opt(rj, "host_quality");
    run.tokens_per_s = json_fields::read_opt(rj, "tokens_per_s");
    run.samples_per_s = json_fields::read_num(rj, "samples_per_s");
    run.mfu = json_fields::read_opt(rj, "mfu");
    run.loss_scale_skips = json_fields::read_int(rj, "loss_scale_skips");
    if (auto t = rj.find("trajectory"); t != rj.end() && t->is_object()) {
      run.trajectory_steps = json_fields::read_int(*t, "steps");
      run.trajectory_p90 = json_fields::read_num(*t, "p90_error");
      run.trajectory_max = json_fields::read_num(*t, "max_error");
      run.trajectory_median = json_fields::read_opt(*t, "median_error");
      run.trajectory_passed = json_fields::read_flag(*t, "passed");
      run.trajectory_worst = json_fields::read_text(*t, "worst");
    }
    run.energy_j = json_fields::read_opt(rj, "energy_j");
    run.problem = json_fields::read_text(rj, "problem");
    if (auto c = rj.find("curve"); c != rj.end() && c->is_array())
      for (const nlohmann::json& p : *c)
        run.curve.push_back({json_fields::read_int(p, "step"), json_fields::read_num(p, "time_s"),
                             json_fields::read_num(p, "train_loss"), json_fields::read_num(p, "quality"),
                             json_fields::read_num(p, "loss_scale")});
    r.runs.push_back(std::move(run));
  }
  return r;
}

}  // namespace cmeter
