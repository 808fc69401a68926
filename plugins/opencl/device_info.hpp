// plugins/opencl/device_info.hpp - what the OpenCL plugin knows about one device, from its queries.
//
// Why this file exists: a device's facts (identity, memory, vector widths, extensions, PCI location,
// declared peaks) are read once at plugin_initialize and used in two places: the `device_attributes`
// answer (docs/abi-keys.md) and the ops' choices (vector widths, f16/f64 support, CPU or GPU
// tiling). Keeping the probe separate from the ABI layer lets it be read on its own and tested.
#ifndef CMETER_PLUGINS_OPENCL_DEVICE_INFO_HPP_
#define CMETER_PLUGINS_OPENCL_DEVICE_INFO_HPP_

#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <string>

#include "cl_util.hpp"

namespace cmeter::opencl {

struct DeviceInfo {
  std::string platform_name, platform_vendor, platform_version;
  std::string name, vendor, device_version, driver_version, opencl_c_version, extensions;
  cl_device_type type = 0;
  bool is_cpu = false, is_gpu = false;
  bool is_pocl = false;
  int64_t compute_units = 0;
  double max_clock_mhz = 0;
  int64_t mem_bytes = 0, max_alloc_bytes = 0;
  int64_t global_cache_bytes = 0;  // as the driver reports it (0: none reported)
  int64_t llc_bytes = 0;           // what cmeter uses: the driver's, or the host's LLC for CPU devices
  std::string llc_source;
  bool host_unified_memory = false;
  size_t max_work_group_size = 1;
  int64_t vector_width_f32 = 1, vector_width_f64 = 0, vector_width_f16 = 0;  // preferred widths
  bool fp16 = false, fp64 = false, integer_dot_product = false;
  bool profiling_timer = false;  // CL_QUEUE_PROFILING_ENABLE accepted on host queues
  std::string pci_bus_id;        // dddd:bb:dd.f, empty when the platform cannot tell
  std::string pci_source;        // which query gave it
  std::optional<int64_t> numa_node;
  std::string uuid;
  // NVIDIA compute capability (cl_nv_device_attribute_query), 0 when not an NVIDIA device.
  int cc_major = 0, cc_minor = 0;
  // Declared peaks (0 = none declared) and how they were obtained.
  double peak_f32 = 0, peak_f64 = 0;
  std::string peak_source;
};

// Reads every fact of `device`; never fails (facts a driver does not answer stay empty/zero).
DeviceInfo probe_device(cl_platform_id platform, cl_device_id device);

// The device_attributes answer for a probed device.
void build_attributes(const DeviceInfo& info, sdk::KeyValueList& kv);

// "dddd:bb:dd.f".
std::string format_pci_bus_id(uint32_t domain, uint32_t bus, uint32_t device, uint32_t function);

// FP32 lanes per NVIDIA SM for compute capability major.minor; 0 when not in the table.
int nvidia_fp32_lanes_per_sm(int major, int minor);
// FP64 lanes per SM for the HPC parts (full-rate FP64: 6.0, 7.0, 8.0, 9.0); 0 otherwise.
int nvidia_fp64_lanes_per_sm(int major, int minor);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_DEVICE_INFO_HPP_
