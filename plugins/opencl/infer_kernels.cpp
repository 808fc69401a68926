// plugins/opencl/infer_kernels.cpp - the inference ops' OpenCL C program (see infer_kernels.hpp).
//
// Conventions of the program: `ST` is the storage type of `dtype` (float or ushort), `FV` a float
// vector of VW lanes; LD1/LDV load one element / VW consecutive elements as f32, ST1/STV store
// rounded once (nearest even). Every index is a ulong (a KV cache passes 2^31 elements easily).
// Vector loads need only element alignment (vloadn), so rows of any length take the vector path,
// with a scalar tail.
#include "infer_kernels.hpp"

#include <string>

namespace cmeter::opencl {
namespace {

const char* type_suffix(Elem t) {
  switch (t) {
    case Elem::kF16:
      return "f16";
    case Elem::kBF16:
      return "bf16";
    default:
      return "f32";
  }
}

// Conversions and typed loads/stores for the three storage types (suffixes _f32, _f16, _bf16).
constexpr const char* kHelpers = R"CL(
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FV CAT(float, VW)
#define UV CAT(uint, VW)
#define IV CAT(int, VW)
#define SV CAT(ushort, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define AS_FV CAT(as_float, VW)
#define AS_UV CAT(as_uint, VW)
#define CONVERT_UV CAT(convert_uint, VW)
#define CONVERT_SV CAT(convert_ushort, VW)

// binary16 -> binary32, exact: exponent and mantissa moved into place and rescaled by 2^112 (also
// right for subnormals), Inf/NaN given the all-ones exponent.
float h2f(ushort h) {
  uint u = h;
  uint em = (u & 0x7fffu) << 13;
  float f = as_float(em) * 0x1p112f;
  f = em >= 0x0f800000u ? as_float(em | 0x7f800000u) : f;
  return as_float(as_uint(f) | ((u & 0x8000u) << 16));
}
FV h2fv(SV h) {
  UV u = CONVERT_UV(h);
  UV o = ((u & 0x7fffu) << 13) + 0x38000000u;  // exponent rebiased (normal numbers)
  UV e = u & 0x7c00u;
  o = select(o, o + 0x38000000u, e == 0x7c00u);  // Inf/NaN: the all-ones exponent
  o = select(o, AS_UV(AS_FV(o + 0x00800000u) - 0x1p-14f), e == 0u);  // zero and subnormals, exactly
  return AS_FV(o | ((u & 0x8000u) << 16));
}
// binary32 -> binary16, round to nearest even, without conversions that PoCL scalarises: |x| >= 2^16
// is Inf (NaN stays NaN); below 2^-14 the float addition of 0.5 rounds to the subnormal quantum 2^-24
// (in hardware, to even) and the low bits are the result; otherwise the exponent is rebiased and the
// 13 dropped bits rounded to even (a carry into the exponent is right, up to Inf from 65520).
ushort f2h(float f) {
  uint x = as_uint(f);
  uint sign = (x >> 16) & 0x8000u;
  uint ax = x & 0x7fffffffu;
  uint r;
  if (ax >= 0x47800000u) {
    r = ax > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (ax < 0x38800000u) {
    r = as_uint(as_float(ax) + 0.5f) - 0x3f000000u;
  } else {
    r = (ax - 0x38000000u + 0x0fffu + ((ax >> 13) & 1u)) >> 13;
  }
  return (ushort)(r | sign);
}
SV f2hv(FV f) {
  UV x = AS_UV(f);
  UV sign = (x >> 16) & 0x8000u;
  UV ax = x & 0x7fffffffu;
  UV r = (ax - 0x38000000u + 0x0fffu + ((ax >> 13) & 1u)) >> 13;
  r = select(r, AS_UV(AS_FV(ax) + 0.5f) - 0x3f000000u, ax < 0x38800000u);
  r = select(r, (UV)(0x7c00u), ax >= 0x47800000u);
  r = select(r, (UV)(0x7e00u), ax > 0x7f800000u);
  return CONVERT_SV(r | sign);
}
// bfloat16: the top half of an f32, rounded to nearest even; NaN stays a (quiet) NaN.
float bf2f(ushort h) { return as_float((uint)h << 16); }
FV bf2fv(SV h) { return AS_FV(CONVERT_UV(h) << 16); }
ushort f2bf(float f) {
  uint u = as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40u);
  return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
SV f2bfv(FV f) {
  UV u = AS_UV(f);
  UV r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  r = select(r, (u >> 16) | 0x40u, (u & 0x7fffffffu) > 0x7f800000u);
  return CONVERT_SV(r);
}

float ld1_f32(const __global float* p, ulong i) { return p[i]; }
FV ldv_f32(const __global float* p, ulong i) { return VLOAD(0, p + i); }
void st1_f32(__global float* p, ulong i, float v) { p[i] = v; }
void stv_f32(__global float* p, ulong i, FV v) { VSTORE(v, 0, p + i); }
float ld1_f16(const __global ushort* p, ulong i) { return h2f(p[i]); }
FV ldv_f16(const __global ushort* p, ulong i) { return h2fv(VLOAD(0, p + i)); }
void st1_f16(__global ushort* p, ulong i, float v) { p[i] = f2h(v); }
void stv_f16(__global ushort* p, ulong i, FV v) { VSTORE(f2hv(v), 0, p + i); }
float ld1_bf16(const __global ushort* p, ulong i) { return bf2f(p[i]); }
FV ldv_bf16(const __global ushort* p, ulong i) { return bf2fv(VLOAD(0, p + i)); }
void st1_bf16(__global ushort* p, ulong i, float v) { p[i] = f2bf(v); }
void stv_bf16(__global ushort* p, ulong i, FV v) { VSTORE(f2bfv(v), 0, p + i); }
)CL";

// Tree reductions over a work-group of ROWL items (a power of two) in local memory.
constexpr const char* kReductions = R"CL(
// Tree reductions over the work-group (ROWL items, a power of two) in local memory.
float wg_sum(float v, __local float* red) {
  const int lid = get_local_id(0);
  red[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}
float wg_max(float v, __local float* red) {
  const int lid = get_local_id(0);
  red[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}

)CL";

// The ops. ROWL is the row kernels' work-group size.
constexpr const char* kOps = R"CL(
// rmsnorm.v1: Y = X * rsqrt(mean(X^2) + eps) * W, one work-group per row; Y may be X (each item
// rewrites only what it read, after the reduction's barriers).
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_rmsnorm(const __global ST* x, const __global ST* w, __global ST* y, const ulong dim,
                    const float eps) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0);
  const ulong base = (ulong)get_group_id(0) * dim;
  const ulong nv = dim / VW;
  FV accv = (FV)(0.0f);
  for (ulong v = lid; v < nv; v += ROWL) {
    const FV a = LDV(x, base + v * VW);
    accv = fma(a, a, accv);
  }
  float acc = HSUM(accv);
  for (ulong i = nv * VW + lid; i < dim; i += ROWL) {
    const float a = LD1(x, base + i);
    acc = fma(a, a, acc);
  }
  const float total = wg_sum(acc, red);
  const float inv = 1.0f / sqrt(total / (float)dim + eps);
  for (ulong v = lid; v < nv; v += ROWL)
    STV(y, base + v * VW, LDV(x, base + v * VW) * inv * LDV(w, v * VW));
  for (ulong i = nv * VW + lid; i < dim; i += ROWL) ST1(y, base + i, LD1(x, base + i) * inv * LD1(w, i));
}

// softmax.v1 over each row's valid prefix (use_len: LEN[row] clamped to [0, cols], else cols),
// zeros after; max subtracted first; one work-group per row; Y may be X.
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_softmax(const __global ST* x, __global ST* y, const __global int* len, const ulong cols,
                    const float scale, const int use_len) {
  __local float red[ROWL];
  const ulong lid = get_local_id(0);
  const ulong row = get_group_id(0);
  const ulong base = row * cols;
  ulong n = cols;
  if (use_len) {
    const int l = len[row];
    n = l <= 0 ? 0 : min((ulong)l, cols);
  }
  const ulong nv = n / VW;
  FV mv = (FV)(-INFINITY);
  for (ulong v = lid; v < nv; v += ROWL) mv = fmax(mv, scale * LDV(x, base + v * VW));
  float m = HMAX(mv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) m = fmax(m, scale * LD1(x, base + i));
  m = wg_max(m, red);
  FV sv = (FV)(0.0f);
#if STORAGE_F32
  // f32 storage: the exponentials go to Y (an f32 store of an f32 value: no extra rounding) and are
  // read back for the scaling, one exp per element instead of two. Each item rereads what it wrote.
  for (ulong v = lid; v < nv; v += ROWL) {
    const FV e = exp(scale * LDV(x, base + v * VW) - m);
    STV(y, base + v * VW, e);
    sv += e;
  }
  float s = HSUM(sv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) {
    const float e = exp(scale * LD1(x, base + i) - m);
    ST1(y, base + i, e);
    s += e;
  }
  const float inv = 1.0f / wg_sum(s, red);
  for (ulong v = lid; v < nv; v += ROWL) STV(y, base + v * VW, LDV(y, base + v * VW) * inv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) ST1(y, base + i, LD1(y, base + i) * inv);
#else
  for (ulong v = lid; v < nv; v += ROWL) sv += exp(scale * LDV(x, base + v * VW) - m);
  float s = HSUM(sv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) s += exp(scale * LD1(x, base + i) - m);
  const float inv = 1.0f / wg_sum(s, red);
  for (ulong v = lid; v < nv; v += ROWL)
    STV(y, base + v * VW, exp(scale * LDV(x, base + v * VW) - m) * inv);
  for (ulong i = nv * VW + lid; i < n; i += ROWL) ST1(y, base + i, exp(scale * LD1(x, base + i) - m) * inv);
#endif
  for (ulong i = n + lid; i < cols; i += ROWL) ST1(y, base + i, 0.0f);
}

// rope.v1 in place: item (i, row) rotates pair i of every head of the row (one sine and cosine per
// pair and row, shared by the heads). The angle pos * f_i is formed from f_i as a float pair (hi + lo,
// from the host in double): the rounding error of pos * hi (an fma) and pos * lo are added to the
// angle's sine and cosine to first order, so the rotation is as accurate as f32 allows even at large
// positions.
// inverse (rope_backward.v1): the rotation by -angle.
__kernel void cmeter_rope(__global ST* x, const __global int* pos, const __global float* freq,
                          const ulong heads, const ulong head_dim, const int interleaved, const int inverse) {
  const ulong i = get_global_id(0);
  const ulong half_dim = head_dim / 2;
  if (i >= half_dim) return;
  const ulong row = get_global_id(1);
  const int p = pos[row];
  if (p < 0) return;
  const float pf = (float)p;
  const float hi = freq[i], lo = freq[half_dim + i];
  const float a_hi = pf * hi;
  const float a_lo = fma(pf, hi, -a_hi) + pf * lo;
  float c;
  const float s0 = sincos(a_hi, &c);
  const float sn1 = fma(c, a_lo, s0), cs = fma(-s0, a_lo, c);
  const float sn = inverse ? -sn1 : sn1;
  const ulong ia = interleaved ? 2 * i : i, ib = interleaved ? 2 * i + 1 : i + half_dim;
  for (ulong h = 0; h < heads; ++h) {
    const ulong base = (row * heads + h) * head_dim;
    const float a = LD1(x, base + ia), b = LD1(x, base + ib);
    ST1(x, base + ia, a * cs - b * sn);
    ST1(x, base + ib, a * sn + b * cs);
  }
}

// swiglu.v1: Y[r][i] = silu(GU[r][i]) * GU[r][dim + i]; item (v, r) does elements v*VW.. of row r.
__kernel void cmeter_swiglu(const __global ST* gu, __global ST* y, const ulong dim) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= dim) return;
  const ulong r = get_global_id(1);
  const ulong g0 = r * 2 * dim + i, y0 = r * dim + i;
  if (i + VW <= dim) {
    const FV g = LDV(gu, g0), u = LDV(gu, g0 + dim);
    STV(y, y0, g / (1.0f + exp(-g)) * u);
  } else {
    for (ulong j = 0; i + j < dim; ++j) {
      const float g = LD1(gu, g0 + j), u = LD1(gu, g0 + dim + j);
      ST1(y, y0 + j, g / (1.0f + exp(-g)) * u);
    }
  }
}

