// JSON form of CaseResult (the journal line and the report's results[] entry).
#include "core/model/case_result.h"

#include "core/model/json_fields.h"

#include <cmath>

namespace cmeter {
namespace {

constexpr CaseStatus kAllStatuses[] = {
    CaseStatus::kOk,    CaseStatus::kUnsupported, CaseStatus::kInvalid, CaseStatus::kImplausible,
    CaseStatus::kNoisy, CaseStatus::kFailed,      CaseStatus::kCrashed, CaseStatus::kTimeout};

// JSON has no NaN/inf: write null for them.
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
double read_number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_number()) ? 0.0 : it->get<double>();
}

}  // namespace

std::string_view to_string(CaseStatus status) {
  switch (status) {
    case CaseStatus::kOk:
      return "ok";
    case CaseStatus::kUnsupported:
      return "unsupported";
    case CaseStatus::kInvalid:
      return "invalid";
    case CaseStatus::kImplausible:
      return "implausible";
    case CaseStatus::kNoisy:
      return "noisy";
    case CaseStatus::kFailed:
      return "failed";
    case CaseStatus::kCrashed:
      return "crashed";
    case CaseStatus::kTimeout:
      return "timeout";
  }
  return "failed";
}

std::optional<CaseStatus> parse_case_status(std::string_view name) {
  for (CaseStatus s : kAllStatuses)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

bool counts_in_summary(CaseStatus status) {
  return status == CaseStatus::kOk || status == CaseStatus::kNoisy;
}

bool makes_run_incomplete(CaseStatus status) {
  return status == CaseStatus::kFailed || status == CaseStatus::kCrashed || status == CaseStatus::kTimeout ||
         status == CaseStatus::kInvalid || status == CaseStatus::kImplausible;
}

bool in_concurrent_pass(std::string_view case_id) {
  return case_id.ends_with(kConcurrentPassSuffix);
}

std::string_view base_case_id(std::string_view case_id) {
  return in_concurrent_pass(case_id) ? case_id.substr(0, case_id.size() - kConcurrentPassSuffix.size())
                                     : case_id;
}

const Metric* CaseResult::metric(std::string_view name) const {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}

nlohmann::json to_json(const measure::Statistics& s) {
  return {
      {"n", s.n},
      {"median", number(s.median)},
      {"mean", number(s.mean)},
      {"stdev", number(s.stdev)},
      {"cv", number(s.cv)},
      {"min", number(s.min)},
      {"max", number(s.max)},
      {"p5", number(s.p5)},
      {"p95", number(s.p95)},
      {"ci95_low", number(s.ci_low)},
      {"ci95_high", number(s.ci_high)},
      {"ci_method", s.ci_exact ? "order statistics (binomial), 95%" : "min..max (too few samples for 95%)"},
      {"ci_coverage", number(s.ci_coverage)}};
}

measure::Statistics statistics_from_json(const nlohmann::json& j) {
  measure::Statistics s;
  s.n = json_fields::read_int(j, "n");
  s.median = read_number(j, "median");
  s.mean = read_number(j, "mean");
  s.stdev = read_number(j, "stdev");
  s.cv = read_number(j, "cv");
  s.min = read_number(j, "min");
  s.max = read_number(j, "max");
  s.p5 = read_number(j, "p5");
  s.p95 = read_number(j, "p95");
  s.ci_low = read_number(j, "ci95_low");
  s.ci_high = read_number(j, "ci95_high");
  s.ci_coverage = read_number(j, "ci_coverage");
  s.ci_exact = j.value("ci_method", std::string()).rfind("order", 0) == 0;
  return s;
}

nlohmann::json to_json(const CaseResult& r) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : r.metrics)
    metrics.push_back({{"name", m.name},
                       {"unit", m.unit},
                       {"higher_is_better", m.higher_is_better},
                       {"statistics", to_json(m.stats)}});
  nlohmann::json samples = nlohmann::json::array();
  for (double s : r.samples_s) samples.push_back(number(s));
  const Method& m = r.method;
  nlohmann::json j = {
      {"case_id", r.case_id},
      {"workload", r.workload},
      {"device", r.device},
      {"params", to_json(r.params)},
      {"status", to_string(r.status)},
      {"reason", r.reason},
      {"metrics", metrics},
      {"method",
       {{"timer", m.timer},
        {"timer_detail", m.timer_detail},
        {"batch", m.batch},
        {"warmup_runs", m.warmup_runs},
        {"warmup_s", number(m.warmup_s)},
        {"sampling_s", number(m.sampling_s)},
        {"capped", m.capped},
        {"rotation_sets", m.rotation_sets},
        {"rotation_bytes", m.rotation_bytes},
        {"flop_per_call", number(m.flop_per_call)},
        {"bytes_per_call", number(m.bytes_per_call)},
        {"impl", m.impl},
        {"op_attributes", to_json(m.op_attributes)},
        {"settings", m.settings}}},
      {"samples_s", samples},
      {"started_utc", r.started_utc},
      {"wall_s", number(r.wall_s)},
  };
  if (r.validation) {
    const Validation& v = *r.validation;
    j["validation"] = {{"method", v.method},
                       {"points", v.points},
                       {"failures", v.failures},
                       {"max_abs_error", number(v.max_abs_error)},
                       {"max_rel_error", number(v.max_rel_error)},
                       {"tolerance", number(v.tolerance)},
                       {"first_failure", v.first_failure},
                       {"passed", v.passed}};
  } else {
    j["validation"] = nullptr;
  }
  j["plausibility"] =
      r.peak ? nlohmann::json{{"peak_key", r.peak_key}, {"peak", number(*r.peak)}} : nlohmann::json(nullptr);
  j["telemetry"] = r.telemetry.is_null() ? nlohmann::json(nullptr) : r.telemetry;
  if (r.inference) j["inference"] = to_json(*r.inference);
  if (r.training) j["training"] = to_json(*r.training);
  return j;
}

