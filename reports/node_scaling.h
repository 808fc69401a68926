// Node scaling as the terminal, Markdown and HTML renderers show it: a `both` run (cmeter run --both)
// measured each case on each device alone, then on all devices at once, and summary.node_scaling
// (schema 1.5) holds the two side by side. Here it becomes one list of rows (node totals first, then
// each device's headlines) with the same words in every format, so a reader sees at a glance what a
// device keeps of its own figure when the whole node is busy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmeter::reports {

struct NodeScalingRow {
  std::string scope;  // "node" for a node total, else the device id
  std::string what;   // the headline label, or the total's key
  std::string alone;  // formatted with the unit; "n/a" where not measured
  std::string at_once;
  std::string ratio;  // "x0.912", "n/a"
};

// The rows of a report's summary.node_scaling; empty when the report has none (not a `both` run).
std::vector<NodeScalingRow> node_scaling_rows(const nlohmann::json& report);
// The note under the table: how the two passes ran and what the ratio means.
std::string node_scaling_note(const nlohmann::json& report);

}  // namespace cmeter::reports