// Copies `n` elements (raw storage bits) from s to d: VW at a time, then the tail.
void copy_elems(const __global ST* s, __global ST* d, const ulong i, const ulong n) {
  if (i + VW <= n) {
    VSTORE(VLOAD(0, s + i), 0, d + i);
  } else {
    for (ulong j = i; j < n; ++j) d[j] = s[j];
  }
}

// kv_append.v1: item (v, h, r) copies elements v*VW.. of head h of row r to CACHE[SLOT[r]][h][POS[r]];
// rows whose slot or position is out of range are skipped.
__kernel void cmeter_kv_append(const __global ST* src, __global ST* cache, const __global int* slot,
                               const __global int* pos, const ulong kv_heads, const ulong head_dim,
                               const int slots, const int capacity) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= head_dim) return;
  const ulong h = get_global_id(1), r = get_global_id(2);
  const int s = slot[r], p = pos[r];
  if (s < 0 || s >= slots || p < 0 || p >= capacity) return;
  copy_elems(src + (r * kv_heads + h) * head_dim,
             cache + (((ulong)s * kv_heads + h) * (ulong)capacity + (ulong)p) * head_dim, i, head_dim);
}

// embedding.v1: item (v, r) copies elements v*VW.. of TABLE[IDS[r]] (zeros for an id out of range).
__kernel void cmeter_embedding(const __global ST* table, const __global int* ids, __global ST* y,
                               const int vocab, const ulong dim) {
  const ulong i = (ulong)get_global_id(0) * VW;
  if (i >= dim) return;
  const ulong r = get_global_id(1);
  const int id = ids[r];
  if (id < 0 || id >= vocab) {
    for (ulong j = i; j < min(i + VW, dim); ++j) y[r * dim + j] = (ST)0;
    return;
  }
  copy_elems(table + (ulong)id * dim, y + r * dim, i, dim);
}

