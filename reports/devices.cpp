// Terminal and JSON views of the loaded plugins and their devices.
#include "reports/devices.h"

#include <fmt/format.h>

#include "core/report/report.h"
#include "reports/format.h"

namespace cmeter::reports {
namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The attributes `cmeter devices` shows, in this order (the rest: --json or the report).
constexpr const char* kShownAttributes[] = {
    "kind",           "compute_units",  "clock.core.mhz",       "mem.bytes",
    "peak.flops.f16", "peak.flops.f32", "peak.mem.bytes_per_s", "peak.link.bytes_per_s",
    "pci.bus_id",     "numa.node",      "peak.source"};
constexpr size_t kKeyWidth = 22;
constexpr size_t kValueWidth = 64;  // longer values (peak.source) wrap onto indented lines

}  // namespace

std::string format_attribute(const std::string& key, const Value& value) {
  const auto* number = std::get_if<double>(&value);
  const auto* integer = std::get_if<int64_t>(&value);
  if (number == nullptr && integer == nullptr) return to_display(value);
  const double v = number != nullptr ? *number : static_cast<double>(*integer);
  if (ends_with(key, ".bytes")) return format_bytes(v);
  if (ends_with(key, ".mhz")) return format_quantity(v * 1e6, "Hz");
  if (ends_with(key, ".bytes_per_s")) return format_quantity(v, "B/s");
  if (key.rfind("peak.flops.", 0) == 0) return format_quantity(v, ends_with(key, ".i8") ? "OP/s" : "FLOP/s");
  return to_display(value);
}

std::string render_devices_terminal(const std::vector<PluginRow>& plugins,
                                    const std::vector<DeviceFacts>& devices) {
  std::string out = "Plugins\n";
  for (const auto& row : plugins) {
    std::string status = row.loaded ? fmt::format("loaded, ABI {}.{}, {} device(s)", row.abi_major,
                                                  row.abi_minor, row.device_count)
                                    : "NOT LOADED";
    out += fmt::format("  {:<12} {:<40} {}\n", row.name, status, row.path);
    if (!row.error.empty()) out += fmt::format("  {:<12} reason: {}\n", "", row.error);
    if (auto why = get_string(row.attributes, "plugin.status"); why && !why->empty())
      out += fmt::format("  {:<12} status: {}\n", "", *why);
  }
  out += "\nDevices\n";
  if (devices.empty()) out += "  (none)\n";
  for (const auto& d : devices) {
    out += fmt::format("  {:<10} {}\n", d.id, get_string(d.attributes, "name").value_or(d.id));
    for (const char* key : kShownAttributes) {
      auto it = d.attributes.find(key);
      if (it == d.attributes.end()) continue;
      const auto lines = wrap_words(format_attribute(key, it->second), kValueWidth);
      for (size_t i = 0; i < lines.size(); ++i)
        out += fmt::format("  {:<10}   {:<{}} {}\n", "", i == 0 ? key : "", kKeyWidth, lines[i]);
    }
  }
  return out;
}

nlohmann::json render_devices_json(const std::vector<PluginRow>& plugins,
                                   const std::vector<DeviceFacts>& devices) {
  nlohmann::json out = {{"plugins", nlohmann::json::array()}, {"devices", nlohmann::json::array()}};
  for (const auto& row : plugins) out["plugins"].push_back(to_json(row));
  for (const auto& d : devices)
    out["devices"].push_back({{"id", d.id}, {"attributes", to_json(d.attributes)}});
  return out;
}

}  // namespace cmeter::reports
