// plugins/vulkan/runtime.cpp - the Vulkan plumbing of libcmeter-vulkan.so: instance, device probing and
// attributes, the VkDevice, memory, and the streams' recording and submission.
//
// Why this file exists: Vulkan asks for much explicit set-up (queues, memory types, command buffers,
// fences, barriers) that none of the ops should repeat. The ops (ops.cpp) only record dispatches; the
// ABI layer (vulkan_plugin.cpp) only validates and forwards. Errors are values (CMTR_Error), never
// exceptions across the ABI.
#include "runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace cmeter::vulkan {

const char* vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS:
      return "VK_SUCCESS";
    case VK_NOT_READY:
      return "VK_NOT_READY";
    case VK_TIMEOUT:
      return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:
      return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:
      return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_INVALID_SHADER_NV:
      return "VK_ERROR_INVALID_SHADER_NV";
    default:
      return "VkResult";
  }
}

CMTR_Error* vk_failure(const std::string& what, const char* call, VkResult r) {
  CMTR_ErrorCode code = CMTR_ERROR_INTERNAL;
  if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
      r == VK_ERROR_TOO_MANY_OBJECTS)
    code = CMTR_ERROR_RESOURCE_EXHAUSTED;
  else if (r == VK_ERROR_DEVICE_LOST)
    code = CMTR_ERROR_DEVICE_LOST;
  return sdk::make_error(code, what + ": " + call + " failed: " + vk_result_name(r) + " (" +
                                   std::to_string(static_cast<int>(r)) + ")");
}

std::string api_version_string(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

std::string vendor_name(uint32_t id) {
  switch (id) {
    case 0x10DE:
      return "NVIDIA";
    case 0x1002:
    case 0x1022:
      return "AMD";
    case 0x8086:
      return "Intel";
    case 0x13B5:
      return "ARM";
    case 0x5143:
      return "Qualcomm";
    case 0x1010:
      return "Imagination Technologies";
    case 0x106B:
      return "Apple";
    case 0x1ED5:
      return "Moore Threads";
    case 0x1D17:
      return "Zhaoxin";
    case 0x0731:
      return "Jingjia Micro";
    case 0x1DBF:
      return "Innosilicon";
    case 0x1D94:
      return "Hygon";
    case VK_VENDOR_ID_MESA:
      return "Mesa";
    default:
      return "";
  }
}

VkInstance create_instance(std::string* status) {
  uint32_t version = VK_API_VERSION_1_0;
  auto enumerate_version = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  if (enumerate_version != nullptr) enumerate_version(&version);
  if (version < VK_API_VERSION_1_2) {
    *status = "the Vulkan loader offers instance version " + api_version_string(version) +
              "; the plugin needs 1.2 (buffer device addresses)";
    return VK_NULL_HANDLE;
  }
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "cmeter";
  app.pEngineName = "cmeter-vulkan";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ci.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  const VkResult r = vkCreateInstance(&ci, nullptr, &instance);
  if (r != VK_SUCCESS) {
    *status = r == VK_ERROR_INCOMPATIBLE_DRIVER
                  ? "no Vulkan driver: vkCreateInstance found no installable client driver (e.g. install "
                    "mesa-vulkan-drivers for lavapipe, or a GPU vendor's Vulkan ICD)"
                  : std::string("vkCreateInstance failed: ") + vk_result_name(r);
    return VK_NULL_HANDLE;
  }
  return instance;
}

namespace {

bool has_extension(VkPhysicalDevice physical, const char* name) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(physical, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  vkEnumerateDeviceExtensionProperties(physical, nullptr, &n, exts.data());
  for (const auto& e : exts)
    if (std::strcmp(e.extensionName, name) == 0) return true;
  return false;
}

std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

// The host's last-level cache (sysfs), for CPU devices (lavapipe): the stream workload sizes its arrays
// past it.
int64_t host_llc_bytes() {
  int best_level = 0;
  int64_t best = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string level = read_first_line(dir + "level"), size = read_first_line(dir + "size");
    if (level.empty() || size.empty()) continue;
    int64_t bytes = std::atoll(size.c_str());
    if (size.back() == 'K') bytes *= 1024;
    if (size.back() == 'M') bytes *= 1024 * 1024;
    const int l = std::atoi(level.c_str());
    if (l > best_level || (l == best_level && bytes > best)) {
      best_level = l;
      best = bytes;
    }
  }
  return best;
}

}  // namespace

