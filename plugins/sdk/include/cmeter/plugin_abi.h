/*
 * cmeter/plugin_abi.h - the cmeter device-plugin C ABI, version 1.
 *
 * Why this file exists: it is the one promise cmeter makes to device vendors. A plugin built once
 * against this header must keep loading in every later cmeter 1.x, so the header is pure C99, every
 * struct starts with its size, the function table only grows, and nothing of C++ crosses it.
 *
 * Rules (see docs/adapting-a-device.md and docs/abi-changelog.md):
 *  - One exported symbol: cmeter_plugin_get_api(). It must not call into any driver.
 *  - CMTR_Api and every args struct start with `size_t struct_size`, set by the caller to the size it
 *    knows (CMTR_STRUCT_SIZE: to the end of the last field it knows, tail padding excluded). A callee
 *    reads and writes only fields that lie inside the caller's struct_size.
 *  - New functions are appended to CMTR_Api (minor + 1). Removing, reordering or retyping is major + 1.
 *  - Errors are objects: functions return NULL on success or a CMTR_Error* that the plugin allocated
 *    and the host frees with error_destroy. "Unsupported" answers from op_query are not errors.
 *  - Strings are pointer + size and need not be NUL-terminated.
 *  - Whoever allocates frees. Lifetimes are stated on each out field.
 *  - A NULL function pointer means "unimplemented".
 *  - Threading: calls for different devices may come from different threads at once; calls on one
 *    stream, and all calls on one op, are serialised by the host.
 */
#ifndef CMETER_PLUGIN_ABI_H_
#define CMETER_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CMTR_ABI_MAJOR 1
#define CMTR_ABI_MINOR 3

/* Size of `type` up to and including `last_field`: what a caller puts in struct_size. */
#define CMTR_STRUCT_SIZE(type, last_field) (offsetof(type, last_field) + sizeof(((type*)0)->last_field))

#if defined(_WIN32)
#define CMTR_EXPORT __declspec(dllexport)
#else
#define CMTR_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Opaque handles, each defined privately by the plugin. ---- */
typedef struct CMTR_Error CMTR_Error;
typedef struct CMTR_Device CMTR_Device;
typedef struct CMTR_Buffer CMTR_Buffer;
typedef struct CMTR_Stream CMTR_Stream;
typedef struct CMTR_Event CMTR_Event;
typedef struct CMTR_Op CMTR_Op;

typedef enum CMTR_ErrorCode {
  CMTR_ERROR_INVALID_ARGUMENT = 1,
  CMTR_ERROR_NOT_FOUND = 2,
  CMTR_ERROR_UNIMPLEMENTED = 3,
  CMTR_ERROR_RESOURCE_EXHAUSTED = 4,
  CMTR_ERROR_UNAVAILABLE = 5,
  CMTR_ERROR_DEVICE_LOST = 6,
  CMTR_ERROR_INTERNAL = 7
} CMTR_ErrorCode;

/* A string: `size` bytes at `data` (UTF-8 expected, not necessarily NUL-terminated). */
typedef struct CMTR_String {
  const char* data;
  size_t size;
} CMTR_String;

typedef enum CMTR_ValueType {
  CMTR_VALUE_STRING = 1,
  CMTR_VALUE_INT64 = 2,
  CMTR_VALUE_DOUBLE = 3,
  CMTR_VALUE_BOOL = 4
} CMTR_ValueType;

/* One key/value fact (device attribute, op parameter, telemetry reading). Layout frozen for 1.x:
 * new facts are new keys (docs/abi-keys.md), never new fields. BOOL uses int_value (0 or 1). */
typedef struct CMTR_KeyValue {
  CMTR_String key;
  int32_t type;     /* CMTR_ValueType */
  int32_t reserved; /* zero */
  CMTR_String string_value;
  int64_t int_value;
  double double_value;
} CMTR_KeyValue;

typedef enum CMTR_MemoryKind {
  CMTR_MEMORY_DEVICE = 0,     /* memory the device's kernels read and write */
  CMTR_MEMORY_HOST_PINNED = 1 /* page-locked host memory, host-addressable via buffer_host_pointer */
} CMTR_MemoryKind;

