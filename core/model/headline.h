// The headline catalogue: the figures per device that people quote (metered FP16/FP32 TFLOP/s, memory
// bandwidth, host link, LLM tokens/s, launch latency, LLM latencies), each with the rule that picks the
// case it comes from, in the one display order every renderer uses; and the plain-data shapes of a
// device's headlines and the node totals. Choosing the figures from results is core/report/summary.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmeter {

// One headline: the results of `workload` whose params match every `match` pair (string values) feed
// it, through their metric `metric`; efficiency is stated against the device attribute `peak_key`
// when the case recorded no peak of its own.
struct HeadlineRule {
  const char* key;    // fp16_flops_per_s, mem_triad_bytes_per_s, launch_latency_s, ...
  const char* label;  // "FP16 GEMM (f32 accumulate)", ...
  const char* workload;
  std::vector<std::pair<const char*, const char*>> match;  // param = value (strings)
  const char* metric;
  bool higher_is_better;
  const char* peak_key;  // "" = none
  // A param whose values each get a headline of their own (the LLM figures: one per `model`, as a 1B
  // and an 8B model are not one figure); the headline key is then `key@value`. "" = one headline.
  const char* split_by = "";
};

// The catalogue, in display order.
const std::vector<HeadlineRule>& headline_rules();
// Position of `key` (or of its base, `key@value`) in the catalogue; keys not in it rank after all.
int headline_rank(std::string_view key);
// The rule behind a headline key (`key` or `key@value`); nullptr for keys not in the catalogue.
const HeadlineRule* find_headline_rule(std::string_view key);

struct HeadlineMetric {
  std::string key;    // fp16_flops_per_s, mem_triad_bytes_per_s, launch_latency_s, ...
  std::string label;  // "FP16 GEMM", ...
  std::string unit;   // FLOP/s, B/s, s
  double value = 0;   // the median of the chosen case
  double ci95_low = 0, ci95_high = 0;
  std::string case_id;
  bool noisy = false;
  std::optional<double> efficiency;  // value / declared peak
  std::string peak_key;
};

struct DeviceSummary {
  std::string device;
  std::vector<HeadlineMetric> metrics;
  const HeadlineMetric* find(std::string_view key) const;
};

// A compute headline summed over a node's physical devices: each silicon counted once.
struct NodeTotal {
  std::string key;
  std::string unit;
  double value = 0;
  int devices = 0;                   // physical devices counted
  std::vector<std::string> counted;  // the device ids whose figures are in the sum
};

// A device whose figure is left out of a node total, and why (it shares its silicon with the one
// counted).
struct TotalExclusion {
  std::string key;              // the total it is left out of (fp16_flops_per_s)
  std::string device;           // the device left out
  std::string counted_instead;  // the device counted for that silicon
  std::string physical_id;      // the silicon they share
  std::string reason;
};

}  // namespace cmeter
