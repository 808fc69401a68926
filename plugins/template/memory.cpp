// memory.cpp - buffers: allocate/free, host pointer, host<->device copies.
//
// Why this file exists: every workload moves data through these hooks. allocate gets device memory
// (CMTR_MEMORY_DEVICE) or page-locked host memory (CMTR_MEMORY_HOST_PINNED, which must be
// host-addressable through host_pointer); write/read are enqueued on a stream and complete by
// stream_synchronize. The adapter has already rejected a size of 0, an unknown memory kind, more than
// memory_bytes(), and copies out of range (offset + size may wrap) or of zero bytes. The template's
// "device memory" is 64-byte-aligned host memory and its copies are memcpy, done inside the call.
#include <cstdlib>
#include <cstring>

#include "template.hpp"

namespace tmpl {

uint64_t TemplatePlugin::memory_bytes(const CMTR_Device* device, int32_t /*memory_kind*/) {
  return device->mem_bytes;
}

CMTR_Error* TemplatePlugin::allocate(CMTR_Device* device, uint64_t size_bytes, int32_t memory_kind,
                                     CMTR_Buffer** out) {
  // VENDOR: allocate (hipMalloc / aclrtMalloc / cnrtMalloc; pinned: hipHostMalloc / aclrtMallocHost).
  // More than the device has is RESOURCE_EXHAUSTED, never a crash.
  const uint64_t rounded = (size_bytes + 63) / 64 * 64;
  void* pointer = rounded < size_bytes ? nullptr : std::aligned_alloc(64, rounded);
  if (pointer == nullptr)
    return cmeter::sdk::make_error(
        CMTR_ERROR_RESOURCE_EXHAUSTED,
        std::string(kName) + ": buffer_create: cannot allocate " + std::to_string(size_bytes) + " bytes");
  *out = new CMTR_Buffer{kBufferMagic, device, size_bytes, memory_kind, pointer};
  return nullptr;
}

CMTR_Error* TemplatePlugin::free_buffer(CMTR_Buffer* buffer) {
  std::free(buffer->pointer);  // VENDOR: hipFree / hipHostFree
  delete buffer;
  return nullptr;
}

CMTR_Error* TemplatePlugin::host_pointer(CMTR_Buffer* buffer, void** out) {
  // Host-pinned buffers are host-addressable. Device memory is not, on a real accelerator: the template
  // answers as one would (UNIMPLEMENTED), so the host never relies on it.
  if (buffer->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return cmeter::sdk::make_error(
        CMTR_ERROR_UNIMPLEMENTED,
        std::string(kName) + ": buffer_host_pointer: device memory is not host-addressable");
  *out = buffer->pointer;
  return nullptr;
}

CMTR_Error* TemplatePlugin::write(CMTR_Stream* /*stream*/, CMTR_Buffer* buffer, uint64_t offset_bytes,
                                  const void* host, uint64_t size_bytes) {
  // VENDOR: enqueue a host-to-device copy on the stream (hipMemcpyAsync / aclrtMemcpyAsync).
  std::memcpy(static_cast<uint8_t*>(buffer->pointer) + offset_bytes, host, size_bytes);
  return nullptr;
}

CMTR_Error* TemplatePlugin::read(CMTR_Stream* /*stream*/, CMTR_Buffer* buffer, uint64_t offset_bytes,
                                 void* host, uint64_t size_bytes) {
  // VENDOR: enqueue a device-to-host copy on the stream.
  std::memcpy(host, static_cast<const uint8_t*>(buffer->pointer) + offset_bytes, size_bytes);
  return nullptr;
}

}  // namespace tmpl
