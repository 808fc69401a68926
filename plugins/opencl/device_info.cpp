// plugins/opencl/device_info.cpp - device probe and the device_attributes answer (see device_info.hpp).
#include "device_info.hpp"

#include <cmeter/physical_id.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

namespace cmeter::opencl {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "1024K" / "32M" / "512" (sysfs cache sizes) to bytes; 0 when unparsable.
int64_t parse_cache_size(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (v <= 0) return 0;
  switch (end != nullptr ? *end : '\0') {
    case 'K':
      return v << 10;
    case 'M':
      return v << 20;
    case 'G':
      return v << 30;
    default:
      return v;
  }
}

// The host's last-level cache from sysfs (highest cache level of cpu0), for CPU devices whose driver
// reports no global memory cache.
void host_llc(DeviceInfo& info) {
  int best_level = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    const std::string level_text = read_first_line(dir + "/level");
    if (level_text.empty()) continue;
    const int level = std::atoi(level_text.c_str());
    const int64_t size = parse_cache_size(read_first_line(dir + "/size"));
    if (level > best_level && size > 0) {
      best_level = level;
      info.llc_bytes = size;
      info.llc_source = dir + " (host L" + std::to_string(level) + ")";
    }
  }
  if (info.llc_bytes > 0) return;
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long v = sysconf(name);
    if (v > 0) {
      info.llc_bytes = v;
      info.llc_source = name == _SC_LEVEL3_CACHE_SIZE ? "host L3 (sysconf)" : "host L2 (sysconf)";
      return;
    }
  }
}

void probe_pci(cl_device_id device, DeviceInfo& info) {
  if (has_extension(info.extensions, "cl_khr_pci_bus_info")) {
    if (auto v = device_value<cl_device_pci_bus_info_khr>(device, CL_DEVICE_PCI_BUS_INFO_KHR)) {
      info.pci_bus_id = format_pci_bus_id(v->pci_domain, v->pci_bus, v->pci_device, v->pci_function);
      info.pci_source = "cl_khr_pci_bus_info";
      return;
    }
  }
  if (has_extension(info.extensions, "cl_nv_device_attribute_query")) {
    constexpr cl_device_info kBusNv = 0x4008, kSlotNv = 0x4009, kDomainNv = 0x400A;
    auto bus = device_value<cl_uint>(device, kBusNv);
    auto slot = device_value<cl_uint>(device, kSlotNv);
    if (bus && slot) {
      const cl_uint domain = device_value<cl_uint>(device, kDomainNv).value_or(0);
      info.pci_bus_id = format_pci_bus_id(domain, *bus, *slot >> 3, *slot & 7);
      info.pci_source = "CL_DEVICE_PCI_BUS_ID_NV / CL_DEVICE_PCI_SLOT_ID_NV";
      return;
    }
  }
  if (has_extension(info.extensions, "cl_amd_device_attribute_query")) {
    if (auto t = device_value<cl_device_topology_amd>(device, CL_DEVICE_TOPOLOGY_AMD);
        t && t->raw.type == CL_DEVICE_TOPOLOGY_TYPE_PCIE_AMD) {
      // The AMD query has no domain; domain 0 is what single-domain hosts use.
      info.pci_bus_id = format_pci_bus_id(0, static_cast<unsigned char>(t->pcie.bus),
                                          static_cast<unsigned char>(t->pcie.device),
                                          static_cast<unsigned char>(t->pcie.function));
      info.pci_source = "CL_DEVICE_TOPOLOGY_AMD (domain assumed 0000)";
    }
  }
}

void declare_peaks(DeviceInfo& info) {
  if (info.cc_major > 0) {
    const int lanes32 = nvidia_fp32_lanes_per_sm(info.cc_major, info.cc_minor);
    const int lanes64 = nvidia_fp64_lanes_per_sm(info.cc_major, info.cc_minor);
    const std::string cc = std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor);
    if (lanes32 > 0 && info.compute_units > 0 && info.max_clock_mhz > 0) {
      const double per_clock = static_cast<double>(info.compute_units) * 2e6 * info.max_clock_mhz;
      info.peak_f32 = per_clock * lanes32;
      if (lanes64 > 0) info.peak_f64 = per_clock * lanes64;
      info.peak_source = "formula: " + std::to_string(info.compute_units) + " SMs x " +
                         std::to_string(lanes32) + " FP32 lanes (compute capability " + cc +
                         (lanes64 > 0 ? ", " + std::to_string(lanes64) + " FP64 lanes" : "") +
                         ") x 2 FLOP per FMA x CL_DEVICE_MAX_CLOCK_FREQUENCY " +
                         std::to_string(static_cast<int>(info.max_clock_mhz)) + " MHz (boost clock)";
      return;
    }
    info.peak_source = "none declared: NVIDIA compute capability " + cc + " is not in the plugin's table";
    return;
  }
  if (info.is_cpu)
    info.peak_source =
        "none declared: an OpenCL CPU device reports its nominal clock and no FMA pipe count (the cpu "
        "plugin declares this CPU's peak from a measured clock)";
  else
    info.peak_source = "none declared: OpenCL exposes no per-clock throughput for this vendor's devices";
}

}  // namespace

