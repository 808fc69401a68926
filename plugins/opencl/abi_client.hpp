// plugins/opencl/abi_client.hpp - a minimal host for the OpenCL plugin's tests and benchmark.
//
// Why this file exists: the unit tests and the benchmark drive libcmeter-opencl.so exactly as cmeter
// does, through dlopen and the C ABI only (no plugin internals), so what they check is what the host
// sees. This header wraps the calls they need: every call returns its error as a (code, message)
// pair, and parameter lists are built with a small owning builder. Test/bench code only.
#ifndef CMETER_PLUGINS_OPENCL_ABI_CLIENT_HPP_
#define CMETER_PLUGINS_OPENCL_ABI_CLIENT_HPP_

#include <cmeter/plugin_abi.h>
#include <dlfcn.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace cmeter::opencl::client {

struct Outcome {
  int code = 0;  // 0 = success, else CMTR_ErrorCode
  std::string message;
  bool ok() const { return code == 0; }
};

struct Params {
  std::deque<std::string> strings;
  std::vector<CMTR_KeyValue> kv;
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

class Plugin {
 public:
  // Loads and initialises the plugin at `path`; `error` says why not when api() is null.
  explicit Plugin(const char* path) {
    handle_ = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      error = dlerror();
      return;
    }
    auto get = reinterpret_cast<CMTR_GetApiFn*>(dlsym(handle_, CMTR_GET_API_SYMBOL));
    if (get == nullptr) {
      error = "no cmeter_plugin_get_api";
      return;
    }
    api_ = get();
    CMTR_Plugin_Initialize_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
    a.host_abi_major = CMTR_ABI_MAJOR;
    a.host_abi_minor = CMTR_ABI_MINOR;
    Outcome o = take(api_->plugin_initialize(&a));
    if (!o.ok()) {
      error = o.message;
      api_ = nullptr;
      return;
    }
    for (size_t i = 0; i < a.num_attributes; ++i) plugin_attributes.push_back(a.attributes[i]);
    CMTR_Plugin_Devices_Args d{};
    d.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Devices_Args, num_devices);
    o = take(api_->plugin_devices(&d));
    if (!o.ok()) {
      error = o.message;
      api_ = nullptr;
      return;
    }
    devices.assign(d.devices, d.devices + d.num_devices);
  }

  const CMTR_Api* api() const { return api_; }
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
    Outcome o = take(api_->device_attributes(&a));
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
    Outcome o = take(api_->buffer_create(&a));
    *out = a.buffer;
    return o;
  }
  Outcome destroy(CMTR_Buffer* b) const {
    CMTR_Buffer_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
    a.buffer = b;
    return take(api_->buffer_destroy(&a));
  }
  Outcome host_pointer(CMTR_Buffer* b, void** out) const {
    CMTR_Buffer_Host_Pointer_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    a.buffer = b;
    Outcome o = take(api_->buffer_host_pointer(&a));
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
    return take(api_->buffer_write(&a));
  }
  Outcome read(CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, void* host, uint64_t size) const {
    CMTR_Buffer_Read_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Read_Args, size_bytes);
    a.stream = s;
    a.buffer = b;
    a.offset_bytes = offset;
    a.host_pointer = host;
    a.size_bytes = size;
    return take(api_->buffer_read(&a));
  }
  Outcome stream(CMTR_Device* dev, CMTR_Stream** out) const {
    CMTR_Stream_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream);
    a.device = dev;
    Outcome o = take(api_->stream_create(&a));
    *out = a.stream;
    return o;
  }
  Outcome destroy(CMTR_Stream* s) const {
    CMTR_Stream_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Destroy_Args, stream);
    a.stream = s;
    return take(api_->stream_destroy(&a));
  }
  Outcome sync(CMTR_Stream* s) const {
    CMTR_Stream_Synchronize_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
    a.stream = s;
    return take(api_->stream_synchronize(&a));
  }
  Outcome record(CMTR_Stream* s, CMTR_Event** out) const {
    CMTR_Event_Record_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Record_Args, event);
    a.stream = s;
    Outcome o = take(api_->event_record(&a));
    *out = a.event;
    return o;
  }
  Outcome elapsed(CMTR_Event* start, CMTR_Event* stop, double* out) const {
    CMTR_Event_Elapsed_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
    a.start = start;
    a.stop = stop;
    Outcome o = take(api_->event_elapsed(&a));
    *out = a.elapsed_s;
    return o;
  }
  Outcome destroy(CMTR_Event* e) const {
    CMTR_Event_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Destroy_Args, event);
    a.event = e;
    return take(api_->event_destroy(&a));
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
    Outcome o = take(api_->op_query(&a));
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
    Outcome o = take(api_->op_create(&a));
    *out = a.op;
    return o;
  }
  std::string op_attribute(CMTR_Op* op, const std::string& key) const {
    CMTR_Op_Attributes_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Attributes_Args, num_attributes);
    a.op = op;
    if (!take(api_->op_attributes(&a)).ok()) return {};
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
    return take(api_->op_enqueue(&a));
  }
  Outcome destroy(CMTR_Op* op) const {
    CMTR_Op_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Destroy_Args, op);
    a.op = op;
    return take(api_->op_destroy(&a));
  }

 private:
  void* handle_ = nullptr;  // never dlclosed (the plugin is -z nodelete anyway)
  const CMTR_Api* api_ = nullptr;
};

// The attribute `key` of a list, or null.
inline const CMTR_KeyValue* find(const std::vector<CMTR_KeyValue>& kv, const std::string& key) {
  for (const auto& e : kv)
    if (std::string(e.key.data, e.key.size) == key) return &e;
  return nullptr;
}

}  // namespace cmeter::opencl::client

#endif  // CMETER_PLUGINS_OPENCL_ABI_CLIENT_HPP_
