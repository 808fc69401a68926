// The FP64 matrix product under the model workloads' host references: the teacher-forced forward of
// the decoder (models::LlmReference), the op-local check of every gemm.v1 step of its graph
// (workloads::StepChecker) and the training references. A scalar triple loop ran at ~1 GFLOP/s a core
// (each dot product one chain of dependent adds), so on 2 cores an llm-1b case spent ~9 minutes of its
// ~9.5 on the host reference, and llm-8b on a GPU host did not fit a device session. Here every
// product and every sum is still FP64 (no lower precision, no reassociation beyond splitting each dot
// product into 8 interleaved partial sums, added pairwise at the end), register-tiled on GCC vector
// types and spread over oneTBB.
#pragma once

#include <cstdint>

namespace cmeter::validate {

// c[j * ldc + i] = sum over l < k of a[i * lda + l] * b[j * ldb + l], for i < m and j < n (each output
// the dot product of row i of `a` and row j of `b`); with `accumulate`, added to c instead. `a` holds
// doubles or floats (weights, widened exactly); `b` and `c` are doubles; c must not overlap a or b.
void fp64_dot_products(const double* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                       int64_t m, int64_t n, int64_t k, bool accumulate);
void fp64_dot_products(const float* a, int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc,
                       int64_t m, int64_t n, int64_t k, bool accumulate);

}  // namespace cmeter::validate
