// plugins/cuda/runtime.hpp - the CUDA plugin's handle types, plugin-wide state and the stream hold.
//
// Why this file exists: the ABI's opaque handles (device, buffer, stream, event, op) are defined here
// once, so the ABI layer (cuda_plugin.cpp), the ops (ops.cpp, gemm_lt.cpp) and telemetry agree on them.
// Every handle starts with a magic number cleared on destroy, so a NULL, foreign or destroyed handle
// is an INVALID_ARGUMENT error rather than a crash.
//
// The stream hold: a device timer around a batch of enqueues measures host enqueue gaps too when the
// device is faster than the host. Like nvbench and nvbandwidth, the plugin enqueues a one-thread spin
// kernel before the start event of a batch, so the device waits while the host enqueues, then lets
// it go at the stop event: the batch then runs back to back. The ABI has no "batch begins/ends" call,
// so the plugin infers it: on a stream that is not held, event_record holds it and then records (the
// start of a timed batch); on a held stream, event_record records and releases (the stop). Anything
// that could wait for the held stream (synchronize, a pageable copy, an allocation or free, the first
// launch of an op, which may load its module) releases first, and so does an op_enqueue after
// kMaxHeldLaunches launches, since a full launch queue would block the host while the device waits.
// The spin kernel also gives up by itself after kHoldTimeoutNs (counted and reported once).
#ifndef CMETER_PLUGINS_CUDA_RUNTIME_HPP_
#define CMETER_PLUGINS_CUDA_RUNTIME_HPP_

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cmeter::cuda {

constexpr uint32_t kDeviceMagic = 0x43554444;  // "CUDD"
constexpr uint32_t kBufferMagic = 0x43554442;  // "CUDB"
constexpr uint32_t kStreamMagic = 0x43554453;  // "CUDS"
constexpr uint32_t kEventMagic = 0x43554445;   // "CUDE"
constexpr uint32_t kOpMagic = 0x4355444f;      // "CUDO"

constexpr int kMaxHeldLaunches = 256;               // well below CUDA's pending-launch queue depth
constexpr uint64_t kHoldTimeoutNs = 1'000'000'000;  // 1 s of device time

// "cudaErrorMemoryAllocation (out of memory)"
std::string cuda_error_text(cudaError_t status);
std::string cublas_status_text(cublasStatus_t status);
// An error object for a failed CUDA call: code chosen from the status (memory -> RESOURCE_EXHAUSTED,
// sticky faults -> DEVICE_LOST, ...), message "<what>: <cuda error text>".
CMTR_Error* cuda_failure(cudaError_t status, const std::string& what);
using sdk::invalid;

class Nvml;

}  // namespace cmeter::cuda

struct CMTR_Stream;

struct CMTR_Device {
  uint32_t magic = cmeter::cuda::kDeviceMagic;
  int ordinal = 0;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  uint64_t mem_bytes = 0;
  std::string name;
  cmeter::sdk::KeyValueList attributes;

  std::mutex mutex;                // guards the fields below
  cublasLtHandle_t lt = nullptr;   // created on first use
  std::set<CMTR_Stream*> streams;  // live streams, to release their holds before anything that waits

  std::mutex telemetry_mutex;
  void* nvml_device = nullptr;  // nvmlDevice_t, when NVML is loaded and found this device
  cmeter::sdk::KeyValueList telemetry;
};

struct CMTR_Buffer {
  uint32_t magic = cmeter::cuda::kBufferMagic;
  CMTR_Device* device = nullptr;
  void* data = nullptr;  // device pointer, or host pointer for pinned memory
  uint64_t size_bytes = 0;
  int32_t memory_kind = 0;
};

struct CMTR_Stream {
  uint32_t magic = cmeter::cuda::kStreamMagic;
  CMTR_Device* device = nullptr;
  cudaStream_t stream = nullptr;
  // The hold (see the file comment). flag[0]: released generation, flag[1]: spin timeouts seen.
  volatile uint32_t* flag_host = nullptr;
  volatile uint32_t* flag_device = nullptr;
  uint32_t generation = 0;
  uint32_t timeouts_reported = 0;
  bool held = false;        // a spin kernel is holding the stream
  bool batch_open = false;  // event_record opened a timed batch (the next one closes it)
  bool hold_enabled = true;
  int held_launches = 0;
};

struct CMTR_Event {
  uint32_t magic = cmeter::cuda::kEventMagic;
  CMTR_Device* device = nullptr;
  cudaEvent_t event = nullptr;
};

namespace cmeter::cuda {

class OpImpl {
 public:
  virtual ~OpImpl() = default;
  // Enqueues the op on `stream` (whose device is current). Buffers are checked by the op.
  virtual CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  sdk::KeyValueList attributes;
  int launches = 1;     // kernels one enqueue launches (counts against kMaxHeldLaunches)
  bool warmed = false;  // launched once (modules loaded): later launches may run on a held stream
};

// Makes `device` current on this thread.
CMTR_Error* use_device(const CMTR_Device* device, const char* call);

// Hold control (see the file comment). hold() returns false (and holds nothing) when the spin kernel
// cannot be launched; release() is a no-op on a stream that is not held.
bool hold(CMTR_Stream* stream);
void release(CMTR_Stream* stream);
// Releases every stream of the device (before calls that may wait for the device).
void release_all(CMTR_Device* device);

// The cuBLASLt handle of a device, created on first use.
CMTR_Error* lt_handle(CMTR_Device* device, cublasLtHandle_t* out);

// Checks that buffer i of an enqueue is a live device buffer of `device` with at least `bytes`.
CMTR_Error* check_op_buffer(CMTR_Buffer* const* buffers, size_t num_buffers, size_t index, const char* role,
                            const CMTR_Device* device, uint64_t bytes, const char* op);
// The inference and training ops' enqueue check: exactly needs.size() buffers, each checked by
// check_op_buffer against its need; their device pointers go to data[0..needs.size()) (at most
// kMaxOpBuffers).
constexpr size_t kMaxOpBuffers = 8;
}  // namespace cmeter::cuda
namespace cmeter::sdk {
struct BufferNeed;  // cmeter/plugin_ops.hpp
}  // namespace cmeter::sdk
namespace cmeter::cuda {
CMTR_Error* gather_op_buffers(CMTR_Buffer* const* buffers, size_t num_buffers,
                              const std::vector<sdk::BufferNeed>& needs, const CMTR_Device* device,
                              const char* op, void** data);

}  // namespace cmeter::cuda

struct CMTR_Op {
  uint32_t magic = cmeter::cuda::kOpMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::cuda::OpImpl> impl;
};

#endif  // CMETER_PLUGINS_CUDA_RUNTIME_HPP_