bool probe_device(VkPhysicalDevice physical, DeviceInfo* out) {
  DeviceInfo& d = *out;
  d.physical = physical;
  vkGetPhysicalDeviceProperties(physical, &d.props);
  vkGetPhysicalDeviceMemoryProperties(physical, &d.memory);
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> families(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, families.data());
  bool found = false;
  for (uint32_t i = 0; i < nq; ++i) {
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) == 0) continue;
    // Prefer a family with timestamps; among those, the first.
    if (!found || (d.timestamp_valid_bits == 0 && families[i].timestampValidBits > 0)) {
      d.queue_family = i;
      d.timestamp_valid_bits = families[i].timestampValidBits;
      found = true;
    }
  }
  if (!found) return false;
  d.timestamp_period_ns = d.props.limits.timestampPeriod;
  for (uint32_t h = 0; h < d.memory.memoryHeapCount; ++h)
    if (d.memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.device_local_bytes = std::max<uint64_t>(d.device_local_bytes, d.memory.memoryHeaps[h].size);
  d.max_alloc_bytes = d.device_local_bytes;
  if (d.props.apiVersion < VK_API_VERSION_1_2) return true;  // listed; ops say what is missing

  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features f11{};
  f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  f11.pNext = &f12;
  VkPhysicalDeviceFeatures2 f2{};
  f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  f2.pNext = &f11;
  vkGetPhysicalDeviceFeatures2(physical, &f2);
  d.float16 = f12.shaderFloat16;
  d.int8 = f12.shaderInt8;
  d.buffer_device_address = f12.bufferDeviceAddress;
  d.host_query_reset = f12.hostQueryReset;
  d.storage16 = f11.storageBuffer16BitAccess;
  d.float64 = f2.features.shaderFloat64;
  d.int64 = f2.features.shaderInt64;

  VkPhysicalDevicePCIBusInfoPropertiesEXT pci{};
  pci.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT;
  const bool has_pci = has_extension(physical, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
  VkPhysicalDeviceDriverProperties driver{};
  driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
  driver.pNext = has_pci ? &pci : nullptr;
  VkPhysicalDeviceMaintenance3Properties m3{};
  m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  m3.pNext = &driver;
  VkPhysicalDeviceVulkan11Properties p11{};
  p11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES;
  p11.pNext = &m3;
  VkPhysicalDeviceProperties2 p2{};
  p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  p2.pNext = &p11;
  vkGetPhysicalDeviceProperties2(physical, &p2);
  d.subgroup_size = p11.subgroupSize;
  d.max_alloc_bytes = m3.maxMemoryAllocationSize;
  d.driver_name = driver.driverName;
  d.driver_info = driver.driverInfo;
  if (has_pci) {
    char bus[32];
    std::snprintf(bus, sizeof bus, "%04x:%02x:%02x.%x", pci.pciDomain, pci.pciBus, pci.pciDevice,
                  pci.pciFunction);
    d.pci_bus_id = bus;
  }
  d.cooperative_matrix = has_extension(physical, "VK_KHR_cooperative_matrix") ||
                         has_extension(physical, "VK_NV_cooperative_matrix");
  return true;
}

void build_attributes(const DeviceInfo& d, sdk::KeyValueList& out) {
  out.clear();
  const VkPhysicalDeviceProperties& p = d.props;
  out.set("name", std::string(p.deviceName));
  const std::string vendor = vendor_name(p.vendorID);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%04x", p.vendorID);
  out.set("vendor", vendor.empty() ? std::string(hex) : vendor);
  const bool cpu = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  const bool gpu = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ||
                   p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
                   p.deviceType == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
  out.set("kind", cpu ? "cpu" : gpu ? "gpu" : "other");
  out.set("driver.version",
          d.driver_name.empty() ? std::to_string(p.driverVersion) : d.driver_name + " " + d.driver_info);
  out.set("runtime.version", "Vulkan " + api_version_string(p.apiVersion));
  if (!d.pci_bus_id.empty()) {
    out.set("pci.bus_id", d.pci_bus_id);
    const std::string numa = read_first_line("/sys/bus/pci/devices/" + d.pci_bus_id + "/numa_node");
    if (!numa.empty() && std::atoi(numa.c_str()) >= 0) out.set("numa.node", int64_t{std::atoi(numa.c_str())});
  }
  out.set("mem.bytes", static_cast<int64_t>(d.device_local_bytes));
  if (cpu) {
    out.set_bool("mem.host_shared", true);
    if (const int64_t llc = host_llc_bytes(); llc > 0) out.set("cache.llc.bytes", llc);
  }
  out.set("timer.kind", "vulkan.timestamp (vkCmdWriteTimestamp, timestampPeriod " +
                            std::to_string(d.timestamp_period_ns) + " ns)");
  out.set("vulkan.vendor_id", static_cast<int64_t>(p.vendorID));
  out.set("vulkan.device_id", static_cast<int64_t>(p.deviceID));
  out.set("vulkan.api_version", api_version_string(p.apiVersion));
  out.set("vulkan.driver_version", static_cast<int64_t>(p.driverVersion));
  out.set("vulkan.device_type", cpu                                                      ? "cpu"
                                : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU   ? "discrete_gpu"
                                : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? "integrated_gpu"
                                : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU    ? "virtual_gpu"
                                                                                         : "other");
  std::string heaps;
  for (uint32_t h = 0; h < d.memory.memoryHeapCount; ++h) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%u: %.1f GiB%s", heaps.empty() ? "" : "; ", h,
                  static_cast<double>(d.memory.memoryHeaps[h].size) / (1024.0 * 1024 * 1024),
                  (d.memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " device-local" : "");
    heaps += buf;
  }
  out.set("vulkan.memory_heaps", heaps);
  out.set("vulkan.max_alloc.bytes", static_cast<int64_t>(d.max_alloc_bytes));
  out.set("vulkan.subgroup_size", static_cast<int64_t>(d.subgroup_size));
  out.set("vulkan.queue_family", static_cast<int64_t>(d.queue_family));
  out.set("vulkan.timestamp_valid_bits", static_cast<int64_t>(d.timestamp_valid_bits));
  out.set_bool("vulkan.shader_float16", d.float16);
  out.set_bool("vulkan.shader_int8", d.int8);
  out.set_bool("vulkan.shader_float64", d.float64);
  out.set_bool("vulkan.storage_buffer_16bit", d.storage16);
  out.set_bool("vulkan.buffer_device_address", d.buffer_device_address);
  out.set_bool("vulkan.cooperative_matrix", d.cooperative_matrix);
}

