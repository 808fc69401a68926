// hwloc-backed implementation of core/topology/topology.h: loading (system or XML, I/O objects kept),
// the Summary computed once at load, PCI bus id -> locality, thread binding, JSON and text output.
// Every hwloc failure becomes an Error naming what failed (the file, the bus id, the cpuset).
#include "core/topology/topology.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hwloc.h>

namespace cmeter::topology {
namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology* topology) const { hwloc_topology_destroy(topology); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using BitmapPtr = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

std::string errno_text(int error) {
  return error != 0 ? std::strerror(error) : "unknown error";
}

// "0-7,16-23"; "" for an empty or missing set.
std::string list_string(hwloc_const_bitmap_t set) {
  if (set == nullptr || hwloc_bitmap_iszero(set)) return "";
  char* text = nullptr;
  if (hwloc_bitmap_list_asprintf(&text, set) < 0 || text == nullptr) return "";
  std::string result(text);
  std::free(text);
  return result;
}

std::vector<int> indexes(hwloc_const_bitmap_t set) {
  std::vector<int> result;
  if (set == nullptr || hwloc_bitmap_weight(set) < 0) return result;  // weight -1: infinite set
  for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i)) result.push_back(i);
  return result;
}

int single_node(hwloc_const_nodeset_t nodeset) {
  return nodeset != nullptr && hwloc_bitmap_weight(nodeset) == 1 ? hwloc_bitmap_first(nodeset) : -1;
}

Locality locality_of(hwloc_const_cpuset_t cpuset, hwloc_const_nodeset_t nodeset) {
  Locality where;
  where.numa_node = single_node(nodeset);
  where.cpuset = list_string(cpuset);
  where.pus = indexes(cpuset);
  return where;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string info(hwloc_obj_t obj, const char* name) {
  const char* value = hwloc_obj_get_info_by_name(obj, name);
  return value != nullptr ? trimmed(value) : "";
}

std::string bus_id_string(const hwloc_obj_attr_u::hwloc_pcidev_attr_s& pci) {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", pci.domain, pci.bus, pci.dev, pci.func);
}

const char* cache_type_name(hwloc_obj_cache_type_t type) {
  switch (type) {
    case HWLOC_OBJ_CACHE_DATA:
      return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION:
      return "instruction";
    case HWLOC_OBJ_CACHE_UNIFIED:
      break;
  }
  return "unified";
}

int count_of(hwloc_topology_t topology, hwloc_obj_type_t type) {
  return std::max(0, hwloc_get_nbobjs_by_type(topology, type));
}

std::vector<Cache> caches_of(hwloc_topology_t topology) {
  std::map<std::tuple<int, std::string, uint64_t>, int> counts;
  for (int t = HWLOC_OBJ_TYPE_MIN; t < HWLOC_OBJ_TYPE_MAX; ++t) {
    const auto type = static_cast<hwloc_obj_type_t>(t);
    if (!hwloc_obj_type_is_cache(type)) continue;
    for (hwloc_obj_t obj = hwloc_get_next_obj_by_type(topology, type, nullptr); obj != nullptr;
         obj = hwloc_get_next_obj_by_type(topology, type, obj)) {
      const auto& cache = obj->attr->cache;
      ++counts[{static_cast<int>(cache.depth), cache_type_name(cache.type), cache.size}];
    }
  }
  std::vector<Cache> caches;
  for (const auto& [key, count] : counts) {
    caches.push_back(Cache{std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  }
  return caches;
}

PciDevice pci_device_of(hwloc_topology_t topology, hwloc_obj_t obj) {
  const auto& pci = obj->attr->pcidev;
  PciDevice device;
  device.bus_id = bus_id_string(pci);
  device.vendor_id = pci.vendor_id;
  device.device_id = pci.device_id;
  device.class_id = pci.class_id;
  device.name = trimmed(fmt::format("{} {}", info(obj, "PCIVendor"), info(obj, "PCIDevice")));
  for (hwloc_obj_t child = obj->io_first_child; child != nullptr; child = child->next_sibling) {
    if (child->type == HWLOC_OBJ_OS_DEVICE && child->name != nullptr)
      device.os_devices.emplace_back(child->name);
  }
  if (hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topology, obj); ancestor != nullptr) {
    device.numa_node = single_node(ancestor->nodeset);
    device.cpuset = list_string(ancestor->cpuset);
  }
  return device;
}

Summary summarise(hwloc_topology_t topology, std::string source) {
  Summary summary;
  summary.hwloc_version = HWLOC_VERSION;
  summary.source = std::move(source);
  for (hwloc_obj_t package = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_PACKAGE, nullptr);
       package != nullptr && summary.cpu_model.empty();
       package = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_PACKAGE, package)) {
    summary.cpu_model = info(package, "CPUModel");
  }
  if (summary.cpu_model.empty()) summary.cpu_model = info(hwloc_get_root_obj(topology), "CPUModel");
  summary.packages = count_of(topology, HWLOC_OBJ_PACKAGE);
  summary.cores = count_of(topology, HWLOC_OBJ_CORE);
  summary.pus = count_of(topology, HWLOC_OBJ_PU);
  summary.memory_bytes = hwloc_get_root_obj(topology)->total_memory;
  for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, nullptr); node != nullptr;
       node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) {
    summary.numa_nodes.push_back(NumaNode{static_cast<int>(node->os_index), node->attr->numanode.local_memory,
                                          list_string(node->cpuset), indexes(node->cpuset)});
  }
  summary.caches = caches_of(topology);
  for (hwloc_obj_t obj = hwloc_get_next_pcidev(topology, nullptr); obj != nullptr;
       obj = hwloc_get_next_pcidev(topology, obj)) {
    summary.pci_devices.push_back(pci_device_of(topology, obj));
  }
  std::sort(summary.pci_devices.begin(), summary.pci_devices.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.bus_id < b.bus_id; });
  return summary;
}

