// RAPL package energy from powercap sysfs.
#include "core/measure/rapl.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

namespace cmeter::measure {
namespace {

namespace fs = std::filesystem;

std::optional<double> read_number(const fs::path& path) {
  std::ifstream in(path);
  double v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

std::string read_word(const fs::path& path) {
  std::ifstream in(path);
  std::string s;
  in >> s;
  return s;
}

}  // namespace

std::string RaplReader::default_root() {
  const char* env = std::getenv("CMETER_POWERCAP_ROOT");
  return env != nullptr && *env != '\0' ? env : "/sys/class/powercap";
}

RaplReader::RaplReader(std::string powercap_root, std::string perf_root, PerfCounterAccess perf_access)
    : root_(std::move(powercap_root)) {
  static const std::regex kPackageZone("intel-rapl:[0-9]+");
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(root_, ec))
    if (std::regex_match(entry.path().filename().string(), kPackageZone)) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  bool unreadable = false;
  for (const auto& dir : dirs) {
    const auto energy = read_number(dir / "energy_uj");
    if (!energy) {
      unreadable = true;  // typically root-only since the 2020 RAPL side-channel fix
      continue;
    }
    RaplZone z{read_word(dir / "name"), dir.string(), read_number(dir / "max_energy_range_uj").value_or(0)};
    if (z.name.empty()) z.name = dir.filename().string();
    zones_.push_back(std::move(z));
  }
  if (zones_.empty())
    reason_ =
        dirs.empty() ? fmt::format("no energy source: no RAPL package zone under {}", root_)
        : unreadable
            ? fmt::format("no energy source: RAPL energy_uj under {} is not readable (root only?)", root_)
            : fmt::format("no energy source under {}", root_);
  if (!zones_.empty()) return;
  perf_.emplace(std::move(perf_root), std::move(perf_access));
  if (perf_->available()) {
    reason_.clear();
    return;
  }
  // "no energy source: <powercap's reason>; <perf's reason>"
  std::string perf_reason = perf_->unavailable_reason();
  const std::string prefix = "no energy source: ";
  if (perf_reason.rfind(prefix, 0) == 0) perf_reason.erase(0, prefix.size());
  reason_ += "; " + perf_reason;
}

std::string RaplReader::source() const {
  if (zones_.empty() && perf_ && perf_->available()) return perf_->source();
  std::string names;
  for (const auto& z : zones_) names += (names.empty() ? "" : " + ") + z.name;
  return fmt::format("rapl powercap {}: {} (package-level: the whole socket, not this device's share)", root_,
                     names);
}

std::optional<double> RaplReader::energy_j() {
  if (zones_.empty()) return perf_ ? perf_->energy_j() : std::nullopt;
  std::vector<double> now;
  for (const auto& z : zones_) {
    const auto v = read_number(fs::path(z.dir) / "energy_uj");
    if (!v) return std::nullopt;
    now.push_back(*v);
  }
  if (last_uj_.empty()) {
    last_uj_ = now;
    total_uj_.assign(now.size(), 0);
  }
  double sum_uj = 0;
  for (size_t i = 0; i < now.size(); ++i) {
    double delta = now[i] - last_uj_[i];
    if (delta < 0) delta += zones_[i].max_energy_range_uj;  // wrapped (once) since the last reading
    total_uj_[i] += std::max(delta, 0.0);
    last_uj_[i] = now[i];
    sum_uj += total_uj_[i];
  }
  return sum_uj * 1e-6;
}

}  // namespace cmeter::measure
