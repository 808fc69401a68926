// plugins/cpu/kernels_avx512bf16.cpp - the decode step's small-n bf16 GEMM on AVX512_BF16 (vdpbf16ps).
//
// Why this file exists: a decode step's projections are weight rows (bf16, streamed from memory once)
// against a few activation columns. The AVX-512 path in kernels_rows.inc widens each weight vector to
// f32 (two instructions per 16 weights) and then spends one FMA per column, so at 2-4 columns it runs
// out of issue slots before memory runs out of bytes: m = 8192, k = 2048 took 1.32x (n = 2) and 1.56x
// (n = 4) the n = 1 time on the dev VM. vdpbf16ps multiplies 32 bf16 pairs and adds them into 16 f32
// lanes in one instruction, with no widening: one instruction per 32 weights per column. Products of
// two bf16 values are exact in f32 and the sums are f32 (denormal inputs and outputs flushed to zero,
// round to nearest even), so the accuracy is that of the f32-accumulating path. Compiled with
// -march=x86-64-v4 -mavx512bf16 and only called after cpu_has_avx512bf16() (cpu_level.hpp) said yes;
// like the other ISA files it exports one constant and includes no C++ standard header (kernels.hpp).
#include <immintrin.h>

#include "kernels.hpp"

namespace cmeter::cpu {
namespace {

#define PAIRS_INLINE inline __attribute__((always_inline))

PAIRS_INLINE __m512bh load_pairs(const uint16_t* p) {
  return (__m512bh)_mm512_loadu_si512(p);
}
PAIRS_INLINE __m512bh load_pairs_masked(const uint16_t* p, __mmask32 m) {
  return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

// out[r·n + j] = Σ_i a[r·lda + i]·b[j·ldb + i] for r < R, j < N: an R x N register tile; each weight
// vector loaded feeds N vdpbf16ps, each column vector R. The k tail is read with masked loads, so the
// zeroed lanes of both operands add 0.
template <int R, int N>
void dot_pairs_tile(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, size_t k, int64_t n,
                    float* out) {
  // (Fully unrolled, as in kernels_rows.inc: an indexed accumulator array would otherwise live in memory.)
  __m512 acc[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[r][j] = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= k; i += 32) {
    __m512bh vb[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) vb[j] = load_pairs(b + j * ldb + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __builtin_prefetch(a + r * lda + i + kDotBf16PrefetchElements, 0, 0);
      const __m512bh va = load_pairs(a + r * lda + i);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], va, vb[j]);
    }
  }
  if (i < k) {
    const __mmask32 m = static_cast<__mmask32>((1ull << (k - i)) - 1ull);
    __m512bh vb[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) vb[j] = load_pairs_masked(b + j * ldb + i, m);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512bh va = load_pairs_masked(a + r * lda + i, m);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], va, vb[j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) out[r * n + j] = _mm512_reduce_add_ps(acc[r][j]);
}

// Tiles chosen by n so the R·N accumulators, N column vectors and one weight vector fit in the 32
// zmm registers (no spills).
template <int R, int N>
void dot_pairs_rows(const uint16_t* a, int64_t lda, int64_t rows, const uint16_t* b, int64_t ldb, size_t k,
                    int64_t n, float* out) {
  int64_t r = 0;
  for (; r + R <= rows; r += R) dot_pairs_tile<R, N>(a + r * lda, lda, b, ldb, k, n, out + r * n);
  for (; r < rows; ++r) dot_pairs_tile<1, N>(a + r * lda, lda, b, ldb, k, n, out + r * n);
}

// The tile of each column count, 1..kDotBf16PairsMaxColumns (R rows x N columns).
using DotPairsRowsFn = void (*)(const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, size_t, int64_t,
                                float*);
constexpr DotPairsRowsFn kRowsByColumns[kDotBf16PairsMaxColumns] = {
    &dot_pairs_rows<8, 1>, &dot_pairs_rows<8, 2>, &dot_pairs_rows<6, 3>, &dot_pairs_rows<6, 4>,
    &dot_pairs_rows<4, 5>, &dot_pairs_rows<3, 6>, &dot_pairs_rows<3, 7>, &dot_pairs_rows<2, 8>,
};

void dot_bf16_pairs(const uint16_t* a, int64_t lda, int64_t rows, const uint16_t* b, int64_t ldb, int64_t n,
                    size_t k, float* out) {
  // (Callers keep n in 1..kDotBf16PairsMaxColumns.)
  const int64_t tile = n < 1 ? 1 : n > kDotBf16PairsMaxColumns ? kDotBf16PairsMaxColumns : n;
  kRowsByColumns[tile - 1](a, lda, rows, b, ldb, k, n, out);
}

#undef PAIRS_INLINE

}  // namespace

const DotBf16PairsFn kDotBf16PairsAvx512Bf16 = &dot_bf16_pairs;

}  // namespace cmeter::cpu
