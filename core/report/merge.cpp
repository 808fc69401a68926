// Merging reports: device id qualification, per-node and overall totals, provenance of each input.
#include "core/report/merge.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/report/criteria.h"
#include "core/report/integrity.h"
#include "core/report/report.h"
#include "core/report/summary.h"
#include "core/util/sha256.h"

namespace cmeter {
namespace {

nlohmann::json totals_json(const std::vector<NodeTotal>& totals, const std::string& note) {
  return totals_to_json(totals, note);
}

std::string common_or_mixed(const std::vector<LoadedReport>& inputs, std::string ReportHost::*field) {
  std::set<std::string> values;
  for (const auto& r : inputs) values.insert(r.host.*field);
  return values.size() == 1 ? *values.begin() : std::string("mixed (see merge.inputs)");
}

void rename_device(nlohmann::json& j, const char* key, const std::map<std::string, std::string>& renames) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return;
  auto it = renames.find(j[key].get<std::string>());
  if (it != renames.end()) j[key] = it->second;
}

}  // namespace

Result<MergeOutcome> merge_reports(const std::vector<LoadedReport>& inputs, const MergeOptions& options) {
  if (inputs.size() < options.min_inputs || inputs.empty())
    return make_error(ErrorCode::kInvalidArgument, "merge needs at least {} reports",
                      std::max<size_t>(1, options.min_inputs));
  MergeOutcome out;
  auto own = parse_schema_version(kReportSchemaVersion);
  for (const auto& r : inputs) {
    const std::string computed = report_digest(r.json);
    if (computed != r.digest)
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: the recorded digest does not match the content (changed after it was written); "
                        "refusing to merge it (check with `cmeter report verify`)",
                        r.source);
    if (r.json.contains("merge"))
      return make_error(
          ErrorCode::kInvalidArgument,
          "{}: is already a merged report; merge the original reports it lists under merge.inputs", r.source);
    if (own && r.version.minor > own->minor)
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: written with schema {} by a newer cmeter; merge it with that cmeter", r.source,
                        r.version.text);
  }

  // Device ids: qualify the ones that appear in more than one input.
  std::map<std::string, std::vector<size_t>> owners;
  for (size_t i = 0; i < inputs.size(); ++i)
    for (const auto& d : inputs[i].devices) owners[d.id].push_back(i);
  std::vector<std::map<std::string, std::string>> renames(inputs.size());
  for (const auto& [id, where] : owners) {
    if (where.size() < 2) continue;
    std::map<std::string, int> node_count;
    for (size_t i : where) node_count[inputs[i].host.hostname]++;
    for (size_t i : where) {
      const std::string& node = inputs[i].host.hostname;
      std::string qualifier = node_count[node] > 1 ? fmt::format("{}@{}", node, inputs[i].run.id) : node;
      renames[i][id] = fmt::format("{}/{}", qualifier, id);
    }
  }
  auto renamed = [&](size_t i, const std::string& id) {
    auto it = renames[i].find(id);
    return it == renames[i].end() ? id : it->second;
  };

  nlohmann::json plugins = nlohmann::json::array(), devices = nlohmann::json::array(),
                 results = nlohmann::json::array(), criteria = nlohmann::json::array(),
                 summary_devices = nlohmann::json::array(), merge_inputs = nlohmann::json::array();
  std::vector<DeviceSummary> all_summaries;
  // Device facts under their merged ids; in all_facts the silicon identity is qualified with the node
  // (host-cpu:package=0 on two nodes is two CPUs).
  std::vector<DeviceFacts> all_facts;
  std::map<std::string, std::vector<DeviceFacts>> facts_by_node;
  std::map<std::string, std::vector<DeviceSummary>> by_node;
  std::map<std::string, std::vector<std::string>> node_devices;
  std::vector<std::string> node_order;
  std::set<std::string> hostnames, profiles;
  std::string start, end;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const LoadedReport& r = inputs[i];
    const nlohmann::json& j = r.json;
    const std::string& node = r.host.hostname;
    if (!by_node.count(node)) node_order.push_back(node);
    hostnames.insert(node);
    profiles.insert(r.run.profile_name + " " + r.run.profile_version);
    if (start.empty() || r.run.start_utc < start) start = r.run.start_utc;
    if (r.run.end_utc > end) end = r.run.end_utc;
    for (const auto& p : j["plugins"])
      if (std::find(plugins.begin(), plugins.end(), p) == plugins.end()) plugins.push_back(p);
    nlohmann::json input_devices = nlohmann::json::array();
    for (const auto& d : r.devices) {
      DeviceFacts f{renamed(i, d.id), d.attributes};
      const PhysicalIdentity phys = physical_identity(f);
      facts_by_node[node].push_back(f);
      f.attributes["physical.id"] = node + "/" + phys.id;
      all_facts.push_back(std::move(f));
    }
    for (auto d : j["devices"]) {
      const std::string original = d["id"].get<std::string>();
      d["id"] = renamed(i, original);
      input_devices.push_back({{"id", d["id"]}, {"original_id", original}});
      node_devices[node].push_back(d["id"].get<std::string>());
      devices.push_back(std::move(d));
    }
    for (auto res : j["results"]) {
      rename_device(res, "device", renames[i]);
      results.push_back(std::move(res));
    }
    for (auto c : j["criteria"]) {
      rename_device(c, "device", renames[i]);
      criteria.push_back(std::move(c));
    }
    for (auto s : j["summary"]["devices"]) {
      rename_device(s, "device", renames[i]);
      summary_devices.push_back(std::move(s));
    }
    for (auto s : r.summaries) {
      s.device = renamed(i, s.device);
      by_node[node].push_back(s);
      all_summaries.push_back(std::move(s));
    }
    nlohmann::json input = {{"source", r.source},      {"node", node},
                            {"run_id", r.run.id},      {"schema_version", r.version.text},
                            {"digest", r.digest},      {"tool", j["tool"]},
                            {"host", j["host"]},       {"topology", j["topology"]},
                            {"devices", input_devices}};
    if (r.signed_report) input["signature_key_id"] = r.signature.public_key_id;
    merge_inputs.push_back(std::move(input));
  }
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (inputs[i].tool.version != inputs[0].tool.version || inputs[i].tool.git_sha != inputs[0].tool.git_sha)
      out.warnings.push_back(fmt::format("tool versions differ: {} has cmeter {} ({}), {} has {} ({})",
                                         inputs[0].source, inputs[0].tool.version, inputs[0].tool.git_sha,
                                         inputs[i].source, inputs[i].tool.version, inputs[i].tool.git_sha));
  }
  if (profiles.size() > 1)
    out.warnings.push_back(fmt::format("the inputs ran different profiles: {}", fmt::join(profiles, ", ")));

  // Verdict over all criteria outcomes.
  nlohmann::json verdict = nullptr;
  if (!criteria.empty()) {
    std::vector<std::string> verdicts;
    for (const auto& c : criteria) verdicts.push_back(c.value("verdict", ""));
    verdict = combine_verdicts(verdicts);
  }

  const std::string node_note =
      "sum over this node's physical devices, each counted once, each measured on its own (not concurrently)";
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : node_order)
    nodes.push_back({{"node", node},
                     {"hostname", node},
                     {"devices", node_devices[node]},
                     {"totals", totals_json(node_totals(by_node[node], facts_by_node[node]), node_note)}});
  std::vector<TotalExclusion> excluded;
  auto totals = node_totals(all_summaries, all_facts, &excluded);
  nlohmann::json summary = {
      {"devices", summary_devices},
      {"node_totals",
       totals_json(totals,
                   hostnames.size() > 1
                       ? "sum over all nodes' physical devices, each counted once, each measured on its own"
                       : kSequentialTotalNote)},
      {"excluded_from_totals", exclusions_to_json(excluded)},
      {"nodes", nodes}};

  const bool one_node = hostnames.size() == 1;
  nlohmann::json host = inputs[0].json["host"];
  if (!one_node) {
    int64_t cpus = 0;
    uint64_t memory = 0;
    for (const auto& r : inputs) {
      cpus += r.host.logical_cpus;
      memory += r.host.memory_bytes;
    }
    host = {{"hostname", fmt::format("{}", fmt::join(node_order, ","))},
            {"os", common_or_mixed(inputs, &ReportHost::os)},
            {"kernel", common_or_mixed(inputs, &ReportHost::kernel)},
            {"arch", common_or_mixed(inputs, &ReportHost::arch)},
            {"cpu_model", common_or_mixed(inputs, &ReportHost::cpu_model)},
            {"logical_cpus", cpus},
            {"memory_bytes", memory}};
  }
  nlohmann::json topology = nullptr;
  if (one_node && inputs[0].json["topology"].is_object()) {
    topology = inputs[0].json["topology"];
    nlohmann::json locality = nlohmann::json::object();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& t = inputs[i].json["topology"];
      if (!t.is_object() || !t.contains("device_locality")) continue;
      for (auto it = t["device_locality"].begin(); it != t["device_locality"].end(); ++it)
        locality[renamed(i, it.key())] = it.value();
    }
    topology["device_locality"] = locality;
  }

  std::string digests;
  for (const auto& r : inputs) digests += r.digest;
  nlohmann::json profile = inputs[0].json["run"]["profile"];
  if (profiles.size() > 1)
    profile = {{"name", fmt::format("{}", fmt::join(profiles, " + "))}, {"version", ""}, {"sha256", ""}};
  nlohmann::json run = {
      {"id", options.run_id.empty() ? "merge-" + sha256_hex(digests).substr(0, 12) : options.run_id},
      {"start_utc", start},
      {"end_utc", end},
      {"argv", options.argv},
      {"profile", profile},
      {"settings",
       {{"execution", options.execution},
        {"merged_reports", inputs.size()},
        {"merged_utc", options.now_utc}}}};

  nlohmann::json report = {{"schema", kReportSchema},
                           {"schema_version", kReportSchemaVersion},
                           {"tool", tool_facts()},
                           {"run", run},
                           {"host", host},
                           {"topology", topology},
                           {"plugins", plugins},
                           {"devices", devices},
                           {"results", results},
                           {"summary", summary},
                           {"criteria", criteria},
                           {"verdict", verdict},
                           {"merge", {{"inputs", merge_inputs}}}};
  report["integrity"] = {{"digest_algorithm", "sha256"},
                         {"canonical_form", kCanonicalFormText},
                         {"digest", report_digest(report)}};
  out.report = std::move(report);
  return out;
}

}  // namespace cmeter
