// Machine topology for cmeter (ARCHITECTURE.md §5): a thin RAII layer over hwloc that loads the running
// machine (or a saved hwloc XML file) with I/O objects kept, summarises packages, NUMA nodes, cores,
// caches and PCI devices for reports and `cmeter topo`, maps a device's PCI bus id to its nearest NUMA
// node and cpuset, and binds worker threads there. hwloc types stay out of this header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

struct hwloc_topology;  // hwloc_topology_t is `struct hwloc_topology*`

namespace cmeter::topology {

// All instances of one cache level/type/size, e.g. {2, "unified", 1310720, 32}.
struct Cache {
  int level = 0;
  std::string type;  // "unified", "data" or "instruction"
  uint64_t size_bytes = 0;
  int count = 0;
  bool operator==(const Cache&) const = default;
};

struct NumaNode {
  int os_index = -1;
  uint64_t memory_bytes = 0;
  std::string cpuset;    // hwloc list form, e.g. "0-15,32-47"
  std::vector<int> pus;  // OS indexes of the PUs in cpuset
  bool operator==(const NumaNode&) const = default;
};

struct PciDevice {
  std::string bus_id;  // "dddd:bb:dd.f", lowercase hex
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint16_t class_id = 0;                // base class << 8 | subclass, e.g. 0x0302 (3D controller)
  std::string name;                     // "<PCIVendor> <PCIDevice>" when hwloc knows them, else ""
  std::vector<std::string> os_devices;  // hwloc OS device names under it, e.g. "cuda0", "eth0", "nvme0n1"
  int numa_node = -1;                   // -1: no single nearest node
  std::string cpuset;                   // cpuset of the nearest non-I/O ancestor, list form
  bool operator==(const PciDevice&) const = default;
};

struct Summary {
  std::string hwloc_version;  // of the library in use, e.g. "2.9.0"
  std::string source;         // "system" or the XML path
  std::string cpu_model;      // first package's CPUModel, trimmed; "" when unknown
  int packages = 0;
  int cores = 0;
  int pus = 0;
  uint64_t memory_bytes = 0;
  std::vector<NumaNode> numa_nodes;
  std::vector<Cache> caches;  // sorted by level, then type, then size
  std::vector<PciDevice> pci_devices;
  bool operator==(const Summary&) const = default;
};

// Where to run: a set of PUs and, when they share one, the NUMA node.
struct Locality {
  int numa_node = -1;
  std::string cpuset;  // hwloc list form, e.g. "0-7,16-23"
  std::vector<int> pus;
  bool from_pci = false;  // true when derived from a PCI device by Topology::locate_pci
  bool operator==(const Locality&) const = default;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Cache, level, type, size_bytes, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NumaNode, os_index, memory_bytes, cpuset, pus)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PciDevice, bus_id, vendor_id, device_id, class_id, name,
                                                os_devices, numa_node, cpuset)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Summary, hwloc_version, source, cpu_model, packages, cores,
                                                pus, memory_bytes, numa_nodes, caches, pci_devices)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Locality, numa_node, cpuset, pus, from_pci)

// Reads a Summary back from Topology::to_json() output (e.g. from a stored report); missing keys keep
// their defaults, wrongly typed ones give an error.
Result<Summary> summary_from_json(const nlohmann::json& json);

// A PCI address parsed from "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hex, either case. nvidia-smi's
// 8-digit domain ("00000000:65:00.0") is accepted too.
struct PciAddress {
  uint32_t domain = 0;
  uint32_t bus = 0;
  uint32_t device = 0;
  uint32_t function = 0;
  bool operator==(const PciAddress&) const = default;
};
Result<PciAddress> parse_pci_bus_id(std::string_view bus_id);

// A loaded hwloc topology. Move-only; read-only after load, so const methods may be called from several
// threads at once.
class Topology {
 public:
  // The running machine, with important I/O objects (GPUs, NICs, storage and their bridges). Where
  // CMETER_TOPOLOGY_XML names a file, the running machine's topology is read from it instead of
  // discovered: an export of this machine (`lstopo --of xml`), for where discovery is slow (PCI names
  // under AddressSanitizer: ~5 s a process, scripts/test-sanitizers.sh). It is still this system
  // (binding allowed), and errors name the variable and the file.
  static Result<Topology> load_system();
  // A topology saved by `lstopo --of xml` or hwloc_topology_export_xml(); errors name the file.
  static Result<Topology> load_xml(const std::string& path);

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology();

  const Summary& summary() const { return summary_; }
  // True for load_system(); false for XML topologies (binding would target another machine).
  bool is_this_system() const;

  // The nearest NUMA node and cpuset of a PCI device: those of its first non-I/O ancestor. kInvalidArgument
  // for a malformed bus id, kNotFound when the topology has no such PCI device.
  Result<Locality> locate_pci(std::string_view bus_id) const;
  // Every allowed PU; numa_node is set only when the machine has a single allowed NUMA node.
  Locality whole_machine() const;
  // Binds the calling thread to where.cpuset (or where.pus when cpuset is empty). Refused for topologies
  // that are not the running machine.
  Status bind_current_thread(const Locality& where) const;

  nlohmann::json to_json() const { return summary_; }
  std::string to_text() const;  // readable multi-line summary for `cmeter topo`

 private:
  Topology(hwloc_topology* topology, std::string source);
  static Result<Topology> finish_load(hwloc_topology* topology, std::string source, bool from_xml,
                                      bool this_system = false);

  hwloc_topology* topology_ = nullptr;
  Summary summary_;
};

}  // namespace cmeter::topology