// ---- Pipeline ----

Pipeline::~Pipeline() {
  if (device_ == VK_NULL_HANDLE) return;
  if (pipeline_ != VK_NULL_HANDLE) vkDestroyPipeline(device_, pipeline_, nullptr);
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (module_ != VK_NULL_HANDLE) vkDestroyShaderModule(device_, module_, nullptr);
}

CMTR_Error* Pipeline::create(VkDevice device, const std::string& what, Spirv code,
                             const std::vector<uint32_t>& spec, uint32_t push_bytes) {
  device_ = device;
  push_bytes_ = push_bytes;
  VkShaderModuleCreateInfo smci{};
  smci.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  smci.codeSize = code.size_bytes;
  smci.pCode = code.words;
  VkResult r = vkCreateShaderModule(device_, &smci, nullptr, &module_);
  if (r != VK_SUCCESS) return vk_failure(what, "vkCreateShaderModule", r);
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo plci{};
  plci.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  plci.pushConstantRangeCount = push_bytes > 0 ? 1 : 0;
  plci.pPushConstantRanges = &range;
  r = vkCreatePipelineLayout(device_, &plci, nullptr, &layout_);
  if (r != VK_SUCCESS) return vk_failure(what, "vkCreatePipelineLayout", r);
  std::vector<VkSpecializationMapEntry> entries;
  for (uint32_t i = 0; i < spec.size(); ++i) entries.push_back({i, i * 4, 4});
  VkSpecializationInfo si{};
  si.mapEntryCount = static_cast<uint32_t>(entries.size());
  si.pMapEntries = entries.data();
  si.dataSize = spec.size() * 4;
  si.pData = spec.data();
  VkComputePipelineCreateInfo cpci{};
  cpci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  cpci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  cpci.stage.module = module_;
  cpci.stage.pName = "main";
  cpci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
  cpci.layout = layout_;
  r = vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &cpci, nullptr, &pipeline_);
  if (r != VK_SUCCESS) return vk_failure(what, "vkCreateComputePipelines", r);
  return nullptr;
}

