// plugins/opencl/train_ops.cpp - the ABI 1.2 training ops on OpenCL: rmsnorm/swiglu/softmax/rope
// backward, cross_entropy, embedding_backward, reduce and adamw (docs/abi-keys.md "Op catalogue 1.2").
//
// Why this file exists: the training workload runs its backward pass and optimiser step through these
// on the same device as the forward ops. Their kernels form one program per storage type (the
// gradient's type for adamw), built in op_create through the program cache, on the inference ops'
// prelude (f16/bf16 by bit operations, VW-wide loads, work-group tree reductions; infer_kernels.hpp);
// rope_backward.v1 is rope.v1's kernel rotating by -angle (infer_ops.cpp). Reductions across rows
// (rmsnorm's DW, reduce over rows) run one work item per column over the rows in order, so results
// are deterministic; the embedding gradient is a scatter-add by compare-and-swap on the f32 bits
// (OpenCL 1.2 has no float atomic add), its order unspecified as the catalogue allows. Per-call values
// (GSCALE, HYPER, targets, ids, lengths) are read by the kernels; adamw's bias corrections come from
// the step in HYPER as -expm1(t ln beta) (exact for small t, unlike 1 - pow in f32).
#include "train_ops.hpp"

#include <climits>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "infer_kernels.hpp"
#include "infer_op.hpp"
#include "infer_ops.hpp"
#include "op_util.hpp"

namespace cmeter::opencl {
namespace {

using namespace infer;  // NOLINT(google-build-using-namespace): the shared op machinery

constexpr const char* kTrainKernels = R"CL(
// ---- ABI 1.2 training ops ----

// rmsnorm_backward.v1 pass 1, one work-group per row: RS[2r] = rsqrt(mean(x^2) + eps), RS[2r+1] =
// dot(dy * w, x).
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_rmsnorm_bwd_stats(const __global ST* x, const __global ST* w, const __global ST* dy,
                              __global float* rs, const ulong dim, const float eps) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0), row = get_group_id(0);
  const ulong base = row * dim, nv = dim / VW;
  FV ssv = (FV)(0.0f), dtv = (FV)(0.0f);
  for (ulong v = lid; v < nv; v += ROWL) {
    const FV a = LDV(x, base + v * VW);
    ssv = fma(a, a, ssv);
    dtv = fma(LDV(dy, base + v * VW) * LDV(w, v * VW), a, dtv);
  }
  float ss = HSUM(ssv), dt = HSUM(dtv);
  for (ulong i = nv * VW + lid; i < dim; i += ROWL) {
    const float a = LD1(x, base + i);
    ss = fma(a, a, ss);
    dt = fma(LD1(dy, base + i) * LD1(w, i), a, dt);
  }
  ss = wg_sum(ss, red);
  dt = wg_sum(dt, red);
  if (lid == 0) {
    rs[2 * row] = 1.0f / sqrt(ss / (float)dim + eps);
    rs[2 * row + 1] = dt;
  }
}
// Pass 2, one item per column: DW[j] (+)= sum over the rows, in order, of dy * x * rs.
__kernel void cmeter_rmsnorm_bwd_dw(const __global ST* x, const __global ST* dy, const __global float* rs,
                                    __global float* dw, const ulong rows, const ulong dim, const int accumulate) {
  const ulong j = get_global_id(0);
  if (j >= dim) return;
  float acc = 0.0f;
  for (ulong r = 0; r < rows; ++r) acc = fma(LD1(dy, r * dim + j) * LD1(x, r * dim + j), rs[2 * r], acc);
  dw[j] = accumulate ? dw[j] + acc : acc;
}
// Pass 3, item (v, row): DX = inv * dy * w - inv^3 * dot / dim * x (DX may be DY: each item reads its
// elements before writing them, and pass 2 ran before).
__kernel void cmeter_rmsnorm_bwd_dx(const __global ST* x, const __global ST* w, const __global ST* dy,
                                    __global ST* dx, const __global float* rs, const ulong dim) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= dim) return;
  const ulong r = get_global_id(1), base = r * dim + i;
  const float inv = rs[2 * r];
  const float c = -inv * inv * inv * rs[2 * r + 1] / (float)dim;
  if (i + VW <= dim) {
    STV(dx, base, inv * LDV(dy, base) * LDV(w, i) + c * LDV(x, base));
  } else {
    for (ulong j = 0; i + j < dim; ++j)
      ST1(dx, base + j, inv * LD1(dy, base + j) * LD1(w, i + j) + c * LD1(x, base + j));
  }
}

