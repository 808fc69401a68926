// plugins/opencl/runtime.hpp - the OpenCL plugin's handle types and per-device run-time state.
//
// Why this file exists: the ABI's opaque handles (device, buffer, stream, event, op) are defined here
// once, so the ABI layer (opencl_plugin.cpp) and the ops (ops.cpp) agree on them. Every handle starts
// with a magic number cleared on destroy, so NULL, foreign or destroyed handles are reported, not
// used. A device owns one OpenCL context (created on first use, so `cmeter devices` never creates
// one), a setup queue for allocation-time work, and a cache of built programs: a program is built
// once per device and source, however many ops use it (PoCL compiles slowly).
#ifndef CMETER_PLUGINS_OPENCL_RUNTIME_HPP_
#define CMETER_PLUGINS_OPENCL_RUNTIME_HPP_

#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cl_util.hpp"
#include "device_info.hpp"

namespace cmeter::opencl {

constexpr uint32_t kDeviceMagic = 0x4f434c44;  // "OCLD"
constexpr uint32_t kBufferMagic = 0x4f434c42;  // "OCLB"
constexpr uint32_t kStreamMagic = 0x4f434c53;  // "OCLS"
constexpr uint32_t kEventMagic = 0x4f434c45;   // "OCLE"
constexpr uint32_t kOpMagic = 0x4f434c4f;      // "OCLO"

// One OpenCL device and what the plugin built for it.
struct DeviceState {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  DeviceInfo info;

  DeviceState() = default;
  DeviceState(const DeviceState&) = delete;
  DeviceState& operator=(const DeviceState&) = delete;
  ~DeviceState();

  // Creates the context and the setup queue on first use; the error names the device.
  CMTR_Error* ensure_context(const char* call);
  cl_context context() const { return context_; }
  // An in-order, profiling queue for work done outside any stream (buffer zero-fill, priming).
  cl_command_queue setup_queue() const { return setup_queue_; }
  // Creates an in-order queue with profiling on this device's context.
  CMTR_Error* create_queue(const char* call, cl_command_queue* out);

  // The program built from `source` with `options`, from the cache or built now. A build failure is
  // an error whose message holds the build log; failures are not cached.
  CMTR_Error* program(const std::string& what, const std::string& source, const std::string& options,
                      cl_program* out, bool* from_cache = nullptr);
  // How many programs this device has built (tests check the cache with it).
  int64_t programs_built() const { return programs_built_; }

  std::mutex mutex;   // guards context creation and the program cache
  std::string label;  // "opencl device N (<name>)" for messages

 private:
  cl_context context_ = nullptr;
  cl_command_queue setup_queue_ = nullptr;
  std::map<std::string, cl_program> programs_;
  int64_t programs_built_ = 0;
};

class Op {
 public:
  virtual ~Op() = default;
  // Enqueues the op on `queue` (the stream's); launches only.
  virtual CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  sdk::KeyValueList attributes;
};

}  // namespace cmeter::opencl

struct CMTR_Device {
  uint32_t magic = cmeter::opencl::kDeviceMagic;
  std::unique_ptr<cmeter::opencl::DeviceState> state;
  cmeter::sdk::KeyValueList attributes;
};

struct CMTR_Buffer {
  uint32_t magic = cmeter::opencl::kBufferMagic;
  CMTR_Device* device = nullptr;
  cl_mem mem = nullptr;
  uint64_t size_bytes = 0;
  int32_t memory_kind = 0;
  void* mapped = nullptr;  // host address of a host-pinned buffer (mapped for its whole life)
};

struct CMTR_Stream {
  uint32_t magic = cmeter::opencl::kStreamMagic;
  CMTR_Device* device = nullptr;
  cl_command_queue queue = nullptr;
};

struct CMTR_Event {
  uint32_t magic = cmeter::opencl::kEventMagic;
  CMTR_Device* device = nullptr;
  cl_event event = nullptr;  // a marker on the stream's queue
};

struct CMTR_Op {
  uint32_t magic = cmeter::opencl::kOpMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::opencl::Op> impl;
};

#endif  // CMETER_PLUGINS_OPENCL_RUNTIME_HPP_