Result<CaseResult> case_result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "case result is not a JSON object");
  CaseResult r;
  try {
    r.case_id = j.at("case_id").get<std::string>();
    r.workload = j.at("workload").get<std::string>();
    r.device = j.at("device").get<std::string>();
    auto status = parse_case_status(j.at("status").get<std::string>());
    if (!status)
      return make_error(ErrorCode::kInvalidArgument, "unknown status '{}'",
                        j.at("status").get<std::string>());
    r.status = *status;
    r.reason = j.value("reason", "");
    r.params = key_values_from_json(j.value("params", nlohmann::json::object()));
    for (const auto& m : j.value("metrics", nlohmann::json::array()))
      r.metrics.push_back(Metric{m.at("name").get<std::string>(), m.value("unit", ""),
                                 m.value("higher_is_better", true),
                                 statistics_from_json(m.at("statistics"))});
    const auto& mj = j.at("method");
    Method& m = r.method;
    m.timer = mj.value("timer", "");
    m.timer_detail = mj.value("timer_detail", "");
    m.batch = json_fields::read_int(mj, "batch");
    m.warmup_runs = json_fields::read_int(mj, "warmup_runs");
    m.warmup_s = read_number(mj, "warmup_s");
    m.sampling_s = read_number(mj, "sampling_s");
    m.capped = mj.value("capped", false);
    m.rotation_sets = json_fields::read_int(mj, "rotation_sets");
    m.rotation_bytes = json_fields::read_uint(mj, "rotation_bytes");
    m.flop_per_call = read_number(mj, "flop_per_call");
    m.bytes_per_call = read_number(mj, "bytes_per_call");
    m.impl = mj.value("impl", "");
    m.op_attributes = key_values_from_json(mj.value("op_attributes", nlohmann::json::object()));
    m.settings = mj.value("settings", nlohmann::json::object());
    for (const auto& s : j.value("samples_s", nlohmann::json::array()))
      r.samples_s.push_back(s.is_number() ? s.get<double>() : NAN);
    if (j.contains("validation") && j["validation"].is_object()) {
      const auto& vj = j["validation"];
      Validation v;
      v.method = vj.value("method", "");
      v.points = json_fields::read_int(vj, "points");
      v.failures = json_fields::read_int(vj, "failures");
      v.max_abs_error = read_number(vj, "max_abs_error");
      v.max_rel_error = read_number(vj, "max_rel_error");
      v.tolerance = read_number(vj, "tolerance");
      v.first_failure = vj.value("first_failure", "");
      v.passed = vj.value("passed", false);
      r.validation = v;
    }
    if (j.contains("plausibility") && j["plausibility"].is_object()) {
      r.peak_key = j["plausibility"].value("peak_key", "");
      r.peak = read_number(j["plausibility"], "peak");
    }
    if (j.contains("telemetry")) r.telemetry = j["telemetry"];
    if (j.contains("inference") && j["inference"].is_object()) {
      auto inference = inference_result_from_json(j["inference"]);
      if (!inference) return inference.error();
      r.inference = std::move(inference).value();
    }
    if (j.contains("training") && j["training"].is_object()) {
      auto training = training_result_from_json(j["training"]);
      if (!training) return training.error();
      r.training = std::move(training).value();
    }
    r.started_utc = j.value("started_utc", "");
    r.wall_s = read_number(j, "wall_s");
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "malformed case result: {}", e.what());
  }
  return r;
}

}  // namespace cmeter