// Parses 1..max_digits hex digits that make up all of text.
bool parse_hex(std::string_view text, size_t max_digits, uint32_t& value) {
  if (text.empty() || text.size() > max_digits) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return error == std::errc() && end == text.data() + text.size();
}

// "1.25 MiB", "48 KiB", "512 GiB".
std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  std::string number = fmt::format("{:.2f}", value);
  number.erase(number.find_last_not_of('0') + 1);
  if (number.back() == '.') number.pop_back();
  return fmt::format("{} {}", number, kUnits[unit]);
}

std::string cache_label(const Cache& cache) {
  const char* suffix = cache.type == "data" ? "d" : cache.type == "instruction" ? "i" : "";
  return fmt::format("L{}{}", cache.level, suffix);
}

}  // namespace

Result<Summary> summary_from_json(const nlohmann::json& json) {
  try {
    return json.get<Summary>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "invalid topology summary JSON: {}", e.what());
  }
}

Result<PciAddress> parse_pci_bus_id(std::string_view bus_id) {
  const auto malformed = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "malformed PCI bus id '{}': expected dddd:bb:dd.f or bb:dd.f (hex)", bus_id);
  };
  PciAddress address;
  std::string_view rest = bus_id;
  const auto first_colon = rest.find(':');
  if (first_colon == std::string_view::npos) return malformed();
  if (rest.find(':', first_colon + 1) != std::string_view::npos) {  // has a domain
    if (!parse_hex(rest.substr(0, first_colon), 8, address.domain)) return malformed();
    rest.remove_prefix(first_colon + 1);
  }
  const auto colon = rest.find(':');
  const auto dot = rest.find('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) return malformed();
  if (!parse_hex(rest.substr(0, colon), 2, address.bus) ||
      !parse_hex(rest.substr(colon + 1, dot - colon - 1), 2, address.device) ||
      !parse_hex(rest.substr(dot + 1), 1, address.function) || address.device > 0x1f ||
      address.function > 7) {
    return malformed();
  }
  return address;
}

Topology::Topology(hwloc_topology* topology, std::string source)
    : topology_(topology), summary_(summarise(topology, std::move(source))) {}

Topology::Topology(Topology&& other) noexcept
    : topology_(std::exchange(other.topology_, nullptr)), summary_(std::move(other.summary_)) {}

