// Declared device specs: loading profiles/devices/*.yaml, matching a device, applying an entry.
#include "core/profile/declared_specs.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace cmeter::profile {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string read_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

const std::set<std::string> kUnits = {"FLOP/s", "OP/s", "B", "B/s", "W"};

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

}  // namespace

std::vector<std::string> declared_spec_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<DeclaredSku>> load_declared_specs(const std::vector<std::string>& files) {
  std::vector<DeclaredSku> out;
  for (const auto& file : files) {
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(file);
    } catch (const YAML::Exception& e) {
      return make_error(ErrorCode::kInvalidArgument, "{}: not a spec file: {}", file, e.what());
    }
    if (scalar(doc, "schema") != "cmeter.device-specs/1")
      return make_error(ErrorCode::kInvalidArgument, "{}: schema must be cmeter.device-specs/1", file);
    std::map<std::string, std::string> sources;
    if (doc["sources"] && doc["sources"].IsMap())
      for (const auto& s : doc["sources"])
        sources[s.first.as<std::string>()] = fmt::format("{}, {}, {}", scalar(s.second, "title"),
                                                         scalar(s.second, "url"), scalar(s.second, "date"));
    if (!doc["skus"] || !doc["skus"].IsSequence())
      return make_error(ErrorCode::kInvalidArgument, "{}: 'skus' must be a list", file);
    for (const auto& node : doc["skus"]) {
      DeclaredSku sku;
      sku.sku = scalar(node, "sku");
      sku.family = scalar(doc, "family");
      sku.file = file;
      if (sku.sku.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: an entry has no 'sku'", file);
      if (const auto match = node["match"]) {
        if (match["names"])
          for (const auto& n : match["names"]) sku.names.push_back(n.as<std::string>());
        if (match["pci_ids"])
          for (const auto& p : match["pci_ids"]) sku.pci_ids.push_back(lower(p.as<std::string>()));
      }
      if (!node["figures"] || !node["figures"].IsMap())
        return make_error(ErrorCode::kInvalidArgument, "{}: {}: 'figures' must be a mapping", file, sku.sku);
      for (const auto& f : node["figures"]) {
        const std::string key = f.first.as<std::string>();
        DeclaredFigure fig;
        try {
          fig.value = f.second["value"].as<double>();
        } catch (const YAML::Exception&) {
          return make_error(ErrorCode::kInvalidArgument, "{}: {}: {}: value must be a number", file, sku.sku,
                            key);
        }
        fig.unit = scalar(f.second, "unit");
        fig.note = scalar(f.second, "note");
        const std::string source_id = scalar(f.second, "source");
        const auto source = sources.find(source_id);
        if (source == sources.end())
          return make_error(ErrorCode::kInvalidArgument,
                            "{}: {}: {}: source '{}' is not in the file's sources", file, sku.sku, key,
                            source_id);
        fig.source = source->second;
        if (!(fig.value > 0) || kUnits.count(fig.unit) == 0)
          return make_error(ErrorCode::kInvalidArgument, "{}: {}: {}: needs a positive value and a unit ({})",
                            file, sku.sku, key, fig.unit);
        sku.figures[key] = std::move(fig);
      }
      out.push_back(std::move(sku));
    }
  }
  return out;
}

const DeclaredSku* match_declared_spec(const std::vector<DeclaredSku>& specs, const std::string& device_name,
                                       const std::string& pci_id) {
  const std::string id = lower(pci_id);
  if (!id.empty())
    for (const auto& s : specs)
      if (std::find(s.pci_ids.begin(), s.pci_ids.end(), id) != s.pci_ids.end()) return &s;
  const std::string name = lower(device_name);
  const DeclaredSku* best = nullptr;
  size_t best_length = 0;
  for (const auto& s : specs)
    for (const auto& pattern : s.names)
      if (pattern.size() > best_length && name.find(lower(pattern)) != std::string::npos) {
        best = &s;
        best_length = pattern.size();
      }
  return best;
}

const DeclaredSku* find_declared_spec(const std::vector<DeclaredSku>& specs, const std::string& sku) {
  for (const auto& s : specs)
    if (lower(s.sku) == lower(sku)) return &s;
  return nullptr;
}

std::string pci_id_of(const std::string& bus_id, const std::string& sysfs_root) {
  if (bus_id.empty()) return "";
  const fs::path dir = fs::path(sysfs_root) / "bus" / "pci" / "devices" / lower(bus_id);
  std::string vendor = read_line(dir / "vendor"), device = read_line(dir / "device");
  auto hex4 = [](std::string s) {
    if (s.rfind("0x", 0) == 0) s = s.substr(2);
    return s.size() == 4 ? lower(s) : std::string();
  };
  vendor = hex4(vendor);
  device = hex4(device);
  return vendor.empty() || device.empty() ? "" : vendor + ":" + device;
}

std::string apply_declared_spec(DeviceFacts& device, const DeclaredSku& spec, bool forced) {
  auto& a = device.attributes;
  std::string sources;
  for (const auto& [key, fig] : spec.figures)
    sources += fmt::format("{}{} = {:g} {} ({}{}{})", sources.empty() ? "" : "; ", key, fig.value, fig.unit,
                           fig.source, fig.note.empty() ? "" : "; ", fig.note);
  a["declared.sku"] = spec.sku;
  a["declared.file"] = fs::path(spec.file).filename().string();
  a["declared.sources"] = sources;
  // The plugin's peaks win only when it has some and says why (peak.source); a peak.source saying it
  // declares none ("none declared: ...") leaves the spec's figures to be used.
  bool plugin_has_peaks = false;
  for (const auto& [key, value] : a) plugin_has_peaks = plugin_has_peaks || key.rfind("peak.flops.", 0) == 0;
  const bool plugin_says_why = plugin_has_peaks && get_string(a, "peak.source").has_value();
  if (plugin_says_why && !forced) {
    a["declared.used"] = std::string("plugin");
    return fmt::format("{}: declared spec '{}' recorded; the plugin's own peaks kept ({})", device.id,
                       spec.sku, *get_string(a, "peak.source"));
  }
  // The entry replaces every peak the plugin gave: a mix of two sources would be neither.
  for (auto it = a.begin(); it != a.end();)
    it = it->first.rfind("peak.", 0) == 0 ? a.erase(it) : std::next(it);
  for (const auto& [key, fig] : spec.figures) {
    if (key == "mem.bytes" && a.count(key) != 0) continue;  // the driver's figure for this board stays
    a[key] = fig.value;
  }
  a["peak.sku"] = spec.sku;
  a["peak.source"] = fmt::format("declared spec {} entry '{}'{}", fs::path(spec.file).filename().string(),
                                 spec.sku, forced ? " (chosen with --declared)" : "");
  a["declared.used"] = std::string(forced ? "forced" : "spec");
  return fmt::format("{}: declared peaks from '{}' ({})", device.id, spec.sku,
                     fs::path(spec.file).filename().string());
}

}  // namespace cmeter::profile