// argmax.v1: (v, i) beats (bv, bi) when v is not NaN and larger, or equal with a lower index; the
// empty candidate is (NaN, INT_MAX), so a row of NaN ends with INT_MAX, answered as 0.
bool am_better(float v, int i, float bv, int bi) {
  if (isnan(v)) return false;
  if (isnan(bv)) return true;
  return v > bv || (v == bv && i < bi);
}
void am_reduce(float* bv, int* bi, __local float* rv, __local int* ri) {
  const int lid = get_local_id(0);
  rv[lid] = *bv;
  ri[lid] = *bi;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s && am_better(rv[lid + s], ri[lid + s], rv[lid], ri[lid])) {
      rv[lid] = rv[lid + s];
      ri[lid] = ri[lid + s];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  *bv = rv[0];
  *bi = ri[0];
}
// First level: work-group g of row r reduces columns [g*chunk, (g+1)*chunk) (chunk a multiple of VW)
// to one candidate in PV/PI[r * chunks + g]: the chunk's maximum by vector fmax (which ignores NaN),
// then the lowest index holding it (a second read, from cache). A chunk of NaN gives (-inf, INT_MAX),
// which any real candidate beats.
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_argmax_part(const __global ST* x, __global float* pv, __global int* pi, const ulong cols,
                        const ulong chunk) {
  __local float rv[ROWL];
  __local int ri[ROWL];
  const ulong lid = get_local_id(0), g = get_group_id(0), r = get_group_id(1), chunks = get_num_groups(0);
  const ulong begin = g * chunk, end = min(begin + chunk, cols);
  const ulong base = r * cols;
  FV mv = (FV)(-INFINITY);
  ulong i = begin + lid * VW;
  for (; i + VW <= end; i += ROWL * VW) mv = fmax(mv, LDV(x, base + i));
  float m = HMAX(mv);
  for (ulong j = i; j < end; ++j) m = fmax(m, LD1(x, base + j));  // a partial vector at the end
  m = wg_max(m, rv);
  int bi = INT_MAX;
  for (i = begin + lid * VW; i + VW <= end && bi == INT_MAX; i += ROWL * VW) {
    const FV xv = LDV(x, base + i);
    const float vals[VW] = {LANES(xv)};
    for (int l = VW - 1; l >= 0; --l)
      if (vals[l] == m) bi = (int)i + l;
  }
  for (ulong j = i; j < end && bi == INT_MAX; ++j)
    if (LD1(x, base + j) == m) bi = (int)j;
  ri[lid] = bi;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s) ri[lid] = min(ri[lid], ri[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) {
    pv[r * chunks + g] = m;
    pi[r * chunks + g] = ri[0];
  }
}
// Second level: one work-group per row over its chunks' candidates.
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_argmax_final(const __global float* pv, const __global int* pi, __global int* out,
                         const ulong chunks) {
  __local float rv[ROWL];
  __local int ri[ROWL];
  const ulong lid = get_local_id(0), r = get_group_id(0);
  float bv = NAN;
  int bi = INT_MAX;
  for (ulong c = lid; c < chunks; c += ROWL)
    if (am_better(pv[r * chunks + c], pi[r * chunks + c], bv, bi)) {
      bv = pv[r * chunks + c];
      bi = pi[r * chunks + c];
    }
  am_reduce(&bv, &bi, rv, ri);
  if (lid == 0) out[r] = bi == INT_MAX ? 0 : bi;
}

