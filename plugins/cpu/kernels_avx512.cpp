// plugins/cpu/kernels_avx512.cpp - the CPU plugin's kernels for AVX-512 (x86-64-v4) CPUs.
//
// Why this file exists: on CPUs with AVX-512F/BW/DQ/VL a 512-bit register holds 16 f32 lanes, and
// on parts with two 512-bit FMA pipes (Intel server cores, AMD Zen5 desktop/server) that doubles the
// FMA throughput of AVX2. This file is compiled with -march=x86-64-v4 and is only ever called after
// cpu_is_x86_64_v4() (cpu_level.hpp) said yes (see cpu_plugin.cpp); it exports one table and
// includes no C++ standard header (see kernels.hpp for why).
#include <immintrin.h>

#include "kernels.hpp"

namespace cmeter::cpu {
namespace {

constexpr int kMaxAcc = 24;  // of 32 zmm registers: 24 chains + a + b, no spills

struct F32Ops {
  using T = float;
  using V = __m512;
  static constexpr int W = 16;
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V fma(V x, V a, V b) { return _mm512_fmadd_ps(x, a, b); }
  static V add(V x, V y) { return _mm512_add_ps(x, y); }
  static V mul(V x, V y) { return _mm512_mul_ps(x, y); }
  static V loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm512_stream_ps(p, v); }
  static void store_f32(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void fence() { _mm_sfence(); }
};

struct F64Ops {
  using T = double;
  using V = __m512d;
  static constexpr int W = 8;
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V fma(V x, V a, V b) { return _mm512_fmadd_pd(x, a, b); }
  static V add(V x, V y) { return _mm512_add_pd(x, y); }
  static V mul(V x, V y) { return _mm512_mul_pd(x, y); }
  static V loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm512_stream_pd(p, v); }
  static void store_f32(float* p, V v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
  static void fence() { _mm_sfence(); }
};

}  // namespace
}  // namespace cmeter::cpu

#include "kernels_impl.inc"
#include "kernels_rows.inc"

namespace cmeter::cpu {
namespace {

// Conversions: 16 elements per step, the tail through masked loads and stores (AVX-512BW/VL).
void f16_to_f32(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
  }
}

void bf16_to_f32(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
    _mm512_mask_storeu_ps(dst + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
  }
}

void f32_to_f16(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(dst + i),
        _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(
        dst + i, m,
        _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}

// Round to nearest even on the bit pattern; NaNs become quiet NaNs (the add would carry into them).
inline __m256i bf16_round(__m512 v) {
  const __m512i x = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

void f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), bf16_round(_mm512_loadu_ps(src + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(dst + i, m, bf16_round(_mm512_maskz_loadu_ps(m, src + i)));
  }
}

}  // namespace

const KernelTable kKernelsAvx512 = {
    "avx512",
    16,
    kMaxAcc,
    true,
    true,
    &fma_tile_items_impl,
    &fma_peak_impl<F32Ops>,
    &fma_peak_impl<F64Ops>,
    &stream_f32_impl,
    &stream_f64_impl,
    &f16_to_f32,
    &bf16_to_f32,
    &f32_to_f16,
    &f32_to_bf16,
    &kRowKernels,
};

}  // namespace cmeter::cpu
