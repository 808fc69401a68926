// cmeter/plugin_adapter.hpp - the ABI entry points every plugin repeats, written once (C++17, header-only).
//
// Why this file exists: every plugin wrote the same twenty entry points around its driver calls: struct
// size checks, handle/device/stream/event/op validation in one order, `guarded`, buffer_create's checks,
// copy range checks, op_query/op_create through one planning function, op_enqueue's device match. Copies
// drifted (a zero-byte copy accepted in one plugin, an unknown dtype `unsupported` in another). Here they
// are one class template: a plugin derives `struct MyPlugin : sdk::Adapter<MyPlugin>` and supplies only
// its own part as static hooks (allocate, write, read, synchronize, plan, launch, timer events, ...);
// `MyPlugin::api()` is its CMTR_Api. The adapter does every check before a hook runs, so a hook gets
// live handles of this plugin, an initialised plugin, same-device handles and in-range copies, and every
// hook runs inside sdk::guarded (no exception crosses the ABI). Nothing C++ crosses the ABI.
//
// What a plugin supplies (static members of MyPlugin; the handle types are its own CMTR_* structs):
//   kName, kDeviceMagic, kBufferMagic, kStreamMagic, kEventMagic, kOpMagic   (constexpr)
//   CMTR_Error* initialize(const KeyValueList** plugin_attributes);   // idempotent, locks itself
//   void shutdown();
//   bool initialised();
//   DeviceList devices();                                               // valid while initialised
//   uint64_t memory_bytes(const CMTR_Device*, int32_t memory_kind);     // larger buffers: RESOURCE_EXHAUSTED
//   CMTR_Error* allocate(CMTR_Device*, uint64_t size_bytes, int32_t memory_kind, CMTR_Buffer** out);
//   CMTR_Error* free_buffer(CMTR_Buffer*);                              // magic already 0; deletes it
//   CMTR_Error* host_pointer(CMTR_Buffer*, void** out);
//   CMTR_Error* write(CMTR_Stream*, CMTR_Buffer*, uint64_t offset_bytes, const void* host, uint64_t
//   size_bytes); CMTR_Error* read(CMTR_Stream*, CMTR_Buffer*, uint64_t offset_bytes, void* host, uint64_t
//   size_bytes); CMTR_Error* create_stream(CMTR_Device*, CMTR_Stream** out); CMTR_Error*
//   free_stream(CMTR_Stream*);                              // magic already 0; deletes it CMTR_Error*
//   synchronize(CMTR_Stream*); CMTR_Error* record(CMTR_Stream*, CMTR_Event** out);                 // unless
//   kEvents is false CMTR_Error* elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s);
//   CMTR_Error* free_event(CMTR_Event*);                                // magic already 0; deletes it
//   Plan plan(CMTR_Device*, std::string_view name, const CMTR_KeyValue*, size_t, bool for_create);
//       // any type with `OpStatus status; std::string reason; CMTR_Error* error;` (error: kFailed only)
//   CMTR_Error* make_op(CMTR_Device*, Plan& plan, CMTR_Op** out);      // plan.status is kSupported
//   CMTR_Error* launch(CMTR_Op*, CMTR_Stream*, CMTR_Buffer* const* buffers, size_t num_buffers);
// Optional (defaults below): device_attributes_of (d->attributes), op_attributes_of (op->impl->attributes),
// free_op (delete), kTelemetry + telemetry(CMTR_Device*, const CMTR_KeyValue**, size_t*), kEvents,
// kMemoryName (names memory_bytes' limit in the RESOURCE_EXHAUSTED message).
// Every handle has `uint32_t magic` (set at creation, cleared by the adapter on destroy) and, except
// CMTR_Device, `CMTR_Device* device`; CMTR_Buffer has `uint64_t size_bytes`.
#ifndef CMETER_PLUGIN_ADAPTER_HPP_
#define CMETER_PLUGIN_ADAPTER_HPP_

#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace cmeter::sdk {

// The devices plugin_devices returns (the plugin keeps the array alive until plugin_shutdown).
struct DeviceList {
  CMTR_Device* const* data;
  size_t size;
};

namespace detail {
// Field access through templates, so this header compiles before the plugin defines its handle types.
template <class H>
uint32_t& magic(H* h) {
  return h->magic;
}
template <class H>
CMTR_Device* device_of(const H* h) {
  return h->device;
}
template <class B>
uint64_t size_bytes(const B* b) {
  return b->size_bytes;
}
}  // namespace detail

template <class P>
class Adapter {
 public:
  // ---- Defaults a plugin may hide with its own static member of the same name ----
  static constexpr bool kTelemetry = false;  // device_telemetry slot NULL unless true
  static constexpr bool kEvents = true;      // false: event slots NULL (the host times with its clock)
  static constexpr const char* kMemoryName = "the device's memory";  // what memory_bytes() measures

  template <class D>
  static const KeyValueList& device_attributes_of(const D* device) {
    return device->attributes;
  }
  template <class O>
  static const KeyValueList& op_attributes_of(const O* op) {
    return op->impl->attributes;
  }
  template <class O>
  static CMTR_Error* free_op(O* op) {
    delete op;
    return nullptr;
  }

