// The energy and per-watt view (energy.h): read from each result's `telemetry` member as the workloads
// write it (core/workloads/workload.cpp: avg_power_w, energy_per_call_j, per_watt; the run's PUE as
// telemetry.facility).
#include "reports/energy.h"

#include <map>
#include <set>

#include <fmt/format.h>

#include "reports/format.h"

namespace cmeter::reports {
namespace {

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}

}  // namespace

EnergyView energy_view(const LoadedReport& report) {
  EnergyView view;
  const nlohmann::json& json = report.json;
  // run.settings.pue: {"kind": "declared facility factor ...", "value": 1.25} (a bare number read too).
  if (json.contains("run") && json["run"].is_object() && json["run"].contains("settings")) {
    const nlohmann::json& settings = json["run"]["settings"];
    view.pue = number(settings, "pue");
    if (!view.pue && settings.is_object() && settings.contains("pue"))
      view.pue = number(settings["pue"], "value");
  }
  std::set<std::string> with_rows;
  std::map<std::string, std::string> reasons;  // device -> first reason it had no energy
  for (const auto& c : report.results) {
    const nlohmann::json& t = c.telemetry;
    const bool available = t.is_object() && t.value("available", false);
    EnergyRow row;
    row.device = c.device;
    row.case_id = c.case_id;
    if (available) {
      row.avg_power_w = number(t, "avg_power_w");
      row.energy_per_call_j = number(t, "energy_per_call_j");
    }
    if (!row.avg_power_w && !row.energy_per_call_j) {
      std::string why = !t.is_object() ? "the plugin offers no telemetry"
                        : available    ? "its telemetry has no power or energy reading"
                                       : t.value("reason", std::string("no telemetry reading"));
      reasons.emplace(c.device, std::move(why));
      continue;
    }
    if (t.contains("per_watt") && t["per_watt"].is_object()) {
      row.per_watt = number(t["per_watt"], "value");
      row.per_watt_unit = t["per_watt"].value("unit", "");
    }
    if (t.contains("facility") && t["facility"].is_object() && t["facility"].contains("per_watt"))
      row.facility_per_watt = number(t["facility"]["per_watt"], "value");
    row.throttled = t.value("throttled", false);
    row.source = t.contains("energy_source") && t["energy_source"].is_string()
                     ? t["energy_source"].get<std::string>()
                     : t.value("power_source", std::string());
    with_rows.insert(row.device);
    view.rows.push_back(std::move(row));
  }
  std::set<std::string> listed;
  auto add_without = [&](const std::string& device) {
    if (with_rows.count(device) || !listed.insert(device).second) return;
    auto it = reasons.find(device);
    if (it != reasons.end()) view.without.push_back({device, it->second});
  };
  for (const auto& d : report.devices) add_without(d.id);
  for (const auto& c : report.results) add_without(c.device);
  return view;
}

std::vector<std::string> energy_headers(bool with_facility) {
  std::vector<std::string> h = {"Device", "Case", "Average power", "Energy per call", "Per watt"};
  if (with_facility) h.push_back("Facility per watt (PUE)");
  h.insert(h.end(), {"Throttled", "Source"});
  return h;
}

std::vector<std::string> energy_cells(const EnergyRow& row, bool with_facility) {
  auto q = [](const std::optional<double>& v, const std::string& unit) {
    return v ? format_quantity(*v, unit) : std::string("-");
  };
  std::vector<std::string> cells = {row.device, row.case_id, q(row.avg_power_w, "W"),
                                    q(row.energy_per_call_j, "J"), q(row.per_watt, row.per_watt_unit)};
  if (with_facility) cells.push_back(q(row.facility_per_watt, row.per_watt_unit));
  cells.push_back(row.throttled ? "yes" : "no");
  cells.push_back(row.source.empty() ? "-" : row.source);
  return cells;
}

std::string pue_note(const EnergyView& view) {
  if (!view.pue) return "";
  return fmt::format(
      "Facility figures divide the device's per-watt figure by the declared PUE {} (a factor the user gave, "
      "not a measurement).",
      *view.pue);
}

}  // namespace cmeter::reports
