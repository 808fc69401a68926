// Tests for the `cmeter devices` view: attributes in human units by key, long texts wrapped under the
// value column, plugins that did not load with their reason, and the raw values kept in --json.
#include "reports/devices.h"

#include <doctest/doctest.h>

namespace cmeter::reports {
namespace {

TEST_CASE("devices: attributes in human units by key") {
  CHECK(format_attribute("mem.bytes", int64_t{25276157952}) == "23.5 GiB");
  CHECK(format_attribute("cache.llc.bytes", int64_t{33554432}) == "32 MiB");
  CHECK(format_attribute("clock.core.mhz", 3381.2) == "3.38 GHz");
  CHECK(format_attribute("clock.mem.mhz", int64_t{1593}) == "1.59 GHz");
  CHECK(format_attribute("peak.flops.f16", 989.4e12) == "989 TFLOP/s");
  CHECK(format_attribute("peak.flops.f32", 433.1e9) == "433 GFLOP/s");
  CHECK(format_attribute("peak.flops.i8", 1.98e15) == "1.98 POP/s");
  CHECK(format_attribute("peak.mem.bytes_per_s", 4.8e12) == "4.8 TB/s");
  CHECK(format_attribute("compute_units", int64_t{132}) == "132");
  CHECK(format_attribute("numa.node", int64_t{0}) == "0");
  CHECK(format_attribute("kind", std::string("gpu")) == "gpu");
  CHECK(format_attribute("mem.host_shared", true) == "true");
}

TEST_CASE("devices: terminal view with units, wrapped source, failed plugins; JSON keeps raw values") {
  PluginRow ok;
  ok.name = "cpu";
  ok.path = "/lib/libcmeter-cpu.so";
  ok.loaded = true;
  ok.abi_major = 1;
  ok.device_count = 1;
  PluginRow bad;
  bad.name = "broken";
  bad.path = "/lib/libcmeter-broken.so";
  bad.error = "undefined symbol: cmeter_plugin_get_api";
  std::string source;
  for (int i = 0; i < 30; ++i) source += "word" + std::to_string(i) + " ";
  DeviceFacts dev{"cpu:0",
                  {{"name", std::string("Test CPU")},
                   {"mem.bytes", int64_t{17179869184}},
                   {"clock.core.mhz", 2500.0},
                   {"peak.flops.f32", 1.5e12},
                   {"peak.source", source}}};
  const std::string text = render_devices_terminal({ok, bad}, {dev});
  CHECK(text.find("loaded, ABI 1.0, 1 device(s)") != std::string::npos);
  CHECK(text.find("NOT LOADED") != std::string::npos);
  CHECK(text.find("reason: undefined symbol") != std::string::npos);
  CHECK(text.find("cpu:0      Test CPU\n") != std::string::npos);
  CHECK(text.find("mem.bytes              16 GiB\n") != std::string::npos);
  CHECK(text.find("clock.core.mhz         2.5 GHz\n") != std::string::npos);
  CHECK(text.find("peak.flops.f32         1.5 TFLOP/s\n") != std::string::npos);
  // peak.source wraps: every line within 100 columns, continuation lines under the value column.
  const size_t at = text.find("peak.source");
  REQUIRE(at != std::string::npos);
  const size_t column = at - text.rfind('\n', at) - 1 + 23;
  size_t lines = 0;
  for (size_t start = text.rfind('\n', at) + 1; start < text.size(); ++lines) {
    size_t end = text.find('\n', start);
    CHECK(end - start <= 100);
    if (lines > 0) CHECK(text.compare(start, column, std::string(column, ' ')) == 0);
    start = end + 1;
  }
  CHECK(lines > 1);
  const auto json = render_devices_json({ok, bad}, {dev});
  CHECK(json["devices"][0]["attributes"]["mem.bytes"] == 17179869184);
  CHECK(json["devices"][0]["attributes"]["clock.core.mhz"] == 2500.0);
  CHECK(json["plugins"][1]["status"] == "failed");
}

}  // namespace
}  // namespace cmeter::reports
