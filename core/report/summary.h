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

// Which results feed the headlines: all of them, or one pass of a `both` run (the concurrent pass's
// case ids end in kConcurrentPassSuffix).
enum class SummaryPass { kAll, kAlone, kAtOnce };
std::vector<DeviceSummary> summarize(const std::vector<CaseResult>& results,
                                     const std::vector<DeviceFacts>& devices,
                                     SummaryPass pass = SummaryPass::kAll);
// Sums of the compute headlines over the node's physical devices. Devices that share silicon
// (group_by_silicon: cpu:0 and an OpenCL CPU device, a GPU under two plugins) count once, with the
// highest validated figure among them (headlines only come from ok or noisy cases, whose validation
// passed); the others are appended to `excluded`, when given, with the reason.
std::vector<NodeTotal> node_totals(const std::vector<DeviceSummary>& summaries,
                                   const std::vector<DeviceFacts>& devices,
                                   std::vector<TotalExclusion>* excluded = nullptr);
// The note each total carries (how it was summed).
inline constexpr const char* kSequentialTotalNote =
    "sum over physical devices, each counted once (the best validated figure among the devices on it), "
    "each measured on its own (not concurrently)";
inline constexpr const char* kConcurrentTotalNote =
    "sum over physical devices, each counted once (the best validated figure among the devices on it), "
    "all devices running each case at the same time (cmeter run --concurrent; run.settings.concurrency "
    "gives each case's overlap)";
nlohmann::json totals_to_json(const std::vector<NodeTotal>& totals, const std::string& note);
nlohmann::json exclusions_to_json(const std::vector<TotalExclusion>& excluded);
// Node scaling, a `both` run's side by side: `alone` (each device measured on its own) and `at_once`
// (the concurrent pass: every device running the case together). The JSON (summary.node_scaling) holds
// the at-once headlines per device, the node totals summed from the alone figures, and the ratio
// at_once / alone of every node total and of every headline measured both ways (for a latency, above 1
// is worse).
inline constexpr const char* kNodeScalingNote =
    "each case ran on each device alone, then on all devices at once; ratio = at once / alone (node "
    "totals: each physical device counted once in both sums; for a latency, above 1 is worse)";
nlohmann::json node_scaling_to_json(const std::vector<DeviceSummary>& alone,
                                    const std::vector<DeviceSummary>& at_once,
                                    const std::vector<DeviceFacts>& devices);
nlohmann::json to_json(const std::vector<DeviceSummary>& summaries, const std::vector<NodeTotal>& totals,
                       const std::vector<TotalExclusion>& excluded = {},
                       const std::string& note = kSequentialTotalNote);

}  // namespace cmeter
