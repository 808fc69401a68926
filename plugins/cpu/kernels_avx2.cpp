// plugins/cpu/kernels_avx2.cpp - the CPU plugin's kernels for AVX2 + FMA + F16C (x86-64-v3) CPUs.
//
// Why this file exists: most x86-64 CPUs of the last decade (Haswell on, Zen 1-3) have 256-bit FMA
// but no AVX-512; this is their fast path, and the fallback on AVX-512 machines when the user asks
// for it (CMETER_CPU_ISA=avx2). Compiled with -march=x86-64-v3, only called after
// cpu_is_x86_64_v3() (cpu_level.hpp); one exported table, no C++ standard header (see kernels.hpp).
#include <immintrin.h>

#include "kernels.hpp"

namespace cmeter::cpu {
namespace {

constexpr int kMaxAcc = 12;  // of 16 ymm registers: 12 chains + a + b, no spills

struct F32Ops {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V fma(V x, V a, V b) { return _mm256_fmadd_ps(x, a, b); }
  static V add(V x, V y) { return _mm256_add_ps(x, y); }
  static V mul(V x, V y) { return _mm256_mul_ps(x, y); }
  static V loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm256_stream_ps(p, v); }
  static void store_f32(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void fence() { _mm_sfence(); }
};

struct F64Ops {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V fma(V x, V a, V b) { return _mm256_fmadd_pd(x, a, b); }
  static V add(V x, V y) { return _mm256_add_pd(x, y); }
  static V mul(V x, V y) { return _mm256_mul_pd(x, y); }
  static V loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm256_stream_pd(p, v); }
  static void store_f32(float* p, V v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
  static void fence() { _mm_sfence(); }
};

}  // namespace
}  // namespace cmeter::cpu

#include "kernels_impl.inc"
#include "kernels_rows.inc"

namespace cmeter::cpu {
namespace {

void f16_to_f32(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
  }
  for (; i < n; ++i) dst[i] = scalar_bf16_to_f32(src[i]);
}

void f32_to_f16(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(dst + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) dst[i] = scalar_f32_to_f16(src[i]);
}

void f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff), quiet = _mm256_set1_epi32(0x40);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(src + i);
    const __m256i x = _mm256_castps_si256(v);
    const __m256i hi = _mm256_srli_epi32(x, 16);
    const __m256i rounded =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, bias), _mm256_and_si256(hi, one)), 16);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(hi, quiet), nan);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
  }
  for (; i < n; ++i) dst[i] = scalar_f32_to_bf16(src[i]);
}

}  // namespace

const KernelTable kKernelsAvx2 = {
    "avx2",
    8,
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
