// template.hpp - shared declarations of the cmeter plugin template.
//
// Why this file exists: a vendor starts a new plugin by copying plugins/template/. Each concern lives in
// its own file (entry.cpp: the function table; plugin.cpp: initialise and devices; memory.cpp: buffers;
// streams.cpp: streams and events; ops.cpp: op_query/op_create/op_enqueue), and this header holds the
// opaque handle types they share. Every function validates its arguments and then answers
// UNIMPLEMENTED until you fill it in; `cmeter plugin check` then tells you what is left (exit 3,
// "incomplete", while nothing fails). Search for "TODO(vendor)".
#pragma once

#include <cmeter/plugin_abi.h>
#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <string>

// The opaque handles of the ABI, defined privately here. Each carries a magic number so that a NULL or
// foreign pointer is an INVALID_ARGUMENT error, not a crash.
struct CMTR_Device {
  uint32_t magic;
  int index;  // TODO(vendor): your driver's device handle (CUdevice, aclrtContext, cnrtDev_t, ...)
};
struct CMTR_Buffer {
  uint32_t magic;
  CMTR_Device* device;
  uint64_t size_bytes;
  int32_t memory_kind;
  void* pointer;  // TODO(vendor): device pointer / host-pinned pointer
};
struct CMTR_Stream {
  uint32_t magic;
  CMTR_Device* device;  // TODO(vendor): your queue (cudaStream_t, aclrtStream, cnrtQueue_t, ...)
};
struct CMTR_Event {
  uint32_t magic;  // TODO(vendor): your event (cudaEvent_t, aclrtEvent, cnrtNotifier_t, ...)
};
struct CMTR_Op {
  uint32_t magic;  // TODO(vendor): the compiled kernel / library handle chosen in op_create
};

namespace tmpl {

inline constexpr uint32_t kDeviceMagic = 0x54444556;  // "TDEV"
inline constexpr uint32_t kBufferMagic = 0x54425546;  // "TBUF"
inline constexpr uint32_t kStreamMagic = 0x54535452;  // "TSTR"
inline constexpr uint32_t kEventMagic = 0x54455654;   // "TEVT"
inline constexpr uint32_t kOpMagic = 0x544f5053;      // "TOPS"

// The plugin's name: device ids are "<name>:<index>". TODO(vendor): your name (e.g. "acme").
inline constexpr const char* kPluginName = "template";

inline CMTR_Error* invalid(const std::string& message) {
  return cmeter::sdk::make_error(CMTR_ERROR_INVALID_ARGUMENT, std::string(kPluginName) + ": " + message);
}
// The answer of every function not filled in yet.
inline CMTR_Error* unimplemented(const char* function) {
  return cmeter::sdk::make_error(CMTR_ERROR_UNIMPLEMENTED,
                                 std::string(kPluginName) + ": " + function + " is not implemented yet");
}

// NULL-or-foreign handle checks (sdk::check_handle, sdk::check_device), shared by every file.
CMTR_Error* check_device(const CMTR_Device* device, const char* function);
CMTR_Error* check_buffer(const CMTR_Buffer* buffer, const char* function);
CMTR_Error* check_stream(const CMTR_Stream* stream, const char* function);
CMTR_Error* check_event(const CMTR_Event* event, const char* role, const char* function);
// Whether plugin_initialize ran (and plugin_shutdown did not since): buffer and stream calls need it.
bool initialised();
CMTR_Error* check_op(const CMTR_Op* op, const char* function);

// The entry points, one group per file.
CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args);
CMTR_Error* plugin_shutdown(CMTR_Plugin_Shutdown_Args* args);
CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args);
CMTR_Error* device_attributes(CMTR_Device_Attributes_Args* args);

CMTR_Error* buffer_create(CMTR_Buffer_Create_Args* args);
CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args);
CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args);
CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args);
CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args);

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args);
CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args);
CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args);
CMTR_Error* event_record(CMTR_Event_Record_Args* args);
CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args);
CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args);

CMTR_Error* op_query(CMTR_Op_Query_Args* args);
CMTR_Error* op_create(CMTR_Op_Create_Args* args);
CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args);
CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args);
CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args);

}  // namespace tmpl
