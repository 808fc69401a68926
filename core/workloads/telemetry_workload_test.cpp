// Power and energy per case through a real plugin: the `telemetry` stub variant draws a constant
// 100 W with an exact energy counter, so every measured case must report about 100 W average power,
// energy consistent with its sampling time, energy per call and efficiency per watt; a plugin
// without telemetry gives a null telemetry member (nothing invented).
#include <doctest/doctest.h>

#include "core/plugin/plugin_host.h"
#include "core/workloads/workload.h"

namespace cmeter::workloads {
namespace {

std::unique_ptr<PluginHost> load_plugin(const std::string& path) {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {path};
  return PluginHost::load(discover_plugins(options));
}

profile::Case quick_case(std::string workload, KeyValues params) {
  profile::Case c;
  c.id = workload;
  c.workload = std::move(workload);
  c.params = std::move(params);
  c.stats.warmup_min_runs = 1;
  c.stats.warmup_min_s = 0.0;
  c.stats.sample_min_s = 0.002;
  c.stats.min_samples = 5;
  c.stats.min_s = 0.3;  // long enough for several readings 0.1 s apart
  c.stats.noise = 0.5;
  c.stats.max_s = 1.0;
  return c;
}

}  // namespace

TEST_CASE("telemetry: power and energy per case from a plugin's device_telemetry") {
  auto host =
      load_plugin(std::string(CMETER_TEST_PLUGIN_DIR) + "/../telemetry-plugins/libcmeter-telemetry.so");
  REQUIRE(host->devices().size() == 1);
  const Device& dev = host->devices()[0];
  REQUIRE(dev.has_telemetry());
  auto r = run_case(Context{dev, quick_case("gemm", {{"n", int64_t{48}}, {"dtype", std::string("f32")}}), 7});
  CAPTURE(r.reason);
  REQUIRE((r.status == CaseStatus::kOk || r.status == CaseStatus::kNoisy));
  REQUIRE(r.telemetry.is_object());
  const auto& t = r.telemetry;
  CAPTURE(t.dump());
  CHECK(t["available"] == true);
  CHECK(t["samples"].get<int64_t>() >= 3);
  CHECK(t["power_source"] == "energy counter");
  CHECK(t["avg_power_w"].get<double>() == doctest::Approx(100).epsilon(0.03));
  CHECK(t["energy_j"].get<double>() == doctest::Approx(100 * t["duration_s"].get<double>()).epsilon(0.03));
  CHECK(t["duration_s"].get<double>() >= 0.25);
  const double median_s = r.metric("time_s")->stats.median;
  CHECK(t["energy_per_call_j"].get<double>() == doctest::Approx(t["avg_power_w"].get<double>() * median_s));
  CHECK(t["per_watt"]["metric"] == "flops_per_s");
  CHECK(t["per_watt"]["unit"] == "FLOP/J");
  CHECK(t["per_watt"]["value"].get<double>() ==
        doctest::Approx(r.method.flop_per_call / median_s / t["avg_power_w"].get<double>()));
  CHECK(t["max_temp_c"].get<double>() > 40);
  CHECK(t["throttled"] == false);
  // Launch latency has no throughput metric: power and energy, no per-watt figure.
  auto l = run_case(Context{dev, quick_case("launch_latency", {{"form", std::string("throughput")}}), 7});
  REQUIRE(l.telemetry.is_object());
  CHECK(l.telemetry.contains("avg_power_w"));
  CHECK_FALSE(l.telemetry.contains("per_watt"));
}

TEST_CASE("telemetry: a plugin without device_telemetry gives null telemetry") {
  auto host = load_plugin(std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so");
  REQUIRE(host->devices().size() == 1);
  auto r = run_case(Context{host->devices()[0],
                            quick_case("gemm", {{"n", int64_t{16}}, {"dtype", std::string("f32")}}), 7});
  CHECK(r.telemetry.is_null());
}

}  // namespace cmeter::workloads
