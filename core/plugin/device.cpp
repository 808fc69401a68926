// ABI calls behind Device and its handles.
#include "core/plugin/device.h"

namespace cmeter {
namespace {

template <class Args>
Args make_args(size_t size) {
  Args a{};
  a.struct_size = size;
  return a;
}

#define ARGS(type, last) make_args<type>(CMTR_STRUCT_SIZE(type, last))

Error unimplemented(const PluginLibrary& lib, const char* slot) {
  return make_error(ErrorCode::kUnimplemented, "{}: plugin does not implement {}", lib.name(), slot);
}

}  // namespace

template <>
void PluginHandle<CMTR_Buffer>::reset() {
  if (handle_ == nullptr) return;
  if (auto f = CMETER_API_SLOT(*lib_, buffer_destroy)) {
    auto a = ARGS(CMTR_Buffer_Destroy_Args, buffer);
    a.buffer = handle_;
    if (CMTR_Error* e = f(&a)) (void)lib_->take_error(e, "buffer_destroy");
  }
  handle_ = nullptr;
}
template <>
void PluginHandle<CMTR_Stream>::reset() {
  if (handle_ == nullptr) return;
  if (auto f = CMETER_API_SLOT(*lib_, stream_destroy)) {
    auto a = ARGS(CMTR_Stream_Destroy_Args, stream);
    a.stream = handle_;
    if (CMTR_Error* e = f(&a)) (void)lib_->take_error(e, "stream_destroy");
  }
  handle_ = nullptr;
}
template <>
void PluginHandle<CMTR_Event>::reset() {
  if (handle_ == nullptr) return;
  if (auto f = CMETER_API_SLOT(*lib_, event_destroy)) {
    auto a = ARGS(CMTR_Event_Destroy_Args, event);
    a.event = handle_;
    if (CMTR_Error* e = f(&a)) (void)lib_->take_error(e, "event_destroy");
  }
  handle_ = nullptr;
}
template <>
void PluginHandle<CMTR_Op>::reset() {
  if (handle_ == nullptr) return;
  if (auto f = CMETER_API_SLOT(*lib_, op_destroy)) {
    auto a = ARGS(CMTR_Op_Destroy_Args, op);
    a.op = handle_;
    if (CMTR_Error* e = f(&a)) (void)lib_->take_error(e, "op_destroy");
  }
  handle_ = nullptr;
}

Result<void*> Buffer::host_pointer() const {
  auto f = CMETER_API_SLOT(*lib_, buffer_host_pointer);
  if (!f) return unimplemented(*lib_, "buffer_host_pointer");
  auto a = ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer);
  a.buffer = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "buffer_host_pointer");
  if (a.host_pointer == nullptr)
    return make_error(ErrorCode::kInternal, "{}: buffer_host_pointer returned NULL", lib_->name());
  return a.host_pointer;
}

Status Stream::write(Buffer& buffer, uint64_t offset_bytes, const void* host, uint64_t bytes) {
  auto f = CMETER_API_SLOT(*lib_, buffer_write);
  if (!f) return unimplemented(*lib_, "buffer_write");
  auto a = ARGS(CMTR_Buffer_Write_Args, size_bytes);
  a.stream = handle_;
  a.buffer = buffer.get();
  a.offset_bytes = offset_bytes;
  a.host_pointer = host;
  a.size_bytes = bytes;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "buffer_write");
  return {};
}

Status Stream::read(const Buffer& buffer, uint64_t offset_bytes, void* host, uint64_t bytes) {
  auto f = CMETER_API_SLOT(*lib_, buffer_read);
  if (!f) return unimplemented(*lib_, "buffer_read");
  auto a = ARGS(CMTR_Buffer_Read_Args, size_bytes);
  a.stream = handle_;
  a.buffer = buffer.get();
  a.offset_bytes = offset_bytes;
  a.host_pointer = host;
  a.size_bytes = bytes;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "buffer_read");
  return {};
}

Status Stream::synchronize() {
  auto f = CMETER_API_SLOT(*lib_, stream_synchronize);
  if (!f) return unimplemented(*lib_, "stream_synchronize");
  auto a = ARGS(CMTR_Stream_Synchronize_Args, stream);
  a.stream = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "stream_synchronize");
  return {};
}

Result<Event> Stream::record_event() {
  auto f = CMETER_API_SLOT(*lib_, event_record);
  if (!f) return unimplemented(*lib_, "event_record");
  auto a = ARGS(CMTR_Event_Record_Args, event);
  a.stream = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "event_record");
  if (a.event == nullptr)
    return make_error(ErrorCode::kInternal, "{}: event_record returned NULL", lib_->name());
  return Event(lib_, a.event);
}

bool Stream::has_device_timer() const {
  return CMETER_API_SLOT(*lib_, event_record) != nullptr && CMETER_API_SLOT(*lib_, event_elapsed) != nullptr;
}

