// plugins/hip/libs.cpp - rocBLAS and rocm-smi, loaded with dlopen at run time.
//
// Why this file exists: neither is in Debian 12 (rocm-smi is, but a machine may lack it), and the
// plugin must load everywhere HIP does: so neither is a link dependency. Each class finds its library,
// resolves the few C entry points the plugin calls (declared here with the libraries' documented
// signatures), and says why not when it cannot; the plugin then uses its own GEMM kernels (`impl`
// says which ran) or reports no telemetry.
#include <dlfcn.h>

#include <initializer_list>

#include "runtime.hpp"

namespace cmeter::hip {
namespace {

void* open_first(std::initializer_list<const char*> names, std::string* why) {
  for (const char* name : names) {
    if (void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return h;
    const char* e = dlerror();
    *why = e ? e : name;
  }
  return nullptr;
}

// rocBLAS' C signatures (rocblas-functions.h, rocblas-auxiliary.h); enums are C enums (int).
using RbCreate = int (*)(void**);
using RbDestroy = int (*)(void*);
using RbSetStream = int (*)(void*, hipStream_t);
using RbGemmStridedBatchedEx = int (*)(void* handle, int trans_a, int trans_b, int m, int n, int k,
                                       const void* alpha, const void* a, int a_type, int lda,
                                       int64_t stride_a, const void* b, int b_type, int ldb, int64_t stride_b,
                                       const void* beta, const void* c, int c_type, int ldc, int64_t stride_c,
                                       void* d, int d_type, int ldd, int64_t stride_d, int batch_count,
                                       int compute_type, int algo, int32_t solution_index, uint32_t flags);
constexpr int kRbOpNone = 111, kRbOpTranspose = 112, kRbAlgoStandard = 0;

// rocm_smi.h: rsmi_status_t is an int enum (0 = RSMI_STATUS_SUCCESS).
using RsmiInit = int (*)(uint64_t);
using RsmiCount = int (*)(uint32_t*);
using RsmiPciId = int (*)(uint32_t, uint64_t*);
using RsmiPowerAve = int (*)(uint32_t, uint32_t, uint64_t*);         // microwatts
using RsmiEnergy = int (*)(uint32_t, uint64_t*, float*, uint64_t*);  // counter, resolution (uJ), ts
using RsmiTemp = int (*)(uint32_t, uint32_t, int, int64_t*);         // millidegrees C
using RsmiBusy = int (*)(uint32_t, uint32_t*);                       // percent
constexpr uint32_t kRsmiTempEdge = 0;
constexpr int kRsmiTempCurrent = 0;

template <class F>
F as(void* p) {
  return reinterpret_cast<F>(p);
}

}  // namespace

Rocblas::Rocblas() {
  std::string why;
  void* h = open_first({"librocblas.so", "librocblas.so.4", "librocblas.so.3", "librocblas.so.0"}, &why);
  if (h == nullptr) {
    status_ = "rocBLAS not found (" + why + "): GEMM runs the plugin's own tiled kernels";
    return;
  }
  create_ = dlsym(h, "rocblas_create_handle");
  destroy_ = dlsym(h, "rocblas_destroy_handle");
  set_stream_ = dlsym(h, "rocblas_set_stream");
  gemm_ = dlsym(h, "rocblas_gemm_strided_batched_ex");
  if (!create_ || !destroy_ || !set_stream_ || !gemm_) {
    status_ =
        "librocblas lacks rocblas_gemm_strided_batched_ex or its handle calls: GEMM runs the plugin's own "
        "kernels";
    dlclose(h);
    return;
  }
  handle_ = h;
  status_ = "rocBLAS loaded";
}

int Rocblas::create(void** blas) const {
  return as<RbCreate>(create_)(blas);
}

int Rocblas::destroy(void* blas) const {
  return as<RbDestroy>(destroy_)(blas);
}

int Rocblas::gemm(void* blas, hipStream_t stream, bool trans_a, bool trans_b, int m, int n, int k,
                  const void* alpha, const void* a, int a_type, int lda, int64_t stride_a, const void* b,
                  int ldb, int64_t stride_b, const void* beta, void* c, int c_type, int ldc, int64_t stride_c,
                  int batch, int compute_type) const {
  if (int st = as<RbSetStream>(set_stream_)(blas, stream); st != 0) return st;
  // D = C (in place): rocBLAS reads C (when beta != 0) and writes D.
  return as<RbGemmStridedBatchedEx>(gemm_)(
      blas, trans_a ? kRbOpTranspose : kRbOpNone, trans_b ? kRbOpTranspose : kRbOpNone, m, n, k, alpha, a,
      a_type, lda, stride_a, b, a_type, ldb, stride_b, beta, c, c_type, ldc, stride_c, c, c_type, ldc,
      stride_c, batch, compute_type, kRbAlgoStandard, 0, 0);
}

RocmSmi::RocmSmi() {
  std::string why;
  void* h = open_first({"librocm_smi64.so.1", "librocm_smi64.so"}, &why);
  if (h == nullptr) {
    status_ = "no telemetry: rocm-smi not found (" + why + ")";
    return;
  }
  auto init = as<RsmiInit>(dlsym(h, "rsmi_init"));
  auto count = as<RsmiCount>(dlsym(h, "rsmi_num_monitor_devices"));
  pci_id_ = dlsym(h, "rsmi_dev_pci_id_get");
  power_ = dlsym(h, "rsmi_dev_power_ave_get");
  energy_ = dlsym(h, "rsmi_dev_energy_count_get");
  temp_ = dlsym(h, "rsmi_dev_temp_metric_get");
  busy_ = dlsym(h, "rsmi_dev_busy_percent_get");
  if (!init || !count || !pci_id_) {
    status_ = "no telemetry: librocm_smi64 lacks rsmi_init, rsmi_num_monitor_devices or rsmi_dev_pci_id_get";
    dlclose(h);
    return;
  }
  if (int st = init(0); st != 0) {
    status_ = "no telemetry: rsmi_init failed (rsmi_status " + std::to_string(st) + ")";
    dlclose(h);
    return;
  }
  if (count(&count_) != 0) count_ = 0;
  handle_ = h;
  available_ = true;
  status_ = "rocm-smi: " + std::to_string(count_) + " device(s)";
}

int RocmSmi::index_of(uint32_t domain, uint32_t bus, uint32_t device, uint32_t function) const {
  if (!available_) return -1;
  // BDFID = ((DOMAIN & 0xffffffff) << 32) | ((BUS & 0xff) << 8) | ((DEVICE & 0x1f) << 3) | (FUNCTION & 0x7)
  const uint64_t want = (static_cast<uint64_t>(domain) << 32) | ((bus & 0xffu) << 8) |
                        ((device & 0x1fu) << 3) | (function & 0x7u);
  for (uint32_t i = 0; i < count_; ++i) {
    uint64_t bdfid = 0;
    if (as<RsmiPciId>(pci_id_)(i, &bdfid) == 0 && bdfid == want) return static_cast<int>(i);
  }
  return -1;
}

void RocmSmi::read(int index, sdk::KeyValueList& out) const {
  out.clear();
  if (!available_ || index < 0) return;
  const auto i = static_cast<uint32_t>(index);
  uint64_t microwatts = 0;
  if (power_ && as<RsmiPowerAve>(power_)(i, 0, &microwatts) == 0) out.set("power.w", microwatts * 1e-6);
  uint64_t counter = 0, timestamp = 0;
  float resolution_uj = 0;
  if (energy_ && as<RsmiEnergy>(energy_)(i, &counter, &resolution_uj, &timestamp) == 0)
    out.set("energy.j", static_cast<double>(counter) * resolution_uj * 1e-6);
  int64_t millidegrees = 0;
  if (temp_ && as<RsmiTemp>(temp_)(i, kRsmiTempEdge, kRsmiTempCurrent, &millidegrees) == 0)
    out.set("temp.c", static_cast<double>(millidegrees) * 1e-3);
  uint32_t busy = 0;
  if (busy_ && as<RsmiBusy>(busy_)(i, &busy) == 0) out.set("util.pct", static_cast<double>(busy));
}

}  // namespace cmeter::hip
