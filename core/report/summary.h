// Summary: the headline figures per device that people quote (metered FP16/FP32 TFLOP/s, memory
// bandwidth, host link, launch latency) with their efficiency against the declared peak, and node
// totals. Each figure names the case it came from; only ok and noisy results count, never invalid,
// implausible or failed ones.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/model/device_facts.h"
#include "core/model/headline.h"

namespace cmeter {

std::vector<DeviceSummary> summarize(const std::vector<CaseResult>& results,
                                     const std::vector<DeviceFacts>& devices);
// Sums of the compute headlines over devices (measured one device after another).
std::vector<NodeTotal> node_totals(const std::vector<DeviceSummary>& summaries);
nlohmann::json to_json(const std::vector<DeviceSummary>& summaries, const std::vector<NodeTotal>& totals);

}  // namespace cmeter