Topology& Topology::operator=(Topology&& other) noexcept {
  if (this != &other) {
    if (topology_ != nullptr) hwloc_topology_destroy(topology_);
    topology_ = std::exchange(other.topology_, nullptr);
    summary_ = std::move(other.summary_);
  }
  return *this;
}

Topology::~Topology() {
  if (topology_ != nullptr) hwloc_topology_destroy(topology_);
}

Result<Topology> Topology::finish_load(hwloc_topology* raw, std::string source, bool from_xml,
                                       bool this_system) {
  TopologyPtr topology(raw);
  const std::string what = !from_xml     ? std::string("the system topology")
                           : this_system ? fmt::format("topology file '{}' (CMETER_TOPOLOGY_XML)", source)
                                         : fmt::format("topology file '{}'", source);
  if (this_system && hwloc_topology_set_flags(topology.get(), HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM) != 0) {
    return make_error(ErrorCode::kInternal, "hwloc cannot take {} as this system: {}", what,
                      errno_text(errno));
  }
  if (hwloc_topology_set_io_types_filter(topology.get(), HWLOC_TYPE_FILTER_KEEP_IMPORTANT) != 0) {
    return make_error(ErrorCode::kInternal, "hwloc cannot keep I/O objects for {}: {}", what,
                      errno_text(errno));
  }
  // hwloc drops instruction caches by default; the summary lists them.
  if (hwloc_topology_set_icache_types_filter(topology.get(), HWLOC_TYPE_FILTER_KEEP_ALL) != 0) {
    return make_error(ErrorCode::kInternal, "hwloc cannot keep instruction caches for {}: {}", what,
                      errno_text(errno));
  }
  if (from_xml && hwloc_topology_set_xml(topology.get(), source.c_str()) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "hwloc cannot read {}: {}", what, errno_text(errno));
  }
  if (hwloc_topology_load(topology.get()) != 0) {
    const int error = errno;
    return make_error(!from_xml ? ErrorCode::kInternal : ErrorCode::kInvalidArgument,
                      "hwloc cannot load {}: {}", what,
                      !from_xml ? errno_text(error) : "not a valid hwloc XML topology");
  }
  if (hwloc_get_nbobjs_by_type(topology.get(), HWLOC_OBJ_PU) <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "{} has no processing units", what);
  }
  // The running machine read from its export says both: what it is and where it was read from.
  if (this_system && from_xml) source = fmt::format("system (from {}, CMETER_TOPOLOGY_XML)", source);
  return Topology(topology.release(), std::move(source));
}

Result<Topology> Topology::load_system() {
  if ((hwloc_get_api_version() >> 16) != (HWLOC_API_VERSION >> 16)) {
    return make_error(ErrorCode::kInternal, "hwloc library API {:#x} does not match the headers' {:#x}",
                      hwloc_get_api_version(), HWLOC_API_VERSION);
  }
  const char* exported = std::getenv("CMETER_TOPOLOGY_XML");
  const bool from_export = exported != nullptr && *exported != '\0';
  std::error_code error;
  if (from_export && !std::filesystem::is_regular_file(exported, error)) {
    return make_error(ErrorCode::kNotFound,
                      "CMETER_TOPOLOGY_XML names '{}', which does not exist or is not a regular file",
                      exported);
  }
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    return make_error(ErrorCode::kInternal, "hwloc_topology_init failed: {}", errno_text(errno));
  }
  if (from_export) return finish_load(topology, exported, true, true);
  return finish_load(topology, "system", false);
}

Result<Topology> Topology::load_xml(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return make_error(ErrorCode::kNotFound, "topology file '{}' does not exist or is not a regular file",
                      path);
  }
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    return make_error(ErrorCode::kInternal, "hwloc_topology_init failed for '{}': {}", path,
                      errno_text(errno));
  }
  return finish_load(topology, path, true);
}

bool Topology::is_this_system() const {
  return hwloc_topology_is_thissystem(topology_) != 0;
}

