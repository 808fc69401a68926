// memory.cpp - buffers: create/destroy, host pointer, host<->device copies.
//
// Why this file exists: every workload moves data through these five functions. buffer_create gets
// device memory (CMTR_MEMORY_DEVICE) or page-locked host memory (CMTR_MEMORY_HOST_PINNED, which must be
// host-addressable through buffer_host_pointer); buffer_write/buffer_read are enqueued on a stream and
// complete by stream_synchronize. sdk::check_range checks a copy's range without overflow (offset + size
// may wrap) and rejects zero-byte copies, as every cmeter plugin does.
#include "template.hpp"

namespace tmpl {

CMTR_Error* check_buffer(const CMTR_Buffer* buffer, const char* function) {
  if (CMTR_Error* e =
          cmeter::sdk::check_handle(buffer, kBufferMagic, function, "buffer", kPluginName, "buffer"))
    return e;
  return initialised() ? nullptr : cmeter::sdk::not_initialised(function);
}

CMTR_Error* buffer_create(CMTR_Buffer_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Create_Args, buffer);
  if (CMTR_Error* e = check_device(args->device, "buffer_create")) return e;
  if (args->size_bytes == 0) return invalid("buffer_create: size_bytes is 0");
  if (args->memory_kind != CMTR_MEMORY_DEVICE && args->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return invalid("buffer_create: unknown memory_kind " + std::to_string(args->memory_kind));
  // TODO(vendor): allocate (cudaMalloc / aclrtMalloc / cnrtMalloc; pinned: cudaHostAlloc /
  // aclrtMallocHost); more than the device has is RESOURCE_EXHAUSTED. Then:
  //   args->buffer = new CMTR_Buffer{kBufferMagic, args->device, args->size_bytes, args->memory_kind, ptr};
  return unimplemented("buffer_create");
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (CMTR_Error* e = cmeter::sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer",
                                                kPluginName, "buffer"))
    return e;
  // TODO(vendor): free the memory, then: args->buffer->magic = 0; delete args->buffer;
  return unimplemented("buffer_destroy");
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  // TODO(vendor): host-pinned buffers: args->host_pointer = args->buffer->pointer. Device memory the
  // host cannot address stays UNIMPLEMENTED.
  return unimplemented("buffer_host_pointer");
}

CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_write")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_write")) return e;
  if (CMTR_Error* e = cmeter::sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                               args->host_pointer, "buffer_write"))
    return e;
  // TODO(vendor): enqueue a host-to-device copy on the stream (cudaMemcpyAsync / aclrtMemcpyAsync).
  return unimplemented("buffer_write");
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_read")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = cmeter::sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                               args->host_pointer, "buffer_read"))
    return e;
  // TODO(vendor): enqueue a device-to-host copy on the stream.
  return unimplemented("buffer_read");
}

}  // namespace tmpl