std::string format_pci_bus_id(uint32_t domain, uint32_t bus, uint32_t device, uint32_t function) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain & 0xffffu, bus & 0xffu, device & 0x1fu,
                function & 0x7u);
  return buf;
}

int nvidia_fp32_lanes_per_sm(int major, int minor) {
  switch (major) {
    case 3:
      return 192;
    case 5:
      return 128;
    case 6:
      return minor == 0 ? 64 : 128;
    case 7:
      return 64;
    case 8:
      return minor == 0 ? 64 : 128;
    case 9:
    case 10:
    case 12:
      return 128;
    default:
      return 0;
  }
}

int nvidia_fp64_lanes_per_sm(int major, int minor) {
  if (minor != 0) return 0;
  switch (major) {
    case 6:
    case 7:
    case 8:
      return 32;
    case 9:
      return 64;
    default:
      return 0;
  }
}

DeviceInfo probe_device(cl_platform_id platform, cl_device_id device) {
  DeviceInfo info;
  info.platform_name = platform_string(platform, CL_PLATFORM_NAME);
  info.platform_vendor = platform_string(platform, CL_PLATFORM_VENDOR);
  info.platform_version = platform_string(platform, CL_PLATFORM_VERSION);
  info.is_pocl = info.platform_name.find("Portable Computing Language") != std::string::npos ||
                 info.platform_vendor.find("pocl") != std::string::npos;
  info.name = device_string(device, CL_DEVICE_NAME);
  info.vendor = device_string(device, CL_DEVICE_VENDOR);
  info.device_version = device_string(device, CL_DEVICE_VERSION);
  info.driver_version = device_string(device, CL_DRIVER_VERSION);
  info.opencl_c_version = device_string(device, CL_DEVICE_OPENCL_C_VERSION);
  info.extensions = device_string(device, CL_DEVICE_EXTENSIONS);
  info.type = device_value<cl_device_type>(device, CL_DEVICE_TYPE).value_or(0);
  info.is_cpu = (info.type & CL_DEVICE_TYPE_CPU) != 0;
  info.is_gpu = (info.type & CL_DEVICE_TYPE_GPU) != 0;
  info.compute_units = device_value<cl_uint>(device, CL_DEVICE_MAX_COMPUTE_UNITS).value_or(0);
  info.max_clock_mhz = device_value<cl_uint>(device, CL_DEVICE_MAX_CLOCK_FREQUENCY).value_or(0);
  info.mem_bytes =
      static_cast<int64_t>(device_value<cl_ulong>(device, CL_DEVICE_GLOBAL_MEM_SIZE).value_or(0));
  info.max_alloc_bytes =
      static_cast<int64_t>(device_value<cl_ulong>(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE).value_or(0));
  const auto cache_type =
      device_value<cl_device_mem_cache_type>(device, CL_DEVICE_GLOBAL_MEM_CACHE_TYPE).value_or(CL_NONE);
  if (cache_type != CL_NONE)
    info.global_cache_bytes =
        static_cast<int64_t>(device_value<cl_ulong>(device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE).value_or(0));
  if (info.global_cache_bytes > 0) {
    info.llc_bytes = info.global_cache_bytes;
    info.llc_source = "CL_DEVICE_GLOBAL_MEM_CACHE_SIZE";
  } else if (info.is_cpu) {
    host_llc(info);
  }
  info.host_unified_memory =
      device_value<cl_bool>(device, CL_DEVICE_HOST_UNIFIED_MEMORY).value_or(CL_FALSE) != 0;
  info.max_work_group_size = device_value<size_t>(device, CL_DEVICE_MAX_WORK_GROUP_SIZE).value_or(1);
  info.vector_width_f32 = device_value<cl_uint>(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT).value_or(1);
  info.vector_width_f64 = device_value<cl_uint>(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE).value_or(0);
  info.vector_width_f16 = device_value<cl_uint>(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF).value_or(0);
  info.fp16 = has_extension(info.extensions, "cl_khr_fp16");
  info.fp64 = has_extension(info.extensions, "cl_khr_fp64");
  info.integer_dot_product = has_extension(info.extensions, "cl_khr_integer_dot_product");
  const auto queue_props =
      device_value<cl_command_queue_properties>(device, CL_DEVICE_QUEUE_ON_HOST_PROPERTIES).value_or(0);
  info.profiling_timer = (queue_props & CL_QUEUE_PROFILING_ENABLE) != 0;
  if (has_extension(info.extensions, "cl_nv_device_attribute_query")) {
    info.cc_major =
        static_cast<int>(device_value<cl_uint>(device, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV).value_or(0));
    info.cc_minor =
        static_cast<int>(device_value<cl_uint>(device, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV).value_or(0));
  }
  probe_pci(device, info);
  if (!info.pci_bus_id.empty()) {
    const std::string numa = read_first_line("/sys/bus/pci/devices/" + info.pci_bus_id + "/numa_node");
    if (!numa.empty() && std::atoi(numa.c_str()) >= 0) info.numa_node = std::atoi(numa.c_str());
  }
  if (has_extension(info.extensions, "cl_khr_device_uuid")) {
    auto bytes = device_bytes(device, CL_DEVICE_UUID_KHR);
    if (bytes.size() == 16) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
      info.uuid = buf;
    }
  }
  declare_peaks(info);
  return info;
}