// swiglu_backward.v1, item (v, row): dG = dy u s (1 + g (1 - s)), dU = dy g s (DGU may be GU).
__kernel void cmeter_swiglu_bwd(const __global ST* gu, const __global ST* dy, __global ST* dgu, const ulong dim) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= dim) return;
  const ulong r = get_global_id(1);
  const ulong g0 = r * 2 * dim + i, d0 = r * dim + i;
  if (i + VW <= dim) {
    const FV g = LDV(gu, g0), u = LDV(gu, g0 + dim), d = LDV(dy, d0);
    const FV s = 1.0f / (1.0f + exp(-g));
    STV(dgu, g0, d * u * s * (1.0f + g * (1.0f - s)));
    STV(dgu, g0 + dim, d * g * s);
  } else {
    for (ulong j = 0; i + j < dim; ++j) {
      const float g = LD1(gu, g0 + j), u = LD1(gu, g0 + dim + j), d = LD1(dy, d0 + j);
      const float s = 1.0f / (1.0f + exp(-g));
      ST1(dgu, g0 + j, d * u * s * (1.0f + g * (1.0f - s)));
      ST1(dgu, g0 + dim + j, d * g * s);
    }
  }
}

// softmax_backward.v1, one work-group per row: DX = scale * y * (dy - dot(dy, y)) over the valid
// prefix, zeros after (DX may be DY: the dot's reads finish at the reduction's barriers).
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_softmax_bwd(const __global ST* y, const __global ST* dy, __global ST* dx, const __global int* len,
                        const ulong cols, const float scale, const int use_len) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0), row = get_group_id(0), base = row * cols;
  ulong n = cols;
  if (use_len) {
    const int l = len[row];
    n = l <= 0 ? 0 : min((ulong)l, cols);
  }
  const ulong nv = n / VW;
  FV dv = (FV)(0.0f);
  for (ulong v = lid; v < nv; v += ROWL) dv = fma(LDV(dy, base + v * VW), LDV(y, base + v * VW), dv);
  float d = HSUM(dv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) d = fma(LD1(dy, base + i), LD1(y, base + i), d);
  d = wg_sum(d, red);
  for (ulong v = lid; v < nv; v += ROWL)
    STV(dx, base + v * VW, scale * LDV(y, base + v * VW) * (LDV(dy, base + v * VW) - d));
  for (ulong i = nv * VW + lid; i < n; i += ROWL)
    ST1(dx, base + i, scale * LD1(y, base + i) * (LD1(dy, base + i) - d));
  for (ulong i = n + lid; i < cols; i += ROWL) ST1(dx, base + i, 0.0f);
}

