// cmeter/plugin_client.hpp - the one C++ ABI client of plugin tests and benchmarks.
//
// Why this file exists: a plugin's unit tests, its benchmark and the cross-plugin bad-call test
// (tests/plugin_bad_calls) drive a plugin library exactly as cmeter does, through dlopen and the C ABI
// only (no plugin internals), so what they check is what the host sees. This header wraps the calls
// they need: every call returns its error as an Outcome (code and message; the error object is freed),
// a NULL slot answers UNIMPLEMENTED instead of crashing, parameter lists are built with a small owning
// builder, and Owned<> destroys a buffer, stream, event or op when it goes out of scope. Header-only
// C++17 (installed with the SDK, so vendors can test their plugins the same way); not for the cmeter
// host itself, which has its own checked loader (core/plugin).
#ifndef CMETER_PLUGIN_CLIENT_HPP_
#define CMETER_PLUGIN_CLIENT_HPP_

#include <cmeter/plugin_abi.h>
#include <dlfcn.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace cmeter::client {

// The name of an error code ("INVALID_ARGUMENT"), "OK" for 0.
inline const char* code_name(int code) {
  switch (code) {
    case 0:
      return "OK";
    case CMTR_ERROR_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case CMTR_ERROR_NOT_FOUND:
      return "NOT_FOUND";
    case CMTR_ERROR_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case CMTR_ERROR_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case CMTR_ERROR_UNAVAILABLE:
      return "UNAVAILABLE";
    case CMTR_ERROR_DEVICE_LOST:
      return "DEVICE_LOST";
    case CMTR_ERROR_INTERNAL:
      return "INTERNAL";
    default:
      return "UNKNOWN_CODE";
  }
}

struct Outcome {
  int code = 0;  // 0 = success, else CMTR_ErrorCode
  std::string message;
  bool ok() const { return code == 0; }
  // "OK" or "INVALID_ARGUMENT: buffer_write: size_bytes is 0".
  std::string describe() const { return ok() ? "OK" : std::string(code_name(code)) + ": " + message; }
};

// An op's parameter list that owns its strings. Movable, not copyable (kv points into `strings`).
struct Params {
  std::deque<std::string> strings;
  std::vector<CMTR_KeyValue> kv;
  Params() = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
  Params(Params&&) = default;
  Params& operator=(Params&&) = default;
  CMTR_KeyValue& add(const std::string& key, int32_t type) {
    strings.push_back(key);
    CMTR_KeyValue e{};
    e.key = {strings.back().data(), strings.back().size()};
    e.type = type;
    kv.push_back(e);
    return kv.back();
  }
  Params& s(const std::string& key, const std::string& v) {
    auto& e = add(key, CMTR_VALUE_STRING);
    strings.push_back(v);
    e.string_value = {strings.back().data(), strings.back().size()};
    return *this;
  }
  Params& i(const std::string& key, int64_t v) {
    add(key, CMTR_VALUE_INT64).int_value = v;
    return *this;
  }
  Params& d(const std::string& key, double v) {
    add(key, CMTR_VALUE_DOUBLE).double_value = v;
    return *this;
  }
  Params& b(const std::string& key, bool v) {
    add(key, CMTR_VALUE_BOOL).int_value = v ? 1 : 0;
    return *this;
  }
};

class Plugin;

// A handle destroyed through its plugin when the owner goes out of scope (buffers, streams, events, ops).
template <class Handle>
class Owned {
 public:
  Owned() = default;
  Owned(const Plugin* plugin, Handle* handle) : plugin_(plugin), handle_(handle) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& o) noexcept : plugin_(o.plugin_), handle_(o.release()) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      plugin_ = o.plugin_;
      handle_ = o.release();
    }
    return *this;
  }
  ~Owned() { reset(); }
  Handle* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }
  Handle* release() {
    Handle* h = handle_;
    handle_ = nullptr;
    return h;
  }
  inline void reset();

 private:
  const Plugin* plugin_ = nullptr;
  Handle* handle_ = nullptr;
};

