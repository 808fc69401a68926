// RAPL against a fake powercap tree: package zones found (subzones and other zones left out), energy
// summed over packages, a counter wrap unwound, and "no energy source" where there is nothing to read.
#include "core/measure/rapl.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace cmeter::measure {
namespace {

namespace fs = std::filesystem;

void zone(const fs::path& root, const std::string& dir, const std::string& name, double uj, double max_uj) {
  fs::create_directories(root / dir);
  std::ofstream(root / dir / "name") << name << "\n";
  std::ofstream(root / dir / "energy_uj") << fmt::format("{:.0f}", uj) << "\n";
  std::ofstream(root / dir / "max_energy_range_uj") << fmt::format("{:.0f}", max_uj) << "\n";
}

TEST_CASE("rapl: package energy from a fake powercap tree, wraps unwound") {
  const fs::path root = fs::temp_directory_path() / fmt::format("cmeter-rapl-{}", ::getpid());
  fs::remove_all(root);
  zone(root, "intel-rapl:0", "package-0", 1'000'000, 10'000'000);
  zone(root, "intel-rapl:1", "package-1", 9'500'000, 10'000'000);
  zone(root, "intel-rapl:0:0", "core", 5, 10'000'000);  // a subzone: not a package, not counted
  zone(root, "intel-rapl-mmio:0", "package-0", 5, 10'000'000);

  RaplReader rapl(root.string(), "/nonexistent/event_source");
  REQUIRE(rapl.available());
  REQUIRE(rapl.zones().size() == 2);
  CHECK(rapl.source().find("package-0 + package-1") != std::string::npos);
  CHECK(rapl.source().find("package-level") != std::string::npos);
  CHECK(rapl.energy_j().value() == doctest::Approx(0));
  // package-0 +2 J; package-1 wraps: 9.5 J -> 10 J (max) -> 0.7 J = +1.2 J.
  std::ofstream(root / "intel-rapl:0" / "energy_uj") << "3000000\n";
  std::ofstream(root / "intel-rapl:1" / "energy_uj") << "700000\n";
  CHECK(rapl.energy_j().value() == doctest::Approx(3.2));
  std::ofstream(root / "intel-rapl:0" / "energy_uj") << "3500000\n";
  CHECK(rapl.energy_j().value() == doctest::Approx(3.7));
  // A counter that became unreadable: no reading (never a made-up one).
  fs::remove(root / "intel-rapl:1" / "energy_uj");
  CHECK(!rapl.energy_j().has_value());
  fs::remove_all(root);
}

TEST_CASE("rapl: no tree, no energy source, and says so") {
  RaplReader none("/nonexistent/powercap", "/nonexistent/event_source");
  CHECK(!none.available());
  CHECK(none.unavailable_reason().find("no energy source") != std::string::npos);
  CHECK(!none.energy_j().has_value());
}

}  // namespace
}  // namespace cmeter::measure