// eltwise.v1: one item per VW elements, the last one with the tail. A, B and Y may alias.
#define ELTWISE(NAME, EXPR_V, EXPR_1, ...)                                          \
  __kernel void NAME(__VA_ARGS__, const ulong n, const float scalar) {              \
    const ulong i = (ulong)get_global_id(0) * VW;                                   \
    if (i + VW <= n) {                                                              \
      STV(y, i, EXPR_V);                                                            \
    } else {                                                                        \
      for (ulong j = i; j < n; ++j) ST1(y, j, EXPR_1);                              \
    }                                                                               \
  }
ELTWISE(cmeter_eltwise_add, LDV(a, i) + LDV(b, i), LD1(a, j) + LD1(b, j), const __global ST* a,
        const __global ST* b, __global ST* y)
ELTWISE(cmeter_eltwise_mul, LDV(a, i) * LDV(b, i), LD1(a, j) * LD1(b, j), const __global ST* a,
        const __global ST* b, __global ST* y)
ELTWISE(cmeter_eltwise_scale, scalar * LDV(a, i), scalar * LD1(a, j), const __global ST* a, __global ST* y)
#undef STV
#undef ST1
#define STV stv_f32
#define ST1 st1_f32
ELTWISE(cmeter_cast_f32, LDV(a, i), LD1(a, j), const __global ST* a, __global float* y)
#undef STV
#undef ST1
#define STV stv_f16
#define ST1 st1_f16
ELTWISE(cmeter_cast_f16, LDV(a, i), LD1(a, j), const __global ST* a, __global ushort* y)
#undef STV
#undef ST1
#define STV stv_bf16
#define ST1 st1_bf16
ELTWISE(cmeter_cast_bf16, LDV(a, i), LD1(a, j), const __global ST* a, __global ushort* y)
)CL";

