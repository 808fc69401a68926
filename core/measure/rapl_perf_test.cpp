// RAPL through perf events against a fake sysfs tree and in-memory counters: the event's description
// read (type, encoding, scale, unit, one CPU per package), energy summed over packages in J, a counter
// that cannot be opened or read is no reading, malformed descriptions are errors naming the file, and
// RaplReader falls back to this path only where powercap has no readable zone.
#include "core/measure/rapl_perf.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "core/measure/rapl.h"

namespace cmeter::measure {
namespace {

namespace fs = std::filesystem;

struct FakeTree {
  fs::path root;
  explicit FakeTree(const std::string& tag) {
    root = fs::temp_directory_path() / fmt::format("cmeter-rapl-perf-{}-{}", tag, ::getpid());
    fs::remove_all(root);
    fs::create_directories(root / "power" / "events");
    write("power/type", "24\n");
    write("power/cpumask", "0,24\n");
    write("power/events/energy-pkg", "event=0x02\n");
    write("power/events/energy-pkg.scale", "2.3283064365386962890625e-10\n");
    write("power/events/energy-pkg.unit", "Joules\n");
  }
  ~FakeTree() { fs::remove_all(root); }
  void write(const std::string& file, const std::string& text) const { std::ofstream(root / file) << text; }
};

// Counters in memory, one per CPU, and what was asked of them.
struct FakeCounters {
  std::map<int, uint64_t> count;  // by handle (= cpu + 100)
  std::map<int, bool> open;
  bool refuse = false;
  PerfCounterAccess access() {
    PerfCounterAccess a;
    a.open = [this](const PerfEnergyEvent& e, int cpu) -> Result<int> {
      if (refuse) return make_error(ErrorCode::kUnavailable, "perf_event_open: Permission denied");
      CHECK(e.type == 24);
      CHECK(e.config == 0x02);
      open[cpu + 100] = true;
      count[cpu + 100] = 1000;
      return cpu + 100;
    };
    a.read = [this](int h) -> std::optional<uint64_t> {
      if (count.count(h) == 0) return std::nullopt;
      return count[h];
    };
    a.close = [this](int h) { open[h] = false; };
    return a;
  }
};

constexpr double kScale = 2.3283064365386962890625e-10;  // 2^-32 J

TEST_CASE("rapl perf: the power PMU's energy-pkg from a fake tree, summed over packages in J") {
  const FakeTree tree("ok");
  auto event = read_perf_energy_event(tree.root.string());
  REQUIRE_MESSAGE(event.ok(), (event.ok() ? "" : event.error().message));
  CHECK(event->type == 24);
  CHECK(event->config == 0x02);
  CHECK(event->joules_per_count == doctest::Approx(kScale));
  CHECK(event->cpus == std::vector<int>{0, 24});

  FakeCounters counters;
  {
    RaplPerfReader perf(tree.root.string(), counters.access());
    REQUIRE(perf.available());
    CHECK(perf.source().find("power/energy-pkg") != std::string::npos);
    CHECK(perf.source().find("cpus 0, 24") != std::string::npos);
    CHECK(perf.source().find("package-level") != std::string::npos);
    CHECK(perf.energy_j().value() == doctest::Approx(0));
    counters.count[100] += uint64_t{3} << 32;  // package 0: +3 J
    counters.count[124] += uint64_t{1} << 31;  // package 1: +0.5 J
    CHECK(perf.energy_j().value() == doctest::Approx(3.5));
    // A counter that went back, or cannot be read: no reading.
    counters.count[124] = 0;
    CHECK(!perf.energy_j().has_value());
    counters.count.erase(124);
    CHECK(!perf.energy_j().has_value());
  }
  CHECK(counters.open[100] == false);  // closed with the reader
  CHECK(counters.open[124] == false);

  // Not permitted: no energy source, saying why, and nothing left open.
  FakeCounters refused;
  refused.refuse = true;
  RaplPerfReader denied(tree.root.string(), refused.access());
  CHECK(!denied.available());
  CHECK(denied.unavailable_reason().find("no energy source: perf_event_open") != std::string::npos);
  CHECK(!denied.energy_j().has_value());
}

TEST_CASE("rapl perf: a missing or malformed description is an error naming the file") {
  CHECK(read_perf_energy_event("/nonexistent/event_source").error().message.find("no power PMU") !=
        std::string::npos);
  struct Bad {
    const char* file;
    const char* text;
    const char* names;
  };
  for (const Bad& bad : {Bad{"power/type", "twenty\n", "power/type"},
                         Bad{"power/events/energy-pkg", "event=0x02,umask=0x1\n", "energy-pkg"},
                         Bad{"power/events/energy-pkg", "config=7\n", "energy-pkg"},
                         Bad{"power/events/energy-pkg.scale", "-1\n", "energy-pkg.scale"},
                         Bad{"power/events/energy-pkg.scale", "2.0\n", "energy-pkg.scale"},
                         Bad{"power/events/energy-pkg.unit", "Watts\n", "energy-pkg.unit"},
                         Bad{"power/cpumask", "0-\n", "cpumask"}}) {
    CAPTURE(bad.file);
    CAPTURE(bad.text);
    const FakeTree tree("bad");
    tree.write(bad.file, bad.text);
    auto event = read_perf_energy_event(tree.root.string());
    REQUIRE_FALSE(event.ok());
    CHECK(event.error().message.find(bad.names) != std::string::npos);
  }
  const FakeTree tree("absent");
  fs::remove(tree.root / "power/events/energy-pkg.scale");
  CHECK(read_perf_energy_event(tree.root.string()).error().message.find("scale") != std::string::npos);
}

TEST_CASE("rapl perf: CPU lists") {
  CHECK(parse_cpu_list("0").value() == std::vector<int>{0});
  CHECK(parse_cpu_list("0,24").value() == std::vector<int>{0, 24});
  CHECK(parse_cpu_list("0-2,8").value() == std::vector<int>{0, 1, 2, 8});
  for (const char* bad : {"", "a", "3-1", "1,,2", "-1", "0-99999"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cpu_list(bad).ok());
  }
}

TEST_CASE("rapl: powercap first; perf events only where powercap has no readable zone") {
  const FakeTree tree("fallback");
  FakeCounters counters;
  RaplReader fallback("/nonexistent/powercap", tree.root.string(), counters.access());
  REQUIRE(fallback.available());
  CHECK(fallback.source().find("perf events") != std::string::npos);
  CHECK(fallback.energy_j().value() == doctest::Approx(0));
  counters.count[100] += uint64_t{1} << 32;
  CHECK(fallback.energy_j().value() == doctest::Approx(1.0));

  // Neither: the reason names both.
  FakeCounters refused;
  refused.refuse = true;
  RaplReader neither("/nonexistent/powercap", tree.root.string(), refused.access());
  CHECK(!neither.available());
  CHECK(neither.unavailable_reason().find("no RAPL package zone under /nonexistent/powercap") !=
        std::string::npos);
  CHECK(neither.unavailable_reason().find("perf_event_open") != std::string::npos);

  // Powercap readable: perf is never opened.
  const fs::path powercap = tree.root / "powercap";
  fs::create_directories(powercap / "intel-rapl:0");
  std::ofstream(powercap / "intel-rapl:0" / "name") << "package-0\n";
  std::ofstream(powercap / "intel-rapl:0" / "energy_uj") << "1000000\n";
  std::ofstream(powercap / "intel-rapl:0" / "max_energy_range_uj") << "10000000\n";
  FakeCounters untouched;
  RaplReader first(powercap.string(), tree.root.string(), untouched.access());
  REQUIRE(first.available());
  CHECK(first.source().find("powercap") != std::string::npos);
  CHECK(untouched.open.empty());
}

}  // namespace
}  // namespace cmeter::measure