Result<Locality> Topology::locate_pci(std::string_view bus_id) const {
  auto address = parse_pci_bus_id(bus_id);
  CMETER_TRY(address);
  hwloc_obj_t device =
      hwloc_get_pcidev_by_busid(topology_, address->domain, address->bus, address->device, address->function);
  if (device == nullptr) {
    return make_error(ErrorCode::kNotFound, "no PCI device {:04x}:{:02x}:{:02x}.{:x} in {} topology",
                      address->domain, address->bus, address->device, address->function,
                      is_this_system() ? std::string("the system") : "the '" + summary_.source + "'");
  }
  hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topology_, device);
  if (ancestor == nullptr) ancestor = hwloc_get_root_obj(topology_);
  Locality where = locality_of(ancestor->cpuset, ancestor->nodeset);
  where.from_pci = true;
  return where;
}

Locality Topology::whole_machine() const {
  return locality_of(hwloc_topology_get_allowed_cpuset(topology_),
                     hwloc_topology_get_allowed_nodeset(topology_));
}

Status Topology::bind_current_thread(const Locality& where) const {
  if (!is_this_system()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot bind threads using topology '{}': it is not the running machine",
                      summary_.source);
  }
  BitmapPtr set(hwloc_bitmap_alloc());
  if (!set) return make_error(ErrorCode::kResourceExhausted, "cannot allocate an hwloc cpuset");
  if (!where.cpuset.empty()) {
    if (hwloc_bitmap_list_sscanf(set.get(), where.cpuset.c_str()) != 0) {
      return make_error(ErrorCode::kInvalidArgument, "malformed cpuset '{}'", where.cpuset);
    }
  } else {
    for (int pu : where.pus) {
      if (pu < 0) return make_error(ErrorCode::kInvalidArgument, "negative PU index {}", pu);
      hwloc_bitmap_set(set.get(), static_cast<unsigned>(pu));
    }
  }
  const std::string wanted = list_string(set.get());
  if (wanted.empty()) return make_error(ErrorCode::kInvalidArgument, "cannot bind to an empty cpuset");
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology_);
  if (!hwloc_bitmap_isincluded(set.get(), allowed)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cpuset '{}' is not within this machine's allowed PUs '{}'", wanted,
                      list_string(allowed));
  }
  const hwloc_topology_support* support = hwloc_topology_get_support(topology_);
  if (support == nullptr || support->cpubind == nullptr || !support->cpubind->set_thisthread_cpubind) {
    return make_error(ErrorCode::kUnimplemented, "binding threads is not supported on this system");
  }
  if (hwloc_set_cpubind(topology_, set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    return make_error(ErrorCode::kUnavailable, "cannot bind the current thread to PUs '{}': {}", wanted,
                      errno_text(errno));
  }
  return {};
}

std::string Topology::to_text() const {
  const Summary& s = summary_;
  std::string text = fmt::format("Topology: {} (hwloc {})\n", s.source, s.hwloc_version);
  text += fmt::format("CPU: {}\n", s.cpu_model.empty() ? "unknown" : s.cpu_model);
  text += fmt::format("Packages: {}, cores: {}, PUs: {}, memory: {}\n", s.packages, s.cores, s.pus,
                      format_bytes(s.memory_bytes));
  text += fmt::format("NUMA nodes: {}\n", s.numa_nodes.size());
  for (const NumaNode& node : s.numa_nodes) {
    text += fmt::format("  node {}: {}, PUs {}\n", node.os_index, format_bytes(node.memory_bytes),
                        node.cpuset.empty() ? "none" : node.cpuset);
  }
  text += "Caches:\n";
  for (const Cache& cache : s.caches) {
    text += fmt::format("  {}: {} x {}\n", cache_label(cache), cache.count, format_bytes(cache.size_bytes));
  }
  text += fmt::format("PCI devices: {}\n", s.pci_devices.size());
  for (const PciDevice& device : s.pci_devices) {
    text += fmt::format("  {}  {:04x}:{:04x}  class {:04x}  NUMA {}  PUs {}", device.bus_id, device.vendor_id,
                        device.device_id, device.class_id,
                        device.numa_node >= 0 ? std::to_string(device.numa_node) : "-", device.cpuset);
    if (!device.name.empty()) text += "  " + device.name;
    if (!device.os_devices.empty()) text += fmt::format(" ({})", fmt::join(device.os_devices, ", "));
    text += '\n';
  }
  return text;
}

}  // namespace cmeter::topology