// attention.v1: work-group (h, r) computes head h of row r over positions 0..POS[r] of slot SLOT[r]
// (KV head h / (heads / kv_heads)) with an online softmax per work item (its positions strided by
// ROWL: running maximum, sum and HD accumulators in f32), merged across the work-group by rescaling to
// the common maximum; rows with SLOT or POS out of range write zeros.
constexpr const char* kAttention = R"CL(
__kernel __attribute__((reqd_work_group_size(ROWL, 1, 1)))
void cmeter_attention(const __global ST* q, const __global ST* kc, const __global ST* vc,
                      const __global int* slot, const __global int* pos, __global ST* o, const ulong heads,
                      const ulong kv_heads, const int slots, const int capacity, const float scale) {
  __local float red[ROWL * HD];
  __local float red1[ROWL];
  const ulong lid = get_local_id(0), h = get_group_id(0), r = get_group_id(1);
  const int s = slot[r], last = pos[r];
  const ulong obase = (r * heads + h) * HD;
  if (s < 0 || s >= slots || last < 0 || last >= capacity) {  // uniform over the work-group
    for (ulong d = lid; d < HD; d += ROWL) ST1(o, obase + d, 0.0f);
    return;
  }
  const ulong kvbase = ((ulong)s * kv_heads + h / (heads / kv_heads)) * (ulong)capacity * HD;
  float qv[HD], acc[HD];
  for (int d = 0; d < HD; ++d) {
    qv[d] = LD1(q, obase + d);
    acc[d] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (ulong p = lid; p <= (ulong)last; p += ROWL) {
    const ulong row = kvbase + p * HD;
    float dot = 0.0f;
    for (int d = 0; d < HD; ++d) dot = fma(qv[d], LD1(kc, row + d), dot);
    const float sc = scale * dot;
    const float mn = fmax(m, sc);
    const float corr = exp(m - mn), e = exp(sc - mn);
    l = l * corr + e;
    for (int d = 0; d < HD; ++d) acc[d] = fma(e, LD1(vc, row + d), acc[d] * corr);
    m = mn;
  }
  const float big = wg_max(m, red1);
  const float c = m == -INFINITY ? 0.0f : exp(m - big);
  const float total = wg_sum(l * c, red1);
  for (int d = 0; d < HD; ++d) red[lid * HD + d] = acc[d] * c;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (ulong d = lid; d < HD; d += ROWL) {
    float sum = 0.0f;
    for (int i = 0; i < ROWL; ++i) sum += red[i * HD + d];
    ST1(o, obase + d, sum / total);
  }
}
)CL";

}  // namespace

