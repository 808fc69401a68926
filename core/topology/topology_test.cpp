// Tests for core/topology: the running machine (whatever it is: only invariants are checked, and binding
// runs on a scratch thread) and saved hwloc XML fixtures from tests/fixtures/topologies/ (see
// make_fixtures.py there) for a 2-socket 4-GPU machine and a 1-socket NPS4 (4 NUMA nodes) 8-GPU machine.
#include "core/topology/topology.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <doctest/doctest.h>

namespace cmeter::topology {
namespace {

const std::string kFixtures = std::string(CMETER_SOURCE_DIR) + "/tests/fixtures/topologies/";
const std::string kDualSocket = kFixtures + "dual-socket-4gpu.xml";
const std::string kNps4 = kFixtures + "single-socket-nps4-8gpu.xml";
constexpr uint64_t kGiB = uint64_t{1} << 30;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Topology load(const std::string& path) {
  auto topology = Topology::load_xml(path);
  REQUIRE_MESSAGE(topology.ok(), (topology.ok() ? "" : topology.error().message));
  return std::move(topology).value();
}

const PciDevice* find_device(const Summary& summary, const std::string& bus_id) {
  for (const auto& device : summary.pci_devices) {
    if (device.bus_id == bus_id) return &device;
  }
  return nullptr;
}

const Cache* find_cache(const Summary& summary, int level, const std::string& type) {
  for (const auto& cache : summary.caches) {
    if (cache.level == level && cache.type == type) return &cache;
  }
  return nullptr;
}

// The calling thread's affinity as sorted CPU indexes (Linux).
std::vector<int> current_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

// A scratch file removed at scope exit.
struct TempFile {
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path = (std::filesystem::temp_directory_path() /
            ("cmeter-topology-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".xml"))
               .string();
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::string path;
};

void check_round_trip(const Topology& topology) {
  const auto json = nlohmann::json::parse(topology.to_json().dump());
  CHECK(json.at("packages") == topology.summary().packages);
  CHECK(json.at("pus") == topology.summary().pus);
  CHECK(json.at("numa_nodes").size() == topology.summary().numa_nodes.size());
  CHECK(json.at("pci_devices").size() == topology.summary().pci_devices.size());
  auto back = summary_from_json(json);
  REQUIRE(back.ok());
  CHECK(*back == topology.summary());
}

TEST_CASE("topology: the running machine loads, summarises and binds") {
  auto loaded = Topology::load_system();
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
  const Topology& topology = *loaded;
  const Summary& s = topology.summary();
  CHECK(topology.is_this_system());
  // "system", or "system (from <file>, CMETER_TOPOLOGY_XML)" in the sanitizer suite.
  CHECK(s.source.rfind("system", 0) == 0);
  CHECK(s.hwloc_version.rfind("2.", 0) == 0);
  CHECK(s.packages >= 1);
  CHECK(s.cores >= 1);
  CHECK(s.pus >= s.cores);
  CHECK(s.memory_bytes > 0);
  REQUIRE(!s.numa_nodes.empty());
  CHECK(!s.caches.empty());
  int numa_pus = 0;
  for (const auto& node : s.numa_nodes) numa_pus += static_cast<int>(node.pus.size());
  CHECK(numa_pus == s.pus);

  const Locality all = topology.whole_machine();
  CHECK(static_cast<int>(all.pus.size()) == s.pus);
  CHECK(!all.from_pci);
  CHECK((s.numa_nodes.size() == 1 ? all.numa_node == s.numa_nodes[0].os_index : all.numa_node == -1));

  // Every PCI device hwloc kept can be located, with the locality the summary reports.
  for (const auto& device : s.pci_devices) {
    auto where = topology.locate_pci(device.bus_id);
    REQUIRE(where.ok());
    CHECK(where->cpuset == device.cpuset);
    CHECK(where->numa_node == device.numa_node);
  }

  // Bind a scratch thread (so the test runner's own affinity is untouched): one PU, then the whole machine.
  std::vector<int> one_pu, all_pus;
  Status bind_one, bind_all;
  std::thread([&] {
    Locality first;
    first.pus = {all.pus.front()};
    bind_one = topology.bind_current_thread(first);
    one_pu = current_affinity();
    bind_all = topology.bind_current_thread(all);
    all_pus = current_affinity();
  }).join();
  CHECK_MESSAGE(bind_one.ok(), (bind_one.ok() ? "" : bind_one.error().message));
  CHECK(one_pu == std::vector<int>{all.pus.front()});
  CHECK_MESSAGE(bind_all.ok(), (bind_all.ok() ? "" : bind_all.error().message));
  CHECK(all_pus == all.pus);

  // Binding to nothing, to garbage or to PUs the machine lacks is refused before hwloc is asked.
  Locality nowhere;
  CHECK(topology.bind_current_thread(nowhere).error().code == ErrorCode::kInvalidArgument);
  nowhere.cpuset = "zero-to-seven";
  CHECK(topology.bind_current_thread(nowhere).error().code == ErrorCode::kInvalidArgument);
  nowhere.cpuset = "100000";
  const Status far = topology.bind_current_thread(nowhere);
  REQUIRE_FALSE(far.ok());
  CHECK(contains(far.error().message, "100000"));

  check_round_trip(topology);
  CHECK(contains(topology.to_text(), "Packages: "));
}

TEST_CASE("topology: dual-socket 4-GPU fixture") {
  const Topology topology = load(kDualSocket);
  const Summary& s = topology.summary();
  CHECK_FALSE(topology.is_this_system());
  CHECK(s.source == kDualSocket);
  CHECK(s.cpu_model == "Intel(R) Xeon(R) Gold 6346 CPU @ 3.10GHz");
  CHECK(s.packages == 2);
  CHECK(s.cores == 32);
  CHECK(s.pus == 64);
  CHECK(s.memory_bytes == 512 * kGiB);
  REQUIRE(s.numa_nodes.size() == 2);
  CHECK(s.numa_nodes[0].os_index == 0);
  CHECK(s.numa_nodes[0].memory_bytes == 256 * kGiB);
  CHECK(s.numa_nodes[0].cpuset == "0-15,32-47");
  CHECK(s.numa_nodes[1].cpuset == "16-31,48-63");
  CHECK(s.numa_nodes[1].pus.size() == 32);

  REQUIRE(find_cache(s, 1, "data") != nullptr);
  CHECK(find_cache(s, 1, "data")->size_bytes == 48 * 1024);
  CHECK(find_cache(s, 1, "data")->count == 32);
  REQUIRE(find_cache(s, 1, "instruction") != nullptr);
  CHECK(find_cache(s, 1, "instruction")->size_bytes == 32 * 1024);
  REQUIRE(find_cache(s, 2, "unified") != nullptr);
  CHECK(find_cache(s, 2, "unified")->size_bytes == 1280 * 1024);
  REQUIRE(find_cache(s, 3, "unified") != nullptr);
  CHECK(find_cache(s, 3, "unified")->size_bytes == 36 * 1024 * 1024);
  CHECK(find_cache(s, 3, "unified")->count == 2);

  CHECK(s.pci_devices.size() == 7);  // 4 GPUs, a NIC, an NVMe drive, a BMC VGA (bridges are not listed)
  const auto gpus = std::count_if(s.pci_devices.begin(), s.pci_devices.end(), [](const PciDevice& d) {
    return d.vendor_id == 0x10de && d.class_id == 0x0302;
  });
  CHECK(gpus == 4);
  const PciDevice* gpu0 = find_device(s, "0000:17:00.0");
  REQUIRE(gpu0 != nullptr);
  CHECK(gpu0->device_id == 0x20b5);
  CHECK(gpu0->name == "NVIDIA Corporation GA100 [A100 PCIe 80GB]");
  CHECK(gpu0->os_devices == std::vector<std::string>{"cuda0", "nvml0"});
  CHECK(gpu0->numa_node == 0);
  CHECK(gpu0->cpuset == "0-15,32-47");

  struct Expected {
    const char* bus_id;
    int numa_node;
    const char* cpuset;
  };
  for (const Expected& gpu :
       {Expected{"0000:17:00.0", 0, "0-15,32-47"}, Expected{"18:00.0", 0, "0-15,32-47"},
        Expected{"0000:CB:00.0", 1, "16-31,48-63"}, Expected{"ce:00.0", 1, "16-31,48-63"},
        Expected{"0000:31:00.0", 0, "0-15,32-47"}, Expected{"e4:00.0", 1, "16-31,48-63"}}) {
    CAPTURE(gpu.bus_id);
    auto where = topology.locate_pci(gpu.bus_id);
    REQUIRE(where.ok());
    CHECK(where->numa_node == gpu.numa_node);
    CHECK(where->cpuset == gpu.cpuset);
    CHECK(where->pus.size() == 32);
    CHECK(where->from_pci);
  }
  CHECK(topology.locate_pci("cb:00.0").value() == topology.locate_pci("0000:cb:00.0").value());

  // The BMC VGA hangs off the Machine: no single NUMA node, all PUs.
  auto vga = topology.locate_pci("0000:02:00.0");
  REQUIRE(vga.ok());
  CHECK(vga->numa_node == -1);
  CHECK(vga->cpuset == "0-63");

  const Locality all = topology.whole_machine();
  CHECK(all.numa_node == -1);
  CHECK(all.pus.size() == 64);
  CHECK(all.cpuset == "0-63");

  // Binding with a topology that is not the running machine is refused, naming the file.
  const Status bound = topology.bind_current_thread(topology.locate_pci("17:00.0").value());
  REQUIRE_FALSE(bound.ok());
  CHECK(bound.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(bound.error().message, "not the running machine"));
  CHECK(contains(bound.error().message, kDualSocket));

  check_round_trip(topology);
  const std::string text = topology.to_text();
  CAPTURE(text);
  CHECK(contains(text, "Packages: 2, cores: 32, PUs: 64, memory: 512 GiB"));
  CHECK(contains(text, "NUMA nodes: 2"));
  CHECK(contains(text, "node 1: 256 GiB, PUs 16-31,48-63"));
  CHECK(contains(text, "L2: 32 x 1.25 MiB"));
  CHECK(contains(text, "PCI devices: 7"));
  CHECK(contains(text, "0000:cb:00.0  10de:20b5  class 0302  NUMA 1  PUs 16-31,48-63"));
  CHECK(contains(text, "(cuda2, nvml2)"));
}

TEST_CASE("topology: single-socket NPS4 8-accelerator fixture") {
  const Topology topology = load(kNps4);
  const Summary& s = topology.summary();
  CHECK(s.cpu_model == "AMD EPYC 7543 32-Core Processor");
  CHECK(s.packages == 1);
  CHECK(s.cores == 32);
  CHECK(s.pus == 64);
  REQUIRE(s.numa_nodes.size() == 4);
  REQUIRE(find_cache(s, 3, "unified") != nullptr);
  CHECK(find_cache(s, 3, "unified")->count == 8);
  CHECK(find_cache(s, 3, "unified")->size_bytes == 32 * 1024 * 1024);

  const char* node_cpusets[] = {"0-7,32-39", "8-15,40-47", "16-23,48-55", "24-31,56-63"};
  for (int node = 0; node < 4; ++node) {
    CHECK(s.numa_nodes[node].os_index == node);
    CHECK(s.numa_nodes[node].memory_bytes == 128 * kGiB);
    CHECK(s.numa_nodes[node].cpuset == node_cpusets[node]);
  }

  int accelerators = 0;
  for (const auto& device : s.pci_devices) {
    if (device.vendor_id != 0x1002 || device.class_id != 0x0380) continue;
    ++accelerators;
    CAPTURE(device.bus_id);
    const int bus = std::stoi(device.bus_id.substr(5, 2), nullptr, 16);
    const int node = bus / 0x40;  // the fixture gives each NUMA node buses 0x40 * node ...
    auto where = topology.locate_pci(device.bus_id);
    REQUIRE(where.ok());
    CHECK(where->numa_node == node);
    CHECK(where->cpuset == node_cpusets[node]);
    CHECK(where->pus.size() == 16);
    CHECK(device.numa_node == node);
  }
  CHECK(accelerators == 8);

  // nvidia-smi style 8-digit domain, upper case.
  CHECK(topology.locate_pci("00000000:C3:00.0").value().numa_node == 3);
  // The domain matters: "01:00.0" is domain 0 (the NIC on node 0), not the NVMe drive in domain 1.
  CHECK(topology.locate_pci("01:00.0").value().numa_node == 0);
  CHECK(topology.locate_pci("0001:01:00.0").value().numa_node == 3);
  const PciDevice* nvme = find_device(s, "0001:01:00.0");
  REQUIRE(nvme != nullptr);
  CHECK(nvme->class_id == 0x0108);
  CHECK(nvme->os_devices == std::vector<std::string>{"nvme0n1"});

  const Locality all = topology.whole_machine();
  CHECK(all.numa_node == -1);
  CHECK(all.cpuset == "0-63");
  CHECK_FALSE(topology.bind_current_thread(all).ok());

  check_round_trip(topology);
  const std::string text = topology.to_text();
  CHECK(contains(text, "Packages: 1"));
  CHECK(contains(text, "NUMA nodes: 4"));
  CHECK(contains(text, "PCI devices: 10"));
}

TEST_CASE("topology: PCI bus ids that are unknown or malformed are errors") {
  const Topology topology = load(kDualSocket);
  auto unknown = topology.locate_pci("0000:99:00.0");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  CHECK(contains(unknown.error().message, "0000:99:00.0"));
  CHECK(topology.locate_pci("0001:17:00.0").error().code == ErrorCode::kNotFound);  // right bus, wrong domain

  for (const char* bad :
       {"", "17", "17:00", "17.00.0", "zz:00.0", "17:00.x", "0000:17:00.0.1", "0000:0017:00.0", "17:20.0",
        "17:00.8", "17:00.10", ":17:00.0", "123456789:17:00.0", "0000:17:00.0 ", "-1:00.0", "0000:17:00:0"}) {
    CAPTURE(bad);
    auto result = topology.locate_pci(bad);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
    CHECK(contains(result.error().message, "'" + std::string(bad) + "'"));
  }

  CHECK(parse_pci_bus_id("0000:CB:1f.7").value() == PciAddress{0, 0xcb, 0x1f, 7});
  CHECK(parse_pci_bus_id("a:b.c").ok() == false);
  CHECK(parse_pci_bus_id("a:b.1").value() == PciAddress{0, 0xa, 0xb, 1});
}

TEST_CASE("topology: missing or garbled XML files are errors naming the file") {
  const std::string missing = kFixtures + "no-such-topology.xml";
  auto absent = Topology::load_xml(missing);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.error().code == ErrorCode::kNotFound);
  CHECK(contains(absent.error().message, missing));

  auto directory = Topology::load_xml(kFixtures);
  REQUIRE_FALSE(directory.ok());
  CHECK(contains(directory.error().message, kFixtures));

  for (const char* content :
       {"", "this is not xml", "<?xml version=\"1.0\"?>\n<html><body/></html>\n",
        "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">\n  <object type=\"Machine\""}) {
    CAPTURE(content);
    const TempFile file(content);
    auto garbled = Topology::load_xml(file.path);
    REQUIRE_FALSE(garbled.ok());
    CHECK(garbled.error().code == ErrorCode::kInvalidArgument);
    CHECK(contains(garbled.error().message, file.path));
  }
}

// Sets an environment variable for one scope and puts back what was there (the sanitizer suite sets
// CMETER_TOPOLOGY_XML for every test).
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("topology: CMETER_TOPOLOGY_XML stands in for discovery of the running machine") {
  {
    const ScopedEnv env("CMETER_TOPOLOGY_XML", kDualSocket.c_str());
    auto exported = Topology::load_system();
    REQUIRE_MESSAGE(exported.ok(), (exported.ok() ? "" : exported.error().message));
    // Still this system (binding allowed), with the file's objects.
    CHECK(exported->is_this_system());
    CHECK(exported->summary().source == "system (from " + kDualSocket + ", CMETER_TOPOLOGY_XML)");
    nlohmann::json from_export = exported->to_json(), from_file = load(kDualSocket).to_json();
    from_export.erase("source");
    from_file.erase("source");
    CHECK(from_export == from_file);
  }
  {
    const std::string missing = kFixtures + "no-such-topology.xml";
    const ScopedEnv env("CMETER_TOPOLOGY_XML", missing.c_str());
    auto absent = Topology::load_system();
    REQUIRE_FALSE(absent.ok());
    CHECK(absent.error().code == ErrorCode::kNotFound);
    CHECK(contains(absent.error().message, "CMETER_TOPOLOGY_XML"));
    CHECK(contains(absent.error().message, missing));
  }
  {
    const TempFile garbled("this is not xml");
    const ScopedEnv env("CMETER_TOPOLOGY_XML", garbled.path.c_str());
    auto bad = Topology::load_system();
    REQUIRE_FALSE(bad.ok());
    CHECK(contains(bad.error().message, "CMETER_TOPOLOGY_XML"));
    CHECK(contains(bad.error().message, garbled.path));
  }
  // Empty or unset: discovery, as always.
  const ScopedEnv env("CMETER_TOPOLOGY_XML", "");
  auto discovered = Topology::load_system();
  REQUIRE(discovered.ok());
  CHECK(discovered->is_this_system());
}

TEST_CASE("topology: summary JSON with wrong types is an error; Topology moves") {
  auto wrong = summary_from_json(nlohmann::json{{"packages", "two"}});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == ErrorCode::kInvalidArgument);
  auto partial = summary_from_json(nlohmann::json{{"packages", 2}});
  REQUIRE(partial.ok());
  CHECK(partial->packages == 2);
  CHECK(partial->pci_devices.empty());

  Topology first = load(kDualSocket);
  Topology second = load(kNps4);
  second = std::move(first);
  CHECK(second.summary().packages == 2);
  Topology third(std::move(second));
  CHECK(third.locate_pci("17:00.0").ok());
}

}  // namespace
}  // namespace cmeter::topology
