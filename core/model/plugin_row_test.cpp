// PluginRow's JSON form: a row survives the round trip, and its integers (ABI version, device count)
// read from a forged or damaged report or worker message never reach an undefined conversion: a float
// or a negative count reads as 0, an ABI number past int's range is clamped.
#include "core/model/plugin_row.h"

#include <climits>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("plugin row: JSON round trip, and integers out of range or not integral never convert undefined") {
  PluginRow row;
  row.path = "/lib/cmeter/plugins/libcmeter-cpu.so";
  row.name = "cpu";
  row.loaded = true;
  row.abi_major = 1;
  row.abi_minor = 2;
  row.sha256 = "ab";
  row.device_count = 3;
  nlohmann::json j = plugin_row_to_json(row);
  auto back = plugin_row_from_json(j);
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
  CHECK(back->name == "cpu");
  CHECK(back->abi_major == 1);
  CHECK(back->abi_minor == 2);
  CHECK(back->device_count == 3);

  j["abi_major"] = 2.2e75;            // a float far past int: was json::value<int>, undefined
  j["abi_minor"] = int64_t{1} << 40;  // an integer past int: clamped
  j["device_count"] = -4;             // a negative count
  back = plugin_row_from_json(j);
  REQUIRE(back.ok());
  CHECK(back->abi_major == 0);
  CHECK(back->abi_minor == INT_MAX);
  CHECK(back->device_count == 0);
  j["device_count"] = 1e30;
  back = plugin_row_from_json(j);
  REQUIRE(back.ok());
  CHECK(back->device_count == 0);
}

TEST_CASE("plugin row: a missing required field is an error naming it") {
  nlohmann::json j = {{"path", "/x.so"}, {"loaded", true}};
  auto back = plugin_row_from_json(j);
  REQUIRE_FALSE(back.ok());
  CHECK(back.error().message.find("name") != std::string::npos);
}

}  // namespace
}  // namespace cmeter