/* ---- Errors ---- */
typedef struct CMTR_Error_Info_Args {
  size_t struct_size;
  void* extension;
  const CMTR_Error* error;
  int32_t code;        /* out: CMTR_ErrorCode */
  CMTR_String message; /* out: valid until error_destroy */
} CMTR_Error_Info_Args;
typedef void CMTR_Error_Info(CMTR_Error_Info_Args* args);

typedef struct CMTR_Error_Destroy_Args {
  size_t struct_size;
  void* extension;
  CMTR_Error* error;
} CMTR_Error_Destroy_Args;
typedef void CMTR_Error_Destroy(CMTR_Error_Destroy_Args* args);

/* ---- Plugin ---- */
typedef struct CMTR_Plugin_Initialize_Args {
  size_t struct_size;
  void* extension;
  int32_t host_abi_major;
  int32_t host_abi_minor;
  const CMTR_KeyValue* options; /* host-owned, valid during the call */
  size_t num_options;
  const CMTR_KeyValue* attributes; /* out: plugin facts (plugin.name, plugin.version, plugin.vendor);
                                      valid until plugin_shutdown */
  size_t num_attributes;           /* out */
} CMTR_Plugin_Initialize_Args;
typedef CMTR_Error* CMTR_Plugin_Initialize(CMTR_Plugin_Initialize_Args* args);

typedef struct CMTR_Plugin_Shutdown_Args {
  size_t struct_size;
  void* extension;
} CMTR_Plugin_Shutdown_Args;
typedef CMTR_Error* CMTR_Plugin_Shutdown(CMTR_Plugin_Shutdown_Args* args);

typedef struct CMTR_Plugin_Devices_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* const* devices; /* out: valid until plugin_shutdown */
  size_t num_devices;          /* out */
} CMTR_Plugin_Devices_Args;
typedef CMTR_Error* CMTR_Plugin_Devices(CMTR_Plugin_Devices_Args* args);

/* ---- Devices ---- */
typedef struct CMTR_Device_Attributes_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  const CMTR_KeyValue* attributes; /* out: valid until plugin_shutdown */
  size_t num_attributes;           /* out */
} CMTR_Device_Attributes_Args;
typedef CMTR_Error* CMTR_Device_Attributes(CMTR_Device_Attributes_Args* args);

/* Optional (NULL slot = no telemetry). Keys: power.w, energy.j (monotonic), temp.c,
 * clock.core.mhz, clock.mem.mhz, util.pct, throttle.reasons; each optional. */
typedef struct CMTR_Device_Telemetry_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  const CMTR_KeyValue* readings; /* out: valid until the next device_telemetry call for this device */
  size_t num_readings;           /* out */
} CMTR_Device_Telemetry_Args;
typedef CMTR_Error* CMTR_Device_Telemetry(CMTR_Device_Telemetry_Args* args);

/* ---- Buffers ---- */
typedef struct CMTR_Buffer_Create_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  uint64_t size_bytes; /* > 0 */
  int32_t memory_kind; /* CMTR_MemoryKind */
  CMTR_Buffer* buffer; /* out: host frees with buffer_destroy */
} CMTR_Buffer_Create_Args;
typedef CMTR_Error* CMTR_Buffer_Create(CMTR_Buffer_Create_Args* args);

typedef struct CMTR_Buffer_Destroy_Args {
  size_t struct_size;
  void* extension;
  CMTR_Buffer* buffer;
} CMTR_Buffer_Destroy_Args;
typedef CMTR_Error* CMTR_Buffer_Destroy(CMTR_Buffer_Destroy_Args* args);

/* Host address of a CMTR_MEMORY_HOST_PINNED buffer (unimplemented for device memory that the host
 * cannot address). */
typedef struct CMTR_Buffer_Host_Pointer_Args {
  size_t struct_size;
  void* extension;
  CMTR_Buffer* buffer;
  void* host_pointer; /* out: valid until buffer_destroy */
} CMTR_Buffer_Host_Pointer_Args;
typedef CMTR_Error* CMTR_Buffer_Host_Pointer(CMTR_Buffer_Host_Pointer_Args* args);

