// Report reading: parse, identify, version gate, shape check against the compiled-in schema, typed views.
#include "core/report/report_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/report/report.h"
#include "core/report/schema_check.h"
#include "core/util/files.h"

namespace cmeter {
namespace {

// Nesting depth of `j`, stopping as soon as it passes `limit` (so the recursion is bounded).
int nesting_depth(const nlohmann::json& j, int limit) {
  if (!j.is_structured() || limit < 0) return 0;
  int deepest = 0;
  for (const auto& child : j) {
    deepest = std::max(deepest, nesting_depth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

// Non-throwing member access: the shape check has run, but these never trust it.
std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
double num(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return NAN;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}
int64_t integer(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned())
    return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
  return it->is_number_integer() ? it->get<int64_t>() : 0;
}
bool boolean(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::vector<NodeTotal> totals_from_json(const nlohmann::json& j) {
  std::vector<NodeTotal> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    NodeTotal t{it.key(), str(*it, "unit"), num(*it, "value"), static_cast<int>(integer(*it, "devices")), {}};
    for (const auto& c : member(*it, "counted"))
      if (c.is_string()) t.counted.push_back(c.get<std::string>());
    out.push_back(std::move(t));
  }
  std::stable_sort(out.begin(), out.end(), [](const NodeTotal& a, const NodeTotal& b) {
    return headline_rank(a.key) < headline_rank(b.key);
  });
  return out;
}

std::string first_errors(const std::vector<std::string>& errors) {
  std::string out;
  for (size_t i = 0; i < errors.size() && i < 3; ++i) out += (i ? "; " : "") + errors[i];
  if (errors.size() > 3) out += fmt::format("; and {} more", errors.size() - 3);
  return out;
}

}  // namespace

Result<SchemaVersion> parse_schema_version(std::string_view text) {
  SchemaVersion v;
  v.text = std::string(text);
  int* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc() || next == p || *parts[i] < 0)
      return make_error(ErrorCode::kInvalidArgument, "'{}' is not a MAJOR.MINOR.PATCH version", text);
    p = next;
    if (i < 2) {
      if (p == end || *p != '.')
        return make_error(ErrorCode::kInvalidArgument, "'{}' is not a MAJOR.MINOR.PATCH version", text);
      ++p;
    }
  }
  if (p != end)
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not a MAJOR.MINOR.PATCH version", text);
  return v;
}

const DeviceFacts* LoadedReport::device(std::string_view id) const {
  for (const auto& d : devices)
    if (d.id == id) return &d;
  return nullptr;
}

std::string LoadedReport::device_name(std::string_view id) const {
  const DeviceFacts* d = device(id);
  if (d == nullptr) return {};
  return get_string(d->attributes, "name").value_or("");
}

Result<LoadedReport> read_report_file(const std::string& path) {
  auto text = read_file(path);
  if (!text)
    return make_error(text.error().code, "{}: cannot {} the report file", path,
                      text.error().code == ErrorCode::kNotFound ? "open" : "read");
  return parse_report(*text, path);
}

Result<LoadedReport> parse_report(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a cmeter report: not valid JSON ({})", source,
                      e.what());
  }
  return load_report(std::move(j), source);
}

