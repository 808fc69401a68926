// The JSON report (docs/reports.md): schema `cmeter.report` 1.2.0 (1.1 added results[].inference, 1.2
// physical-device totals). Assembled from the run's facts and its case results; `integrity.digest` is the
// SHA-256 of the canonical form of everything else, so any change to a report after the run is detectable
// (`cmeter report verify`, a later issue, adds signatures on top).
//
// Canonical form: the report without its `integrity` member, serialised by nlohmann::json's dump()
// with no indentation: object keys sorted by byte value, no insignificant whitespace, strings UTF-8
// with only the escapes JSON requires, numbers in their shortest round-trip form.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/model/plugin_row.h"
#include "core/report/criteria.h"
#include "core/report/summary.h"

namespace cmeter {

inline constexpr const char* kReportSchema = "cmeter.report";
// The version new reports carry; readers accept every 1.x (report_reader.h). 1.1.0 added the optional
// `inference` member of a result; 1.2.0 the `training` member and the physical-device accounting of node
// totals (`counted` in each total, `summary.excluded_from_totals`); older reports still read and
// validate as before. 1.3 and 1.4 grew the inference and training members; 1.5 added
// summary.node_scaling (`cmeter run --both`).
inline constexpr const char* kReportSchemaVersion = "1.5.0";

// What cmeter itself is: name, version, git sha, dirty flag, build type, compiler.
nlohmann::json tool_facts();
// The machine: hostname, OS, kernel, CPU model, cores, memory.
nlohmann::json host_facts();
nlohmann::json to_json(const PluginRow& row);

struct ReportParts {
  nlohmann::json run;       // id, times, argv, seed, profile, settings
  nlohmann::json topology;  // hwloc summary + per-device locality
  std::vector<PluginRow> plugins;
  std::vector<DeviceFacts> devices;
  std::vector<CaseResult> results;
  std::vector<DeviceSummary> summaries;
  CriteriaVerdict criteria;
  bool concurrent = false;  // the devices ran each case at once (`cmeter run --concurrent`)
  // Each case ran on each device alone, then on all at once (`cmeter run --both`): `summaries` are the
  // alone figures, the node totals the concurrent pass's, and summary.node_scaling sets them side by side.
  bool both = false;
};

nlohmann::json build_report(const ReportParts& parts);
std::string canonical_json(const nlohmann::json& j);
// SHA-256 hex of the canonical form of `report` without its `integrity` member.
std::string report_digest(const nlohmann::json& report);

}  // namespace cmeter
