// plugins/cpu/runtime.hpp - the CPU plugin's handle types and shared run-time state.
//
// Why this file exists: the ABI's opaque handles (device, buffer, stream, event, op) are defined here,
// once, so the ABI layer (cpu_plugin.cpp) and the ops (ops.cpp) agree on them. Every handle starts
// with a magic number that is cleared on destroy, so a NULL, foreign or destroyed handle is reported
// as INVALID_ARGUMENT instead of being used. On a CPU "device memory" and "host pinned memory" are
// both 64-byte-aligned host memory, and every op runs synchronously inside its enqueue call (which
// is trivially stream order), so streams and events carry no more than a host steady_clock reading.
#ifndef CMETER_PLUGINS_CPU_RUNTIME_HPP_
#define CMETER_PLUGINS_CPU_RUNTIME_HPP_

#include <tbb/task_arena.h>
#include <cmeter/plugin_sdk.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cpu_info.hpp"

namespace cmeter::cpu {

constexpr uint32_t kDeviceMagic = 0x43505544;  // "CPUD"
constexpr uint32_t kBufferMagic = 0x43505542;  // "CPUB"
constexpr uint32_t kStreamMagic = 0x43505553;  // "CPUS"
constexpr uint32_t kEventMagic = 0x43505545;   // "CPUE"
constexpr uint32_t kOpMagic = 0x4350554f;      // "CPUO"

// State shared by all ops while the plugin is initialised.
struct Runtime {
  CpuInfo info;
  const KernelTable* kernels = nullptr;
  int threads = 1;  // compute_units: TBB arena size and OpenBLAS threads
  std::unique_ptr<tbb::task_arena> arena;
  std::string blas;  // openblas_description()

  explicit Runtime(CpuInfo probed);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

class Op {
 public:
  virtual ~Op() = default;
  // Runs the op to completion on the calling thread (plus the TBB arena / OpenBLAS threads).
  virtual CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  sdk::KeyValueList attributes;
};

// Copies `size_bytes` with all cores for large sizes (static chunks), memcpy for small ones.
void parallel_copy(const Runtime& rt, void* dst, const void* src, size_t size_bytes);
// Zero-fills with the same static chunking, so each page is first touched by the core that STREAM
// later gives that chunk to.
void parallel_zero(const Runtime& rt, void* dst, size_t size_bytes);

}  // namespace cmeter::cpu

struct CMTR_Device {
  uint32_t magic = cmeter::cpu::kDeviceMagic;
  cmeter::sdk::KeyValueList attributes;
};

struct CMTR_Buffer {
  uint32_t magic = cmeter::cpu::kBufferMagic;
  CMTR_Device* device = nullptr;
  void* data = nullptr;
  uint64_t size_bytes = 0;
  int32_t memory_kind = 0;
};

struct CMTR_Stream {
  uint32_t magic = cmeter::cpu::kStreamMagic;
  CMTR_Device* device = nullptr;
};

struct CMTR_Event {
  uint32_t magic = cmeter::cpu::kEventMagic;
  CMTR_Device* device = nullptr;
  std::chrono::steady_clock::time_point time;
};

struct CMTR_Op {
  uint32_t magic = cmeter::cpu::kOpMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::cpu::Op> impl;
};

#endif  // CMETER_PLUGINS_CPU_RUNTIME_HPP_
