// Device and its RAII handles (Buffer, Stream, Event, Op): the C++ face of one plugin device that the
// workloads are written against. Every ABI call goes through here, so struct sizes, NULL slots
// ("unimplemented") and error objects are handled in one place, and every handle is released exactly
// once by the object that created it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <cmeter/plugin_abi.h>

#include "core/plugin/abi_key_values.h"
#include "core/plugin/plugin_library.h"
#include "core/util/result.h"

namespace cmeter {

enum class MemoryKind { kDevice = CMTR_MEMORY_DEVICE, kHostPinned = CMTR_MEMORY_HOST_PINNED };

class Stream;

// Move-only owner of one plugin handle of type H, destroyed through `destroy`.
template <class H>
class PluginHandle {
 public:
  PluginHandle() = default;
  PluginHandle(const PluginLibrary* lib, H* handle) : lib_(lib), handle_(handle) {}
  PluginHandle(PluginHandle&& o) noexcept : lib_(o.lib_), handle_(std::exchange(o.handle_, nullptr)) {}
  PluginHandle& operator=(PluginHandle&& o) noexcept {
    if (this != &o) {
      reset();
      lib_ = o.lib_;
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  ~PluginHandle() { reset(); }
  H* get() const { return handle_; }
  const PluginLibrary& lib() const { return *lib_; }
  void reset();

 protected:
  const PluginLibrary* lib_ = nullptr;
  H* handle_ = nullptr;
};

template <>
void PluginHandle<CMTR_Buffer>::reset();
template <>
void PluginHandle<CMTR_Stream>::reset();
template <>
void PluginHandle<CMTR_Event>::reset();
template <>
void PluginHandle<CMTR_Op>::reset();

class Buffer : public PluginHandle<CMTR_Buffer> {
 public:
  Buffer() = default;
  Buffer(const PluginLibrary* lib, CMTR_Buffer* h, uint64_t size_bytes, MemoryKind kind)
      : PluginHandle(lib, h), size_bytes_(size_bytes), kind_(kind) {}
  uint64_t size_bytes() const { return size_bytes_; }
  MemoryKind kind() const { return kind_; }
  // Host address (host-pinned buffers; device buffers only where the plugin allows it).
  Result<void*> host_pointer() const;

 private:
  uint64_t size_bytes_ = 0;
  MemoryKind kind_ = MemoryKind::kDevice;
};

class Event : public PluginHandle<CMTR_Event> {
 public:
  using PluginHandle::PluginHandle;
};

class Device;

class Stream : public PluginHandle<CMTR_Stream> {
 public:
  using PluginHandle::PluginHandle;
  Stream() = default;
  Stream(const PluginLibrary* lib, CMTR_Stream* h, const Device* device)
      : PluginHandle(lib, h), device_(device) {}
  // The device that created this stream (the measurement loop reads its telemetry); may be null.
  const Device* device() const { return device_; }
  Status write(Buffer& buffer, uint64_t offset_bytes, const void* host, uint64_t bytes);
  Status read(const Buffer& buffer, uint64_t offset_bytes, void* host, uint64_t bytes);
  Status synchronize();
  Result<Event> record_event();
  // Device-timed seconds between two completed events; kUnimplemented when the plugin has no timer.
  Result<double> elapsed_s(const Event& start, const Event& stop) const;
  bool has_device_timer() const;

 private:
  const Device* device_ = nullptr;
};

struct OpQuery {
  bool supported = false;
  std::string reason;
};

class Op : public PluginHandle<CMTR_Op> {
 public:
  using PluginHandle::PluginHandle;
  Status enqueue(Stream& stream, std::span<Buffer* const> buffers);
  Result<KeyValues> attributes() const;
};

class Device {
 public:
  Device(const PluginLibrary* lib, CMTR_Device* handle, std::string id, KeyValues attributes)
      : lib_(lib), handle_(handle), id_(std::move(id)), attributes_(std::move(attributes)) {}
  const std::string& id() const { return id_; }
  const KeyValues& attributes() const { return attributes_; }
  const PluginLibrary& plugin() const { return *lib_; }
  std::string name() const { return get_string(attributes_, "name").value_or(id_); }

  Result<Buffer> create_buffer(uint64_t size_bytes, MemoryKind kind = MemoryKind::kDevice) const;
  Result<Stream> create_stream() const;
  Result<OpQuery> query_op(const std::string& name, const KeyValues& params) const;
  Result<Op> create_op(const std::string& name, const KeyValues& params) const;
  bool has_telemetry() const;
  Result<KeyValues> telemetry() const;

 private:
  const PluginLibrary* lib_;
  CMTR_Device* handle_;
  std::string id_;
  KeyValues attributes_;
};

// Reads a device's attributes through the ABI.
Result<KeyValues> read_device_attributes(const PluginLibrary& lib, CMTR_Device* device);

}  // namespace cmeter