namespace {

// Defines, conversions, typed loads/stores and reductions: what every program starts with.
std::string prelude(const InferKernelConfig& c) {
  const std::string vw = std::to_string(c.vw);
  std::string src = "// The ABI 1.1 inference ops, storage " + std::string(type_suffix(c.type)) + ".\n";
  src += "#define VW " + vw + "\n#define ROWL " + std::to_string(c.row_local) + "\n";
  src += kHelpers;
  const std::string t = type_suffix(c.type);
  src += std::string("#define ST ") + (c.type == Elem::kF32 ? "float" : "ushort") + "\n";
  src += std::string("#define STORAGE_F32 ") + (c.type == Elem::kF32 ? "1" : "0") + "\n";
  src += "#define LD1 ld1_" + t + "\n#define LDV ldv_" + t + "\n#define ST1 st1_" + t + "\n#define STV stv_" +
         t + "\n";
  // Horizontal reductions and the lane list of a VW vector, spelled out (.s0 .. .sF).
  std::string sum, max, lanes;
  for (int l = 0; l < c.vw; ++l) {
    const std::string lane = std::string("(v).s") + "0123456789abcdef"[l];
    sum += (l ? " + " : "") + lane;
    max = l == 0 ? lane : "fmax(" + max + ", " + lane + ")";
    lanes += (l ? ", " : "") + lane;
  }
  src += "#define HSUM(v) (" + sum + ")\n#define HMAX(v) (" + max + ")\n#define LANES(v) " + lanes + "\n";
  src += kReductions;
  return src;
}

}  // namespace

std::string program_prelude(const InferKernelConfig& c) {
  return prelude(c);
}

std::string infer_source(const InferKernelConfig& c) {
  return prelude(c) + kOps;
}

std::string attention_source(const InferKernelConfig& c, int head_dim) {
  return prelude(c) + "#define HD " + std::to_string(head_dim) + "\n" + kAttention;
}

}  // namespace cmeter::opencl
