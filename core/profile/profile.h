// Profiles: the YAML files that say which benchmark cases to run, with which statistics settings
// (MEASUREMENT.md) and which pass/fail criteria apply (ARCHITECTURE.md §6). This is the model the run
// loop consumes; loading validates everything it can without a device (keys, types, ranges, sweeps,
// criteria references) and reports every problem as `file:line:column: message`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/util/result.h"

namespace cmeter::profile {

// Where something was written in a profile file; line and column are 1-based.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};
// "file:line:column".
std::string to_string(const SourceLocation& where);

// The measurement loop's settings (MEASUREMENT.md). The defaults are the quick profile's suggested ones.
struct StatsSettings {
  int warmup_min_runs = 2;
  double warmup_min_s = 0.05;
  double sample_min_s = 0.005;  // device time per sample at least this (batch calibration); 0 = 1 enqueue
  int min_samples = 5;
  double min_s = 0.2;
  double noise = 0.03;    // relative half-width of the median's 95% CI, in (0, 1)
  double max_s = 2.0;     // hard cap; a case stopped by it is marked noisy
  int rotation_sets = 2;  // input buffer sets rotated (at least 2)
  double timeout_s = 0;   // 0 = default watchdog
};

// The watchdog's deadline for one case. The profile's `timeout_s` (per case or profile-wide) when set;
// otherwise scaled by the work the settings allow: kTimeoutBaseS for setup, validation and the
// plugin's first-call costs, plus kTimeoutBudgetFactor times the measurement budget (warmup_min_s +
// max_s), never less than kTimeoutMinS. For the quick profile's settings that is 60 + 4 x 2.05 = 68 s.
// Here, beside the settings, because the runner's watchdog enforces it and a workload whose length it
// chooses (the inference Server search) plans within it.
inline constexpr double kTimeoutBaseS = 60;
inline constexpr double kTimeoutBudgetFactor = 4;
inline constexpr double kTimeoutMinS = 60;
double case_timeout_s(const StatsSettings& stats);

// A case parameter as written: plain YAML scalars resolve to bool (true/false), integer, float, or
// string; quoted scalars are always strings.
using ParamValue = std::variant<bool, int64_t, double, std::string>;
// "true", "512", "0.5", "f16": the form used in sweep case ids.
std::string to_string(const ParamValue& value);

struct Case {
  std::string id;  // unique; a sweep's cases are base id + "[dtype=f16,n=1024]" in the sweep's key order
  std::string workload;                      // one of known_workloads()
  std::map<std::string, ParamValue> params;  // checked by the workload, not here
  StatsSettings stats;                       // the profile's stats overridden by the case's own `stats:`
  std::string devices = "*";                 // device selector glob: "cpu:*", "opencl:*", "*"
  SourceLocation where;                      // the case entry in the file
};

struct Criterion {
  std::string id;
  // "<case id>.<metric>", e.g. "gemm[dtype=f32].flops_per_s", or "summary.<key>".
  std::string metric;
  std::string devices = "*";
  std::string comparison;  // ">=", ">", "<=", "<"
  double threshold = 0;
  // Empty: threshold is absolute. Otherwise a device attribute key (e.g. "peak.flops.f32") and the
  // threshold is a fraction of that attribute's value.
  std::string relative_to;
  SourceLocation where;
};

struct Profile {
  int schema = 1;
  std::string name;
  std::string version;
  std::string description;
  std::string path;         // as loaded (load_file), or the name given to load_string
  std::string sha256;       // of the file's bytes (load_file) or of the text (load_string)
  StatsSettings stats;      // profile-wide defaults (each case holds its effective copy)
  std::vector<Case> cases;  // sweeps expanded, in file order
  std::vector<Criterion> criteria;
  // `sequential` (default: devices one after another), `concurrent` (node metering: each case on all
  // selected devices at once) or `both` (each case on each device alone, then on all at once: the report
  // sets the two side by side, node scaling); `cmeter run --sequential`/`--concurrent`/`--both` override it.
  std::string execution = "sequential";
};

// The profile schema this build reads.
inline constexpr int kSchemaVersion = 1;

// The workloads a case may name, in the order listed in error messages.
const std::vector<std::string>& known_workloads();

// Reads and validates a profile file. Errors: kNotFound / kIo when the file cannot be read;
// kInvalidArgument with one `file:line:column: message` line per problem found otherwise.
Result<Profile> load_file(const std::string& path);
// Same, from text; `file_name_for_errors` prefixes error locations and becomes Profile::path.
Result<Profile> load_string(std::string_view yaml_text, const std::string& file_name_for_errors);

// An existing file path is returned as is. A bare name (no '/') such as `quick` resolves to
// `<dir>/quick.yaml` (or `<dir>/<name>` when it already ends in .yaml/.yml) in the first of
// `search_dirs` that has it. kNotFound lists the directories searched.
Result<std::string> resolve_profile_path(const std::string& name_or_path,
                                         const std::vector<std::string>& search_dirs);

// The case with this id, or nullptr.
const Case* find_case(const Profile& profile, std::string_view id);

}  // namespace cmeter::profile
