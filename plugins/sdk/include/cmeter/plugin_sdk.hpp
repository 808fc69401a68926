// cmeter/plugin_sdk.hpp - the plugin adapter: optional C++17 helpers for plugin authors.
//
// Why this file exists: every plugin needs the same chores around the C ABI (error objects, owned
// key/value lists, typed parameter parsing with unknown-key rejection, struct_size checks, handle
// and range validation, the function table, the op_query/op_create answers). Doing them once here
// keeps plugins short and keeps their behaviour on bad input identical (tests/plugin_bad_calls runs
// the same bad calls on every plugin). Header-only; nothing here crosses the ABI except through the
// C types of plugin_abi.h. The op parameter contracts (gemm.v1, ...) are in cmeter/plugin_ops.hpp.
#ifndef CMETER_PLUGIN_SDK_HPP_
#define CMETER_PLUGIN_SDK_HPP_

#include <cmeter/plugin_abi.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <initializer_list>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The plugin's private error type; the ABI only sees an opaque pointer.
struct CMTR_Error {
  int32_t code;
  std::string message;
};

namespace cmeter::sdk {

inline CMTR_Error* make_error(CMTR_ErrorCode code, std::string message) noexcept {
  try {
    return new CMTR_Error{code, std::move(message)};
  } catch (...) {
    static CMTR_Error oom{CMTR_ERROR_RESOURCE_EXHAUSTED, "out of memory creating an error"};
    return &oom;  // never freed: error_destroy recognises it
  }
}

inline void error_info(CMTR_Error_Info_Args* args) {
  if (args == nullptr || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message) ||
      args->error == nullptr)
    return;
  args->code = args->error->code;
  args->message = CMTR_String{args->error->message.data(), args->error->message.size()};
}

inline void error_destroy(CMTR_Error_Destroy_Args* args) {
  if (args == nullptr || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error)) return;
  if (args->error != nullptr && args->error->code == CMTR_ERROR_RESOURCE_EXHAUSTED &&
      args->error->message == "out of memory creating an error")
    return;
  delete args->error;
}

inline CMTR_Error* invalid(std::string message) noexcept {
  return make_error(CMTR_ERROR_INVALID_ARGUMENT, std::move(message));
}

// `call: plugin is not initialised` (UNAVAILABLE): device-level calls between shutdown and initialize.
inline CMTR_Error* not_initialised(const char* call) noexcept {
  return make_error(CMTR_ERROR_UNAVAILABLE, std::string(call) + ": plugin is not initialised");
}

// Checks an opaque handle: NULL, foreign (another plugin's, or garbage) and destroyed handles are one
// INVALID_ARGUMENT "<call>: <role> is NULL or not a live <plugin> <kind>". Every handle type of a
// plugin starts with `uint32_t magic`, set at creation and cleared on destroy.
template <class Handle>
CMTR_Error* check_handle(const Handle* handle, uint32_t magic, const char* call, const char* role,
                         const char* plugin, const char* kind) noexcept {
  if (handle != nullptr && handle->magic == magic) return nullptr;
  return invalid(std::string(call) + ": " + role + " is NULL or not a live " + plugin + " " + kind);
}

// Checks a device handle, in the order every plugin answers: NULL is INVALID_ARGUMENT; any device
// call while the plugin is not initialised is UNAVAILABLE; a handle that is not one of this
// plugin's live devices (`is_ours` false) is INVALID_ARGUMENT.
inline CMTR_Error* check_device(const void* device, const char* call, const char* plugin, bool initialised,
                                bool is_ours) noexcept {
  if (device == nullptr) return invalid(std::string(call) + ": device is NULL");
  if (!initialised) return not_initialised(call);
  if (!is_ours) return invalid(std::string(call) + ": not a device of the " + plugin + " plugin");
  return nullptr;
}

// Checks a host<->buffer copy of `size_bytes` at `offset_bytes` of a buffer of `buffer_bytes`:
// host_pointer must not be NULL, the size must not be 0 (a zero-byte copy is INVALID_ARGUMENT in
// every plugin: docs/abi-keys.md, "Contract rules"), and the range must lie inside the buffer,
// without overflow (offset + size may wrap around 2^64).
inline CMTR_Error* check_range(uint64_t buffer_bytes, uint64_t offset_bytes, uint64_t size_bytes,
                               const void* host, const char* call) noexcept {
  if (host == nullptr) return invalid(std::string(call) + ": host_pointer is NULL");
  if (size_bytes == 0) return invalid(std::string(call) + ": size_bytes is 0");
  if (offset_bytes > buffer_bytes || size_bytes > buffer_bytes - offset_bytes)
    return invalid(std::string(call) + ": offset " + std::to_string(offset_bytes) + " + size " +
                   std::to_string(size_bytes) + " is outside the buffer's " + std::to_string(buffer_bytes) +
                   " bytes");
  return nullptr;
}

