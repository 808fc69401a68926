// FP64 host references of the 1.1 inference ops and the 1.2 training ops (docs/abi-keys.md, "Op
// catalogue 1.1" and "1.2"), written once
// for the conformance checks (each op against its reference over a matrix of shapes) and the model
// workloads (the teacher-forced host forward pass of the decoder). Tensors are row-major arrays of
// double holding the device's values as read back (element_as_double), so rounding to the storage type
// is the caller's business; every reduction here runs in double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cmeter::validate::ref {

// Y = X / sqrt(mean(X^2) + eps) * W per row; y may equal x.
void rmsnorm(const double* x, const double* w, double* y, int64_t rows, int64_t dim, double eps);

// Rotary embedding in place: x is rows x heads x head_dim, pos[r] the row's position (negative: row
// unchanged). interleaved: pairs (2i, 2i+1); otherwise (i, i + head_dim/2).
void rope(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim, bool interleaved,
          double theta);

// Y = softmax(scale * X) per row over the first len[r] columns (len == nullptr: all; <= 0: the row is
// zeros; > cols: cols), zeros after; y may equal x.
void softmax(const double* x, double* y, int64_t rows, int64_t cols, double scale, const int32_t* len);

// Y = silu(G) * U with each row of gu = [G (dim), U (dim)].
void swiglu(const double* gu, double* y, int64_t rows, int64_t dim);

// cache[slot[r]][h][pos[r]][:] = src[r][h][:]; rows with slot or pos out of range are skipped.
void kv_append(const double* src, double* cache, const int32_t* slot, const int32_t* pos, int64_t rows,
               int64_t kv_heads, int64_t head_dim, int64_t slots, int64_t capacity);

// y[r] = table[ids[r]] (an id outside [0, vocab): zeros).
void embedding(const double* table, const int32_t* ids, double* y, int64_t rows, int64_t vocab, int64_t dim);

// out[r] = the lowest index of row r's maximum; NaN never wins; a row of NaN answers 0.
void argmax(const double* x, int32_t* out, int64_t rows, int64_t cols);

// Causal grouped-query attention over the caches (attention.v1): o[r][h] attends to positions
// 0..pos[r] of slot slot[r], KV head h / (heads / kv_heads); rows out of range are zeros.
void attention(const double* q, const double* k_cache, const double* v_cache, const int32_t* slot,
               const int32_t* pos, double* o, int64_t rows, int64_t heads, int64_t kv_heads, int64_t head_dim,
               int64_t slots, int64_t capacity, double scale);

// ---- ABI 1.2 training ops ----

// rmsnorm_backward.v1: dx = r (dy w - xhat mean(dy w xhat)) per row (dx may equal dy); dw[j] =
// sum_rows dy[j] xhat[j] (overwritten; the caller adds for accumulate).
void rmsnorm_backward(const double* x, const double* w, const double* dy, double* dx, double* dw,
                      int64_t rows, int64_t dim, double eps);

// swiglu_backward.v1: dgu rows x (2 dim) = [dG, dU] of y = silu(g) u (dgu may equal gu).
void swiglu_backward(const double* gu, const double* dy, double* dgu, int64_t rows, int64_t dim);

// softmax_backward.v1: dx = scale y (dy - sum(dy y)) over the valid prefix (len as softmax), 0 after.
void softmax_backward(const double* y, const double* dy, double* dx, int64_t rows, int64_t cols, double scale,
                      const int32_t* len);

// rope_backward.v1: the inverse rotation of rope() in place.
void rope_backward(double* x, const int32_t* pos, int64_t rows, int64_t heads, int64_t head_dim,
                   bool interleaved, double theta);

// cross_entropy.v1: loss[r] = logsumexp(x[r]) - x[r][t[r]]; dx (when not null) = (softmax - onehot) *
// grad_scale; a target outside [0, vocab) gives loss 0 and a zero dx row. dx may equal x.
void cross_entropy(const double* x, const int32_t* t, double* loss, double* dx, int64_t rows, int64_t vocab,
                   double grad_scale);

// embedding_backward.v1: dtable[ids[r]] += dy[r] (ids outside [0, vocab) skipped; the caller zeroes).
void embedding_backward(const double* dy, const int32_t* ids, double* dtable, int64_t rows, int64_t vocab,
                        int64_t dim);

// reduce.v1: y = scale * sum (or sum of squares) of x over the rows (axis_rows: y has cols values) or
// the columns (y has rows values); overwritten.
void reduce(const double* x, double* y, int64_t rows, int64_t cols, bool axis_rows, bool squares,
            double scale);

// adamw.v1 on n parameters in place (w, m, v); step < 1 or a non-finite lr/grad_scale changes nothing.
void adamw(double* w, const double* g, double* m, double* v, int64_t n, double lr, double step,
           double grad_scale, double beta1, double beta2, double eps, double weight_decay);

// Normalised mean squared error: sum((got - want)^2) / sum(want^2) (0 when both are all zero; +inf
// when want is all zero and got is not; NaN in got gives NaN).
double nmse(const double* got, const double* want, size_t n);

}  // namespace cmeter::validate::ref
