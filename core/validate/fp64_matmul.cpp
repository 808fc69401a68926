// Register-tiled FP64 dot products (see fp64_matmul.h). A tile is kMi rows of `a` by kNj rows of `b`;
// each of its outputs keeps 8 partial sums (one GCC vector of 8 doubles), so the tile runs kMi * kNj
// independent vector multiply-adds per 8 elements of k instead of one dependent add. On GCC/x86-64 the
// block function is cloned for AVX-512, AVX2 and the baseline, picked at load time (ifunc); the
// vector type lowers to whatever the clone has. Blocks of 32 x 32 outputs go to oneTBB.
#include "core/validate/fp64_matmul.h"

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include <cstring>

namespace cmeter::validate {
namespace {

typedef double V8d __attribute__((vector_size(64)));
typedef float V8f __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CMETER_FP64_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CMETER_FP64_CLONES
#endif
#define CMETER_INLINE inline __attribute__((always_inline))

constexpr int kMi = 8;  // rows of a per tile (8 x 2: 16 accumulators, 35 GFLOP/s on 2 Zen 4 cores; 4 x 2: 30)
constexpr int kNj = 2;  // rows of b per tile
constexpr int64_t kDotBlock = 32;

CMETER_INLINE void dot_load8(const double* p, V8d& v) {
  std::memcpy(&v, p, sizeof v);
}
CMETER_INLINE void dot_load8(const float* p, V8d& v) {
  V8f f;
  std::memcpy(&f, p, sizeof f);
  v = __builtin_convertvector(f, V8d);
}

template <typename TA, int MI, int NJ>
CMETER_INLINE void dot_tile(const TA* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                            int64_t k, bool accumulate) {
  V8d s[MI][NJ];
  for (int ii = 0; ii < MI; ++ii)
    for (int jj = 0; jj < NJ; ++jj) s[ii][jj] = V8d{};
  int64_t l = 0;
  for (; l + 8 <= k; l += 8) {
    V8d av[MI], bv[NJ];
    for (int ii = 0; ii < MI; ++ii) dot_load8(a + ii * lda + l, av[ii]);
    for (int jj = 0; jj < NJ; ++jj) dot_load8(b + jj * ldb + l, bv[jj]);
    for (int ii = 0; ii < MI; ++ii)
      for (int jj = 0; jj < NJ; ++jj) s[ii][jj] += av[ii] * bv[jj];
  }
  for (int ii = 0; ii < MI; ++ii)
    for (int jj = 0; jj < NJ; ++jj) {
      const V8d& v = s[ii][jj];
      double sum = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
      for (int64_t t = l; t < k; ++t) sum += static_cast<double>(a[ii * lda + t]) * b[jj * ldb + t];
      double& out = c[jj * ldc + ii];
      out = accumulate ? out + sum : sum;
    }
}

// Rows i0..i1 of a against rows j0..j1 of b.
template <typename TA>
CMETER_INLINE void dot_block(const TA* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                             int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k, bool accumulate) {
  for (int64_t i = i0; i < i1; i += kMi) {
    const int64_t mi = i1 - i < kMi ? i1 - i : kMi;
    for (int64_t j = j0; j < j1; j += kNj) {
      const int64_t nj = j1 - j < kNj ? j1 - j : kNj;
      const TA* at = a + i * lda;
      const double* bt = b + j * ldb;
      double* ct = c + j * ldc + i;
      if (mi == kMi && nj == kNj) {
        dot_tile<TA, kMi, kNj>(at, lda, bt, ldb, ct, ldc, k, accumulate);
      } else {
        // Edges: one row of b at a time, a rows by 4, 2 or 1.
        for (int64_t jj = 0; jj < nj; ++jj)
          for (int64_t ii = 0; ii < mi;) {
            const double* bj = bt + jj * ldb;
            double* cj = ct + jj * ldc + ii;
            if (mi - ii >= 4) {
              dot_tile<TA, 4, 1>(at + ii * lda, lda, bj, ldb, cj, ldc, k, accumulate);
              ii += 4;
            } else if (mi - ii >= 2) {
              dot_tile<TA, 2, 1>(at + ii * lda, lda, bj, ldb, cj, ldc, k, accumulate);
              ii += 2;
            } else {
              dot_tile<TA, 1, 1>(at + ii * lda, lda, bj, ldb, cj, ldc, k, accumulate);
              ii += 1;
            }
          }
      }
    }
  }
}

CMETER_FP64_CLONES void dot_block_f64(const double* a, int64_t lda, const double* b, int64_t ldb, double* c,
                                      int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k,
                                      bool accumulate) {
  dot_block(a, lda, b, ldb, c, ldc, i0, i1, j0, j1, k, accumulate);
}
CMETER_FP64_CLONES void dot_block_f32(const float* a, int64_t lda, const double* b, int64_t ldb, double* c,
                                      int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k,
                                      bool accumulate) {
  dot_block(a, lda, b, ldb, c, ldc, i0, i1, j0, j1, k, accumulate);
}

template <typename TA, typename Block>
void dot_run(Block fn, const TA* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
             int64_t m, int64_t n, int64_t k, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, m, kDotBlock, 0, n, kDotBlock), [&](const auto& r) {
    fn(a, lda, b, ldb, c, ldc, r.rows().begin(), r.rows().end(), r.cols().begin(), r.cols().end(), k,
       accumulate);
  });
}

#undef CMETER_FP64_CLONES
#undef CMETER_INLINE

}  // namespace

void fp64_dot_products(const double* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                       int64_t m, int64_t n, int64_t k, bool accumulate) {
  dot_run(dot_block_f64, a, lda, b, ldb, c, ldc, m, n, k, accumulate);
}

void fp64_dot_products(const float* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                       int64_t m, int64_t n, int64_t k, bool accumulate) {
  dot_run(dot_block_f32, a, lda, b, ldb, c, ldc, m, n, k, accumulate);
}

}  // namespace cmeter::validate
