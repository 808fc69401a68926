// Headline selection rules: which workload, params and metric feed each headline.
#include "core/report/summary.h"
#include "core/model/ceilings.h"

#include <fmt/format.h>

#include <functional>
#include <set>

namespace cmeter {
namespace {

bool in_pass(const CaseResult& r, SummaryPass pass) {
  return pass == SummaryPass::kAll || in_concurrent_pass(r.case_id) == (pass == SummaryPass::kAtOnce);
}

bool matches(const CaseResult& r, const HeadlineRule& rule) {
  if (r.workload != rule.workload || !counts_in_summary(r.status)) return false;
  for (const auto& [key, value] : rule.match) {
    auto v = get_string(r.params, key);
    if (!v || *v != value) return false;
  }
  return true;
}

}  // namespace

std::vector<DeviceSummary> summarize(const std::vector<CaseResult>& results,
                                     const std::vector<DeviceFacts>& devices, SummaryPass pass) {
  std::vector<DeviceSummary> out;
  for (const auto& dev : devices) {
    DeviceSummary s{dev.id, {}};
    for (const auto& rule : headline_rules()) {
      // The groups this rule makes on this device: one, or one per value of its split_by param
      // (sorted, so the order does not depend on the order the cases ran in).
      std::set<std::string> groups;
      for (const auto& r : results)
        if (r.device == dev.id && in_pass(r, pass) && matches(r, rule))
          groups.insert(*rule.split_by == '\0' ? "" : get_string(r.params, rule.split_by).value_or(""));
      for (const auto& group : groups) {
        const CaseResult* best = nullptr;
        const Metric* best_metric = nullptr;
        for (const auto& r : results) {
          if (r.device != dev.id || !in_pass(r, pass) || !matches(r, rule)) continue;
          if (*rule.split_by != '\0' && get_string(r.params, rule.split_by).value_or("") != group) continue;
          const Metric* m = r.metric(rule.metric);
          if (m == nullptr) continue;
          // Prefer ok over noisy, then the best median.
          bool better = best == nullptr || (r.status == CaseStatus::kOk && best->status != CaseStatus::kOk) ||
                        (r.status == best->status &&
                         (rule.higher_is_better ? m->stats.median > best_metric->stats.median
                                                : m->stats.median < best_metric->stats.median));
          if (better) {
            best = &r;
            best_metric = m;
          }
        }
        if (best == nullptr) continue;
        HeadlineMetric h;
        h.key = group.empty() ? std::string(rule.key) : std::string(rule.key) + "@" + group;
        h.label = group.empty() ? std::string(rule.label) : std::string(rule.label) + ", " + group;
        h.unit = best_metric->unit;
        h.value = best_metric->stats.median;
        h.ci95_low = best_metric->stats.ci_low;
        h.ci95_high = best_metric->stats.ci_high;
        h.case_id = best->case_id;
        h.noisy = best->status == CaseStatus::kNoisy;
        // The peak the case's own plausibility gate used (e.g. peak.flops.f64.vector for fma_peak) is the
        // one its efficiency is stated against; the rule's key only where the case recorded none. Rules
        // that name no peak have no efficiency (tokens/s against a FLOP/s peak would mean nothing; the
        // LLM figures state MFU and MBU in their own section).
        if (*rule.peak_key != '\0') {
          if (best->peak && *best->peak > 0 && !best->peak_key.empty()) {
            h.efficiency = h.value / *best->peak;
            h.peak_key = best->peak_key;
          } else if (auto peak = get_number(dev.attributes, rule.peak_key);
                     peak && *peak > 0 && !untrusted_peak_reason(dev.attributes, rule.peak_key)) {
            h.efficiency = h.value / *peak;
            h.peak_key = rule.peak_key;
          }
        }
        s.metrics.push_back(h);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<NodeTotal> node_totals(const std::vector<DeviceSummary>& summaries,
                                   const std::vector<DeviceFacts>& devices,
                                   std::vector<TotalExclusion>* excluded) {
  // Every summarised device, with its facts where known (a summary without facts is its own silicon).
  std::vector<DeviceFacts> facts;
  for (const auto& s : summaries) {
    DeviceFacts f{s.device, {}};
    for (const auto& d : devices)
      if (d.id == s.device) f = d;
    facts.push_back(std::move(f));
  }
  const auto groups = group_by_silicon(facts);
  std::vector<NodeTotal> totals;
  for (const char* key : {"fp16_flops_per_s", "bf16_flops_per_s", "fp32_flops_per_s", "fp64_flops_per_s"}) {
    NodeTotal t{key, "FLOP/s", 0, 0, {}};
    for (const auto& group : groups) {
      const HeadlineMetric* best = nullptr;
      size_t best_index = 0;
      for (size_t i : group)
        if (const auto* m = summaries[i].find(key);
            m != nullptr && (best == nullptr || m->value > best->value)) {
          best = m;
          best_index = i;
        }
      if (best == nullptr) continue;
      t.value += best->value;
      t.devices++;
      t.counted.push_back(summaries[best_index].device);
      if (excluded == nullptr) continue;
      const std::string phys = physical_identity(facts[best_index]).id;
      for (size_t i : group) {
        const auto* m = summaries[i].find(key);
        if (i == best_index || m == nullptr) continue;
        excluded->push_back(
            {key, summaries[i].device, summaries[best_index].device, phys,
             fmt::format(
                 "same silicon as {} ({}); counted once, with {}'s higher validated figure ({:.4g} {} "
                 "against {:.4g})",
                 summaries[best_index].device, phys, summaries[best_index].device, best->value, best->unit,
                 m->value)});
      }
    }
    if (t.devices > 0) totals.push_back(t);
  }
  return totals;
}

nlohmann::json totals_to_json(const std::vector<NodeTotal>& totals, const std::string& note) {
  nlohmann::json node = nlohmann::json::object();
  for (const auto& t : totals)
    node[t.key] = {
        {"value", t.value}, {"unit", t.unit}, {"devices", t.devices}, {"counted", t.counted}, {"note", note}};
  return node;
}

nlohmann::json exclusions_to_json(const std::vector<TotalExclusion>& excluded) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : excluded)
    out.push_back({{"total", e.key},
                   {"device", e.device},
                   {"counted_instead", e.counted_instead},
                   {"physical_id", e.physical_id},
                   {"reason", e.reason}});
  return out;
}

namespace {

nlohmann::json devices_to_json(const std::vector<DeviceSummary>& summaries) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& s : summaries) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& m : s.metrics) {
      nlohmann::json j = {{"label", m.label},       {"value", m.value},         {"unit", m.unit},
                          {"ci95_low", m.ci95_low}, {"ci95_high", m.ci95_high}, {"case_id", m.case_id},
                          {"noisy", m.noisy}};
      j["efficiency"] = m.efficiency ? nlohmann::json(*m.efficiency) : nlohmann::json(nullptr);
      j["peak_key"] = m.peak_key;
      metrics[m.key] = j;
    }
    devices.push_back({{"device", s.device}, {"metrics", metrics}});
  }
  return devices;
}