// The checks every plugin_initialize starts with: the host's ABI major, and the options list.
inline CMTR_Error* check_initialize(const CMTR_Plugin_Initialize_Args* args, const char* plugin) noexcept {
  if (args->host_abi_major != CMTR_ABI_MAJOR)
    return make_error(CMTR_ERROR_UNIMPLEMENTED, std::string("the ") + plugin + " plugin implements ABI " +
                                                    std::to_string(CMTR_ABI_MAJOR) + ".x; the host speaks " +
                                                    std::to_string(args->host_abi_major));
  if (args->num_options > 0 && args->options == nullptr)
    return invalid("plugin_initialize: options is NULL but num_options is " +
                   std::to_string(args->num_options));
  return nullptr;
}

// Returns an INVALID_ARGUMENT error when `args` is null or smaller than the fields this call needs.
#define CMTR_SDK_CHECK_ARGS(args, type, last_field)                                                    \
  do {                                                                                                 \
    if ((args) == nullptr)                                                                             \
      return ::cmeter::sdk::make_error(CMTR_ERROR_INVALID_ARGUMENT, #type ": args is NULL");           \
    if ((args)->struct_size < CMTR_STRUCT_SIZE(type, last_field))                                      \
      return ::cmeter::sdk::make_error(CMTR_ERROR_INVALID_ARGUMENT,                                    \
                                       std::string(#type ": struct_size ") +                           \
                                           std::to_string((args)->struct_size) + " is smaller than " + \
                                           std::to_string(CMTR_STRUCT_SIZE(type, last_field)));        \
  } while (0)

// Runs `body`, turning any C++ exception into an error object (no exception crosses the ABI).
template <class F>
CMTR_Error* guarded(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "out of host memory");
  } catch (const std::exception& e) {
    return make_error(CMTR_ERROR_INTERNAL, e.what());
  } catch (...) {
    return make_error(CMTR_ERROR_INTERNAL, "unknown C++ exception");
  }
}

inline std::string_view view(CMTR_String s) {
  return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}

// The parameter `key` of an op's list, or NULL. Hints (`hint.*`) are read this way: sdk::Params
// skips them, and a hint of the wrong type is ignored by the typed readers below.
inline const CMTR_KeyValue* find_param(const CMTR_KeyValue* params, size_t num_params, std::string_view key) {
  for (size_t i = 0; i < num_params && params != nullptr; ++i)
    if (view(params[i].key) == key) return &params[i];
  return nullptr;
}
inline std::optional<std::string> string_hint(const CMTR_KeyValue* params, size_t num_params,
                                              std::string_view key) {
  const CMTR_KeyValue* kv = find_param(params, num_params, key);
  if (kv == nullptr || kv->type != CMTR_VALUE_STRING) return std::nullopt;
  return std::string(view(kv->string_value));
}
inline std::optional<int64_t> int_hint(const CMTR_KeyValue* params, size_t num_params, std::string_view key) {
  const CMTR_KeyValue* kv = find_param(params, num_params, key);
  if (kv == nullptr || (kv->type != CMTR_VALUE_INT64 && kv->type != CMTR_VALUE_BOOL)) return std::nullopt;
  return kv->int_value;
}
inline std::optional<bool> bool_hint(const CMTR_KeyValue* params, size_t num_params, std::string_view key) {
  auto v = int_hint(params, num_params, key);
  if (!v) return std::nullopt;
  return *v != 0;
}

// A key/value list that owns its strings; `data()` stays valid while the list lives and is not
// modified (strings live in a deque, so growing the list never moves them).
class KeyValueList {
 public:
  KeyValueList& set(std::string key, std::string value) {
    auto& k = store(std::move(key));
    auto& v = store(std::move(value));
    items_.push_back(entry(k, CMTR_VALUE_STRING));
    items_.back().string_value = CMTR_String{v.data(), v.size()};
    return *this;
  }
  KeyValueList& set(std::string key, const char* value) { return set(std::move(key), std::string(value)); }
  KeyValueList& set(std::string key, int64_t value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_INT64));
    items_.back().int_value = value;
    return *this;
  }
  KeyValueList& set(std::string key, int value) { return set(std::move(key), static_cast<int64_t>(value)); }
  KeyValueList& set(std::string key, double value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_DOUBLE));
    items_.back().double_value = value;
    return *this;
  }
  KeyValueList& set_bool(std::string key, bool value) {
    items_.push_back(entry(store(std::move(key)), CMTR_VALUE_BOOL));
    items_.back().int_value = value ? 1 : 0;
    return *this;
  }
  void clear() {
    items_.clear();
    strings_.clear();
  }
  const CMTR_KeyValue* data() const { return items_.data(); }
  size_t size() const { return items_.size(); }

 private:
  const std::string& store(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back();
  }
  static CMTR_KeyValue entry(const std::string& key, CMTR_ValueType type) {
    CMTR_KeyValue kv{};
    kv.key = CMTR_String{key.data(), key.size()};
    kv.type = type;
    return kv;
  }
  std::deque<std::string> strings_;
  std::vector<CMTR_KeyValue> items_;
};

