// JSON form of PluginRow.
#include "core/model/plugin_row.h"
#include "core/model/json_fields.h"

namespace cmeter {

nlohmann::json plugin_row_to_json(const PluginRow& row) {
  return {{"path", row.path},
          {"name", row.name},
          {"loaded", row.loaded},
          {"error", row.error},
          {"abi_major", row.abi_major},
          {"abi_minor", row.abi_minor},
          {"sha256", row.sha256},
          {"attributes", to_json(row.attributes)},
          {"device_count", row.device_count}};
}

Result<PluginRow> plugin_row_from_json(const nlohmann::json& j) {
  PluginRow row;
  try {
    row.path = j.at("path").get<std::string>();
    row.name = j.at("name").get<std::string>();
    row.loaded = j.at("loaded").get<bool>();
    row.error = j.value("error", std::string());
    row.abi_major = json_fields::read_int32(j, "abi_major");
    row.abi_minor = json_fields::read_int32(j, "abi_minor");
    row.sha256 = j.value("sha256", std::string());
    row.attributes = key_values_from_json(j.value("attributes", nlohmann::json::object()));
    row.device_count = json_fields::read_uint(j, "device_count");
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "malformed plugin row in worker message: {}", e.what());
  }
  return row;
}

}  // namespace cmeter
