// CaseResult: what one case on one device produced, the unit of the journal and the report. It carries
// the status with its reason, the metrics with their statistics, the method (how it was measured),
// the validation (how it was checked) and the raw samples, so a number is never separated from how it
// was obtained. Serialisable both ways, because the journal is read back on resume and a worker
// process will send it over a pipe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/inference_result.h"
#include "core/model/key_values.h"
#include "core/model/statistics.h"
#include "core/model/training_result.h"
#include "core/util/result.h"

namespace cmeter {

enum class CaseStatus { kOk, kUnsupported, kInvalid, kImplausible, kNoisy, kFailed, kCrashed, kTimeout };

std::string_view to_string(CaseStatus status);
std::optional<CaseStatus> parse_case_status(std::string_view name);
// ok and noisy results count in summaries (noisy with a flag); the rest do not.
bool counts_in_summary(CaseStatus status);
// failed, crashed, timeout, invalid, implausible make a run incomplete.
bool makes_run_incomplete(CaseStatus status);

struct Metric {
  std::string name;  // flops_per_s, bytes_per_s, latency_s, time_s
  std::string unit;  // FLOP/s, B/s, s
  bool higher_is_better = true;
  measure::Statistics stats;
};

struct Method {
  std::string timer;  // device | host
  std::string timer_detail;
  int64_t batch = 0;  // calls per sample
  int64_t warmup_runs = 0;
  double warmup_s = 0;
  double sampling_s = 0;
  bool capped = false;  // hit max_s before the noise target
  int64_t rotation_sets = 0;
  uint64_t rotation_bytes = 0;  // bytes of all rotated input sets together
  double flop_per_call = 0;
  double bytes_per_call = 0;
  std::string impl;
  KeyValues op_attributes;
  nlohmann::json settings = nlohmann::json::object();  // stats settings in force
};

struct Validation {
  std::string method;  // e.g. "fp64 host reference on sampled C elements"
  int64_t points = 0;
  int64_t failures = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;
  double tolerance = 0;
  std::string first_failure;
  bool passed = false;
};

struct CaseResult {
  std::string case_id;
  std::string workload;
  std::string device;
  KeyValues params;  // as given by the profile, after defaults the workload filled in
  CaseStatus status = CaseStatus::kFailed;
  std::string reason;
  std::vector<Metric> metrics;
  Method method;
  std::optional<Validation> validation;
  std::optional<double> peak;  // declared peak the plausibility gate used
  std::string peak_key;
  std::vector<double> samples_s;             // seconds per call, one per sample
  nlohmann::json telemetry;                  // summary, when the plugin offers telemetry
  std::optional<InferenceResult> inference;  // the inference workload only (absent elsewhere)
  std::optional<TrainingResult> training;    // the training workload only (absent elsewhere)
  std::string started_utc;
  double wall_s = 0;

  const Metric* metric(std::string_view name) const;
};

// A run with `execution: both` measures each case twice: on each device alone, then on all devices at
// once. The second pass's results carry this suffix on their case id ("gemm[dtype=f32]@concurrent"),
// so each (device, case id) stays one result in the journal, the report, resume and compare, and the
// summary can tell the passes apart (core/report/summary.h, node scaling).
inline constexpr std::string_view kConcurrentPassSuffix = "@concurrent";
bool in_concurrent_pass(std::string_view case_id);
// The case id without the concurrent-pass suffix.
std::string_view base_case_id(std::string_view case_id);

nlohmann::json to_json(const measure::Statistics& stats);
measure::Statistics statistics_from_json(const nlohmann::json& j);
nlohmann::json to_json(const CaseResult& result);
Result<CaseResult> case_result_from_json(const nlohmann::json& j);

}  // namespace cmeter