  // The plugin's function table (ABI 1.0 layout).
  static constexpr CMTR_Api api() {
    return ApiBuilder()
        .plugin(&plugin_initialize, &plugin_shutdown, &plugin_devices)
        .device(&device_attributes, P::kTelemetry ? &device_telemetry : nullptr)
        .buffers(&buffer_create, &buffer_destroy, &buffer_host_pointer, &buffer_write, &buffer_read)
        .streams(&stream_create, &stream_destroy, &stream_synchronize)
        .events(P::kEvents ? &event_record : nullptr, P::kEvents ? &event_elapsed : nullptr,
                P::kEvents ? &event_destroy : nullptr)
        .ops(&op_query, &op_create, &op_attributes, &op_enqueue, &op_destroy)
        .build();
  }

  // ---- Checks, in the order every entry point applies them ----

  // NULL is INVALID_ARGUMENT; not initialised is UNAVAILABLE; not one of the live devices is
  // INVALID_ARGUMENT.
  static CMTR_Error* check_device(const CMTR_Device* device, const char* call) {
    bool ours = false;
    if (device != nullptr && P::initialised()) {
      const DeviceList list = P::devices();
      for (size_t i = 0; i < list.size && !ours; ++i)
        ours = list.data[i] == device && detail::magic(list.data[i]) == P::kDeviceMagic;
    }
    return sdk::check_device(device, call, P::kName, P::initialised(), ours);
  }
  // A live handle of this plugin, then: the plugin must be initialised.
  template <class H>
  static CMTR_Error* check_live(const H* handle, uint32_t magic, const char* call, const char* role,
                                const char* kind) {
    if (CMTR_Error* e = check_handle(handle, magic, call, role, P::kName, kind)) return e;
    return P::initialised() ? nullptr : not_initialised(call);
  }
  static CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call) {
    return check_live(b, P::kBufferMagic, call, "buffer", "buffer");
  }
  static CMTR_Error* check_stream(const CMTR_Stream* s, const char* call) {
    return check_live(s, P::kStreamMagic, call, "stream", "stream");
  }

 private:
  // ---- Plugin ----
  static CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
    if (CMTR_Error* e = check_initialize(args, P::kName)) return e;
    return guarded([&]() -> CMTR_Error* {
      const KeyValueList* attributes = nullptr;
      if (CMTR_Error* e = P::initialize(&attributes)) return e;
      args->attributes = attributes->data();
      args->num_attributes = attributes->size();
      return nullptr;
    });
  }
  static CMTR_Error* plugin_shutdown(CMTR_Plugin_Shutdown_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Shutdown_Args, extension);
    return guarded([&]() -> CMTR_Error* {
      P::shutdown();
      return nullptr;
    });
  }
  static CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Devices_Args, num_devices);
    if (!P::initialised()) return not_initialised("plugin_devices");
    const DeviceList list = P::devices();
    args->devices = list.size == 0 ? nullptr : list.data;
    args->num_devices = list.size;
    return nullptr;
  }

  // ---- Devices ----
  static CMTR_Error* device_attributes(CMTR_Device_Attributes_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Device_Attributes_Args, num_attributes);
    if (CMTR_Error* e = check_device(args->device, "device_attributes")) return e;
    const KeyValueList& kv = P::device_attributes_of(args->device);
    args->attributes = kv.data();
    args->num_attributes = kv.size();
    return nullptr;
  }
  static CMTR_Error* device_telemetry(CMTR_Device_Telemetry_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Device_Telemetry_Args, num_readings);
    if (CMTR_Error* e = check_device(args->device, "device_telemetry")) return e;
    if constexpr (P::kTelemetry)
      return guarded([&] { return P::telemetry(args->device, &args->readings, &args->num_readings); });
    return make_error(CMTR_ERROR_UNIMPLEMENTED, "device_telemetry: no telemetry");
  }

  // ---- Buffers ----
  static CMTR_Error* buffer_create(CMTR_Buffer_Create_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Create_Args, buffer);
    if (CMTR_Error* e = check_device(args->device, "buffer_create")) return e;
    if (args->size_bytes == 0) return invalid("buffer_create: size_bytes is 0");
    if (args->memory_kind != CMTR_MEMORY_DEVICE && args->memory_kind != CMTR_MEMORY_HOST_PINNED)
      return invalid("buffer_create: unknown memory_kind " + std::to_string(args->memory_kind));
    return guarded([&]() -> CMTR_Error* {
      const uint64_t limit_bytes = P::memory_bytes(args->device, args->memory_kind);
      if (args->size_bytes > limit_bytes)
        return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED,
                          std::string(P::kName) + ": buffer_create: " + std::to_string(args->size_bytes) +
                              " bytes exceed " + P::kMemoryName + " (" + std::to_string(limit_bytes) +
                              " bytes)");
      return P::allocate(args->device, args->size_bytes, args->memory_kind, &args->buffer);
    });
  }
  static CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
    if (CMTR_Error* e =
            check_handle(args->buffer, P::kBufferMagic, "buffer_destroy", "buffer", P::kName, "buffer"))
      return e;
    detail::magic(args->buffer) = 0;  // a second destroy is INVALID_ARGUMENT, not a double free
    return guarded([&] { return P::free_buffer(args->buffer); });
  }
  static CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
    if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
    return guarded([&] { return P::host_pointer(args->buffer, &args->host_pointer); });
  }
  // A copy's checks: the stream, the buffer, one device, the range (sdk::check_range: no zero bytes).
  static CMTR_Error* check_copy(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset_bytes, uint64_t size_bytes,
                                const void* host, const char* call) {
    if (CMTR_Error* e = check_stream(s, call)) return e;
    if (CMTR_Error* e = check_buffer(b, call)) return e;
    if (detail::device_of(s) != detail::device_of(b))
      return invalid(std::string(call) + ": the buffer and the stream belong to different devices");
    return check_range(detail::size_bytes(b), offset_bytes, size_bytes, host, call);
  }
  static CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
    if (CMTR_Error* e = check_copy(args->stream, args->buffer, args->offset_bytes, args->size_bytes,
                                   args->host_pointer, "buffer_write"))
      return e;
    return guarded([&] {
      return P::write(args->stream, args->buffer, args->offset_bytes, args->host_pointer, args->size_bytes);
    });
  }
  static CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
    if (CMTR_Error* e = check_copy(args->stream, args->buffer, args->offset_bytes, args->size_bytes,
                                   args->host_pointer, "buffer_read"))
      return e;
    return guarded([&] {
      return P::read(args->stream, args->buffer, args->offset_bytes, args->host_pointer, args->size_bytes);
    });
  }

  // ---- Streams ----
  static CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
    if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
    return guarded([&] { return P::create_stream(args->device, &args->stream); });
  }
  static CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
    if (CMTR_Error* e =
            check_handle(args->stream, P::kStreamMagic, "stream_destroy", "stream", P::kName, "stream"))
      return e;
    detail::magic(args->stream) = 0;
    return guarded([&] { return P::free_stream(args->stream); });
  }
  static CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
    if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
    return guarded([&] { return P::synchronize(args->stream); });
  }

  // ---- Events ----
  static CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
    if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
    return guarded([&] { return P::record(args->stream, &args->event); });
  }
  static CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
    if (CMTR_Error* e =
            check_handle(args->start, P::kEventMagic, "event_elapsed", "start", P::kName, "event"))
      return e;
    if (CMTR_Error* e = check_handle(args->stop, P::kEventMagic, "event_elapsed", "stop", P::kName, "event"))
      return e;
    if (detail::device_of(args->start) != detail::device_of(args->stop))
      return invalid("event_elapsed: the two events belong to different devices");
    return guarded([&] { return P::elapsed(args->start, args->stop, &args->elapsed_s); });
  }
  static CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
    if (CMTR_Error* e =
            check_handle(args->event, P::kEventMagic, "event_destroy", "event", P::kName, "event"))
      return e;
    detail::magic(args->event) = 0;
    return guarded([&] { return P::free_event(args->event); });
  }

  // ---- Ops: op_query and op_create both answer from P::plan, so they agree ----
  static CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
    if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
    return guarded([&]() -> CMTR_Error* {
      auto plan = P::plan(args->device, view(args->name), args->params, args->num_params, false);
      return answer_query(args, plan.status, plan.reason, plan.error);
    });
  }
  static CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
    if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
    return guarded([&]() -> CMTR_Error* {
      auto plan = P::plan(args->device, view(args->name), args->params, args->num_params, true);
      if (plan.status != OpStatus::kSupported) return create_error(plan.status, plan.reason, plan.error);
      return P::make_op(args->device, plan, &args->op);
    });
  }
  static CMTR_Error* check_op(const CMTR_Op* op, const char* call) {
    return check_handle(op, P::kOpMagic, call, "op", P::kName, "op");
  }
  static CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
    if (CMTR_Error* e = check_op(args->op, "op_attributes")) return e;
    const KeyValueList& kv = P::op_attributes_of(args->op);
    args->attributes = kv.data();
    args->num_attributes = kv.size();
    return nullptr;
  }
  static CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
    if (CMTR_Error* e = check_op(args->op, "op_enqueue")) return e;
    if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
    if (args->num_buffers > 0 && args->buffers == nullptr)
      return invalid("op_enqueue: buffers is NULL but num_buffers is " + std::to_string(args->num_buffers));
    if (detail::device_of(args->op) != detail::device_of(args->stream))
      return invalid("op_enqueue: the op and the stream belong to different devices");
    return guarded([&] { return P::launch(args->op, args->stream, args->buffers, args->num_buffers); });
  }
  static CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
    CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
    if (CMTR_Error* e = check_op(args->op, "op_destroy")) return e;
    detail::magic(args->op) = 0;
    return guarded([&] { return P::free_op(args->op); });
  }
};

}  // namespace cmeter::sdk

#endif  // CMETER_PLUGIN_ADAPTER_HPP_
