// Rows of summary.node_scaling for the renderers (see node_scaling.h).
#include "reports/node_scaling.h"

#include <fmt/format.h>

#include "reports/format.h"

namespace cmeter::reports {
namespace {

const nlohmann::json* scaling_of(const nlohmann::json& report) {
  if (!report.is_object() || !report.contains("summary") || !report["summary"].is_object()) return nullptr;
  const nlohmann::json& summary = report["summary"];
  if (!summary.contains("node_scaling") || !summary["node_scaling"].is_object()) return nullptr;
  return &summary["node_scaling"];
}

std::string figure(const nlohmann::json& row, const char* name, const std::string& unit) {
  return row.contains(name) && row[name].is_number() ? format_quantity(row[name].get<double>(), unit) : "n/a";
}

std::string ratio(const nlohmann::json& row) {
  return row.contains("ratio") && row["ratio"].is_number()
             ? fmt::format("x{:.3f}", row["ratio"].get<double>())
             : "n/a";
}

}  // namespace

std::vector<NodeScalingRow> node_scaling_rows(const nlohmann::json& report) {
  std::vector<NodeScalingRow> rows;
  const nlohmann::json* scaling = scaling_of(report);
  if (scaling == nullptr) return rows;
  for (const char* part : {"totals", "devices"}) {
    if (!scaling->contains(part) || !(*scaling)[part].is_array()) continue;
    const bool node = std::string(part) == "totals";
    for (const auto& row : (*scaling)[part]) {
      if (!row.is_object()) continue;
      const std::string unit = row.value("unit", std::string());
      rows.push_back(
          {node ? std::string("node") : row.value("device", std::string()),
           node ? row.value("key", std::string()) : row.value("label", row.value("key", std::string())),
           figure(row, "alone", unit), figure(row, "at_once", unit), ratio(row)});
    }
  }
  return rows;
}

std::string node_scaling_note(const nlohmann::json& report) {
  const nlohmann::json* scaling = scaling_of(report);
  return scaling == nullptr ? std::string() : scaling->value("note", std::string());
}

}  // namespace cmeter::reports