// Typed reading of op parameters. Construct with the allowed keys; `error()` is set on the first
// unknown key (other than `hint.*`), duplicate, wrong type or missing required key.
class Params {
 public:
  Params(const CMTR_KeyValue* kv, size_t count, std::initializer_list<const char*> allowed) {
    if (count > 0 && kv == nullptr) {
      error_ = "params is NULL but num_params is " + std::to_string(count);
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      std::string key(view(kv[i].key));
      if (key.rfind("hint.", 0) == 0) continue;
      bool ok = false;
      for (const char* a : allowed) ok = ok || key == a;
      if (!ok) {
        fail("unknown parameter '" + key + "'");
        continue;
      }
      if (!values_.emplace(key, kv[i]).second) fail("parameter '" + key + "' given twice");
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::optional<int64_t> get_int(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_INT64) return it->second.int_value;
    if (it->second.type == CMTR_VALUE_DOUBLE &&
        it->second.double_value == static_cast<double>(static_cast<int64_t>(it->second.double_value)))
      return static_cast<int64_t>(it->second.double_value);
    fail(std::string("parameter '") + key + "' must be an integer");
    return std::nullopt;
  }
  int64_t int_or(const char* key, int64_t fallback) { return get_int(key).value_or(fallback); }
  int64_t require_int(const char* key) {
    auto v = get_int(key);
    if (!v && !values_.count(key)) fail(std::string("missing required parameter '") + key + "'");
    return v.value_or(0);
  }
  std::optional<double> get_double(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_DOUBLE) return it->second.double_value;
    if (it->second.type == CMTR_VALUE_INT64) return static_cast<double>(it->second.int_value);
    fail(std::string("parameter '") + key + "' must be a number");
    return std::nullopt;
  }
  double double_or(const char* key, double fallback) { return get_double(key).value_or(fallback); }
  std::optional<std::string> get_string(const char* key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    if (it->second.type == CMTR_VALUE_STRING) return std::string(view(it->second.string_value));
    fail(std::string("parameter '") + key + "' must be a string");
    return std::nullopt;
  }
  std::string string_or(const char* key, std::string fallback) {
    return get_string(key).value_or(std::move(fallback));
  }
  std::string require_string(const char* key) {
    auto v = get_string(key);
    if (!v && !values_.count(key)) fail(std::string("missing required parameter '") + key + "'");
    return v.value_or("");
  }
  bool bool_or(const char* key, bool fallback) {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (it->second.type == CMTR_VALUE_BOOL || it->second.type == CMTR_VALUE_INT64)
      return it->second.int_value != 0;
    fail(std::string("parameter '") + key + "' must be a bool");
    return fallback;
  }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

 private:
  std::map<std::string, CMTR_KeyValue> values_;
  std::string error_;
};

// Writes `reason` into an op_query reason buffer (truncating), setting reason_size.
inline void write_reason(CMTR_Op_Query_Args* args, std::string_view reason) {
  size_t n = 0;
  if (args->reason_buffer != nullptr && args->reason_buffer_size > 0) {
    n = reason.size() < args->reason_buffer_size ? reason.size() : args->reason_buffer_size;
    std::memcpy(args->reason_buffer, reason.data(), n);
  }
  args->reason_size = n;
}

// ---- op_query / op_create answers ----

// What planning an op gave. op_query and op_create of every plugin go through one planning function,
// so they agree; these two functions turn its answer into the ABI's, the same way in every plugin:
//   kSupported   -> op_query supported=1;         op_create succeeds
//   kUnsupported -> op_query supported=0 + reason; op_create UNIMPLEMENTED (a well-formed request
//                   this device cannot run)
//   kUnknownOp   -> op_query supported=0 + reason; op_create NOT_FOUND
//   kInvalid     -> INVALID_ARGUMENT from both (a malformed request: docs/abi-keys.md)
//   kFailed      -> `error` from both (the driver failed while planning or building)
enum class OpStatus { kSupported, kUnsupported, kInvalid, kUnknownOp, kFailed };

