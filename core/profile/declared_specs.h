// Declared device specs: the vendor figures (dense peak FLOP/s per dtype, memory, bandwidth, host link,
// TDP) kept as data in profiles/devices/*.yaml, each with its source, and the rules that attach one
// entry to a measured device. Efficiency and certification criteria are stated against these, so the
// report must say which entry was used and where its figures came from (profiles/devices/README.md).
//
// Precedence (apply_declared_spec): `--declared SKU` (forced) always wins; otherwise a plugin's own
// peaks win only when the plugin says why (`peak.source`), else the matched entry's figures are used.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/device_facts.h"
#include "core/util/result.h"

namespace cmeter::profile {

struct DeclaredFigure {
  double value = 0;
  std::string unit;    // FLOP/s, OP/s, B, B/s, W
  std::string source;  // "title, url, date"
  std::string note;
};

struct DeclaredSku {
  std::string sku;
  std::string family;
  std::string file;                               // the spec file it was read from
  std::vector<std::string> names;                 // case-insensitive substrings of a device name
  std::vector<std::string> pci_ids;               // "vendor:device", lower-case hex
  std::map<std::string, DeclaredFigure> figures;  // ABI attribute key -> figure
};

// Every *.yaml in `dir`, sorted (a missing directory holds none).
std::vector<std::string> declared_spec_files(const std::string& dir);
// Reads spec files (schema cmeter.device-specs/1). A figure whose source the file does not list, a
// non-positive value or an unknown unit is an error naming file and SKU: an unsourced figure is never used.
Result<std::vector<DeclaredSku>> load_declared_specs(const std::vector<std::string>& files);

// The entry for a device: its PCI id first, else the longest name pattern found in `device_name`
// (so "H100 PCIe" beats "H100"); nullptr when none matches.
const DeclaredSku* match_declared_spec(const std::vector<DeclaredSku>& specs, const std::string& device_name,
                                       const std::string& pci_id);
// The entry named `sku` (case-insensitive), or nullptr.
const DeclaredSku* find_declared_spec(const std::vector<DeclaredSku>& specs, const std::string& sku);

// "vendor:device" of the PCI function `bus_id` (dddd:bb:dd.f) from <sysfs_root>/bus/pci/devices;
// "" when unreadable.
std::string pci_id_of(const std::string& bus_id, const std::string& sysfs_root = "/sys");

// Attaches `spec` to `device`: sets declared.sku / declared.file / declared.sources (every figure with
// its source) and declared.used ("spec", "plugin" or "forced"); puts the entry's figures into the
// device's attributes (peak.*, mem.bytes kept from the plugin, tdp.w) unless the plugin gave its own
// peaks with a peak.source and `forced` is false. Returns what was done, one line, for the run log.
std::string apply_declared_spec(DeviceFacts& device, const DeclaredSku& spec, bool forced);

}  // namespace cmeter::profile
