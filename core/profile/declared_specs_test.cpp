// Declared specs: the shipped files load, matching by PCI id and by name (longest pattern wins),
// --declared by SKU name, precedence of a plugin's own peaks, an unsourced figure refused, and the PCI
// id read from a fake sysfs tree.
#include "core/profile/declared_specs.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace cmeter::profile {
namespace {

namespace fs = std::filesystem;

std::vector<DeclaredSku> shipped() {
  auto specs = load_declared_specs(declared_spec_files(std::string(CMETER_SOURCE_DIR) + "/profiles/devices"));
  REQUIRE(specs.ok());
  return std::move(specs).value();
}

fs::path fresh_dir(const char* name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("cmeter-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST_CASE("declared specs: the shipped files load, every figure with its source") {
  const auto specs = shipped();
  CHECK(specs.size() >= 10);
  const DeclaredSku* h100 = find_declared_spec(specs, "nvidia h100 sxm5 80gb");
  REQUIRE(h100 != nullptr);
  CHECK(h100->figures.at("peak.flops.f16").value == doctest::Approx(989.5e12));
  CHECK(h100->figures.at("peak.flops.f16").source.find("http") != std::string::npos);
  for (const auto& s : specs)
    for (const auto& entry : s.figures)  // no structured binding: doctest's message is a lambda (clang 14)
      CHECK_MESSAGE(!entry.second.source.empty(), s.sku << " " << entry.first);
}

TEST_CASE("declared specs: matching by PCI id, then by the longest name pattern") {
  const auto specs = shipped();
  const DeclaredSku* by_pci = match_declared_spec(specs, "some renamed board", "10DE:2331");
  REQUIRE(by_pci != nullptr);
  CHECK(by_pci->sku == "NVIDIA H100 PCIe 80GB");
  const DeclaredSku* by_name = match_declared_spec(specs, "NVIDIA H100 80GB HBM3", "");
  REQUIRE(by_name != nullptr);
  CHECK(by_name->sku == "NVIDIA H100 SXM5 80GB");
  CHECK(match_declared_spec(specs, "NVIDIA H200", "")->sku == "NVIDIA H200 SXM 141GB");
  CHECK(match_declared_spec(specs, "AMD Instinct MI250X", "")->sku == "AMD Instinct MI250X");
  CHECK(match_declared_spec(specs, "cpu", "") == nullptr);
  CHECK(match_declared_spec(specs, "pthread-Intel(R) Xeon(R)", "8086:1234") == nullptr);
}

TEST_CASE("declared specs: a plugin's peaks win only when it says why; --declared always wins") {
  const auto specs = shipped();
  const DeclaredSku& h200 = *find_declared_spec(specs, "NVIDIA H200 SXM 141GB");
  DeviceFacts quiet{"opencl:0", {{"name", std::string("NVIDIA H200")}, {"peak.flops.f32", 1e12}}};
  apply_declared_spec(quiet, h200, false);
  CHECK(get_number(quiet.attributes, "peak.flops.f32").value() == doctest::Approx(67e12));
  CHECK(get_string(quiet.attributes, "declared.used").value() == "spec");
  CHECK(get_string(quiet.attributes, "declared.sources").value().find("peak.flops.bf16 = ") !=
        std::string::npos);

  DeviceFacts says_why{"cuda:0",
                       {{"peak.flops.f32", 66e12}, {"peak.source", std::string("SMs x clock (measured)")}}};
  apply_declared_spec(says_why, h200, false);
  CHECK(get_number(says_why.attributes, "peak.flops.f32").value() == doctest::Approx(66e12));
  CHECK(get_string(says_why.attributes, "declared.used").value() == "plugin");
  CHECK(get_string(says_why.attributes, "declared.sku").value() == "NVIDIA H200 SXM 141GB");

  apply_declared_spec(says_why, h200, true);
  CHECK(get_number(says_why.attributes, "peak.flops.f32").value() == doctest::Approx(67e12));
  CHECK(get_string(says_why.attributes, "declared.used").value() == "forced");
  CHECK(get_string(says_why.attributes, "peak.source").value().find("--declared") != std::string::npos);
}

TEST_CASE("declared specs: an unsourced figure is refused, naming file and SKU") {
  const fs::path dir = fresh_dir("specs");
  std::ofstream(dir / "bad.yaml") << "schema: cmeter.device-specs/1\nfamily: X\nsources:\n"
                                     "  a: {title: T, url: 'https://x', date: '2024'}\nskus:\n"
                                     "  - sku: Board X\n    match: {names: [Board X], pci_ids: []}\n"
                                     "    figures:\n      tdp.w: {value: 300, unit: W, source: b}\n";
  auto loaded = load_declared_specs({(dir / "bad.yaml").string()});
  REQUIRE(!loaded.ok());
  CHECK(loaded.error().message.find("Board X: tdp.w: source 'b'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("declared specs: the PCI id comes from sysfs for the bus id") {
  const fs::path root = fresh_dir("sysfs");
  const fs::path dev = root / "bus" / "pci" / "devices" / "0000:17:00.0";
  fs::create_directories(dev);
  std::ofstream(dev / "vendor") << "0x10de\n";
  std::ofstream(dev / "device") << "0x2330\n";
  CHECK(pci_id_of("0000:17:00.0", root.string()) == "10de:2330");
  CHECK(pci_id_of("0000:18:00.0", root.string()).empty());
  CHECK(pci_id_of("", root.string()).empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace cmeter::profile