void Pipeline::dispatch(VkCommandBuffer cmd, const void* push, uint32_t x, uint32_t y, uint32_t z) const {
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
  if (push_bytes_ > 0) vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes_, push);
  vkCmdDispatch(cmd, x, y, z);
}

// ---- DeviceState ----

DeviceState::~DeviceState() {
  shutdown();
}

CMTR_Error* DeviceState::pipeline(const std::string& what, Spirv code, const std::vector<uint32_t>& spec,
                                  uint32_t push_bytes, const Pipeline** out) {
  std::lock_guard<std::mutex> lock(pipeline_mutex_);
  auto key = std::make_pair(code.words, spec);
  if (auto it = pipelines_.find(key); it != pipelines_.end()) {
    *out = it->second.get();
    return nullptr;
  }
  const std::string where = what + " on " + label;
  auto p = std::make_unique<Pipeline>();
  if (CMTR_Error* e = p->create(device(), where, code, spec, push_bytes)) return e;
  // Push constants of zeros: every size is 0, so the shader returns without touching memory.
  const std::vector<uint8_t> zeros(push_bytes, 0);
  if (CMTR_Error* e = run_now(where + " (first dispatch)",
                              [&](VkCommandBuffer cmd) { p->dispatch(cmd, zeros.data(), 1); }))
    return e;
  *out = p.get();
  pipelines_.emplace(std::move(key), std::move(p));
  return nullptr;
}

void DeviceState::shutdown() {
  {
    std::lock_guard<std::mutex> lock(pipeline_mutex_);
    if (device_ != VK_NULL_HANDLE && !pipelines_.empty()) vkDeviceWaitIdle(device_);
    pipelines_.clear();  // before the VkDevice they belong to
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (device_ == VK_NULL_HANDLE) return;
  vkDeviceWaitIdle(device_);
  if (setup_pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, setup_pool_, nullptr);
  vkDestroyDevice(device_, nullptr);
  setup_pool_ = VK_NULL_HANDLE;
  queue_ = VK_NULL_HANDLE;
  device_ = VK_NULL_HANDLE;
}

void DeviceState::wait_idle() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (queue_ != VK_NULL_HANDLE) vkQueueWaitIdle(queue_);
}

