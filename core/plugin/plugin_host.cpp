// Plugin discovery and loading (ARCHITECTURE.md section 4).
#include "core/plugin/plugin_host.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/util/sha256.h"

#ifndef CMETER_PLUGIN_INSTALL_DIR
#define CMETER_PLUGIN_INSTALL_DIR "/usr/local/lib/cmeter/plugins"
#endif

namespace cmeter {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

Discovery discover_plugins(const DiscoveryOptions& options) {
  Discovery d;
  std::set<std::string> seen;
  auto add = [&](const std::string& path) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    std::string key = ec ? path : canonical.string();
    if (seen.insert(key).second) d.files.push_back(path);
  };
  for (const auto& f : options.plugin_files) add(f);
  if (options.use_environment)
    if (const char* env = std::getenv("CMETER_PLUGINS"))
      for (const auto& f : split(env, ':')) add(f);

  std::vector<std::string> dirs = options.plugin_dirs;
  if (dirs.empty() && options.use_environment)
    if (const char* env = std::getenv("CMETER_PLUGIN_PATH")) dirs = split(env, ':');
  if (dirs.empty() && options.plugin_files.empty() &&
      !(options.use_environment && std::getenv("CMETER_PLUGINS") != nullptr)) {
    if (!options.executable_dir.empty())
      dirs.push_back((fs::path(options.executable_dir) / ".." / "lib" / "cmeter" / "plugins")
                         .lexically_normal()
                         .string());
    dirs.push_back(CMETER_PLUGIN_INSTALL_DIR);
  }
  for (const auto& dir : dirs) {
    d.searched_dirs.push_back(dir);
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("libcmeter-", 0) == 0 && name.size() > 3 && name.ends_with(".so"))
        found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add(f);
  }
  return d;
}

std::unique_ptr<PluginHost> PluginHost::load(const Discovery& discovery) {
  auto host = std::unique_ptr<PluginHost>(new PluginHost());
  std::set<std::string> names;
  for (const auto& path : discovery.files) {
    PluginRow row;
    row.path = path;
    row.name = plugin_name_from_path(path);
    if (auto digest = sha256_file_hex(path)) row.sha256 = *digest;
    auto lib = PluginLibrary::open(path);
    if (!lib) {
      row.error = lib.error().message;
      host->rows_.push_back(std::move(row));
      continue;
    }
    std::unique_ptr<PluginLibrary> library = std::move(lib).value();
    row.name = library->name();
    row.abi_major = library->abi_major();
    row.abi_minor = library->abi_minor();
    row.attributes = library->attributes();
    if (!names.insert(row.name).second) {
      row.error = fmt::format("another plugin named '{}' is already loaded; this one is skipped", row.name);
      host->rows_.push_back(std::move(row));
      host->libraries_.push_back(std::move(library));
      continue;
    }
    row.loaded = true;
    std::vector<Device> devices;
    for (size_t i = 0; i < library->devices().size(); ++i) {
      auto attrs = read_device_attributes(*library, library->devices()[i]);
      std::string id = fmt::format("{}:{}", row.name, i);
      if (!attrs) {
        row.error += (row.error.empty() ? "" : "; ") + fmt::format("{}: {}", id, attrs.error().message);
        continue;
      }
      devices.emplace_back(library.get(), library->devices()[i], id, std::move(attrs).value());
    }
    row.device_count = devices.size();
    for (auto& d : devices) host->devices_.push_back(std::move(d));
    host->rows_.push_back(std::move(row));
    host->libraries_.push_back(std::move(library));
  }
  return host;
}

bool PluginHost::any_failed() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const PluginRow& r) { return !r.loaded; });
}

}  // namespace cmeter
