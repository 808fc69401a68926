// plugins/vulkan/runtime.hpp - the Vulkan plugin's handle types and per-device run-time state.
//
// Why this file exists: the ABI's opaque handles (device, buffer, stream, event, op) are defined here
// once, so the ABI layer (vulkan_plugin.cpp), the Vulkan plumbing (runtime.cpp) and the ops (ops.cpp)
// agree on them. Every handle starts with a magic number cleared on destroy (sdk::check_handle). A
// device creates its VkDevice on first use (`cmeter devices` never creates one). A stream records
// commands into command buffers and submits them in order (at an event, every kBatchCommands
// commands, and at synchronize); an event is a timestamp query; buffers are reached by the shaders
// through their device addresses, so an enqueue binds no descriptor set.
#ifndef CMETER_PLUGINS_VULKAN_RUNTIME_HPP_
#define CMETER_PLUGINS_VULKAN_RUNTIME_HPP_

#include <vulkan/vulkan.h>

#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cmeter::vulkan {

constexpr uint32_t kDeviceMagic = 0x564b4456;  // "VKDV"
constexpr uint32_t kBufferMagic = 0x564b4246;  // "VKBF"
constexpr uint32_t kStreamMagic = 0x564b5354;  // "VKST"
constexpr uint32_t kEventMagic = 0x564b4556;   // "VKEV"
constexpr uint32_t kOpMagic = 0x564b4f50;      // "VKOP"

// Frees an error the plugin made but does not return (a best-effort wait in a destroy call).
inline void discard(CMTR_Error* e) {
  CMTR_Error_Destroy_Args args{sizeof(CMTR_Error_Destroy_Args), nullptr, e};
  sdk::error_destroy(&args);
}

// "vkCreateDevice failed: VK_ERROR_OUT_OF_DEVICE_MEMORY" as an error object with the ABI code that
// fits (out of memory = RESOURCE_EXHAUSTED, device lost = DEVICE_LOST, else INTERNAL).
CMTR_Error* vk_failure(const std::string& what, const char* call, VkResult result);
const char* vk_result_name(VkResult result);

// What the plugin read from a physical device at enumeration.
struct DeviceInfo {
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  uint32_t timestamp_valid_bits = 0;
  double timestamp_period_ns = 1;
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceMemoryProperties memory{};
  uint64_t max_alloc_bytes = 0;
  uint32_t subgroup_size = 0;
  bool float16 = false, int8 = false, float64 = false, int64 = false, storage16 = false;
  bool buffer_device_address = false, cooperative_matrix = false, host_query_reset = false;
  std::string driver_name, driver_info;
  std::string pci_bus_id;           // "dddd:bb:dd.f" with VK_EXT_pci_bus_info, else empty
  uint64_t device_local_bytes = 0;  // the largest device-local heap
};

// The plugin's VkInstance (Vulkan 1.2), created once; NULL with `status` saying why (no loader ICD,
// an instance older than 1.2).
VkInstance create_instance(std::string* status);
// Reads a physical device's properties and features; false when it has no compute queue.
bool probe_device(VkPhysicalDevice physical, DeviceInfo* out);
// The device attributes of docs/abi-keys.md ("Vulkan plugin keys").
void build_attributes(const DeviceInfo& info, sdk::KeyValueList& out);
// The vendor's name for a PCI vendor id (Vulkan's vendorID), or "" when unknown.
std::string vendor_name(uint32_t vendor_id);
// "1.3.230" from a VK_MAKE_API_VERSION value.
std::string api_version_string(uint32_t version);

// A VkBuffer with its memory (plugin buffers, staging buffers, op-owned constants).
struct Allocation {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceAddress address = 0;
  void* mapped = nullptr;  // host-visible allocations stay mapped for their whole life
  uint64_t size_bytes = 0;
};

// SPIR-V words embedded at build time (glslc -mfmt=num, plugins/vulkan/CMakeLists.txt).
struct Spirv {
  const uint32_t* words;
  size_t size_bytes;
};
template <size_t N>
constexpr Spirv spirv(const uint32_t (&w)[N]) {
  return {w, N * 4};
}

// A compute pipeline with one push-constant range and no descriptor sets. Owned by the device's
// pipeline cache (DeviceState::pipeline), which destroys it before the VkDevice; ops hold a pointer.
class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();
  // Specialisation constants are 4-byte values with ids 0, 1, ...
  CMTR_Error* create(VkDevice device, const std::string& what, Spirv code, const std::vector<uint32_t>& spec,
                     uint32_t push_bytes);
  // Binds, pushes `push` (push_bytes of it) and dispatches x * y * z work-groups.
  void dispatch(VkCommandBuffer cmd, const void* push, uint32_t x, uint32_t y = 1, uint32_t z = 1) const;
  uint32_t push_bytes() const { return push_bytes_; }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  uint32_t push_bytes_ = 0;
};

class DeviceState {
 public:
  DeviceInfo info;
  std::string label;  // "vulkan:N (<name>)" for messages

  DeviceState() = default;
  DeviceState(const DeviceState&) = delete;
  DeviceState& operator=(const DeviceState&) = delete;
  ~DeviceState();

  // Creates the VkDevice, its queue and a setup command pool on first use.
  CMTR_Error* ensure_device(const char* call);
  VkDevice device() const { return device_; }