CMTR_Error* DeviceState::ensure_device(const char* call) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (device_ != VK_NULL_HANDLE) return nullptr;
  const std::string what = std::string(call) + " on " + label;
  if (info.props.apiVersion < VK_API_VERSION_1_2 || !info.buffer_device_address)
    return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                           what +
                               ": the plugin needs Vulkan 1.2 with bufferDeviceAddress; the device offers " +
                               api_version_string(info.props.apiVersion) +
                               (info.buffer_device_address ? "" : " without bufferDeviceAddress"));
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo q{};
  q.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  q.queueFamilyIndex = info.queue_family;
  q.queueCount = 1;
  q.pQueuePriorities = &priority;
  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  f12.bufferDeviceAddress = VK_TRUE;
  f12.shaderFloat16 = info.float16;
  f12.shaderInt8 = info.int8;
  f12.hostQueryReset = info.host_query_reset;
  VkPhysicalDeviceVulkan11Features f11{};
  f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  f11.pNext = &f12;
  f11.storageBuffer16BitAccess = info.storage16;
  VkPhysicalDeviceFeatures2 f2{};
  f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  f2.pNext = &f11;
  f2.features.shaderFloat64 = info.float64;
  f2.features.shaderInt64 = info.int64;
  VkDeviceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  ci.pNext = &f2;
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &q;
  VkDevice dev = VK_NULL_HANDLE;
  VkResult r = vkCreateDevice(info.physical, &ci, nullptr, &dev);
  if (r != VK_SUCCESS) return vk_failure(what, "vkCreateDevice", r);
  VkCommandPoolCreateInfo pci{};
  pci.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT | VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pci.queueFamilyIndex = info.queue_family;
  VkCommandPool pool = VK_NULL_HANDLE;
  r = vkCreateCommandPool(dev, &pci, nullptr, &pool);
  if (r != VK_SUCCESS) {
    vkDestroyDevice(dev, nullptr);
    return vk_failure(what, "vkCreateCommandPool", r);
  }
  vkGetDeviceQueue(dev, info.queue_family, 0, &queue_);
  setup_pool_ = pool;
  device_ = dev;
  return nullptr;
}

CMTR_Error* DeviceState::allocate(const std::string& what, uint64_t size_bytes, bool host_visible,
                                  Allocation* out) {
  if (size_bytes > info.max_alloc_bytes)
    return sdk::make_error(CMTR_ERROR_RESOURCE_EXHAUSTED,
                           what + ": above the device's largest allocation (maxMemoryAllocationSize " +
                               std::to_string(info.max_alloc_bytes) + " bytes)");
  VkBufferCreateInfo bci{};
  bci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bci.size = size_bytes;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
              VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  Allocation a;
  a.size_bytes = size_bytes;
  VkResult r = vkCreateBuffer(device_, &bci, nullptr, &a.buffer);
  if (r != VK_SUCCESS) return vk_failure(what, "vkCreateBuffer", r);
  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(device_, a.buffer, &req);
  // Host-visible: coherent (and cached where offered, for reads); device: device-local.
  const VkMemoryPropertyFlags want =
      host_visible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                   : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  int type = -1;
  for (int pass = 0; pass < 2 && type < 0; ++pass)
    for (uint32_t t = 0; t < info.memory.memoryTypeCount && type < 0; ++t) {
      const VkMemoryPropertyFlags f = info.memory.memoryTypes[t].propertyFlags;
      if ((req.memoryTypeBits & (1u << t)) == 0 || (f & want) != want) continue;
      if (pass == 0 && host_visible && (f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) == 0) continue;
      type = static_cast<int>(t);
    }
  if (type < 0) {
    vkDestroyBuffer(device_, a.buffer, nullptr);
    return sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                           what + ": no memory type " +
                               (host_visible ? "host-visible and coherent" : "device-local") +
                               " for a storage buffer");
  }
  VkMemoryAllocateFlagsInfo flags{};
  flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo mai{};
  mai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  mai.pNext = &flags;
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = static_cast<uint32_t>(type);
  r = vkAllocateMemory(device_, &mai, nullptr, &a.memory);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(device_, a.buffer, nullptr);
    return vk_failure(what, "vkAllocateMemory", r);
  }
  r = vkBindBufferMemory(device_, a.buffer, a.memory, 0);
  if (r == VK_SUCCESS && host_visible) r = vkMapMemory(device_, a.memory, 0, VK_WHOLE_SIZE, 0, &a.mapped);
  if (r != VK_SUCCESS) {
    release(a);
    return vk_failure(what, host_visible ? "vkBindBufferMemory/vkMapMemory" : "vkBindBufferMemory", r);
  }
  VkBufferDeviceAddressInfo bda{};
  bda.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO;
  bda.buffer = a.buffer;
  a.address = vkGetBufferDeviceAddress(device_, &bda);
  *out = a;
  return nullptr;
}

