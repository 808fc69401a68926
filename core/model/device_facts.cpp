// JSON form of DeviceFacts, and device selectors.
#include "core/model/device_facts.h"

#include <fnmatch.h>

#include <map>
#include <numeric>

namespace cmeter {

nlohmann::json device_to_json(const DeviceFacts& d) {
  return {{"id", d.id}, {"attributes", to_json(d.attributes)}};
}

Result<DeviceFacts> device_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return make_error(ErrorCode::kInvalidArgument, "malformed device in worker message: no string 'id'");
  return DeviceFacts{j["id"].get<std::string>(),
                     key_values_from_json(j.value("attributes", nlohmann::json()))};
}

PhysicalIdentity physical_identity(const DeviceFacts& d) {
  if (auto id = get_string(d.attributes, "physical.id"); id && !id->empty()) return {*id, "plugin"};
  if (auto bus = get_string(d.attributes, "pci.bus_id"); bus && !bus->empty()) {
    std::string lower;
    for (char c : *bus) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return {"pci:" + lower, "pci.bus_id"};
  }
  if (auto uuid = get_string(d.attributes, "uuid"); uuid && !uuid->empty()) return {"uuid:" + *uuid, "uuid"};
  if (get_string(d.attributes, "kind").value_or("") == "cpu" &&
      get_bool(d.attributes, "mem.host_shared").value_or(false))
    return {"host-cpu:package=0", "kind=cpu"};
  return {"device:" + d.id, "device id"};
}

namespace {

// The parts of the silicon an identity names: each package of a host CPU, else the identity itself.
std::vector<std::string> silicon_parts(const std::string& id) {
  const std::string prefix = "host-cpu:package=";
  if (id.rfind(prefix, 0) != 0) return {id};
  std::vector<std::string> parts;
  size_t start = prefix.size();
  while (start <= id.size()) {
    size_t end = id.find(',', start);
    if (end == std::string::npos) end = id.size();
    if (end > start) parts.push_back(prefix + id.substr(start, end - start));
    start = end + 1;
  }
  if (parts.empty()) parts.push_back(id);
  return parts;
}

}  // namespace

std::vector<std::vector<size_t>> group_by_silicon(const std::vector<DeviceFacts>& devices) {
  // Union-find over devices, joined through the silicon parts they name.
  std::vector<size_t> parent(devices.size());
  std::iota(parent.begin(), parent.end(), size_t{0});
  auto root = [&](size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::map<std::string, size_t> owner;  // silicon part -> first device naming it
  for (size_t i = 0; i < devices.size(); ++i)
    for (const auto& part : silicon_parts(physical_identity(devices[i]).id)) {
      auto [it, fresh] = owner.emplace(part, i);
      if (!fresh) {
        const size_t a = root(it->second), b = root(i);
        parent[std::max(a, b)] = std::min(a, b);
      }
    }
  std::vector<std::vector<size_t>> groups;
  std::map<size_t, size_t> group_of_root;
  for (size_t i = 0; i < devices.size(); ++i) {
    auto [it, fresh] = group_of_root.emplace(root(i), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

bool device_matches(const std::string& selector, const std::string& id) {
  if (selector.empty() || selector == "all" || selector == "*") return true;
  size_t start = 0;
  while (start <= selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string glob = selector.substr(start, end - start);
    if (!glob.empty() && fnmatch(glob.c_str(), id.c_str(), 0) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace cmeter
