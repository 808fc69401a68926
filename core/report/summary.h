// Summary: the headline figures per device that people quote (metered FP16/FP32 TFLOP/s, memory
// bandwidth, host link, launch latency) with their efficiency against the declared peak, and node
// totals. Each figure names the case it came from; only ok and noisy results count, never invalid,
// implausible or failed ones.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/plugin/key_values.h"
#include "core/report/case_result.h"

namespace cmeter {

struct DeviceFacts {
  std::string id;
  KeyValues attributes;
};

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

struct NodeTotal {
  std::string key;
  std::string unit;
  double value = 0;
  int devices = 0;
};

// Display position of a headline key: its place in the headline catalogue (FP16 compute first, then
// the other compute, memory, host link, latency); unknown keys after all known ones. Every renderer
// orders headlines by this, never by JSON key order.
int headline_order(std::string_view key);

std::vector<DeviceSummary> summarize(const std::vector<CaseResult>& results,
                                     const std::vector<DeviceFacts>& devices);
// Sums of the compute headlines over devices (measured one device after another).
std::vector<NodeTotal> node_totals(const std::vector<DeviceSummary>& summaries);
nlohmann::json to_json(const std::vector<DeviceSummary>& summaries, const std::vector<NodeTotal>& totals);

}  // namespace cmeter