void DeviceState::release(Allocation& a) {
  if (device_ == VK_NULL_HANDLE) {  // after shutdown (an op destroyed late): the device took it along
    a = Allocation{};
    return;
  }
  if (a.mapped != nullptr) vkUnmapMemory(device_, a.memory);
  if (a.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, a.buffer, nullptr);
  if (a.memory != VK_NULL_HANDLE) vkFreeMemory(device_, a.memory, nullptr);
  a = Allocation{};
}

VkResult DeviceState::submit(VkCommandBuffer cmd, VkFence fence) {
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  std::lock_guard<std::mutex> lock(mutex_);
  return vkQueueSubmit(queue_, 1, &si, fence);
}

CMTR_Error* DeviceState::run_now(const std::string& what, const std::function<void(VkCommandBuffer)>& body) {
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    VkCommandBufferAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ai.commandPool = setup_pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkResult r = vkAllocateCommandBuffers(device_, &ai, &cmd);
    if (r != VK_SUCCESS) return vk_failure(what, "vkAllocateCommandBuffers", r);
  }
  auto free_cmd = [&] {
    std::lock_guard<std::mutex> lock(mutex_);
    vkFreeCommandBuffers(device_, setup_pool_, 1, &cmd);
  };
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  // The setup pool is shared by the device's threads: recording is under the lock too.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    vkBeginCommandBuffer(cmd, &bi);
    body(cmd);
    VkMemoryBarrier mb{};
    mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    vkEndCommandBuffer(cmd);
  }
  VkFenceCreateInfo fci{};
  fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  VkResult r = vkCreateFence(device_, &fci, nullptr, &fence);
  if (r == VK_SUCCESS) r = submit(cmd, fence);
  if (r == VK_SUCCESS) r = vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
  if (fence != VK_NULL_HANDLE) vkDestroyFence(device_, fence, nullptr);
  free_cmd();
  if (r != VK_SUCCESS) return vk_failure(what, "vkQueueSubmit/vkWaitForFences", r);
  return nullptr;
}

// ---- StreamState ----