Result<double> Stream::elapsed_s(const Event& start, const Event& stop) const {
  auto f = CMETER_API_SLOT(*lib_, event_elapsed);
  if (!f) return unimplemented(*lib_, "event_elapsed");
  auto a = ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
  a.start = start.get();
  a.stop = stop.get();
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "event_elapsed");
  return a.elapsed_s;
}

Status Op::enqueue(Stream& stream, std::span<Buffer* const> buffers) {
  auto f = CMETER_API_SLOT(*lib_, op_enqueue);
  if (!f) return unimplemented(*lib_, "op_enqueue");
  CMTR_Buffer* handles[16];
  if (buffers.size() > 16)
    return make_error(ErrorCode::kInvalidArgument, "too many buffers ({})", buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) handles[i] = buffers[i]->get();
  auto a = ARGS(CMTR_Op_Enqueue_Args, num_buffers);
  a.op = handle_;
  a.stream = stream.get();
  a.buffers = handles;
  a.num_buffers = buffers.size();
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "op_enqueue");
  return {};
}

Result<KeyValues> Op::attributes() const {
  auto f = CMETER_API_SLOT(*lib_, op_attributes);
  if (!f) return KeyValues{};
  auto a = ARGS(CMTR_Op_Attributes_Args, num_attributes);
  a.op = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "op_attributes");
  return from_abi(a.attributes, a.num_attributes);
}

Result<Buffer> Device::create_buffer(uint64_t size_bytes, MemoryKind kind) const {
  auto f = CMETER_API_SLOT(*lib_, buffer_create);
  if (!f) return unimplemented(*lib_, "buffer_create");
  auto a = ARGS(CMTR_Buffer_Create_Args, buffer);
  a.device = handle_;
  a.size_bytes = size_bytes;
  a.memory_kind = static_cast<int32_t>(kind);
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "buffer_create");
  if (a.buffer == nullptr)
    return make_error(ErrorCode::kInternal, "{}: buffer_create returned NULL", lib_->name());
  return Buffer(lib_, a.buffer, size_bytes, kind);
}

Result<Stream> Device::create_stream() const {
  auto f = CMETER_API_SLOT(*lib_, stream_create);
  if (!f) return unimplemented(*lib_, "stream_create");
  auto a = ARGS(CMTR_Stream_Create_Args, stream);
  a.device = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "stream_create");
  if (a.stream == nullptr)
    return make_error(ErrorCode::kInternal, "{}: stream_create returned NULL", lib_->name());
  return Stream(lib_, a.stream, this);
}

Result<OpQuery> Device::query_op(const std::string& name, const KeyValues& params) const {
  auto f = CMETER_API_SLOT(*lib_, op_query);
  if (!f) return OpQuery{false, "plugin does not implement op_query"};
  auto list = to_abi(params);
  char reason[1024];
  auto a = ARGS(CMTR_Op_Query_Args, reason_size);
  a.device = handle_;
  a.name = CMTR_String{name.data(), name.size()};
  a.params = list.data();
  a.num_params = list.size();
  a.reason_buffer = reason;
  a.reason_buffer_size = sizeof(reason);
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "op_query(" + name + ")");
  OpQuery q;
  q.supported = a.supported != 0;
  q.reason = sanitize_utf8(std::string_view(reason, std::min(a.reason_size, sizeof(reason))));
  return q;
}

Result<Op> Device::create_op(const std::string& name, const KeyValues& params) const {
  auto f = CMETER_API_SLOT(*lib_, op_create);
  if (!f) return unimplemented(*lib_, "op_create");
  auto list = to_abi(params);
  auto a = ARGS(CMTR_Op_Create_Args, op);
  a.device = handle_;
  a.name = CMTR_String{name.data(), name.size()};
  a.params = list.data();
  a.num_params = list.size();
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "op_create(" + name + ")");
  if (a.op == nullptr) return make_error(ErrorCode::kInternal, "{}: op_create returned NULL", lib_->name());
  return Op(lib_, a.op);
}

bool Device::has_telemetry() const {
  return CMETER_API_SLOT(*lib_, device_telemetry) != nullptr;
}

Result<KeyValues> Device::telemetry() const {
  auto f = CMETER_API_SLOT(*lib_, device_telemetry);
  if (!f) return unimplemented(*lib_, "device_telemetry");
  auto a = ARGS(CMTR_Device_Telemetry_Args, num_readings);
  a.device = handle_;
  if (CMTR_Error* e = f(&a)) return lib_->take_error(e, "device_telemetry");
  return from_abi(a.readings, a.num_readings);
}

Result<KeyValues> read_device_attributes(const PluginLibrary& lib, CMTR_Device* device) {
  auto a = ARGS(CMTR_Device_Attributes_Args, num_attributes);
  a.device = device;
  if (CMTR_Error* e = lib.api().device_attributes(&a)) return lib.take_error(e, "device_attributes");
  return from_abi(a.attributes, a.num_attributes);
}

}  // namespace cmeter