// cross_entropy.v1, one work-group per row: LOSS = log(sum exp(x - max)) + max - x[t] (f32); with
// backward DX = (exp(x - max) / sum - onehot(t)) * GSCALE[0]. A target out of range writes LOSS 0 and
// a zero DX row. DX may be X: x[t] is read before the reductions' barriers, every other element by the
// item that rewrites it.
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_cross_entropy(const __global ST* x, const __global int* target, __global float* loss,
                          __global ST* dx, const __global float* gscale, const ulong vocab, const int backward) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0), row = get_group_id(0), base = row * vocab;
  const int t = target[row];
  if (t < 0 || (ulong)t >= vocab) {  // uniform over the work-group
    if (lid == 0) loss[row] = 0.0f;
    if (backward)
      for (ulong i = lid; i < vocab; i += ROWL) ST1(dx, base + i, 0.0f);
    return;
  }
  const float xt = LD1(x, base + (ulong)t);
  const ulong nv = vocab / VW;
  FV mv = (FV)(-INFINITY);
  for (ulong v = lid; v < nv; v += ROWL) mv = fmax(mv, LDV(x, base + v * VW));
  float m = HMAX(mv);
  for (ulong i = nv * VW + lid; i < vocab; i += ROWL) m = fmax(m, LD1(x, base + i));
  m = wg_max(m, red);
  FV sv = (FV)(0.0f);
  for (ulong v = lid; v < nv; v += ROWL) sv += exp(LDV(x, base + v * VW) - m);
  float s = HSUM(sv);
  for (ulong i = nv * VW + lid; i < vocab; i += ROWL) s += exp(LD1(x, base + i) - m);
  s = wg_sum(s, red);
  if (lid == 0) loss[row] = log(s) + m - xt;
  if (!backward) return;
  const float g = gscale[0], k = g / s;
  for (ulong v = lid; v < nv; v += ROWL) {
    const ulong i0 = v * VW;
    if ((ulong)t >= i0 && (ulong)t < i0 + VW) {
      for (ulong j = i0; j < i0 + VW; ++j)
        ST1(dx, base + j, exp(LD1(x, base + j) - m) * k - (j == (ulong)t ? g : 0.0f));
    } else {
      STV(dx, base + i0, exp(LDV(x, base + i0) - m) * k);
    }
  }
  for (ulong i = nv * VW + lid; i < vocab; i += ROWL)
    ST1(dx, base + i, exp(LD1(x, base + i) - m) * k - (i == (ulong)t ? g : 0.0f));
}

// f32 add by compare-and-swap on the bits.
void atomic_add_f32(volatile __global float* p, const float v) {
  volatile __global uint* u = (volatile __global uint*)p;
  uint old = *u, assumed;
  do {
    assumed = old;
    old = atomic_cmpxchg(u, assumed, as_uint(as_float(assumed) + v));
  } while (old != assumed);
}
// embedding_backward.v1, item (v, row): DTABLE[IDS[r]][v*VW..] += DY[r][v*VW..]; ids out of range skipped.
__kernel void cmeter_embedding_bwd(const __global ST* dy, const __global int* ids, __global float* table,
                                   const int vocab, const ulong dim) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= dim) return;
  const ulong r = get_global_id(1);
  const int id = ids[r];
  if (id < 0 || id >= vocab) return;
  for (ulong j = i; j < min(i + VW, dim); ++j) atomic_add_f32(table + (ulong)id * dim + j, LD1(dy, r * dim + j));
}

// reduce.v1 over each row (axis cols), one work-group per row.
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_reduce_row(const __global ST* x, __global float* y, const ulong cols, const float scale,
                       const int squares, const int accumulate) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0), row = get_group_id(0), base = row * cols, nv = cols / VW;
  FV av = (FV)(0.0f);
  for (ulong v = lid; v < nv; v += ROWL) {
    const FV a = LDV(x, base + v * VW);
    av = squares ? fma(a, a, av) : av + a;
  }
  float s = HSUM(av);
  for (ulong i = nv * VW + lid; i < cols; i += ROWL) {
    const float a = LD1(x, base + i);
    s = squares ? fma(a, a, s) : s + a;
  }
  s = wg_sum(s, red);
  if (lid == 0) y[row] = accumulate ? y[row] + scale * s : scale * s;
}
// reduce.v1 over the rows (axis rows), one item per column, rows in order.
__kernel void cmeter_reduce_col(const __global ST* x, __global float* y, const ulong rows, const ulong cols,
                                const float scale, const int squares, const int accumulate) {
  const ulong c = get_global_id(0);
  if (c >= cols) return;
  float s = 0.0f;
  for (ulong r = 0; r < rows; ++r) {
    const float a = LD1(x, r * cols + c);
    s = squares ? fma(a, a, s) : s + a;
  }
  y[c] = accumulate ? y[c] + scale * s : scale * s;
}

