// Comparison of reports (`cmeter compare A.json B.json ...`): results aligned by workload, params and
// device, each shown next to the first report (the baseline) with the ratio of medians and a verdict
// taken from the 95% confidence intervals, never from the medians alone: `faster` or `slower` only
// when the intervals do not overlap, else `same within noise`. Optional normalisations divide by the
// average power (per watt, from result telemetry) or by a declared device price. Differences that
// make a comparison questionable (tool versions, profiles, settings, params) become warnings that
// name them. LLM inference results (schema 1.1) align by case id, model and scenario.
//
// Device alignment: when every report has exactly one device, those devices are compared with each
// other whatever their ids (the usual "card A vs card B" case); otherwise results align by device id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/report/report_reader.h"
#include "core/util/result.h"

namespace cmeter {

enum class CompareVerdict { kBaseline, kFaster, kSlower, kSame, kNotComparable, kMissing };
std::string_view to_string(CompareVerdict verdict);

struct Interval {
  double median = 0;
  double low = 0;
  double high = 0;
};
// `other` against `baseline`: faster/slower only when the intervals are disjoint; not comparable when
// either interval is not finite.
CompareVerdict judge(const Interval& baseline, const Interval& other, bool higher_is_better);

struct CompareCell {
  bool present = false;
  std::string device;  // the device id in that report
  std::string status;  // the result's status (cases) or "ok"/"noisy" (headlines)
  bool counted = false;
  double value = 0, low = 0, high = 0;
  std::optional<double> efficiency;  // of the declared peak (headlines)
  std::optional<double> ratio;       // value / baseline value
  CompareVerdict verdict = CompareVerdict::kMissing;
  std::string note;
};

struct CompareRow {
  std::string label;  // case id or headline label
  std::string workload, params, device_slot, metric, unit;
  bool higher_is_better = true;
  std::vector<CompareCell> cells;  // one per report; cells[0] is the baseline
};

struct CompareTable {
  std::string normalisation;  // "" (as measured), "per watt", "per price"
  std::vector<CompareRow> headlines;
  std::vector<CompareRow> cases;
  // LLM inference results aligned by device slot, case id, model and scenario: a row per figure
  // (tokens/s, Server rate, latency/TTFT/TPOT p50/p90/p99, energy per token; per watt: tokens/s/W
  // and tokens per joule). p50s and rates carry the metric's CI; p90/p99 and energy have none, so
  // they get a ratio and "not comparable" as their verdict, never faster/slower.
  std::vector<CompareRow> inference;
};

struct CompareSide {
  std::string label;  // A, B, C, ...
  std::string source, hostname, run_id, tool_version, profile;
  std::vector<std::string> devices;
};

struct Comparison {
  std::vector<CompareSide> sides;
  bool aligned_by_position = false;
  std::vector<CompareTable> tables;  // as measured first, then the normalisations asked for
  std::vector<std::string> warnings;
};

struct PriceSpec {
  std::string device;  // device id, device name, or "N/id" (N = 1-based report position)
  double amount = 0;
};
// "cuda:0=30000" -> {cuda:0, 30000}; the amount must be a positive number.
Result<PriceSpec> parse_price(std::string_view text);

struct CompareOptions {
  bool per_watt = false;
  std::vector<PriceSpec> prices;
};

Result<Comparison> compare_reports(const std::vector<LoadedReport>& reports, const CompareOptions& options);

}  // namespace cmeter
