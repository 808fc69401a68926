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

TEST_CASE("device facts: physical identity, from the plugin or derived") {
  CHECK(physical_identity({"cpu:0", {{"physical.id", std::string("host-cpu:package=0")}}}).source ==
        "plugin");
  auto pci = physical_identity({"cuda:0", {{"pci.bus_id", std::string("0000:3B:00.0")}}});
  CHECK(pci.id == "pci:0000:3b:00.0");
  CHECK(pci.source == "pci.bus_id");
  CHECK(physical_identity({"x:0", {{"uuid", std::string("abc")}}}).id == "uuid:abc");
  CHECK(physical_identity({"x:0", {{"kind", std::string("cpu")}, {"mem.host_shared", true}}}).id ==
        "host-cpu:package=0");
  CHECK(physical_identity({"x:0", {{"kind", std::string("gpu")}}}).id == "device:x:0");
}

TEST_CASE("device facts: devices grouped by the silicon they share") {
  auto dev = [](std::string id, std::string phys) {
    return DeviceFacts{std::move(id), {{"physical.id", std::move(phys)}}};
  };
  // cpu:0 and PoCL on the same package; two GPUs on their own; a CPU device on packages 0,1 overlaps
  // the one on package 1.
  std::vector<DeviceFacts> devices = {dev("cpu:0", "host-cpu:package=0"), dev("cuda:0", "pci:0000:3b:00.0"),
                                      dev("opencl:0", "host-cpu:package=0"),
                                      dev("cuda:1", "pci:0000:5e:00.0"), dev("opencl:1", "pci:0000:3b:00.0")};
  auto groups = group_by_silicon(devices);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0] == std::vector<size_t>{0, 2});
  CHECK(groups[1] == std::vector<size_t>{1, 4});
  CHECK(groups[2] == std::vector<size_t>{3});
  auto overlap = group_by_silicon(
      {dev("a", "host-cpu:package=1"), dev("b", "host-cpu:package=2"), dev("c", "host-cpu:package=1,2")});
  REQUIRE(overlap.size() == 1);
  CHECK(overlap[0] == std::vector<size_t>{0, 1, 2});
  CHECK(group_by_silicon({dev("a", "host-cpu:package=0"), dev("b", "host-cpu:package=1")}).size() == 2);
}

}  // namespace
}  // namespace cmeter