// adamw.v1, one item per VW parameters; G in ST, W_OUT in the kernel's output type. HYPER = (lr, step,
// grad_scale); a step below 1 or a non-finite lr/grad_scale changes nothing.
#define ADAMW(NAME, OT, STV_OUT, ST1_OUT)                                                                 \
  __kernel void NAME(__global float* w, const __global ST* g, __global float* m, __global float* v,      \
                     __global OT* wout, const __global float* hyper, const ulong n, const float b1,      \
                     const float c1, const float b2, const float c2, const float ln_b1, const float ln_b2, \
                     const float eps, const float wd) {                                                   \
    const float lr = hyper[0], step = hyper[1], gs = hyper[2];                                           \
    if (!(step >= 1.0f) || !isfinite(lr) || !isfinite(gs)) return;                                      \
    const float bc1 = -expm1(step * ln_b1), bc2 = -expm1(step * ln_b2);                                  \
    const float ss = lr / bc1, ib = 1.0f / sqrt(bc2), decay = 1.0f - lr * wd;                            \
    const ulong i = (ulong)get_global_id(0) * VW;                                                        \
    if (i + VW <= n) {                                                                                   \
      const FV gg = LDV(g, i) * gs;                                                                      \
      const FV mm = b1 * ldv_f32(m, i) + c1 * gg;                                                        \
      const FV vv = b2 * ldv_f32(v, i) + c2 * (gg * gg);                                                 \
      const FV ww = ldv_f32(w, i) * decay - ss * mm / (sqrt(vv) * ib + eps);                             \
      stv_f32(m, i, mm);                                                                                 \
      stv_f32(v, i, vv);                                                                                 \
      stv_f32(w, i, ww);                                                                                 \
      STV_OUT(wout, i, ww);                                                                              \
    } else {                                                                                             \
      for (ulong j = i; j < n; ++j) {                                                                    \
        const float gg = LD1(g, j) * gs;                                                                 \
        const float mm = b1 * m[j] + c1 * gg;                                                            \
        const float vv = b2 * v[j] + c2 * (gg * gg);                                                     \
        const float ww = w[j] * decay - ss * mm / (sqrt(vv) * ib + eps);                                 \
        m[j] = mm;                                                                                       \
        v[j] = vv;                                                                                       \
        w[j] = ww;                                                                                       \
        ST1_OUT(wout, j, ww);                                                                            \
      }                                                                                                  \
    }                                                                                                    \
  }
ADAMW(cmeter_adamw_f32, float, stv_f32, st1_f32)
ADAMW(cmeter_adamw_f16, ushort, stv_f16, st1_f16)
ADAMW(cmeter_adamw_bf16, ushort, stv_bf16, st1_bf16)
)CL";

// The training ops' base: the training program instead of the inference one.
class TrainOp : public InferOp {
 public:
  using InferOp::InferOp;

 protected:
  std::string source() const override { return program_prelude(kc_) + kTrainKernels; }
};

// ---- rmsnorm_backward.v1 ----

class RmsNormBackwardOp final : public TrainOp {
 public:
  RmsNormBackwardOp(CMTR_Device* device, const sdk::RmsNormBackwardParams& p, Elem type)
      : TrainOp(device, "rmsnorm_backward.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_rmsnorm_bwd_stats", &stats_)) return e;
    if (CMTR_Error* e = build(params, num_params, "cmeter_rmsnorm_bwd_dw", &dw_)) return e;
    if (CMTR_Error* e = build(params, num_params, "cmeter_rmsnorm_bwd_dx", &dx_)) return e;
    if (CMTR_Error* e = scratch_buffer(dev(), what(), static_cast<uint64_t>(p_.rows) * 8, &rs_)) return e;
    row_geometry(&stats_, static_cast<uint64_t>(p_.rows));
    item_geometry(&dw_, static_cast<uint64_t>(p_.dim), 1);
    item_geometry(&dx_, (static_cast<uint64_t>(p_.dim) + kc_.vw - 1) / kc_.vw,
                  static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), d.get(), 0)) return e;
    for (const Launch* l : {&stats_, &dw_, &dx_})
      if (CMTR_Error* e = prime_launch(*l)) return e;
    describe(
        "per-row rms and dot (work-group reductions), DW one item per column over the rows in order, "
        "DX per vector",
        stats_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e =
            set(b[0]->mem, b[1]->mem, b[2]->mem, b[3]->mem, b[4]->mem, static_cast<cl_ulong>(p_.dim)))
      return e;
    for (const Launch* l : {&stats_, &dw_, &dx_})
      if (CMTR_Error* e = run(queue, *l)) return e;
    return nullptr;
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem w, cl_mem dy, cl_mem dx, cl_mem dw, cl_ulong dim) {
    const cl_ulong rows = dim == 0 ? 0 : static_cast<cl_ulong>(p_.rows);
    cl_int err = set_args(stats_.kernel.get(), x, w, dy, rs_.get(), dim, static_cast<float>(p_.eps));
    if (err == CL_SUCCESS)
      err = set_args(dw_.kernel.get(), x, dy, rs_.get(), dw, rows, dim, static_cast<cl_int>(p_.accumulate));
    if (err == CL_SUCCESS) err = set_args(dx_.kernel.get(), x, w, dy, dx, rs_.get(), dim);
    return arg_error(err);
  }
  sdk::RmsNormBackwardParams p_;
  Launch stats_, dw_, dx_;
  MemPtr rs_;
};

