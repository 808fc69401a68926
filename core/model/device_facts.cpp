// JSON form of DeviceFacts, and device selectors.
#include "core/model/device_facts.h"

#include <fnmatch.h>

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