StreamState::~StreamState() {
  VkDevice dev = device_.device();
  // A stream the host destroys after plugin_shutdown: its VkDevice is gone (and took the pool, fences
  // and staging memory along); calling into it with a null device would crash.
  if (dev == VK_NULL_HANDLE) return;
  for (auto& s : in_flight_) vkWaitForFences(dev, 1, &s.fence, VK_TRUE, UINT64_MAX);
  for (auto& s : in_flight_) vkDestroyFence(dev, s.fence, nullptr);
  for (VkFence f : free_fences_) vkDestroyFence(dev, f, nullptr);
  if (staging_.buffer != VK_NULL_HANDLE) device_.release(staging_);
  if (pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(dev, pool_, nullptr);  // frees its command buffers
}

CMTR_Error* StreamState::init(const char* call) {
  VkCommandPoolCreateInfo pci{};
  pci.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = device_.info.queue_family;
  const VkResult r = vkCreateCommandPool(device_.device(), &pci, nullptr, &pool_);
  if (r != VK_SUCCESS)
    return vk_failure(std::string(call) + " on " + device_.label, "vkCreateCommandPool", r);
  return nullptr;
}

CMTR_Error* StreamState::begin(const char* call) {
  if (current_ != VK_NULL_HANDLE) return nullptr;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  if (!free_cmds_.empty()) {
    cmd = free_cmds_.back();
    free_cmds_.pop_back();
  } else {
    VkCommandBufferAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    const VkResult r = vkAllocateCommandBuffers(device_.device(), &ai, &cmd);
    if (r != VK_SUCCESS)
      return vk_failure(std::string(call) + " on " + device_.label, "vkAllocateCommandBuffers", r);
  }
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  const VkResult r = vkBeginCommandBuffer(cmd, &bi);
  if (r != VK_SUCCESS) {
    free_cmds_.push_back(cmd);
    return vk_failure(std::string(call) + " on " + device_.label, "vkBeginCommandBuffer", r);
  }
  current_ = cmd;
  recorded_ = 0;
  return nullptr;
}

CMTR_Error* StreamState::record(const char* call, const std::function<CMTR_Error*(VkCommandBuffer)>& body) {
  if (CMTR_Error* e = begin(call)) return e;
  // In order: this command starts after every earlier one (in this and earlier submissions of the
  // queue) finished its writes. Host writes (pinned buffers, staging) are visible at submission.
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(current_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                       nullptr, 0, nullptr);
  if (CMTR_Error* e = body(current_)) return e;
  if (++recorded_ >= kBatchCommands) return flush(call);
  return nullptr;
}

CMTR_Error* StreamState::flush(const char* call) {
  if (current_ == VK_NULL_HANDLE) return nullptr;
  const std::string what = std::string(call) + " on " + device_.label;
  // The host may read what the commands wrote (host-pinned buffers, staging) once the fence signals.
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(current_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  VkCommandBuffer cmd = current_;
  current_ = VK_NULL_HANDLE;
  VkResult r = vkEndCommandBuffer(cmd);
  if (r != VK_SUCCESS) {
    vkResetCommandBuffer(cmd, 0);
    free_cmds_.push_back(cmd);
    return vk_failure(what, "vkEndCommandBuffer", r);
  }
  VkFence fence = VK_NULL_HANDLE;
  if (!free_fences_.empty()) {
    fence = free_fences_.back();
    free_fences_.pop_back();
  } else {
    VkFenceCreateInfo fci{};
    fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    r = vkCreateFence(device_.device(), &fci, nullptr, &fence);
    if (r != VK_SUCCESS) return vk_failure(what, "vkCreateFence", r);
  }
  r = device_.submit(cmd, fence);
  if (r != VK_SUCCESS) {
    free_fences_.push_back(fence);
    vkResetCommandBuffer(cmd, 0);
    free_cmds_.push_back(cmd);
    return vk_failure(what, "vkQueueSubmit", r);
  }
  in_flight_.push_back({cmd, fence});
  // Recycle what already finished (a stream that records events and never synchronises stays small).
  size_t done = 0;
  while (done < in_flight_.size() &&
         vkGetFenceStatus(device_.device(), in_flight_[done].fence) == VK_SUCCESS) {
    vkResetFences(device_.device(), 1, &in_flight_[done].fence);
    free_fences_.push_back(in_flight_[done].fence);
    vkResetCommandBuffer(in_flight_[done].cmd, 0);
    free_cmds_.push_back(in_flight_[done].cmd);
    ++done;
  }
  in_flight_.erase(in_flight_.begin(), in_flight_.begin() + static_cast<std::ptrdiff_t>(done));
  return nullptr;
}

CMTR_Error* StreamState::synchronize(const char* call) {
  CMTR_Error* first = flush(call);
  VkDevice dev = device_.device();
  for (auto& s : in_flight_) {
    const VkResult r = vkWaitForFences(dev, 1, &s.fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS && first == nullptr)
      first = vk_failure(std::string(call) + " on " + device_.label, "vkWaitForFences", r);
    vkResetFences(dev, 1, &s.fence);
    free_fences_.push_back(s.fence);
    vkResetCommandBuffer(s.cmd, 0);
    free_cmds_.push_back(s.cmd);
  }
  in_flight_.clear();
  return first;
}

CMTR_Error* StreamState::staging(const char* call, uint64_t size_bytes, Allocation** out) {
  if (staging_.size_bytes < size_bytes) {
    if (staging_.buffer != VK_NULL_HANDLE) device_.release(staging_);
    if (CMTR_Error* e = device_.allocate(std::string(call) + " (staging buffer of " +
                                             std::to_string(size_bytes) + " bytes) on " + device_.label,
                                         size_bytes, true, &staging_))
      return e;
  }
  *out = &staging_;
  return nullptr;
}

}  // namespace cmeter::vulkan