/* Host -> buffer copy, enqueued on `stream`; `host_pointer` must stay valid until the stream is
 * synchronised. It may point into a host-pinned buffer (pinned transfer) or plain host memory. */
typedef struct CMTR_Buffer_Write_Args {
  size_t struct_size;
  void* extension;
  CMTR_Stream* stream;
  CMTR_Buffer* buffer;
  uint64_t offset_bytes;
  const void* host_pointer;
  uint64_t size_bytes;
} CMTR_Buffer_Write_Args;
typedef CMTR_Error* CMTR_Buffer_Write(CMTR_Buffer_Write_Args* args);

/* Buffer -> host copy, enqueued on `stream`; the data is in place after stream_synchronize. */
typedef struct CMTR_Buffer_Read_Args {
  size_t struct_size;
  void* extension;
  CMTR_Stream* stream;
  CMTR_Buffer* buffer;
  uint64_t offset_bytes;
  void* host_pointer;
  uint64_t size_bytes;
} CMTR_Buffer_Read_Args;
typedef CMTR_Error* CMTR_Buffer_Read(CMTR_Buffer_Read_Args* args);

/* ---- Streams (in-order queues) ---- */
typedef struct CMTR_Stream_Create_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  CMTR_Stream* stream; /* out: host frees with stream_destroy */
} CMTR_Stream_Create_Args;
typedef CMTR_Error* CMTR_Stream_Create(CMTR_Stream_Create_Args* args);

typedef struct CMTR_Stream_Destroy_Args {
  size_t struct_size;
  void* extension;
  CMTR_Stream* stream;
} CMTR_Stream_Destroy_Args;
typedef CMTR_Error* CMTR_Stream_Destroy(CMTR_Stream_Destroy_Args* args);

typedef struct CMTR_Stream_Synchronize_Args {
  size_t struct_size;
  void* extension;
  CMTR_Stream* stream;
} CMTR_Stream_Synchronize_Args;
typedef CMTR_Error* CMTR_Stream_Synchronize(CMTR_Stream_Synchronize_Args* args);

/* ---- Events (device timing) ---- */
typedef struct CMTR_Event_Record_Args {
  size_t struct_size;
  void* extension;
  CMTR_Stream* stream;
  CMTR_Event* event; /* out: a new event marking this point of the stream; host frees */
} CMTR_Event_Record_Args;
typedef CMTR_Error* CMTR_Event_Record(CMTR_Event_Record_Args* args);

/* Device-timed seconds between two events of one stream, both complete (after stream_synchronize).
 * A plugin that cannot time on the device leaves the slot NULL; the host then times with a steady
 * clock around stream_synchronize and reports `timer: host`. */
typedef struct CMTR_Event_Elapsed_Args {
  size_t struct_size;
  void* extension;
  CMTR_Event* start;
  CMTR_Event* stop;
  double elapsed_s; /* out */
} CMTR_Event_Elapsed_Args;
typedef CMTR_Error* CMTR_Event_Elapsed(CMTR_Event_Elapsed_Args* args);

typedef struct CMTR_Event_Destroy_Args {
  size_t struct_size;
  void* extension;
  CMTR_Event* event;
} CMTR_Event_Destroy_Args;
typedef CMTR_Error* CMTR_Event_Destroy(CMTR_Event_Destroy_Args* args);

/* ---- Ops (named, versioned: "gemm.v1"; see docs/abi-keys.md for the catalogue) ---- */

/* Cheap: is this op with these params supported here? Unsupported is an answer (supported = 0 and a
 * reason), not an error; errors are for bad arguments (unknown keys, wrong types). */
typedef struct CMTR_Op_Query_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  CMTR_String name;
  const CMTR_KeyValue* params; /* host-owned, valid during the call */
  size_t num_params;
  int32_t supported;   /* out: 1 or 0 */
  char* reason_buffer; /* host-owned; the plugin writes up to reason_buffer_size bytes */
  size_t reason_buffer_size;
  size_t reason_size; /* out: bytes written to reason_buffer (truncated to fit) */
} CMTR_Op_Query_Args;
typedef CMTR_Error* CMTR_Op_Query(CMTR_Op_Query_Args* args);

