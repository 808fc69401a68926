// plugins/hip/runtime.hpp - the HIP plugin's handle types and what its files share.
//
// Why this file exists: the ABI's opaque handles (device, buffer, stream, event, op) are defined here
// once, so the ABI layer (hip_plugin.cpp), the ops (ops.cpp) and the run-time libraries (libs.cpp:
// rocBLAS and rocm-smi, both dlopen'd) agree on them. Every handle starts with a magic number cleared
// on destroy, so a NULL, foreign or destroyed handle is an INVALID_ARGUMENT error rather than a crash.
// The structure is the CUDA plugin's (plugins/cuda/runtime.hpp) without its stream hold.
#ifndef CMETER_PLUGINS_HIP_RUNTIME_HPP_
#define CMETER_PLUGINS_HIP_RUNTIME_HPP_

#include <hip/hip_runtime_api.h>
#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace cmeter::hip {

constexpr uint32_t kDeviceMagic = 0x48495044;  // "HIPD"
constexpr uint32_t kBufferMagic = 0x48495042;  // "HIPB"
constexpr uint32_t kStreamMagic = 0x48495053;  // "HIPS"
constexpr uint32_t kEventMagic = 0x48495045;   // "HIPE"
constexpr uint32_t kOpMagic = 0x4849504f;      // "HIPO"

// "hipErrorOutOfMemory (out of memory)"
std::string hip_error_text(hipError_t status);
// An error object for a failed HIP call: RESOURCE_EXHAUSTED for memory, DEVICE_LOST for faults that
// leave the context unusable, INTERNAL otherwise; message "<what>: <hip error text>".
CMTR_Error* hip_failure(hipError_t status, const std::string& what);
using sdk::invalid;

// ---- rocBLAS, loaded with dlopen where the machine has it (libs.cpp) ----
// The few C entry points the plugin calls, declared here (rocBLAS is not in Debian 12, so its headers
// are not a build dependency). Values from rocblas-types.h.
enum RocblasDatatype : int {
  kRbF16 = 150,
  kRbF32 = 151,
  kRbF64 = 152,
  kRbI8 = 160,
  kRbI32 = 162,
  kRbBF16 = 168
};
class Rocblas {
 public:
  // Loads librocblas.so (or .so.0..4); available() false with status() saying why.
  Rocblas();
  bool available() const { return handle_ != nullptr; }
  const std::string& status() const { return status_; }
  // rocblas_create_handle / rocblas_destroy_handle / rocblas_set_stream / rocblas_gemm_strided_batched_ex
  // (pointer mode host; algo standard). Each returns rocblas_status (0 = success).
  int create(void** blas) const;
  int destroy(void* blas) const;
  int gemm(void* blas, hipStream_t stream, bool trans_a, bool trans_b, int m, int n, int k, const void* alpha,
           const void* a, int a_type, int lda, int64_t stride_a, const void* b, int ldb, int64_t stride_b,
           const void* beta, void* c, int c_type, int ldc, int64_t stride_c, int batch,
           int compute_type) const;

 private:
  void* handle_ = nullptr;
  std::string status_;
  void* create_ = nullptr;
  void* destroy_ = nullptr;
  void* set_stream_ = nullptr;
  void* gemm_ = nullptr;
};

// ---- rocm-smi, loaded with dlopen (libs.cpp): telemetry ----
class RocmSmi {
 public:
  RocmSmi();  // dlopen librocm_smi64.so.1 and rsmi_init; available() false with status() saying why
  bool available() const { return available_; }
  const std::string& status() const { return status_; }
  // The rocm-smi index of the device on PCI `domain:bus:device.function`, or -1.
  int index_of(uint32_t domain, uint32_t bus, uint32_t device, uint32_t function) const;
  // power.w, energy.j, temp.c, util.pct where the device reports them.
  void read(int index, sdk::KeyValueList& out) const;

 private:
  bool available_ = false;
  std::string status_;
  void* handle_ = nullptr;
  void* pci_id_ = nullptr;
  void* power_ = nullptr;
  void* energy_ = nullptr;
  void* temp_ = nullptr;
  void* busy_ = nullptr;
  uint32_t count_ = 0;
};

}  // namespace cmeter::hip

struct CMTR_Device {
  uint32_t magic = cmeter::hip::kDeviceMagic;
  int ordinal = 0;
  uint64_t mem_bytes = 0;
  std::string arch;  // gcnArchName, e.g. gfx90a:sramecc+:xnack-
  cmeter::sdk::KeyValueList attributes;
  std::mutex mutex;      // guards blas
  void* blas = nullptr;  // rocblas_handle, created on first use
  int smi_index = -1;    // rocm-smi's index of this device, or -1
  std::mutex telemetry_mutex;
  cmeter::sdk::KeyValueList telemetry;
};

struct CMTR_Buffer {
  uint32_t magic = cmeter::hip::kBufferMagic;
  CMTR_Device* device = nullptr;
  void* data = nullptr;  // device pointer, or host pointer for pinned memory
  uint64_t size_bytes = 0;
  int32_t memory_kind = 0;
};

struct CMTR_Stream {
  uint32_t magic = cmeter::hip::kStreamMagic;
  CMTR_Device* device = nullptr;
  hipStream_t stream = nullptr;
};

struct CMTR_Event {
  uint32_t magic = cmeter::hip::kEventMagic;
  CMTR_Device* device = nullptr;
  hipEvent_t event = nullptr;
};

namespace cmeter::hip {

class OpImpl {
 public:
  virtual ~OpImpl() = default;
  // Enqueues the op on `stream` (whose device is current). Buffers are checked by the op.
  virtual CMTR_Error* enqueue(CMTR_Stream* stream, CMTR_Buffer* const* buffers, size_t num_buffers) = 0;
  sdk::KeyValueList attributes;
};

// Makes `device` current on this thread.
CMTR_Error* use_device(const CMTR_Device* device, const char* call);
// Live-handle checks shared with ops.cpp.
CMTR_Error* check_buffer(const CMTR_Buffer* b, const char* call);
// The process-wide rocBLAS (loaded on first use), never NULL.
const Rocblas& rocblas();

// ops.cpp: planning (op_query, op_create) for device `d`.
struct OpPlan {
  sdk::OpStatus status = sdk::OpStatus::kUnsupported;
  std::string reason;
  CMTR_Error* error = nullptr;   // kFailed: what the runtime said
  std::unique_ptr<OpImpl> impl;  // set by plan_op when `create`
};
OpPlan plan_op(CMTR_Device* d, std::string_view name, const CMTR_KeyValue* params, size_t count, bool create);

}  // namespace cmeter::hip

struct CMTR_Op {
  uint32_t magic = cmeter::hip::kOpMagic;
  CMTR_Device* device = nullptr;
  std::unique_ptr<cmeter::hip::OpImpl> impl;
};

#endif  // CMETER_PLUGINS_HIP_RUNTIME_HPP_
