// JSON form of TrainingResult (the "training" member of a case result): field names are the contract
// the report schema and renderers read; non-finite numbers become null, unknown figures null.
#include "core/model/training_result.h"

#include <cmath>

namespace cmeter {
namespace {

nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) return num(*v);
  return *v;
}
double read_num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_number()) ? NAN : it->get<double>();
}
std::optional<double> read_opt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
int64_t read_int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_number_integer()) ? 0 : it->get<int64_t>();
}
std::string read_str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_string()) ? std::string() : it->get<std::string>();
}
bool read_bool(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

nlohmann::json to_json(const TrainingResult& r) {
  nlohmann::json runs = nlohmann::json::array();
  for (const TrainingRun& run : r.runs) {
    nlohmann::json curve = nlohmann::json::array();
    for (const TrainingCurvePoint& p : run.curve)
      curve.push_back({{"step", p.step},
                       {"time_s", num(p.time_s)},
                       {"train_loss", num(p.train_loss)},
                       {"quality", num(p.quality)},
                       {"loss_scale", num(p.loss_scale)}});
    runs.push_back(
        {{"index", run.index},
         {"seed", run.seed},
         {"converged", run.converged},
         {"time_to_quality_s", run.converged ? num(run.time_to_quality_s) : nlohmann::json(nullptr)},
         {"steps", run.steps},
         {"device_quality", num(run.device_quality)},
         {"host_quality", opt(run.host_quality)},
         {"samples_per_s", num(run.samples_per_s)},
         {"mfu", opt(run.mfu)},
         {"loss_scale_skips", run.loss_scale_skips},
         {"trajectory",
          {{"steps", run.trajectory_steps},
           {"p90_error", num(run.trajectory_p90)},
           {"max_error", num(run.trajectory_max)},
           {"passed", run.trajectory_passed},
           {"worst", run.trajectory_worst}}},
         {"energy_j", opt(run.energy_j)},
         {"problem", run.problem},
         {"curve", std::move(curve)}});
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
          {"target", num(r.target)},
          {"step_flop", num(r.step_flop)},
          {"samples_per_step", r.samples_per_step},
          {"olympic_mean_s", opt(r.olympic_mean_s)},
          {"spread", opt(r.spread)},
          {"converged_runs", r.converged_runs},
          {"mfu", opt(r.mfu)},
          {"mfu_peak_key", r.mfu_peak_key},
          {"reference_band", band},
          {"trajectory_tolerance", num(r.trajectory_tolerance)},
          {"quality_tolerance", num(r.quality_tolerance)},
          {"op_paths", r.op_paths},
          {"runs", std::move(runs)}};
}

Result<TrainingResult> training_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "training: not an object");
  TrainingResult r;
  r.form = read_str(j, "form");
  r.model = read_str(j, "model");
  r.dtype = read_str(j, "dtype");
  r.parameters = read_int(j, "parameters");
  if (auto it = j.find("hyperparameters"); it != j.end() && it->is_object()) r.hyperparameters = *it;
  r.quality_metric = read_str(j, "quality_metric");
  r.target = read_num(j, "target");
  r.step_flop = read_num(j, "step_flop");
  r.samples_per_step = read_int(j, "samples_per_step");
  r.olympic_mean_s = read_opt(j, "olympic_mean_s");
  r.spread = read_opt(j, "spread");
  r.converged_runs = read_int(j, "converged_runs");
  r.mfu = read_opt(j, "mfu");
  r.mfu_peak_key = read_str(j, "mfu_peak_key");
  if (auto it = j.find("reference_band"); it != j.end() && it->is_object()) {
    r.band_min_steps = read_int(*it, "min_steps");
    r.band_max_steps = read_int(*it, "max_steps");
    r.band_source = read_str(*it, "source");
  }
  r.trajectory_tolerance = read_num(j, "trajectory_tolerance");
  r.quality_tolerance = read_num(j, "quality_tolerance");
  if (auto it = j.find("op_paths"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) r.op_paths[k] = v.get<std::string>();
  auto runs = j.find("runs");
  if (runs == j.end() || !runs->is_array())
    return make_error(ErrorCode::kInvalidArgument, "training: no runs");
  for (const nlohmann::json& rj : *runs) {
    if (!rj.is_object()) return make_error(ErrorCode::kInvalidArgument, "training: a run is not an object");
    TrainingRun run;
    run.index = read_int(rj, "index");
    if (auto it = rj.find("seed"); it != rj.end() && it->is_number_unsigned()) run.seed = it->get<uint64_t>();
    run.converged = read_bool(rj, "converged");
    run.time_to_quality_s = read_num(rj, "time_to_quality_s");
    run.steps = read_int(rj, "steps");
    run.device_quality = read_num(rj, "device_quality");
    run.host_quality = read_opt(rj, "host_quality");
    run.samples_per_s = read_num(rj, "samples_per_s");
    run.mfu = read_opt(rj, "mfu");
    run.loss_scale_skips = read_int(rj, "loss_scale_skips");
    if (auto t = rj.find("trajectory"); t != rj.end() && t->is_object()) {
      run.trajectory_steps = read_int(*t, "steps");
      run.trajectory_p90 = read_num(*t, "p90_error");
      run.trajectory_max = read_num(*t, "max_error");
      run.trajectory_passed = read_bool(*t, "passed");
      run.trajectory_worst = read_str(*t, "worst");
    }
    run.energy_j = read_opt(rj, "energy_j");
    run.problem = read_str(rj, "problem");
    if (auto c = rj.find("curve"); c != rj.end() && c->is_array())
      for (const nlohmann::json& p : *c)
        run.curve.push_back({read_int(p, "step"), read_num(p, "time_s"), read_num(p, "train_loss"),
                             read_num(p, "quality"), read_num(p, "loss_scale")});
    r.runs.push_back(std::move(run));
  }
  return r;
}

}  // namespace cmeter
