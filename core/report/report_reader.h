// Reading a report back (for `cmeter report`, `compare`, `merge`, `verify`): parse, refuse what is not
// a cmeter report or not a 1.x one, check its shape against the compiled-in schema, and give the
// renderers typed views. Every failure is an Error naming the file and, for shape errors, the member
// path; nothing here throws or trusts the input (it will be fuzzed), so garbage gives a message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/report/criteria.h"
#include "core/report/inference_view.h"
#include "core/report/summary.h"
#include "core/util/result.h"

namespace cmeter {

struct SchemaVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string text;
};
// "1.2.3" -> {1, 2, 3}; nullopt-like Error for anything else.
Result<SchemaVersion> parse_schema_version(std::string_view text);

struct ReportTool {
  std::string name, version, git_sha, build_type, compiler, abi;
  bool git_dirty = false;
};

struct ReportRun {
  std::string id, start_utc, end_utc, device_selector;
  double wall_s = 0;
  std::vector<std::string> argv;
  bool has_seed = false;
  uint64_t seed = 0;
  std::string profile_name, profile_version, profile_path, profile_sha256;
  nlohmann::json settings = nlohmann::json::object();
};

struct ReportHost {
  std::string hostname, os, kernel, arch, cpu_model;
  int64_t logical_cpus = 0;
  uint64_t memory_bytes = 0;
};

struct ReportPlugin {
  std::string name, path, status, error, abi, version, vendor, file_sha256;
  int64_t device_count = 0;
};

struct ReportSignature {
  std::string algorithm, public_key, public_key_id, signature;
};

struct LoadedReport {
  std::string source;   // the file it came from (or a label), named in every message
  nlohmann::json json;  // the whole report as read (members this reader does not model included)
  SchemaVersion version;
  bool newer_minor = false;  // written by a newer 1.x: unknown members were accepted
  ReportTool tool;
  ReportRun run;
  ReportHost host;
  std::vector<ReportPlugin> plugins;
  std::vector<DeviceFacts> devices;
  std::vector<CaseResult> results;
  // The results that carry an `inference` member (schema 1.1), in report order; result_index points
  // into `results`.
  std::vector<InferenceView> inference;
  std::vector<DeviceSummary> summaries;
  std::vector<NodeTotal> node_totals;
  std::vector<TotalExclusion> excluded_from_totals;  // summary.excluded_from_totals (schema 1.2)
  CriteriaVerdict criteria;  // outcomes and verdict ("" when the profile had no criteria)
  std::string digest;        // integrity.digest as recorded (not recomputed)
  bool signed_report = false;
  ReportSignature signature;
  // What verifying the signature with the user's trusted keys said (verify_loaded_report in
  // trusted_keys.h), printed by the renderers; "" until verified (printed as "signature not checked").
  std::string signature_status;

  const DeviceFacts* device(std::string_view id) const;
  // attributes["name"] of a device, or "" when unknown.
  std::string device_name(std::string_view id) const;
};

// The schema versions this build reads: major 1, any minor.
inline constexpr int kReadableSchemaMajor = 1;
// Deepest nesting accepted in a report file (real reports nest about 6 deep).
inline constexpr int kMaxReportNesting = 64;

Result<LoadedReport> read_report_file(const std::string& path);
// The signature line renderers print: signature_status, or what is known without verifying.
std::string signature_summary(const LoadedReport& report);
// `source` names the input in messages (a path, "<stdin>", ...).
Result<LoadedReport> parse_report(std::string_view text, const std::string& source);
Result<LoadedReport> load_report(nlohmann::json report, const std::string& source);

}  // namespace cmeter