/* Expensive, once: compile kernels, pick algorithms. */
typedef struct CMTR_Op_Create_Args {
  size_t struct_size;
  void* extension;
  CMTR_Device* device;
  CMTR_String name;
  const CMTR_KeyValue* params;
  size_t num_params;
  CMTR_Op* op; /* out: host frees with op_destroy */
} CMTR_Op_Create_Args;
typedef CMTR_Error* CMTR_Op_Create(CMTR_Op_Create_Args* args);

/* Facts about a created op, e.g. impl (which implementation or algorithm runs), lanes chosen. */
typedef struct CMTR_Op_Attributes_Args {
  size_t struct_size;
  void* extension;
  CMTR_Op* op;
  const CMTR_KeyValue* attributes; /* out: valid until op_destroy */
  size_t num_attributes;           /* out */
} CMTR_Op_Attributes_Args;
typedef CMTR_Error* CMTR_Op_Attributes(CMTR_Op_Attributes_Args* args);

/* Launch only: no compilation, no allocation the op could have made in op_create. Buffer order is
 * the op's (catalogue). */
typedef struct CMTR_Op_Enqueue_Args {
  size_t struct_size;
  void* extension;
  CMTR_Op* op;
  CMTR_Stream* stream;
  CMTR_Buffer* const* buffers; /* host-owned, valid during the call */
  size_t num_buffers;
} CMTR_Op_Enqueue_Args;
typedef CMTR_Error* CMTR_Op_Enqueue(CMTR_Op_Enqueue_Args* args);

typedef struct CMTR_Op_Destroy_Args {
  size_t struct_size;
  void* extension;
  CMTR_Op* op;
} CMTR_Op_Destroy_Args;
typedef CMTR_Error* CMTR_Op_Destroy(CMTR_Op_Destroy_Args* args);

/* ---- The function table (append-only) ---- */
typedef struct CMTR_Api {
  size_t struct_size; /* CMTR_STRUCT_SIZE(CMTR_Api, <last slot the plugin knows>) */
  void* extension;
  int32_t abi_major; /* CMTR_ABI_MAJOR the plugin was built with */
  int32_t abi_minor;

  CMTR_Error_Info* error_info;
  CMTR_Error_Destroy* error_destroy;

  CMTR_Plugin_Initialize* plugin_initialize;
  CMTR_Plugin_Shutdown* plugin_shutdown;
  CMTR_Plugin_Devices* plugin_devices;

  CMTR_Device_Attributes* device_attributes;
  CMTR_Device_Telemetry* device_telemetry;

  CMTR_Buffer_Create* buffer_create;
  CMTR_Buffer_Destroy* buffer_destroy;
  CMTR_Buffer_Host_Pointer* buffer_host_pointer;
  CMTR_Buffer_Write* buffer_write;
  CMTR_Buffer_Read* buffer_read;

  CMTR_Stream_Create* stream_create;
  CMTR_Stream_Destroy* stream_destroy;
  CMTR_Stream_Synchronize* stream_synchronize;

  CMTR_Event_Record* event_record;
  CMTR_Event_Elapsed* event_elapsed;
  CMTR_Event_Destroy* event_destroy;

  CMTR_Op_Query* op_query;
  CMTR_Op_Create* op_create;
  CMTR_Op_Attributes* op_attributes;
  CMTR_Op_Enqueue* op_enqueue;
  CMTR_Op_Destroy* op_destroy;
} CMTR_Api;

/* Size of the 1.0 table: the least a host accepts. */
#define CMTR_API_STRUCT_SIZE_1_0 CMTR_STRUCT_SIZE(CMTR_Api, op_destroy)

/* The one exported symbol. Returns a table valid for the library's lifetime; no driver calls. */
typedef const CMTR_Api* CMTR_GetApiFn(void);
#define CMTR_GET_API_SYMBOL "cmeter_plugin_get_api"
CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CMETER_PLUGIN_ABI_H_ */
