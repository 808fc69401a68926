// ConformanceReport: what `cmeter plugin check` found about one plugin file, as JSON (for labs and
// CI), Markdown (for a vendor's adaptation notes) and a terminal table. The verdict and the exit code
// are computed here, in one place: any FAIL is non-conformant (exit 1); no FAIL but functionality left
// unimplemented (the template, a half-adapted plugin) or checks that could not run (no device) is
// incomplete (exit 3); otherwise conformant (exit 0).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/conformance/check_result.h"
#include "core/model/key_values.h"

namespace cmeter::conformance {

inline constexpr const char* kReportSchema = "cmeter.conformance/1";

enum class Verdict { kConformant, kNonConformant, kIncomplete };
const char* to_string(Verdict verdict);  // "conformant", "non-conformant", "incomplete"

struct Tally {
  int pass = 0;
  int fail = 0;
  int skip = 0;
  int unimplemented = 0;  // skips whose kind is kUnimplemented
  int blocked = 0;        // skips because the plugin did not load or has no device to check
};

struct ConformanceReport {
  // The plugin file and what it said about itself (filled in once it loaded).
  std::string plugin_path;
  std::string plugin_sha256;
  std::string plugin_name;
  int abi_major = 0;
  int abi_minor = 0;
  KeyValues plugin_attributes;
  int device_count = 0;
  // The checked device.
  int device_index = 0;
  std::string device_id;
  KeyValues device_attributes;
  // How the check ran.
  std::string level;     // "quick" or "full"
  std::string executor;  // "worker" or "in-process"
  int workers_started = 0;
  std::string cmeter_version;
  std::string host_abi;  // "1.0"
  std::string started_utc;
  double duration_s = 0;
  std::vector<CheckResult> checks;
};

Tally tally(const ConformanceReport& report);
Verdict verdict(const ConformanceReport& report);
// 0 conformant, 1 non-conformant, 3 incomplete.
int exit_code(Verdict verdict);

nlohmann::json to_json(const ConformanceReport& report);
std::string to_markdown(const ConformanceReport& report);
// One line per check (details of FAIL checks indented below), then the tally and verdict. `color`
// adds ANSI colours to the status column.
std::string to_terminal(const ConformanceReport& report, bool color);

}  // namespace cmeter::conformance
