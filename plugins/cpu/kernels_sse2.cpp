// plugins/cpu/kernels_sse2.cpp - the CPU plugin's kernels for baseline x86-64 (SSE2 only).
//
// Why this file exists: the plugin must load and work on any x86-64, including ones without AVX2.
// Here STREAM runs on 128-bit registers and the f16/bf16 conversions are exact scalar code; there is
// no FMA instruction, so fma_peak.v1 is answered "unsupported" (see kKernelsSse2.has_fma). Compiled
// with the default flags; no C++ standard header (see kernels.hpp).
#include <emmintrin.h>

#include "kernels.hpp"

namespace cmeter::cpu {
namespace {

constexpr int kMaxAcc = 12;

struct F32Ops {
  using T = float;
  using V = __m128;
  static constexpr int W = 4;
  static V set1(T x) { return _mm_set1_ps(x); }
  static V add(V x, V y) { return _mm_add_ps(x, y); }
  static V mul(V x, V y) { return _mm_mul_ps(x, y); }
  static V loadu(const T* p) { return _mm_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm_stream_ps(p, v); }
  static void fence() { _mm_sfence(); }
};

struct F64Ops {
  using T = double;
  using V = __m128d;
  static constexpr int W = 2;
  static V set1(T x) { return _mm_set1_pd(x); }
  static V add(V x, V y) { return _mm_add_pd(x, y); }
  static V mul(V x, V y) { return _mm_mul_pd(x, y); }
  static V loadu(const T* p) { return _mm_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm_stream_pd(p, v); }
  static void fence() { _mm_sfence(); }
};

}  // namespace
}  // namespace cmeter::cpu

#include "kernels_impl.inc"
#include "kernels_rows.inc"

namespace cmeter::cpu {
namespace {

void f16_to_f32(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = scalar_f16_to_f32(src[i]);
}
void bf16_to_f32(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = scalar_bf16_to_f32(src[i]);
}
void f32_to_f16(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = scalar_f32_to_f16(src[i]);
}
void f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = scalar_f32_to_bf16(src[i]);
}

}  // namespace

const KernelTable kKernelsSse2 = {
    "sse2",
    4,
    kMaxAcc,
    false,
    false,
    &fma_tile_items_impl,
    nullptr,
    nullptr,
    &stream_f32_impl,
    &stream_f64_impl,
    &f16_to_f32,
    &bf16_to_f32,
    &f32_to_f16,
    &f32_to_bf16,
    &kRowKernels,
};

}  // namespace cmeter::cpu
