// Tests for DeviceFacts' JSON form and device selectors.
#include "core/model/device_facts.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("device facts: device selectors") {
  CHECK(device_matches("*", "cpu:0"));
  CHECK(device_matches("", "cpu:0"));
  CHECK(device_matches("all", "cpu:0"));
  CHECK(device_matches("cpu:*", "cpu:0"));
  CHECK_FALSE(device_matches("cpu:*", "opencl:0"));
  CHECK(device_matches("cuda:1,opencl:*", "opencl:3"));
  CHECK_FALSE(device_matches("cuda:1,opencl:0", "opencl:3"));
  CHECK(device_matches(",cpu:0,", "cpu:0"));
}

TEST_CASE("device facts: JSON round trip; no id is an error") {
  DeviceFacts d{"cpu:0", {{"name", std::string("x86")}, {"cores", int64_t{8}}}};
  auto back = device_from_json(device_to_json(d));
  REQUIRE(back);
  CHECK(back->id == "cpu:0");
  CHECK(back->attributes == d.attributes);
  CHECK_FALSE(device_from_json(nlohmann::json::object()));
  CHECK_FALSE(device_from_json(nlohmann::json{{"id", 3}}));
}

}  // namespace
}  // namespace cmeter