// at_once / alone, or null where the alone figure is not positive.
nlohmann::json ratio_json(double at_once, double alone) {
  return alone > 0 ? nlohmann::json(at_once / alone) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json node_scaling_to_json(const std::vector<DeviceSummary>& alone,
                                    const std::vector<DeviceSummary>& at_once,
                                    const std::vector<DeviceFacts>& devices) {
  const std::vector<NodeTotal> alone_totals = node_totals(alone, devices);
  const std::vector<NodeTotal> at_once_totals = node_totals(at_once, devices);
  nlohmann::json totals = nlohmann::json::array();
  for (const auto& a : alone_totals)
    for (const auto& c : at_once_totals)
      if (a.key == c.key)
        totals.push_back({{"key", a.key},
                          {"unit", a.unit},
                          {"alone", a.value},
                          {"at_once", c.value},
                          {"ratio", ratio_json(c.value, a.value)},
                          {"devices_alone", a.devices},
                          {"devices_at_once", c.devices}});
  nlohmann::json per_device = nlohmann::json::array();
  for (const auto& a : alone)
    for (const auto& c : at_once) {
      if (a.device != c.device) continue;
      for (const auto& m : a.metrics)
        if (const HeadlineMetric* cm = c.find(m.key))
          per_device.push_back({{"device", a.device},
                                {"key", m.key},
                                {"label", m.label},
                                {"unit", m.unit},
                                {"alone", m.value},
                                {"at_once", cm->value},
                                {"ratio", ratio_json(cm->value, m.value)},
                                {"alone_case_id", m.case_id},
                                {"at_once_case_id", cm->case_id}});
    }
  return {{"note", kNodeScalingNote},
          {"devices_at_once", devices_to_json(at_once)},
          {"alone_node_totals", totals_to_json(alone_totals, kSequentialTotalNote)},
          {"totals", totals},
          {"devices", per_device}};
}

nlohmann::json to_json(const std::vector<DeviceSummary>& summaries, const std::vector<NodeTotal>& totals,
                       const std::vector<TotalExclusion>& excluded, const std::string& note) {
  return {{"devices", devices_to_json(summaries)},
          {"node_totals", totals_to_json(totals, note)},
          {"excluded_from_totals", exclusions_to_json(excluded)}};
}

}  // namespace cmeter
