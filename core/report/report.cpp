// Report assembly, host facts and the integrity digest.
#include "core/report/report.h"

#include <cstdlib>

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <cmeter/plugin_abi.h>

#include "core/util/sha256.h"
#include "core/util/version.h"

namespace cmeter {
namespace {

std::string read_first_match(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ':' || s.front() == '"'))
    s.erase(s.begin());
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\n')) s.pop_back();
  return s;
}

// The summary: headlines per device, and node totals counting each physical device once (the devices
// left out of them listed, with the reason).
// A `both` run: each device's headlines alone, the node totals from the concurrent pass (what the node
// delivers with every device busy), and the two side by side in node_scaling.
nlohmann::json summary_json(const ReportParts& parts) {
  std::vector<TotalExclusion> excluded;
  if (parts.both) {
    const std::vector<DeviceSummary> at_once = summarize(parts.results, parts.devices, SummaryPass::kAtOnce);
    auto totals = node_totals(at_once, parts.devices, &excluded);
    nlohmann::json summary = to_json(parts.summaries, totals, excluded, kConcurrentTotalNote);
    summary["node_scaling"] = node_scaling_to_json(parts.summaries, at_once, parts.devices);
    return summary;
  }
  auto totals = node_totals(parts.summaries, parts.devices, &excluded);
  return to_json(parts.summaries, totals, excluded,
                 parts.concurrent ? kConcurrentTotalNote : kSequentialTotalNote);
}

}  // namespace

nlohmann::json tool_facts() {
  return {{"name", "cmeter"},
          {"version", tool_version()},
          {"git_sha", build_git_sha()},
          {"git_dirty", build_git_dirty()},
          {"build_type", build_type()},
          {"compiler", fmt::format("{} {}", "gcc", __VERSION__)},
          {"abi", fmt::format("{}.{}", CMTR_ABI_MAJOR, CMTR_ABI_MINOR)}};
}

nlohmann::json host_facts() {
  char hostname[256] = {0};
  gethostname(hostname, sizeof hostname - 1);
  utsname u{};
  uname(&u);
  std::string mem_kb = trim(read_first_match("/proc/meminfo", "MemTotal"));
  uint64_t mem_bytes = 0;
  try {
    mem_bytes = std::stoull(mem_kb) * 1024;
  } catch (...) {
  }
  // CMETER_NODE_NAME names the node instead of the host name (cluster runs where the host name is not
  // the node's name, and the loopback test's simulated nodes: docs/cluster.md).
  const char* node = std::getenv("CMETER_NODE_NAME");
  return {{"hostname", node != nullptr && *node != '\0' ? std::string(node) : std::string(hostname)},
          {"os", trim(read_first_match("/etc/os-release", "PRETTY_NAME="))},
          {"kernel", fmt::format("{} {}", u.sysname, u.release)},
          {"arch", u.machine},
          {"cpu_model", trim(read_first_match("/proc/cpuinfo", "model name"))},
          {"logical_cpus", std::thread::hardware_concurrency()},
          {"memory_bytes", mem_bytes}};
}

nlohmann::json to_json(const PluginRow& row) {
  return {{"name", row.name},
          {"path", row.path},
          {"status", row.loaded ? "loaded" : "failed"},
          {"error", row.error},
          {"abi", row.abi_major > 0 ? fmt::format("{}.{}", row.abi_major, row.abi_minor) : ""},
          {"version", get_string(row.attributes, "plugin.version").value_or("")},
          {"vendor", get_string(row.attributes, "plugin.vendor").value_or("")},
          {"file_sha256", row.sha256},
          {"attributes", to_json(row.attributes)},
          {"device_count", row.device_count}};
}

nlohmann::json build_report(const ReportParts& parts) {
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& p : parts.plugins) plugins.push_back(to_json(p));
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : parts.devices) {
    nlohmann::json peaks = nlohmann::json::object();
    for (const auto& [k, v] : d.attributes)
      // Declared peaks are the numeric `peak.*` attributes; the text ones (`peak.source`, `peak.sku`)
      // stay in `attributes`, so the schema's "number or null" holds whatever a plugin declares.
      if (k.rfind("peak.", 0) == 0 &&
          (std::holds_alternative<double>(v) || std::holds_alternative<int64_t>(v)))
        peaks[k] = to_json(v);
    devices.push_back({{"id", d.id},
                       {"attributes", to_json(d.attributes)},
                       {"declared_peaks", peaks},
                       {"peak_source", get_string(d.attributes, "peak.source").value_or("")}});
  }
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : parts.results) results.push_back(to_json(r));
  nlohmann::json report = {
      {"schema", kReportSchema},
      {"schema_version", kReportSchemaVersion},
      {"tool", tool_facts()},
      {"run", parts.run},
      {"host", host_facts()},
      {"topology", parts.topology},
      {"plugins", plugins},
      {"devices", devices},
      {"results", results},
      {"summary", summary_json(parts)},
      {"criteria", to_json(parts.criteria)},
      {"verdict",
       parts.criteria.verdict.empty() ? nlohmann::json(nullptr) : nlohmann::json(parts.criteria.verdict)},
  };
  report["integrity"] = {
      {"digest_algorithm", "sha256"},
      {"canonical_form", "report without 'integrity', nlohmann::json dump(): sorted keys, no whitespace"},
      {"digest", report_digest(report)}};
  return report;
}

std::string canonical_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string report_digest(const nlohmann::json& report) {
  nlohmann::json copy = report;
  if (copy.is_object()) copy.erase("integrity");
  return sha256_hex(canonical_json(copy));
}

}  // namespace cmeter
