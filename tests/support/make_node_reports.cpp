// make_node_reports DIR N: writes N schema-valid node reports (DIR/node-0000.json ...) for the
// 1000-report merge test (tests/e2e/cluster_e2e.py merge1000). Built by the same build_report() a run
// uses (tests/support/report_fixtures.h), with correct digests, so `cmeter report merge` accepts them.
// Node i has cpu:0 with an f32 GEMM figure that varies with i (a known spread); every tenth node also
// has opencl:0 on the same CPU (physical.id), which the merged totals must leave out.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "tests/support/report_fixtures.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_node_reports DIR N\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int n = std::atoi(argv[2]);
  for (int i = 0; i < n; ++i) {
    cmeter::testing::SyntheticReport s;
    s.hostname = fmt::format("node-{:04d}", i);
    s.run_id = fmt::format("20261204T000000Z-{:04x}", i);
    s.devices = {
        {"cpu:0", {{"name", std::string("Test CPU")}, {"physical.id", std::string("host-cpu:package=0")}}}};
    // 1.0e11 .. 1.99e11 FLOP/s, deterministic in i.
    const double fp32 = 1e11 * (1.0 + static_cast<double>((i * 37) % 100) / 100.0);
    s.cases[0].median = fp32;
    s.cases[0].ci_low = fp32 * 0.99;
    s.cases[0].ci_high = fp32 * 1.01;
    if (i % 10 == 0) {
      s.devices.push_back(
          {"opencl:0", {{"name", std::string("PoCL")}, {"physical.id", std::string("host-cpu:package=0")}}});
      cmeter::testing::SyntheticCase pocl;
      pocl.device = "opencl:0";
      pocl.median = fp32 / 2;
      pocl.ci_low = fp32 / 2 * 0.99;
      pocl.ci_high = fp32 / 2 * 1.01;
      s.cases.push_back(pocl);
    }
    std::ofstream(fmt::format("{}/node-{:04d}.json", dir, i))
        << cmeter::testing::make_report(s).dump() << "\n";
  }
  return 0;
}
