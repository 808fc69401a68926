// template.hpp - shared declarations of the cmeter plugin template.
//
// Why this file exists: a vendor starts a new plugin by copying plugins/template/. The template is a
// complete, small reference device over host memory: it passes `cmeter plugin check --level full`
// with no FAIL and nothing unimplemented, so a vendor starts from something that works and replaces it
// piece by piece, re-running the check after each step. The ABI's entry points are the SDK adapter's
// (cmeter/plugin_adapter.hpp): it checks every call (struct sizes, NULL, foreign and destroyed
// handles, handles of another device, copy ranges) the same way in every cmeter plugin, then calls the
// hooks declared below, which are all a plugin writes: plugin.cpp (initialise, devices), memory.cpp
// (buffers), streams.cpp (streams and events), ops.cpp (plan, create, launch; the op parameter
// contracts are cmeter/plugin_ops.hpp's), kernels.cpp (the work). Every place a vendor puts its own
// driver call is marked "VENDOR:". CMTR_Op and Plan are defined in ops.cpp, the only file that needs
// the op parameter contracts.
#pragma once

#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_adapter.hpp>
#include <cmeter/plugin_sdk.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

// The opaque handles of the ABI, defined privately here. Each carries a magic number (so that a NULL,
// foreign or destroyed pointer is an INVALID_ARGUMENT error, not a crash) and, but the device, its device.
struct CMTR_Device {
  uint32_t magic = 0;
  int index = 0;           // VENDOR: your driver's device handle (CUdevice, hipDevice_t, aclrtContext, ...)
  uint64_t mem_bytes = 0;  // mem.bytes: a buffer larger than this is RESOURCE_EXHAUSTED before any allocation
  cmeter::sdk::KeyValueList attributes;  // device_attributes
};
struct CMTR_Buffer {
  uint32_t magic;
  CMTR_Device* device;
  uint64_t size_bytes;
  int32_t memory_kind;
  void* pointer;  // VENDOR: the device pointer (hipMalloc) or host-pinned pointer (hipHostMalloc)
};
struct CMTR_Stream {
  uint32_t magic;
  CMTR_Device* device;  // VENDOR: and your queue (hipStream_t, aclrtStream, cnrtQueue_t, ...)
};
struct CMTR_Event {
  uint32_t magic;
  CMTR_Device* device;
  // VENDOR: your device timer event (hipEvent_t, aclrtEvent, ...). The template's work runs to
  // completion inside each enqueue, so a host steady_clock reading at record time is in stream order.
  std::chrono::steady_clock::time_point time;
};

namespace tmpl {

inline constexpr uint32_t kDeviceMagic = 0x54444556;  // "TDEV"
inline constexpr uint32_t kBufferMagic = 0x54425546;  // "TBUF"
inline constexpr uint32_t kStreamMagic = 0x54535452;  // "TSTR"
inline constexpr uint32_t kEventMagic = 0x54455654;   // "TEVT"
inline constexpr uint32_t kOpMagic = 0x544f5053;      // "TOPS"

// The plugin's name: device ids are "<name>:<index>". VENDOR: your name (e.g. "acme").
inline constexpr const char* kPluginName = "template";

struct Plan;  // ops.cpp: what op_query and op_create answer for an op

// The hooks sdk::Adapter calls, each after its checks and inside sdk::guarded (a C++ exception becomes
// an error object). A hook gets live handles of an initialised plugin, on one device.
struct TemplatePlugin : cmeter::sdk::Adapter<TemplatePlugin> {
  static constexpr const char* kName = kPluginName;
  static constexpr uint32_t kDeviceMagic = tmpl::kDeviceMagic, kBufferMagic = tmpl::kBufferMagic,
                            kStreamMagic = tmpl::kStreamMagic, kEventMagic = tmpl::kEventMagic,
                            kOpMagic = tmpl::kOpMagic;
  // device_telemetry: VENDOR: set kTelemetry and add telemetry() for power.w, energy.j, temp.c, ...
  // (docs/abi-keys.md). A device without a usable timer sets kEvents = false: the host then times with
  // its own clock around stream_synchronize.

  // plugin.cpp
  static CMTR_Error* initialize(const cmeter::sdk::KeyValueList** plugin_attributes);
  static void shutdown();
  static bool initialised();
  static cmeter::sdk::DeviceList devices();
  // memory.cpp
  static uint64_t memory_bytes(const CMTR_Device* device, int32_t memory_kind);
  static CMTR_Error* allocate(CMTR_Device* device, uint64_t size_bytes, int32_t memory_kind,
                              CMTR_Buffer** out);
  static CMTR_Error* free_buffer(CMTR_Buffer* buffer);
  static CMTR_Error* host_pointer(CMTR_Buffer* buffer, void** out);
  static CMTR_Error* write(CMTR_Stream* stream, CMTR_Buffer* buffer, uint64_t offset_bytes, const void* host,
                           uint64_t size_bytes);
  static CMTR_Error* read(CMTR_Stream* stream, CMTR_Buffer* buffer, uint64_t offset_bytes, void* host,
                          uint64_t size_bytes);
  // streams.cpp
  static CMTR_Error* create_stream(CMTR_Device* device, CMTR_Stream** out);
  static CMTR_Error* free_stream(CMTR_Stream* stream);
  static CMTR_Error* synchronize(CMTR_Stream* stream);
  static CMTR_Error* record(CMTR_Stream* stream, CMTR_Event** out);
  static CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s);
  static CMTR_Error* free_event(CMTR_Event* event);
  // ops.cpp
  static Plan plan(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
                   bool for_create);
  static CMTR_Error* make_op(CMTR_Device* device, Plan& plan, CMTR_Op** out);
  static const cmeter::sdk::KeyValueList& op_attributes_of(const CMTR_Op* op);
  static CMTR_Error* launch(CMTR_Op* op, CMTR_Stream* stream, CMTR_Buffer* const* buffers,
                            size_t num_buffers);
};

// The function table (built in ops.cpp, where Plan is complete).
extern const CMTR_Api kApi;

}  // namespace tmpl
