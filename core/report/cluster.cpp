// Cluster report: node reports merged, plus the cluster member (launch facts, nodes and the missing
// ones, per-node spread, synchronisation, collective figures), with a fresh digest.
#include "core/report/cluster.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/model/headline.h"
#include "core/report/integrity.h"
#include "core/report/report.h"

namespace cmeter {

std::vector<NodeSpread> node_spreads(const nlohmann::json& summary_nodes) {
  std::map<std::string, std::vector<std::pair<std::string, double>>> values;
  std::map<std::string, std::string> units;
  for (const auto& n : summary_nodes) {
    if (!n.is_object() || !n.contains("totals") || !n["totals"].is_object()) continue;
    for (auto it = n["totals"].begin(); it != n["totals"].end(); ++it) {
      if (!it.value().is_object() || !it.value().contains("value") || !it.value()["value"].is_number())
        continue;
      values[it.key()].emplace_back(n.value("node", ""), it.value()["value"].get<double>());
      units[it.key()] = it.value().value("unit", "");
    }
  }
  std::vector<NodeSpread> out;
  for (const auto& [key, list] : values) {
    NodeSpread s;
    s.metric = key;
    s.unit = units[key];
    s.nodes = static_cast<int>(list.size());
    auto [lo, hi] = std::minmax_element(list.begin(), list.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
    s.slowest_node = lo->first;
    s.slowest = lo->second;
    s.fastest_node = hi->first;
    s.fastest = hi->second;
    double sum = 0;
    for (const auto& v : list) sum += v.second;
    s.mean = sum / static_cast<double>(list.size());
    double sq = 0;
    for (const auto& v : list) sq += (v.second - s.mean) * (v.second - s.mean);
    s.cv = s.mean > 0 ? std::sqrt(sq / static_cast<double>(list.size())) / s.mean : 0;
    out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(), [](const NodeSpread& a, const NodeSpread& b) {
    return headline_rank(a.metric) < headline_rank(b.metric);
  });
  return out;
}

Result<MergeOutcome> build_cluster_report(const ClusterInputs& inputs) {
  std::vector<LoadedReport> loaded;
  nlohmann::json nodes = nlohmann::json::array();
  nlohmann::json missing = nlohmann::json::array();
  for (const auto& n : inputs.nodes) {
    nlohmann::json entry = {{"node", n.node}, {"ranks", n.ranks}};
    std::string why = n.missing_reason.empty() ? std::string("no report received") : n.missing_reason;
    bool ok = false;
    if (!n.report_text.empty()) {
      auto r = parse_report(n.report_text, "node " + n.node);
      if (!r) {
        why = "its report does not read: " + r.error().message;
      } else if (r->host.hostname != n.node) {
        why = fmt::format("its report names host {}, not {}", r->host.hostname, n.node);
      } else {
        entry["run_id"] = r->run.id;
        loaded.push_back(std::move(r).value());
        ok = true;
      }
    }
    entry["status"] = ok ? "ok" : "missing";
    if (!ok) {
      entry["reason"] = why;
      missing.push_back({{"node", n.node}, {"ranks", n.ranks}, {"reason", why}});
    }
    nodes.push_back(std::move(entry));
  }
  if (loaded.empty())
    return make_error(ErrorCode::kUnavailable, "no node report arrived: {}",
                      missing.empty() ? std::string("no nodes") : missing.dump());
  MergeOptions options = inputs.merge;
  options.min_inputs = 1;
  auto merged = merge_reports(loaded, options);
  CMETER_TRY(merged);
  nlohmann::json& report = merged->report;
  nlohmann::json spreads = nlohmann::json::array();
  for (const auto& s : node_spreads(report["summary"]["nodes"]))
    spreads.push_back({{"metric", s.metric},
                       {"unit", s.unit},
                       {"nodes", s.nodes},
                       {"slowest", {{"node", s.slowest_node}, {"value", s.slowest}}},
                       {"fastest", {{"node", s.fastest_node}, {"value", s.fastest}}},
                       {"mean", s.mean},
                       {"cv", s.cv}});
  report["cluster"] = {{"launch", inputs.launch},
                       {"nodes", nodes},
                       {"missing", missing},
                       {"spread", spreads},
                       {"synchronisation", inputs.synchronisation},
                       {"collective", inputs.collective}};
  for (const auto& m : missing)
    merged->warnings.push_back(
        fmt::format("node {} is missing: {}", m["node"].get<std::string>(), m["reason"].get<std::string>()));
  report["integrity"]["digest"] = report_digest(report);
  return merged;
}

}  // namespace cmeter