// ---- swiglu_backward.v1 ----

class SwigluBackwardOp final : public TrainOp {
 public:
  SwigluBackwardOp(CMTR_Device* device, const sdk::SwigluBackwardParams& p, Elem type)
      : TrainOp(device, "swiglu_backward.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_swiglu_bwd", &l_)) return e;
    item_geometry(&l_, (static_cast<uint64_t>(p_.dim) + kc_.vw - 1) / kc_.vw, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = arg_error(set_args(l_.kernel.get(), d.get(), d.get(), d.get(), cl_ulong{0})))
      return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe("one work item per vector of a row, sigmoid by exp", l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = arg_error(
            set_args(l_.kernel.get(), b[0]->mem, b[1]->mem, b[2]->mem, static_cast<cl_ulong>(p_.dim))))
      return e;
    return run(queue, l_);
  }

 private:
  sdk::SwigluBackwardParams p_;
  Launch l_;
};

// ---- softmax_backward.v1 ----

class SoftmaxBackwardOp final : public TrainOp {
 public:
  SoftmaxBackwardOp(CMTR_Device* device, const sdk::SoftmaxBackwardParams& p, Elem type)
      : TrainOp(device, "softmax_backward.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_softmax_bwd", &l_)) return e;
    row_geometry(&l_, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(std::string("one work-group per row, dot(dy, y) as an f32 tree reduction") +
                 (p_.lengths ? ", per-row lengths" : ""),
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, p_.lengths ? b[3]->mem : b[0]->mem,
                            static_cast<cl_ulong>(p_.cols)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem y, cl_mem dy, cl_mem dx, cl_mem len, cl_ulong cols) {
    return arg_error(set_args(l_.kernel.get(), y, dy, dx, len, cols, static_cast<float>(p_.scale),
                              static_cast<cl_int>(p_.lengths ? 1 : 0)));
  }
  sdk::SoftmaxBackwardParams p_;
  Launch l_;
};

// ---- cross_entropy.v1 ----

class CrossEntropyOp final : public TrainOp {
 public:
  CrossEntropyOp(CMTR_Device* device, const sdk::CrossEntropyParams& p, Elem type)
      : TrainOp(device, "cross_entropy.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_cross_entropy", &l_)) return e;
    row_geometry(&l_, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(std::string("one work-group per row: max and sum of exp as f32 tree reductions") +
                 (p_.backward ? ", DX in the same pass" : ", loss only"),
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    // Without backward the kernel never touches DX or GSCALE; X stands in for them.
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, p_.backward ? b[3]->mem : b[0]->mem,
                            p_.backward ? b[4]->mem : b[0]->mem, static_cast<cl_ulong>(p_.vocab)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem t, cl_mem loss, cl_mem dx, cl_mem gscale, cl_ulong vocab) {
    return arg_error(
        set_args(l_.kernel.get(), x, t, loss, dx, gscale, vocab, static_cast<cl_int>(p_.backward ? 1 : 0)));
  }
  sdk::CrossEntropyParams p_;
  Launch l_;
};

