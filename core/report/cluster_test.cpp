// Tests for the cluster report: node reports merged with a cluster member; a missing node is named and
// costs only its own results; the spread names the slowest and fastest node; totals count each
// physical device once across nodes (host-cpu on two nodes is two CPUs, cpu:0 and PoCL on one is one).
#include "core/report/cluster.h"

#include <doctest/doctest.h>

#include "core/report/integrity.h"
#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

std::string node_report(const std::string& node, double fp32, bool with_pocl = false) {
  testing::SyntheticReport s;
  s.hostname = node;
  s.run_id = "run-" + node;
  s.devices = {
      {"cpu:0", {{"name", std::string("Test CPU")}, {"physical.id", std::string("host-cpu:package=0")}}}};
  s.cases[0].median = fp32;
  s.cases[0].ci_low = fp32 * 0.99;
  s.cases[0].ci_high = fp32 * 1.01;
  if (with_pocl) {
    s.devices.push_back(
        {"opencl:0", {{"name", std::string("PoCL")}, {"physical.id", std::string("host-cpu:package=0")}}});
    testing::SyntheticCase pocl;
    pocl.device = "opencl:0";
    pocl.median = fp32 / 2;
    pocl.ci_low = fp32 / 2 * 0.99;
    pocl.ci_high = fp32 / 2 * 1.01;
    s.cases.push_back(pocl);
  }
  return testing::make_report(s).dump();
}

TEST_CASE("cluster: four nodes, one missing; spread and totals over the three that reported") {
  ClusterInputs in;
  in.nodes = {{"n0", {0}, node_report("n0", 1e11, true), ""},
              {"n1", {1}, node_report("n1", 2e11), ""},
              {"n2", {2}, "", "rank 2 sent nothing within 30 s (dead or hung)"},
              {"n3", {3}, node_report("n3", 4e11), ""}};
  in.launch = {{"library", "Open MPI test"}, {"ranks", 4}};
  in.merge.argv = {"mpirun", "cmeter", "run", "--mpi"};
  in.merge.now_utc = "2026-01-02T00:00:00Z";
  auto out = build_cluster_report(in);
  REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
  const auto& j = out->report;
  auto loaded = load_report(j, "cluster.json");  // schema-valid
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
  CHECK(verify_report(j, TrustPolicy{}).ok());
  REQUIRE(j["summary"]["nodes"].size() == 3);
  REQUIRE(j["cluster"]["missing"].size() == 1);
  CHECK(j["cluster"]["missing"][0]["node"] == "n2");
  CHECK(j["cluster"]["nodes"][2]["status"] == "missing");
  // Each node's CPU once: n0's PoCL shares n0's CPU and is left out; the three CPUs are three chips.
  const auto& fp32 = j["summary"]["node_totals"]["fp32_flops_per_s"];
  CHECK(fp32["value"].get<double>() == doctest::Approx(7e11));
  CHECK(fp32["devices"] == 3);
  REQUIRE(j["summary"]["excluded_from_totals"].size() == 1);
  CHECK(j["summary"]["excluded_from_totals"][0]["device"] == "opencl:0");  // its id collides with none
  CHECK(j["summary"]["excluded_from_totals"][0]["physical_id"] == "n0/host-cpu:package=0");
  const auto& spread = j["cluster"]["spread"][0];
  CHECK(spread["metric"] == "fp32_flops_per_s");
  CHECK(spread["slowest"]["node"] == "n0");
  CHECK(spread["fastest"]["node"] == "n3");
  CHECK(spread["nodes"] == 3);
  // mean 7e11/3, population sd of {1,2,4}e11 = 1.247e11
  CHECK(spread["cv"].get<double>() == doctest::Approx(1.2472 / 2.3333).epsilon(1e-3));
  CHECK(out->warnings.size() == 1);
}

TEST_CASE("cluster: a node whose report names another host is missing, not silently merged") {
  ClusterInputs in;
  in.nodes = {{"a", {0}, node_report("a", 1e11), ""}, {"b", {1}, node_report("c", 1e11), ""}};
  auto out = build_cluster_report(in);
  REQUIRE(out.ok());
  CHECK(out->report["cluster"]["missing"][0]["node"] == "b");
  CHECK(out->report["summary"]["nodes"].size() == 1);
  ClusterInputs none;
  none.nodes = {{"a", {0}, "", "rank 0 failed"}};
  CHECK_FALSE(build_cluster_report(none).ok());
}

}  // namespace
}  // namespace cmeter
