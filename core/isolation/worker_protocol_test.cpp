// Round trips of the worker message payloads: a case, a plugin row and a device come back equal, and
// malformed payloads are Errors naming what is wrong.
#include "core/isolation/worker_protocol.h"

#include <doctest/doctest.h>

namespace cmeter::worker {

TEST_CASE("worker protocol: a case round-trips with every parameter type and setting") {
  profile::Case c;
  c.id = "gemm[dtype=f16]";
  c.workload = "gemm";
  c.params = {
      {"m", int64_t{512}}, {"alpha", 0.5}, {"whole", 2.0}, {"trans_a", true}, {"dtype", std::string("f16")}};
  c.devices = "cpu:*";
  c.where = {"p.yaml", 12, 5};
  c.stats.max_s = 7.5;
  c.stats.timeout_s = 33;
  c.stats.rotation_sets = 3;
  nlohmann::json j = case_to_json(c);
  auto back = case_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.ok());
  CHECK(back->id == c.id);
  CHECK(back->workload == c.workload);
  CHECK(back->params == c.params);  // 2.0 stays a double, 512 an integer
  CHECK(back->devices == "cpu:*");
  CHECK(back->where.line == 12);
  CHECK(back->stats.max_s == 7.5);
  CHECK(back->stats.timeout_s == 33);
  CHECK(back->stats.rotation_sets == 3);
  CHECK(back->stats.noise == c.stats.noise);
}

TEST_CASE("worker protocol: malformed cases are errors, not exceptions") {
  CHECK_FALSE(case_from_json(nlohmann::json::array()).ok());
  CHECK_FALSE(case_from_json({{"id", "x"}}).ok());
  nlohmann::json j = case_to_json(profile::Case{});
  j["params"]["bad"] = nlohmann::json::array();
  auto r = case_from_json(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("'bad'") != std::string::npos);
  j = case_to_json(profile::Case{});
  j["stats"]["max_s"] = "soon";
  CHECK_FALSE(case_from_json(j).ok());
}

TEST_CASE("worker protocol: plugin rows and devices round-trip") {
  PluginRow row;
  row.path = "/x/libcmeter-a.so";
  row.name = "a";
  row.loaded = true;
  row.abi_major = 1;
  row.abi_minor = 2;
  row.sha256 = std::string(64, 'f');
  row.attributes = {{"plugin.version", std::string("1.0")}};
  row.device_count = 3;
  auto back = plugin_row_from_json(plugin_row_to_json(row));
  REQUIRE(back.ok());
  CHECK(back->name == "a");
  CHECK(back->loaded);
  CHECK(back->abi_minor == 2);
  CHECK(back->attributes == row.attributes);
  CHECK(back->device_count == 3);
  CHECK_FALSE(plugin_row_from_json({{"name", "a"}}).ok());

  DeviceFacts d{"a:0",
                {{"mem.bytes", int64_t{1} << 40}, {"peak.flops.f32", 1e12}, {"name", std::string("A")}}};
  auto dback = device_from_json(device_to_json(d));
  REQUIRE(dback.ok());
  CHECK(dback->id == "a:0");
  CHECK(dback->attributes == d.attributes);
  CHECK_FALSE(device_from_json({{"attributes", {}}}).ok());
}

}  // namespace cmeter::worker
