// plugins/cpu/row_ops.hpp - the machinery the CPU plugin's row-wise ops share (the 1.1 inference
// ops of inference_ops.cpp and the 1.2 training ops of training_ops.cpp).
//
// Why this file exists: both families check their buffers against the SDK's buffer_needs(), run in
// parallel over rows in the plugin's oneTBB arena, and view f16/bf16 storage as f32 rows with the
// dispatched ISA's converters; written once here. Compiled with baseline flags only (the ISA kernel
// files never include it), so its inline functions cannot leak wide-vector code.
#ifndef CMETER_PLUGINS_CPU_ROW_OPS_HPP_
#define CMETER_PLUGINS_CPU_ROW_OPS_HPP_

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <cmeter/plugin_ops.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops.hpp"
#include "runtime.hpp"

namespace cmeter::cpu::row_ops {

using sdk::DType;

inline OpPlan answer(OpPlan::Status status, std::string reason = {}) {
  OpPlan p;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

// Count, handles and least sizes of an enqueue's buffers (the op's buffer_needs()).
inline CMTR_Error* check_buffers(const char* op, CMTR_Buffer* const* buffers, size_t num_buffers,
                                 const std::vector<sdk::BufferNeed>& needs) {
  if (CMTR_Error* e = sdk::check_buffer_count(op, buffers, num_buffers, needs)) return e;
  for (size_t i = 0; i < needs.size(); ++i) {
    const CMTR_Buffer* b = buffers[i];
    const std::string role = "buffer " + std::to_string(i) + " (" + needs[i].role + ")";
    if (CMTR_Error* e = sdk::check_handle(b, kBufferMagic, op, role.c_str(), "cpu", "buffer")) return e;
    if (CMTR_Error* e = sdk::check_buffer_size(op, i, needs[i], b->size_bytes)) return e;
  }
  return nullptr;
}

// Runs body(first, last) over [0, count) in the plugin's TBB arena, in chunks of at least `grain`
// items; on the calling thread when one chunk covers everything.
template <class F>
void parallel_chunks(const Runtime& rt, int64_t count, int64_t grain, F&& body) {
  grain = std::max<int64_t>(1, grain);
  if (rt.threads == 1 || count <= grain) {
    body(int64_t{0}, count);
    return;
  }
  rt.arena->execute([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, count, grain),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  });
}

// Rows of `row_elems` elements: chunks of at least ~32K elements.
template <class F>
void parallel_rows(const Runtime& rt, int64_t rows, int64_t row_elems, F&& body) {
  parallel_chunks(rt, rows, (int64_t{32} << 10) / std::max<int64_t>(1, row_elems), body);
}

// f32 views of f16/bf16/f32 storage.
struct Storage {
  const KernelTable* k = nullptr;
  DType t = DType::kF32;

  size_t size() const { return sdk::dtype_size_bytes(t); }
  // The f32 values of elements [at, at + n) of `base`: the memory itself for f32, else `tmp` converted.
  const float* in(const void* base, int64_t at, size_t n, float* tmp) const {
    if (t == DType::kF32) return static_cast<const float*>(base) + at;
    const uint16_t* src = static_cast<const uint16_t*>(base) + at;
    (t == DType::kF16 ? k->f16_to_f32 : k->bf16_to_f32)(src, tmp, n);
    return tmp;
  }
  // Where to compute f32 results for elements at.. of `base`: the memory itself for f32, else `tmp`.
  float* work(void* base, int64_t at, float* tmp) const {
    return t == DType::kF32 ? static_cast<float*>(base) + at : tmp;
  }
  // Stores f32 results `src` (from work()) into elements [at, at + n) of `base`, rounding to nearest
  // even for f16/bf16; nothing to do for f32 when src already is that memory.
  void out(const float* src, void* base, int64_t at, size_t n) const {
    if (t == DType::kF32) {
      float* dst = static_cast<float*>(base) + at;
      if (dst != src) std::memmove(dst, src, n * sizeof(float));
      return;
    }
    uint16_t* dst = static_cast<uint16_t*>(base) + at;
    (t == DType::kF16 ? k->f32_to_f16 : k->f32_to_bf16)(src, dst, n);
  }
};

inline std::string describe(const Runtime& rt, DType t, const std::string& what) {
  const KernelTable& k = *rt.kernels;
  std::string s = what + " (" + k.isa + " f32 row kernels, " + std::to_string(k.f32_lanes) + " lanes";
  if (t == DType::kF16) s += std::string(", f16<->f32 ") + (k.has_f16c ? "F16C" : "scalar") + " per row";
  if (t == DType::kBF16) s += ", bf16<->f32 per row";
  return s + ", tbb over " + std::to_string(rt.threads) + (rt.threads == 1 ? " core)" : " cores)");
}

template <class T>
inline T* data(CMTR_Buffer* const* buffers, size_t i) {
  return static_cast<T*>(buffers[i]->data);
}

// Reads i32 index `r` of an index buffer.
inline int32_t index_at(CMTR_Buffer* const* buffers, size_t i, int64_t r) {
  return data<const int32_t>(buffers, i)[r];
}

}  // namespace cmeter::cpu::row_ops

#endif  // CMETER_PLUGINS_CPU_ROW_OPS_HPP_
