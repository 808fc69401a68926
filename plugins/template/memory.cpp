// memory.cpp - buffers: create/destroy, host pointer, host<->device copies.
//
// Why this file exists: every workload moves data through these five functions. buffer_create gets
// device memory (CMTR_MEMORY_DEVICE) or page-locked host memory (CMTR_MEMORY_HOST_PINNED, which must be
// host-addressable through buffer_host_pointer); buffer_write/buffer_read are enqueued on a stream and
// complete by stream_synchronize. sdk::check_range checks a copy's range without overflow (offset + size
// may wrap) and rejects zero-byte copies, as every cmeter plugin does. The template's "device memory"
// is 64-byte-aligned host memory and its copies are memcpy, done inside the call (stream order).
#include <cstdlib>
#include <cstring>
#include <new>

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
  if (args->size_bytes > args->device->mem_bytes)
    return cmeter::sdk::make_error(
        CMTR_ERROR_RESOURCE_EXHAUSTED,
        std::string(kPluginName) + ": buffer_create: " + std::to_string(args->size_bytes) +
            " bytes exceed the device's memory (" + std::to_string(args->device->mem_bytes) + " bytes)");
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    // VENDOR: allocate (hipMalloc / aclrtMalloc / cnrtMalloc; pinned: hipHostMalloc / aclrtMallocHost).
    // More than the device has is RESOURCE_EXHAUSTED, never a crash.
    const uint64_t rounded = (args->size_bytes + 63) / 64 * 64;
    void* pointer = rounded < args->size_bytes ? nullptr : std::aligned_alloc(64, rounded);
    if (pointer == nullptr)
      return cmeter::sdk::make_error(CMTR_ERROR_RESOURCE_EXHAUSTED,
                                     std::string(kPluginName) + ": buffer_create: cannot allocate " +
                                         std::to_string(args->size_bytes) + " bytes");
    args->buffer = new CMTR_Buffer{kBufferMagic, args->device, args->size_bytes, args->memory_kind, pointer};
    return nullptr;
  });
}

CMTR_Error* buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Destroy_Args, buffer);
  if (CMTR_Error* e = cmeter::sdk::check_handle(args->buffer, kBufferMagic, "buffer_destroy", "buffer",
                                                kPluginName, "buffer"))
    return e;
  std::free(args->buffer->pointer);  // VENDOR: hipFree / hipHostFree
  args->buffer->magic = 0;           // a second destroy is INVALID_ARGUMENT, not a double free
  delete args->buffer;
  return nullptr;
}

CMTR_Error* buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Host_Pointer_Args, host_pointer);
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_host_pointer")) return e;
  // Host-pinned buffers are host-addressable. Device memory is not, on a real accelerator: the template
  // answers as one would (UNIMPLEMENTED), so the host never relies on it.
  if (args->buffer->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return cmeter::sdk::make_error(
        CMTR_ERROR_UNIMPLEMENTED,
        std::string(kPluginName) + ": buffer_host_pointer: device memory is not host-addressable");
  args->host_pointer = args->buffer->pointer;
  return nullptr;
}

CMTR_Error* buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Write_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_write")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_write")) return e;
  if (CMTR_Error* e = cmeter::sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                               args->host_pointer, "buffer_write"))
    return e;
  // VENDOR: enqueue a host-to-device copy on the stream (hipMemcpyAsync / aclrtMemcpyAsync).
  std::memcpy(static_cast<uint8_t*>(args->buffer->pointer) + args->offset_bytes, args->host_pointer,
              args->size_bytes);
  return nullptr;
}

CMTR_Error* buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Buffer_Read_Args, size_bytes);
  if (CMTR_Error* e = check_stream(args->stream, "buffer_read")) return e;
  if (CMTR_Error* e = check_buffer(args->buffer, "buffer_read")) return e;
  if (CMTR_Error* e = cmeter::sdk::check_range(args->buffer->size_bytes, args->offset_bytes, args->size_bytes,
                                               args->host_pointer, "buffer_read"))
    return e;
  // VENDOR: enqueue a device-to-host copy on the stream.
  std::memcpy(args->host_pointer, static_cast<const uint8_t*>(args->buffer->pointer) + args->offset_bytes,
              args->size_bytes);
  return nullptr;
}

}  // namespace tmpl