  // A buffer of `size_bytes` (usable as storage, copy source and destination, with a device address
  // when the device has them); `host_visible` picks mapped, coherent host memory.
  CMTR_Error* allocate(const std::string& what, uint64_t size_bytes, bool host_visible, Allocation* out);
  void release(Allocation& a);

  // The pipeline of `code` with these specialisation constants, created on first use and kept until
  // the device shuts down, so ops of the same shader share it (lavapipe JIT-compiles each pipeline at
  // its first dispatch: sharing saves a compile per op). A new pipeline is dispatched once, with
  // zero push constants (every shader then touches no memory), so that compile happens here, at
  // op_create, and not inside a timed enqueue.
  CMTR_Error* pipeline(const std::string& what, Spirv code, const std::vector<uint32_t>& spec,
                       uint32_t push_bytes, const Pipeline** out);

  // Waits until the queue is idle (before destroying what submitted work may use).
  void wait_idle();
  // Destroys the VkDevice (plugin_shutdown); the handle object itself stays (see vulkan_plugin.cpp).
  void shutdown();

  // Submits one command buffer to the queue (serialised: a VkQueue is externally synchronised).
  VkResult submit(VkCommandBuffer cmd, VkFence fence);
  // Records `body` into a one-time command buffer, submits it and waits (buffer zero-fill, set-up).
  CMTR_Error* run_now(const std::string& what, const std::function<void(VkCommandBuffer)>& body);

  // fma_peak.v1's probe, per dtype: whether the device's fma() chains match a fused host simulation
  // or an unfused one (Vulkan lets fma() be a rounded multiply then an add), else why neither does.
  // Guarded by probe_mutex.
  struct FmaProbe {
    bool fused = true;
    std::string why_not;  // non-empty: the chain cannot be checked here (unsupported)
  };
  std::mutex probe_mutex;
  std::map<std::string, FmaProbe> fma_probe;

  // The host-pinned buffers of this device, to recognise a host pointer inside one (a pinned
  // transfer copies straight from it, with no staging).
  std::mutex pinned_mutex;
  std::vector<const CMTR_Buffer*> pinned;

 private:
  std::mutex pipeline_mutex_;  // the pipeline cache
  std::map<std::pair<const uint32_t*, std::vector<uint32_t>>, std::unique_ptr<Pipeline>> pipelines_;
  std::mutex mutex_;  // device creation, the queue, the setup pool
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool setup_pool_ = VK_NULL_HANDLE;
};

class Op {
 public:
  virtual ~Op() = default;
  // Records the op into `cmd` (a stream's command buffer); the buffers are already checked to be
  // live buffers of this device in the count the op takes; the op checks their sizes.
  // Checks an enqueue's buffer list: the count, live buffers of `device`, the sizes the op needs.
  virtual CMTR_Error* check(const CMTR_Device* device, CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  virtual CMTR_Error* record(VkCommandBuffer cmd, CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  sdk::KeyValueList attributes;
};

// The stream's recording and submission (runtime.cpp).
class StreamState {
 public:
  static constexpr int kBatchCommands = 256;  // commands per submitted command buffer, at most
  explicit StreamState(DeviceState& device) : device_(device) {}
  ~StreamState();
  CMTR_Error* init(const char* call);

  // Records one command, after a barrier that orders it behind everything recorded before (the
  // stream is in order); submits the command buffer when it holds kBatchCommands.
  CMTR_Error* record(const char* call, const std::function<CMTR_Error*(VkCommandBuffer)>& body);
  // Submits what is recorded (so the device starts on it).
  CMTR_Error* flush(const char* call);
  // Submits and waits for everything submitted; recycles command buffers.
  CMTR_Error* synchronize(const char* call);
  // A staging buffer of at least `size_bytes` (host-visible; only used while the stream is idle).
  CMTR_Error* staging(const char* call, uint64_t size_bytes, Allocation** out);

  DeviceState& device() { return device_; }

 private:
  struct Submitted {
    VkCommandBuffer cmd;
    VkFence fence;
  };
  CMTR_Error* begin(const char* call);
  DeviceState& device_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer current_ = VK_NULL_HANDLE;
  int recorded_ = 0;
  std::vector<Submitted> in_flight_;
  std::vector<VkCommandBuffer> free_cmds_;
  std::vector<VkFence> free_fences_;
  Allocation staging_;
};

}  // namespace cmeter::vulkan

struct CMTR_Device {
  uint32_t magic = cmeter::vulkan::kDeviceMagic;
  std::unique_ptr<cmeter::vulkan::DeviceState> state;
  cmeter::sdk::KeyValueList attributes;
};

struct CMTR_Buffer {
  uint32_t magic = cmeter::vulkan::kBufferMagic;
  CMTR_Device* device = nullptr;
  cmeter::vulkan::Allocation alloc;
  uint64_t size_bytes = 0;
  int32_t memory_kind = 0;
};

struct CMTR_Stream {
  uint32_t magic = cmeter::vulkan::kStreamMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::vulkan::StreamState> state;
};

struct CMTR_Event {
  uint32_t magic = cmeter::vulkan::kEventMagic;
  CMTR_Device* device = nullptr;
  VkQueryPool pool = VK_NULL_HANDLE;  // one timestamp query
};

struct CMTR_Op {
  uint32_t magic = cmeter::vulkan::kOpMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::vulkan::Op> impl;
};

#endif  // CMETER_PLUGINS_VULKAN_RUNTIME_HPP_