Result<LoadedReport> load_report(nlohmann::json report, const std::string& source) {
  if (nesting_depth(report, kMaxReportNesting + 1) > kMaxReportNesting)
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: not a cmeter report: JSON nested deeper than {} levels", source,
                      kMaxReportNesting);
  if (!report.is_object())
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: not a cmeter report: the top level is {}, not an object", source,
                      report.type_name());
  const auto& schema = member(report, "schema");
  if (!schema.is_string() || schema.get<std::string>() != kReportSchema)
    return make_error(
        ErrorCode::kInvalidArgument, "{}: not a cmeter report: expected \"schema\": \"{}\", found {}", source,
        kReportSchema,
        schema.is_null()
            ? std::string("no schema member")
            : schema.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 60));
  const auto& version_json = member(report, "schema_version");
  if (!version_json.is_string())
    return make_error(ErrorCode::kInvalidArgument, "{}: cmeter report without a schema_version string",
                      source);
  auto version = parse_schema_version(version_json.get<std::string>());
  if (!version)
    return make_error(ErrorCode::kInvalidArgument, "{}: bad schema_version: {}", source,
                      version.error().message);
  if (version->major != kReadableSchemaMajor)
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: report schema version {} is not supported: this cmeter reads cmeter.report {}.x "
                      "(written by a {} cmeter; use a matching cmeter to read it)",
                      source, version->text, kReadableSchemaMajor,
                      version->major > kReadableSchemaMajor ? "newer" : "older");
  auto own = parse_schema_version(kReportSchemaVersion);
  const bool newer_minor = own && version->minor > own->minor;

  const nlohmann::json& schema_json = report_schema_v1();
  if (schema_json.is_null())
    return make_error(ErrorCode::kInternal, "the compiled-in report schema is malformed (a build defect)");
  SchemaCheckOptions options;
  options.allow_unknown_members = newer_minor;
  auto errors = check_against_schema(schema_json, report, options);
  if (!errors.empty())
    return make_error(ErrorCode::kInvalidArgument, "{}: not a valid cmeter.report {}: {}", source,
                      version->text, first_errors(errors));

  // Members a minor added are refused in a report that claims an older minor, as that minor's reader
  // refuses them (its schema had no such member): 1.1 added results[].inference, 1.2
  // results[].training.
  for (const auto& [name, minor] : {std::pair<const char*, int64_t>{"inference", 1}, {"training", 2}}) {
    if (version->minor >= minor) continue;
    size_t i = 0;
    for (const auto& r : member(report, "results")) {
      if (r.is_object() && r.contains(name))
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: not a valid cmeter.report {}: results[{}]: unknown member '{}' (added "
                          "in schema 1.{})",
                          source, version->text, i, name, minor);
      ++i;
    }
  }
  // 1.3 added results[].inference's decode_bytes_per_s, mbu_decode_measured and mbu_measured_source.
  if (version->minor < 3) {
    size_t i = 0;
    for (const auto& r : member(report, "results")) {
      if (r.is_object() && r.contains("inference") && r["inference"].is_object()) {
        const nlohmann::json& inf = r["inference"];
        for (const char* name : {"decode_bytes_per_s", "mbu_decode_measured", "mbu_measured_source"})
          if (inf.contains(name))
            return make_error(ErrorCode::kInvalidArgument,
                              "{}: not a valid cmeter.report {}: results[{}].inference: unknown member '{}' "
                              "(added in schema 1.3)",
                              source, version->text, i, name);
        if (inf.contains("server") && inf["server"].is_object() && inf["server"].contains("search") &&
            inf["server"]["search"].is_array())
          for (const auto& step : inf["server"]["search"])
            if (step.is_object() && step.contains("ttft_growth"))
              return make_error(
                  ErrorCode::kInvalidArgument,
                  "{}: not a valid cmeter.report {}: results[{}].inference.server.search: unknown "
                  "member 'ttft_growth' (added in schema 1.3)",
                  source, version->text, i);
      }
      ++i;
    }
  }

  // 1.4 added the training runs' tokens_per_s and trajectory median_error (the lm form).
  if (version->minor < 4) {
    size_t i = 0;
    for (const auto& r : member(report, "results")) {
      if (r.is_object() && r.contains("training") && r["training"].is_object() &&
          r["training"].contains("runs") && r["training"]["runs"].is_array())
        for (const auto& run : r["training"]["runs"])
          for (const char* name : {"tokens_per_s", "median_error"})
            if (run.is_object() &&
                (run.contains(name) || (run.contains("trajectory") && run["trajectory"].is_object() &&
                                        run["trajectory"].contains(name))))
              return make_error(ErrorCode::kInvalidArgument,
                                "{}: not a valid cmeter.report {}: results[{}].training.runs: unknown member "
                                "'{}' (added in schema 1.4)",
                                source, version->text, i, name);
      ++i;
    }
  }

  // 1.5 added summary.node_scaling (a `both` run's alone and at-once figures side by side).
  if (version->minor < 5 && report.contains("summary") && report["summary"].is_object() &&
      report["summary"].contains("node_scaling"))
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: not a valid cmeter.report {}: summary: unknown member 'node_scaling' (added in "
                      "schema 1.5)",
                      source, version->text);

  LoadedReport out;
  out.source = source;
  out.version = *version;
  out.newer_minor = newer_minor;
  const auto& tool = member(report, "tool");
  out.tool = {str(tool, "name"),     str(tool, "version"), str(tool, "git_sha"),      str(tool, "build_type"),
              str(tool, "compiler"), str(tool, "abi"),     boolean(tool, "git_dirty")};
  const auto& run = member(report, "run");
  out.run.id = str(run, "id");
  out.run.start_utc = str(run, "start_utc");
  out.run.end_utc = str(run, "end_utc");
  out.run.device_selector = str(run, "device_selector");
  out.run.wall_s = num(run, "wall_s");
  for (const auto& a : member(run, "argv"))
    if (a.is_string()) out.run.argv.push_back(a.get<std::string>());
  if (const auto& seed = member(run, "seed"); seed.is_number_integer()) {
    out.run.has_seed = true;
    out.run.seed = seed.get<uint64_t>();
  }
  const auto& profile = member(run, "profile");
  out.run.profile_name = str(profile, "name");
  out.run.profile_version = str(profile, "version");
  out.run.profile_path = str(profile, "path");
  out.run.profile_sha256 = str(profile, "sha256");
  if (const auto& settings = member(run, "settings"); settings.is_object()) out.run.settings = settings;
  const auto& host = member(report, "host");
  out.host = {str(host, "hostname"),
              str(host, "os"),
              str(host, "kernel"),
              str(host, "arch"),
              str(host, "cpu_model"),
              integer(host, "logical_cpus"),
              static_cast<uint64_t>(std::max<int64_t>(0, integer(host, "memory_bytes")))};
  for (const auto& p : member(report, "plugins"))
    out.plugins.push_back({str(p, "name"), str(p, "path"), str(p, "status"), str(p, "error"), str(p, "abi"),
                           str(p, "version"), str(p, "vendor"), str(p, "file_sha256"),
                           integer(p, "device_count")});
  for (const auto& d : member(report, "devices"))
    out.devices.push_back({str(d, "id"), key_values_from_json(member(d, "attributes"))});
  size_t index = 0;
  for (const auto& r : member(report, "results")) {
    auto result = case_result_from_json(r);
    if (!result)
      return make_error(ErrorCode::kInvalidArgument, "{}: results[{}]: {}", source, index,
                        result.error().message);
    if (result->inference) {
      InferenceView view;
      static_cast<InferenceResult&>(view) = *result->inference;  // parsed once, by case_result_from_json
      view.result_index = index;
      view.device = result->device;
      view.case_id = result->case_id;
      view.status = result->status;
      out.inference.push_back(std::move(view));
    }
    out.results.push_back(std::move(*result));
    ++index;
  }
  const auto& summary = member(report, "summary");
  for (const auto& d : member(summary, "devices")) {
    DeviceSummary s{str(d, "device"), {}};
    const auto& metrics = member(d, "metrics");
    if (metrics.is_object())
      for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        HeadlineMetric h;
        h.key = it.key();
        h.label = str(*it, "label");
        h.unit = str(*it, "unit");
        h.value = num(*it, "value");
        h.ci95_low = num(*it, "ci95_low");
        h.ci95_high = num(*it, "ci95_high");
        h.case_id = str(*it, "case_id");
        h.noisy = boolean(*it, "noisy");
        if (double e = num(*it, "efficiency"); std::isfinite(e)) h.efficiency = e;
        h.peak_key = str(*it, "peak_key");
        s.metrics.push_back(std::move(h));
      }
    std::stable_sort(s.metrics.begin(), s.metrics.end(),
                     [](const HeadlineMetric& a, const HeadlineMetric& b) {
                       return headline_rank(a.key) < headline_rank(b.key);
                     });
    out.summaries.push_back(std::move(s));
  }
  out.node_totals = totals_from_json(member(summary, "node_totals"));
  for (const auto& e : member(summary, "excluded_from_totals"))
    out.excluded_from_totals.push_back({str(e, "total"), str(e, "device"), str(e, "counted_instead"),
                                        str(e, "physical_id"), str(e, "reason")});
  for (const auto& c : member(report, "criteria")) {
    CriterionOutcome o;
    o.id = str(c, "id");
    o.metric = str(c, "metric");
    o.device = str(c, "device");
    o.comparison = str(c, "comparison");
    o.threshold = num(c, "threshold");
    o.relative_to = str(c, "relative_to");
    if (double v = num(c, "required"); std::isfinite(v)) o.required = v;
    if (double v = num(c, "measured"); std::isfinite(v)) o.measured = v;
    if (double v = num(c, "measured_ci_low"); std::isfinite(v)) o.measured_ci_low = v;
    if (double v = num(c, "measured_ci_high"); std::isfinite(v)) o.measured_ci_high = v;
    o.verdict = str(c, "verdict");
    o.reason = str(c, "reason");
    out.criteria.outcomes.push_back(std::move(o));
  }
  out.criteria.verdict = str(report, "verdict");
  const auto& integrity = member(report, "integrity");
  out.digest = str(integrity, "digest");
  if (const auto& sig = member(integrity, "signature"); sig.is_object()) {
    out.signed_report = true;
    out.signature = {str(sig, "algorithm"), str(sig, "public_key"), str(sig, "public_key_id"),
                     str(sig, "signature")};
  }
  out.json = std::move(report);
  return out;
}

std::string signature_summary(const LoadedReport& report) {
  if (!report.signature_status.empty()) return report.signature_status;
  return report.signed_report ? "signed, signature not checked" : "not signed";
}

}  // namespace cmeter
