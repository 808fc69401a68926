// The energy and per-watt view of a report, one concept for every renderer (HTML, Markdown): each
// case with energy or power telemetry (average power, energy per call, its work per joule, the
// facility figure under a declared PUE, throttling, the energy's source), and each device with none,
// with the reason its telemetry gave, so a reader sees plainly where a device has no figure
// (issue 16: "the HTML shows per-watt ... and says plainly where a device has none").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/report/report_reader.h"

namespace cmeter::reports {

struct EnergyRow {
  std::string device, case_id;
  std::optional<double> avg_power_w, energy_per_call_j;
  std::optional<double> per_watt;  // the case's work per joule (FLOP/J, B/J, ...), device level
  std::string per_watt_unit;
  std::optional<double> facility_per_watt;  // per_watt / PUE, where the run declared one
  bool throttled = false;
  std::string source;  // where the energy (else the power) came from
};

struct DeviceWithoutEnergy {
  std::string device;
  std::string reason;  // the telemetry's own reason, or that the plugin offers none
};

struct EnergyView {
  std::vector<EnergyRow> rows;               // report order
  std::vector<DeviceWithoutEnergy> without;  // devices with no row, report's device order
  std::optional<double> pue;                 // run.settings.pue: a declared factor, not measured
};

EnergyView energy_view(const LoadedReport& report);

// One row's cells, shared by the renderers: average power, energy per call, per watt, facility per watt
// (only with a PUE), throttled, source; "-" where a figure is missing.
std::vector<std::string> energy_cells(const EnergyRow& row, bool with_facility);
std::vector<std::string> energy_headers(bool with_facility);
// The sentence under the table where the run declared a PUE; "" otherwise.
std::string pue_note(const EnergyView& view);

}  // namespace cmeter::reports