// ---- embedding_backward.v1 ----

class EmbeddingBackwardOp final : public TrainOp {
 public:
  EmbeddingBackwardOp(CMTR_Device* device, const sdk::EmbeddingBackwardParams& p, Elem type)
      : TrainOp(device, "embedding_backward.v1", type), p_(p) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, "cmeter_embedding_bwd", &l_)) return e;
    item_geometry(&l_, (static_cast<uint64_t>(p_.dim) + kc_.vw - 1) / kc_.vw, static_cast<uint64_t>(p_.rows));
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(std::string(p_.accumulate ? "" : "clEnqueueFillBuffer zeroes DTABLE, then ") +
                 "one work item per vector of a row, f32 adds by atomic_cmpxchg",
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (!p_.accumulate) {
      const cl_float zero = 0.0f;
      const cl_int err = clEnqueueFillBuffer(queue, b[2]->mem, &zero, sizeof zero, 0,
                                             static_cast<size_t>(p_.table_bytes), 0, nullptr, nullptr);
      if (err != CL_SUCCESS)
        return cl_failure("embedding_backward.v1 op_enqueue", "clEnqueueFillBuffer", err);
    }
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, static_cast<cl_ulong>(p_.dim))) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem dy, cl_mem ids, cl_mem table, cl_ulong dim) {
    return arg_error(set_args(l_.kernel.get(), dy, ids, table, static_cast<cl_int>(p_.vocab), dim));
  }
  sdk::EmbeddingBackwardParams p_;
  Launch l_;
};

// ---- reduce.v1 ----

class ReduceOp final : public TrainOp {
 public:
  ReduceOp(CMTR_Device* device, const sdk::ReduceParams& p, Elem type)
      : TrainOp(device, "reduce.v1", type), p_(p) {
    // A column (cols = 1) reduced over its rows is one contiguous row.
    per_row_ = p.axis == sdk::ReduceAxis::kCols || p.cols == 1;
  }

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    if (CMTR_Error* e = build(params, num_params, per_row_ ? "cmeter_reduce_row" : "cmeter_reduce_col", &l_))
      return e;
    if (per_row_)
      row_geometry(&l_, p_.axis == sdk::ReduceAxis::kCols ? static_cast<uint64_t>(p_.rows) : 1);
    else
      item_geometry(&l_, static_cast<uint64_t>(p_.cols), 1);
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;
    if (CMTR_Error* e = set(d.get(), d.get(), true)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(per_row_ ? "one work-group per reduced row, f32 tree reduction"
                      : "one work item per column over the rows in order",
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, false)) return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem x, cl_mem y, bool empty) {
    const float scale = static_cast<float>(p_.scale);
    const cl_int squares = p_.kind == sdk::ReduceKind::kSumSquares ? 1 : 0, acc = p_.accumulate ? 1 : 0;
    if (per_row_) {
      const cl_ulong cols =
          empty ? 0 : static_cast<cl_ulong>(p_.axis == sdk::ReduceAxis::kCols ? p_.cols : p_.rows);
      return arg_error(set_args(l_.kernel.get(), x, y, cols, scale, squares, acc));
    }
    const cl_ulong rows = empty ? 0 : static_cast<cl_ulong>(p_.rows),
                   cols = empty ? 0 : static_cast<cl_ulong>(p_.cols);
    return arg_error(set_args(l_.kernel.get(), x, y, rows, cols, scale, squares, acc));
  }
  sdk::ReduceParams p_;
  bool per_row_ = true;
  Launch l_;
};

// ---- adamw.v1 ----

class AdamwOp final : public TrainOp {
 public:
  AdamwOp(CMTR_Device* device, const sdk::AdamwParams& p, Elem grad_type, Elem out_type)
      : TrainOp(device, "adamw.v1", grad_type), p_(p), out_(out_type) {}