// Answers op_query from a plan; takes ownership of `error` (kFailed).
inline CMTR_Error* answer_query(CMTR_Op_Query_Args* args, OpStatus status, std::string_view reason,
                                CMTR_Error* error = nullptr) {
  if (status == OpStatus::kFailed) return error;
  if (status == OpStatus::kInvalid) return invalid(std::string(reason));
  args->supported = status == OpStatus::kSupported ? 1 : 0;
  write_reason(args, reason);
  return nullptr;
}

// The error op_create returns for a plan that is not kSupported (NULL for kSupported).
inline CMTR_Error* create_error(OpStatus status, std::string reason, CMTR_Error* error = nullptr) {
  switch (status) {
    case OpStatus::kSupported:
      return nullptr;
    case OpStatus::kFailed:
      return error;
    case OpStatus::kInvalid:
      return invalid(std::move(reason));
    case OpStatus::kUnknownOp:
      return make_error(CMTR_ERROR_NOT_FOUND, std::move(reason));
    case OpStatus::kUnsupported:
      break;
  }
  return make_error(CMTR_ERROR_UNIMPLEMENTED, std::move(reason));
}

// ---- The function table ----

// Builds a plugin's CMTR_Api (ABI 1.0 layout) by group, so a slot cannot be forgotten silently:
//   const CMTR_Api kApi = sdk::ApiBuilder()
//       .plugin(plugin_initialize, plugin_shutdown, plugin_devices)
//       .device(device_attributes, nullptr)            // no telemetry
//       .buffers(buffer_create, buffer_destroy, buffer_host_pointer, buffer_write, buffer_read)
//       .streams(stream_create, stream_destroy, stream_synchronize)
//       .events(event_record, event_elapsed, event_destroy)  // or NULLs: the host times with its clock
//       .ops(op_query, op_create, op_attributes, op_enqueue, op_destroy)
//       .build();
// error_info and error_destroy are the SDK's (they match make_error).
class ApiBuilder {
 public:
  constexpr ApiBuilder() : api_{} {
    api_.struct_size = CMTR_API_STRUCT_SIZE_1_0;
    api_.extension = nullptr;
    api_.abi_major = CMTR_ABI_MAJOR;
    // The 1.0 table (1.1 added ops, no slots), this header's minor: it says which op catalogue the
    // plugin was built against (a plugin of this SDK answers every 1.1 op, if only `unsupported`).
    api_.abi_minor = CMTR_ABI_MINOR;
    api_.error_info = &error_info;
    api_.error_destroy = &error_destroy;
  }
  constexpr ApiBuilder& plugin(CMTR_Plugin_Initialize* initialize, CMTR_Plugin_Shutdown* shutdown,
                               CMTR_Plugin_Devices* devices) {
    api_.plugin_initialize = initialize;
    api_.plugin_shutdown = shutdown;
    api_.plugin_devices = devices;
    return *this;
  }
  constexpr ApiBuilder& device(CMTR_Device_Attributes* attributes, CMTR_Device_Telemetry* telemetry) {
    api_.device_attributes = attributes;
    api_.device_telemetry = telemetry;
    return *this;
  }
  constexpr ApiBuilder& buffers(CMTR_Buffer_Create* create, CMTR_Buffer_Destroy* destroy,
                                CMTR_Buffer_Host_Pointer* host_pointer, CMTR_Buffer_Write* write,
                                CMTR_Buffer_Read* read) {
    api_.buffer_create = create;
    api_.buffer_destroy = destroy;
    api_.buffer_host_pointer = host_pointer;
    api_.buffer_write = write;
    api_.buffer_read = read;
    return *this;
  }
  constexpr ApiBuilder& streams(CMTR_Stream_Create* create, CMTR_Stream_Destroy* destroy,
                                CMTR_Stream_Synchronize* synchronize) {
    api_.stream_create = create;
    api_.stream_destroy = destroy;
    api_.stream_synchronize = synchronize;
    return *this;
  }
  constexpr ApiBuilder& events(CMTR_Event_Record* record, CMTR_Event_Elapsed* elapsed,
                               CMTR_Event_Destroy* destroy) {
    api_.event_record = record;
    api_.event_elapsed = elapsed;
    api_.event_destroy = destroy;
    return *this;
  }
  constexpr ApiBuilder& ops(CMTR_Op_Query* query, CMTR_Op_Create* create, CMTR_Op_Attributes* attributes,
                            CMTR_Op_Enqueue* enqueue, CMTR_Op_Destroy* destroy) {
    api_.op_query = query;
    api_.op_create = create;
    api_.op_attributes = attributes;
    api_.op_enqueue = enqueue;
    api_.op_destroy = destroy;
    return *this;
  }
  constexpr CMTR_Api build() const { return api_; }

 private:
  CMTR_Api api_;
};

}  // namespace cmeter::sdk

#endif  // CMETER_PLUGIN_SDK_HPP_