void build_attributes(const DeviceInfo& info, sdk::KeyValueList& kv) {
  kv.clear();
  kv.set("name", info.name);
  kv.set("vendor", info.vendor);
  kv.set("kind", info.is_cpu ? "cpu" : info.is_gpu ? "gpu" : "other");
  kv.set("driver.version", info.driver_version);
  kv.set("runtime.version", info.platform_version);
  if (!info.uuid.empty()) kv.set("uuid", info.uuid);
  if (!info.pci_bus_id.empty()) {
    kv.set("pci.bus_id", info.pci_bus_id);
    kv.set("opencl.pci.source", info.pci_source);
  }
  // The silicon: the host CPU's packages for a CPU device (PoCL runs on the same cores as cpu:0), the
  // PCI function or UUID for an accelerator; absent when the driver says neither.
  if (info.is_cpu)
    kv.set("physical.id", sdk::host_cpu_physical_id());
  else if (!info.pci_bus_id.empty())
    kv.set("physical.id", sdk::pci_physical_id(info.pci_bus_id));
  else if (!info.uuid.empty())
    kv.set("physical.id", "uuid:" + info.uuid);
  if (info.numa_node) kv.set("numa.node", *info.numa_node);
  kv.set("mem.bytes", info.mem_bytes);
  kv.set_bool("mem.host_shared", info.is_cpu && info.host_unified_memory);
  if (info.llc_bytes > 0) kv.set("cache.llc.bytes", info.llc_bytes);
  kv.set("compute_units", info.compute_units);
  if (info.is_cpu) kv.set("simd.lanes.f32", info.vector_width_f32);
  if (info.max_clock_mhz > 0) kv.set("clock.core.mhz", info.max_clock_mhz);
  if (info.peak_f32 > 0) kv.set("peak.flops.f32", info.peak_f32);
  if (info.peak_f64 > 0) kv.set("peak.flops.f64", info.peak_f64);
  kv.set("peak.source", info.peak_source);
  kv.set("timer.kind",
         "opencl.profiling (CL_QUEUE_PROFILING_ENABLE; marker events, CL_PROFILING_COMMAND_END)");
  kv.set("opencl.platform", info.platform_name);
  kv.set("opencl.device.version", info.device_version);
  kv.set("opencl.c.version", info.opencl_c_version);
  kv.set("opencl.max_alloc.bytes", info.max_alloc_bytes);
  if (info.llc_bytes > 0) kv.set("opencl.cache.llc.source", info.llc_source);
  kv.set("opencl.vector_width.f32", info.vector_width_f32);
  kv.set_bool("opencl.ext.cl_khr_fp16", info.fp16);
  kv.set_bool("opencl.ext.cl_khr_fp64", info.fp64);
  kv.set_bool("opencl.ext.cl_khr_integer_dot_product", info.integer_dot_product);
  if (info.cc_major > 0)
    kv.set("opencl.nv.compute_capability",
           std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor));
}

}  // namespace cmeter::opencl