  CMTR_Error* init(const CMTR_KeyValue* params, size_t num_params) {
    const std::string kernel = std::string("cmeter_adamw_") + elem_name(out_);
    if (CMTR_Error* e = build(params, num_params, kernel.c_str(), &l_)) return e;
    item_geometry(&l_, (static_cast<uint64_t>(p_.n) + kc_.vw - 1) / kc_.vw, 1);
    MemPtr d;
    if (CMTR_Error* e = dummy(&d)) return e;  // zeros: HYPER's step 0 is the skip
    if (CMTR_Error* e = set(d.get(), d.get(), d.get(), d.get(), d.get(), d.get(), 0)) return e;
    if (CMTR_Error* e = prime_launch(l_)) return e;
    describe(std::string("one work item per vector, f32 master weights and moments, bias corrections "
                         "-expm1(t ln beta) from HYPER's step, copy out to ") +
                 elem_name(out_),
             l_);
    return nullptr;
  }
  CMTR_Error* enqueue(cl_command_queue queue, CMTR_Buffer* const* b, size_t n) override {
    if (CMTR_Error* e = check(b, n, p_.buffer_needs())) return e;
    if (CMTR_Error* e = set(b[0]->mem, b[1]->mem, b[2]->mem, b[3]->mem, b[4]->mem, b[5]->mem,
                            static_cast<cl_ulong>(p_.n)))
      return e;
    return run(queue, l_);
  }

 private:
  CMTR_Error* set(cl_mem w, cl_mem g, cl_mem m, cl_mem v, cl_mem wout, cl_mem hyper, cl_ulong n) {
    return arg_error(set_args(l_.kernel.get(), w, g, m, v, wout, hyper, n, static_cast<float>(p_.beta1),
                              static_cast<float>(1.0 - p_.beta1), static_cast<float>(p_.beta2),
                              static_cast<float>(1.0 - p_.beta2), static_cast<float>(std::log(p_.beta1)),
                              static_cast<float>(std::log(p_.beta2)), static_cast<float>(p_.eps),
                              static_cast<float>(p_.weight_decay)));
  }
  sdk::AdamwParams p_;
  Elem out_;
  Launch l_;
};

}  // namespace

OpPlan plan_training_op(CMTR_Device* device, std::string_view name, const CMTR_KeyValue* params,
                        size_t num_params, bool create) {
  auto parsed = sdk::parse_training_op(name, params, num_params);
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  const std::string n(name);
  if (auto* p = std::get_if<sdk::RmsNormBackwardParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<RmsNormBackwardOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::SwigluBackwardParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->gu_bytes})) return std::move(*r);
    return finish<SwigluBackwardOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::SoftmaxBackwardParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<SoftmaxBackwardOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::RopeBackwardParams>(&parsed.value))
    return plan_rope_op(device, *p, /*inverse=*/true, create, params, num_params);
  if (auto* p = std::get_if<sdk::CrossEntropyParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<CrossEntropyOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::EmbeddingBackwardParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->dy_bytes, p->table_bytes})) return std::move(*r);
    if (p->vocab > INT_MAX)
      return answer(OpPlan::kUnsupported, "embedding_backward.v1 on opencl: vocab must fit an i32");
    return finish<EmbeddingBackwardOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::ReduceParams>(&parsed.value)) {
    if (auto r = refuse(n.c_str(), device, *p, {p->x_bytes})) return std::move(*r);
    return finish<ReduceOp>(device, *p, *storage_of(p->dtype), create, params, num_params);
  }
  if (auto* p = std::get_if<sdk::AdamwParams>(&parsed.value)) {
    const uint64_t max_alloc = static_cast<uint64_t>(device->state->info.max_alloc_bytes);
    if (!storage_of(p->dtype_grad) || !storage_of(p->dtype_out))
      return answer(OpPlan::kUnsupported,
                    "adamw.v1 on opencl: dtype_grad and dtype_out must be f16, bf16 or f32");
    if (p->state_bytes > max_alloc)
      return answer(OpPlan::kUnsupported,
                    "adamw.v1 on opencl: a buffer would exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    return finish<AdamwOp>(device, *p, *storage_of(p->dtype_grad), create, params, num_params,
                           *storage_of(p->dtype_out));
  }
  return answer(OpPlan::kUnsupported, n + " is not implemented by the opencl plugin");
}

}  // namespace cmeter::opencl