class Plugin {
 public:
  // Loads the plugin at `path` and, unless `initialize` is false, initialises it and lists its
  // devices. ready(): loaded and initialised; otherwise `error` says why (api() is null when the
  // library did not load).
  explicit Plugin(const char* path, bool initialize = true) {
    handle_ = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = dlerror();
      error = why != nullptr ? why : "dlopen failed";
      return;
    }
    auto get = reinterpret_cast<CMTR_GetApiFn*>(dlsym(handle_, CMTR_GET_API_SYMBOL));
    if (get == nullptr) {
      error = "no cmeter_plugin_get_api";
      return;
    }
    api_ = get();
    if (api_ == nullptr) {
      error = "cmeter_plugin_get_api returned NULL";
      return;
    }
    if (initialize) init();
  }

  // plugin_initialize + plugin_devices; on failure `error` says why (and ready() is false).
  Outcome init() {
    CMTR_Plugin_Initialize_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
    a.host_abi_major = CMTR_ABI_MAJOR;
    a.host_abi_minor = CMTR_ABI_MINOR;
    Outcome o = call(api_->plugin_initialize, &a);
    if (!o.ok()) {
      error = o.message;
      return o;
    }
    plugin_attributes.assign(a.attributes, a.attributes + a.num_attributes);
    CMTR_Plugin_Devices_Args d{};
    d.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Devices_Args, num_devices);
    o = call(api_->plugin_devices, &d);
    if (!o.ok()) {
      error = o.message;
      return o;
    }
    devices.assign(d.devices, d.devices + d.num_devices);
    initialised_ = true;
    return o;
  }
  Outcome shutdown() const {
    CMTR_Plugin_Shutdown_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Shutdown_Args, extension);
    return call(api_->plugin_shutdown, &a);
  }

  const CMTR_Api* api() const { return api_; }
  bool ready() const { return api_ != nullptr && initialised_; }
  void* library() const { return handle_; }  // the dlopen handle (for dlsym), null if not loaded
  // Calls a slot with its args, turning the error into an Outcome; a NULL slot is UNIMPLEMENTED.
  template <class Fn, class Args>
  Outcome call(Fn* fn, Args* args) const {
    if (fn == nullptr) return Outcome{CMTR_ERROR_UNIMPLEMENTED, "the plugin leaves this slot NULL"};
    return take(fn(args));
  }
  std::string error;
  std::vector<CMTR_KeyValue> plugin_attributes;
  std::vector<CMTR_Device*> devices;

  Outcome take(CMTR_Error* e) const {
    Outcome o;
    if (e == nullptr) return o;
    CMTR_Error_Info_Args info{};
    info.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message);
    info.error = e;
    api_->error_info(&info);
    o.code = info.code;
    o.message.assign(info.message.data, info.message.size);
    CMTR_Error_Destroy_Args d{};
    d.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error);
    d.error = e;
    api_->error_destroy(&d);
    return o;
  }

  std::vector<CMTR_KeyValue> attributes(CMTR_Device* dev, Outcome* out = nullptr) const {
    CMTR_Device_Attributes_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes);
    a.device = dev;
    Outcome o = call(api_->device_attributes, &a);
    if (out != nullptr) *out = o;
    if (!o.ok()) return {};
    return std::vector<CMTR_KeyValue>(a.attributes, a.attributes + a.num_attributes);
  }

  Outcome buffer(CMTR_Device* dev, uint64_t size_bytes, CMTR_Buffer** out,
                 int32_t kind = CMTR_MEMORY_DEVICE) const {
    CMTR_Buffer_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
    a.device = dev;
    a.size_bytes = size_bytes;
    a.memory_kind = kind;
    Outcome o = call(api_->buffer_create, &a);
    *out = a.buffer;
    return o;
  }
  Outcome destroy(CMTR_Buffer* b) const {
    CMTR_Buffer_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
    a.buffer = b;
    return call(api_->buffer_destroy, &a);
  }
  Outcome host_pointer(CMTR_Buffer* b, void** out) const {
    CMTR_Buffer_Host_Pointer_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    a.buffer = b;
    Outcome o = call(api_->buffer_host_pointer, &a);
    *out = a.host_pointer;
    return o;
  }
  Outcome write(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) const {
    CMTR_Buffer_Write_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Write_Args, size_bytes);
    a.stream = s;
    a.buffer = b;
    a.offset_bytes = offset;
    a.host_pointer = host;
    a.size_bytes = size;
    return call(api_->buffer_write, &a);
  }
  Outcome read(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) const {
    CMTR_Buffer_Read_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Read_Args, size_bytes);
    a.stream = s;
    a.buffer = b;
    a.offset_bytes = offset;
    a.host_pointer = host;
    a.size_bytes = size;
    return call(api_->buffer_read, &a);
  }
  Outcome stream(CMTR_Device* dev, CMTR_Stream** out) const {
    CMTR_Stream_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream);
    a.device = dev;
    Outcome o = call(api_->stream_create, &a);
    *out = a.stream;
    return o;
  }
  Outcome destroy(CMTR_Stream* s) const {
    CMTR_Stream_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Destroy_Args, stream);
    a.stream = s;
    return call(api_->stream_destroy, &a);
  }
  Outcome sync(CMTR_Stream* s) const {
    CMTR_Stream_Synchronize_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
    a.stream = s;
    return call(api_->stream_synchronize, &a);
  }
  Outcome record(CMTR_Stream* s, CMTR_Event** out) const {
    CMTR_Event_Record_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Record_Args, event);
    a.stream = s;
    Outcome o = call(api_->event_record, &a);
    *out = a.event;
    return o;
  }
  Outcome elapsed(CMTR_Event* start, CMTR_Event* stop, double* out) const {
    CMTR_Event_Elapsed_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
    a.start = start;
    a.stop = stop;
    Outcome o = call(api_->event_elapsed, &a);
    *out = a.elapsed_s;
    return o;
  }
  Outcome destroy(CMTR_Event* e) const {
    CMTR_Event_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Destroy_Args, event);
    a.event = e;
    return call(api_->event_destroy, &a);
  }
  // op_query: `supported` and `reason` out.
  Outcome query(CMTR_Device* dev, const std::string& name, const Params& p, bool* supported,
                std::string* reason) const {
    char buf[512];
    CMTR_Op_Query_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_size);
    a.device = dev;
    a.name = {name.data(), name.size()};
    a.params = p.kv.data();
    a.num_params = p.kv.size();
    a.reason_buffer = buf;
    a.reason_buffer_size = sizeof buf;
    Outcome o = call(api_->op_query, &a);
    *supported = a.supported != 0;
    reason->assign(buf, a.reason_size);
    return o;
  }
  Outcome create(CMTR_Device* dev, const std::string& name, const Params& p, CMTR_Op** out) const {
    CMTR_Op_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Create_Args, op);
    a.device = dev;
    a.name = {name.data(), name.size()};
    a.params = p.kv.data();
    a.num_params = p.kv.size();
    Outcome o = call(api_->op_create, &a);
    *out = a.op;
    return o;
  }
  std::string op_attribute(CMTR_Op* op, const std::string& key) const {
    CMTR_Op_Attributes_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Attributes_Args, num_attributes);
    a.op = op;
    if (!call(api_->op_attributes, &a).ok()) return {};
    for (size_t i = 0; i < a.num_attributes; ++i)
      if (std::string(a.attributes[i].key.data, a.attributes[i].key.size) == key &&
          a.attributes[i].type == CMTR_VALUE_STRING)
        return std::string(a.attributes[i].string_value.data, a.attributes[i].string_value.size);
    return {};
  }
  Outcome enqueue(CMTR_Op* op, CMTR_Stream* s, std::vector<CMTR_Buffer*> buffers) const {
    CMTR_Op_Enqueue_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
    a.op = op;
    a.stream = s;
    a.buffers = buffers.data();
    a.num_buffers = buffers.size();
    return call(api_->op_enqueue, &a);
  }
  Outcome destroy(CMTR_Op* op) const {
    CMTR_Op_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Destroy_Args, op);
    a.op = op;
    return call(api_->op_destroy, &a);
  }

  // The same creations, owned (destroyed at scope exit); `out` gets the outcome when given.
  Owned<CMTR_Buffer> make_buffer(CMTR_Device* dev, uint64_t size_bytes, int32_t kind = CMTR_MEMORY_DEVICE,
                                 Outcome* out = nullptr) const {
    CMTR_Buffer* b = nullptr;
    Outcome o = buffer(dev, size_bytes, &b, kind);
    if (out != nullptr) *out = o;
    return Owned<CMTR_Buffer>(this, o.ok() ? b : nullptr);
  }
  Owned<CMTR_Stream> make_stream(CMTR_Device* dev, Outcome* out = nullptr) const {
    CMTR_Stream* s = nullptr;
    Outcome o = stream(dev, &s);
    if (out != nullptr) *out = o;
    return Owned<CMTR_Stream>(this, o.ok() ? s : nullptr);
  }
  Owned<CMTR_Event> make_event(CMTR_Stream* s, Outcome* out = nullptr) const {
    CMTR_Event* e = nullptr;
    Outcome o = record(s, &e);
    if (out != nullptr) *out = o;
    return Owned<CMTR_Event>(this, o.ok() ? e : nullptr);
  }
  Owned<CMTR_Op> make_op(CMTR_Device* dev, const std::string& name, const Params& p,
                         Outcome* out = nullptr) const {
    CMTR_Op* op = nullptr;
    Outcome o = create(dev, name, p, &op);
    if (out != nullptr) *out = o;
    return Owned<CMTR_Op>(this, o.ok() ? op : nullptr);
  }

 private:
  void* handle_ = nullptr;  // never dlclosed (the plugin is -z nodelete anyway)
  const CMTR_Api* api_ = nullptr;
  bool initialised_ = false;
};

template <class Handle>
void Owned<Handle>::reset() {
  if (handle_ != nullptr && plugin_ != nullptr && plugin_->api() != nullptr) (void)plugin_->destroy(handle_);
  handle_ = nullptr;
}

// The attribute `key` of a list, or null.
inline const CMTR_KeyValue* find(const std::vector<CMTR_KeyValue>& kv, const std::string& key) {
  for (const auto& e : kv)
    if (std::string(e.key.data, e.key.size) == key) return &e;
  return nullptr;
}

}  // namespace cmeter::client

#endif  // CMETER_PLUGIN_CLIENT_HPP_
