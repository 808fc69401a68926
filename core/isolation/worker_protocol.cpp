// JSON form of the worker messages' case payload.
#include "core/isolation/worker_protocol.h"
#include "core/model/json_fields.h"

namespace cmeter::worker {
namespace {

nlohmann::json param_to_json(const profile::ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

}  // namespace

nlohmann::json case_to_json(const profile::Case& c) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : c.params) params[k] = param_to_json(v);
  const auto& s = c.stats;
  return {{"id", c.id},
          {"workload", c.workload},
          {"params", params},
          {"devices", c.devices},
          {"where", {{"file", c.where.file}, {"line", c.where.line}, {"column", c.where.column}}},
          {"stats",
           {{"warmup_min_runs", s.warmup_min_runs},
            {"warmup_min_s", s.warmup_min_s},
            {"sample_min_s", s.sample_min_s},
            {"min_samples", s.min_samples},
            {"min_s", s.min_s},
            {"noise", s.noise},
            {"max_s", s.max_s},
            {"rotation_sets", s.rotation_sets},
            {"timeout_s", s.timeout_s}}}};
}

Result<profile::Case> case_from_json(const nlohmann::json& j) {
  profile::Case c;
  try {
    c.id = j.at("id").get<std::string>();
    c.workload = j.at("workload").get<std::string>();
    c.devices = j.value("devices", std::string("*"));
    for (auto it = j.at("params").begin(); it != j.at("params").end(); ++it) {
      const auto& v = it.value();
      if (v.is_boolean())
        c.params[it.key()] = v.get<bool>();
      else if (v.is_number_integer())
        c.params[it.key()] = v.get<int64_t>();
      else if (v.is_number())
        c.params[it.key()] = v.get<double>();
      else if (v.is_string())
        c.params[it.key()] = v.get<std::string>();
      else
        return make_error(ErrorCode::kInvalidArgument, "case '{}': parameter '{}' is not a scalar", c.id,
                          it.key());
    }
    if (j.contains("where")) {
      const auto& w = j.at("where");
      c.where.file = w.value("file", std::string());
      c.where.line = json_fields::read_int32(w, "line");
      c.where.column = json_fields::read_int32(w, "column");
    }
    const auto& s = j.at("stats");
    c.stats.warmup_min_runs = json_fields::read_int32(s, "warmup_min_runs");
    c.stats.warmup_min_s = s.at("warmup_min_s").get<double>();
    c.stats.sample_min_s = s.at("sample_min_s").get<double>();
    c.stats.min_samples = json_fields::read_int32(s, "min_samples");
    c.stats.min_s = s.at("min_s").get<double>();
    c.stats.noise = s.at("noise").get<double>();
    c.stats.max_s = s.at("max_s").get<double>();
    c.stats.rotation_sets = json_fields::read_int32(s, "rotation_sets");
    c.stats.timeout_s = s.at("timeout_s").get<double>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "malformed case in worker message: {}", e.what());
  }
  return c;
}

}  // namespace cmeter::worker
