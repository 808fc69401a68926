#version 460
// gemm_rb.comp - gemm.v1 for CPU devices (lavapipe): column-major C = alpha*op(A)*op(B) + beta*C per
// batch matrix, f32 accumulation, every invocation an 8 x NR block of C (NR = min(4, n), a
// specialisation constant) straight from A and B: no shared memory and no barriers. On lavapipe every
// load from memory, shared memory included, costs a loop over the SIMD lanes, and a barrier a switch
// between the work-group's slices; this kernel does 8 + NR loads per 8 * NR multiply-adds, where the
// tiled kernel (gemm.comp) does 12 per 16 and two barriers per 16 k. Storage: -DIN_F32/-DIN_F16/
// -DIN_BF16 for A and B, -DOUT_F32/-DOUT_F16/-DOUT_BF16 for C; 16-bit types as uint16_t, converted by
// integer operations (convert.glsl), output rounded once to nearest even.
//
// -DWIDE: the form for trans_a and not trans_b (the decoder's y = W x), where A's rows and B's columns
// run along k: each load takes 64 bits (4 f16/bf16 or 2 f32 elements: a quarter or half of the loads)
// as a uint64_t (shaderInt64). The plugin uses it only when k, lda, ldb, the offsets and strides are
// multiples of the elements per word and the buffers' addresses 8-byte aligned.
#include "common.glsl"
#if defined(IN_F16) || defined(IN_BF16) || defined(OUT_F16) || defined(OUT_BF16)
#extension GL_EXT_shader_16bit_storage : require
#endif
#if defined(WIDE)
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
#include "convert.glsl"
#if defined(IN_F16)
#define TIN uint16_t
#define LD_IN(x) h2f(uint(x))
#elif defined(IN_BF16)
#define TIN uint16_t
#define LD_IN(x) bf2f(uint(x))
#else
#define TIN float
#define LD_IN(x) (x)
#endif
#if defined(OUT_F16)
#define TOUT uint16_t
#define LD_OUT(x) h2f(uint(x))
#define TO_OUT(v) uint16_t(f2h(v))
#elif defined(OUT_BF16)
#define TOUT uint16_t
#define LD_OUT(x) bf2f(uint(x))
#define TO_OUT(v) uint16_t(f2bf(v))
#else
#define TOUT float
#define LD_OUT(x) (x)
#define TO_OUT(v) (v)
#endif
layout(local_size_x = 16) in;
layout(constant_id = 0) const bool TRANS_A = false;
layout(constant_id = 1) const bool TRANS_B = false;
layout(constant_id = 2) const uint NR = 4;  // columns of C per invocation, 1..4
layout(buffer_reference, std430) readonly buffer InBuf { TIN v[]; };
layout(buffer_reference, std430) buffer OutBuf { TOUT v[]; };
layout(push_constant, std430) uniform Push {  // as gemm.comp's
  InBuf a;
  InBuf b;
  OutBuf c;
  uint m, n, k;
  uint lda, ldb, ldc;
  uint stride_a, stride_b, stride_c;
  uint offset_a, offset_b, offset_c;
  float alpha, beta;
} p;

// Rows past m and columns past n read the last row / column (inside the buffer); their results are
// never stored. Written out by hand: lavapipe keeps an array indexed in a loop in memory.
#define A_ROW(r) uint a##r = base_a + min(i0 + r, p.m - 1) * step_ai;
#define B_COL(q) uint b##q = base_b + min(j0 + q, p.n - 1) * step_bj;
#define ACC_ROW(r) float c##r##0 = 0.0, c##r##1 = 0.0, c##r##2 = 0.0, c##r##3 = 0.0;
#define LOAD_A(r)                  \
  const float x##r = LD_IN(p.a.v[a##r]); \
  a##r += step_ak;
#define LOAD_B(q)                                            \
  const float y##q = NR > q ? LD_IN(p.b.v[b##q]) : 0.0;      \
  b##q += step_bk;
#define FMA_ROW(r)                                 \
  c##r##0 = fma(x##r, y0, c##r##0);                \
  if (NR > 1) c##r##1 = fma(x##r, y1, c##r##1);    \
  if (NR > 2) c##r##2 = fma(x##r, y2, c##r##2);    \
  if (NR > 3) c##r##3 = fma(x##r, y3, c##r##3);
#define STORE(r, q)                                             \
  if (NR > q && i0 + r < p.m && j0 + q < p.n) {                 \
    const uint at = base_c + (j0 + q) * p.ldc + i0 + r;         \
    float v = p.alpha * c##r##q;                                \
    if (p.beta != 0.0) v += p.beta * LD_OUT(p.c.v[at]);         \
    p.c.v[at] = TO_OUT(v);                                      \
  }
#define STORE_ROW(r) STORE(r, 0) STORE(r, 1) STORE(r, 2) STORE(r, 3)
#define ALL8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

#if defined(WIDE)
layout(buffer_reference, std430) readonly buffer Words { uint64_t v[]; };
#if defined(IN_F32)
#define EPW 2u  // elements per 64-bit word
#define WORD_SHIFT 1u
#define ELEM(u, e) uintBitsToFloat((e) == 0 ? (u).x : (u).y)
#else
#define EPW 4u
#define WORD_SHIFT 2u
#define BITS16(u, e) ((e) == 0 ? (u).x & 0xffffu : (e) == 1 ? (u).x >> 16 : (e) == 2 ? (u).y & 0xffffu : (u).y >> 16)
#if defined(IN_F16)
#define ELEM(u, e) h2f(BITS16(u, e))
#else
#define ELEM(u, e) uintBitsToFloat(BITS16(u, e) << 16)
#endif
#endif
#define W_ROW(r) const uint wa##r = (base_a + min(i0 + r, p.m - 1) * p.lda) >> WORD_SHIFT;
#define W_COL(q) const uint wb##q = (base_b + min(j0 + q, p.n - 1) * p.ldb) >> WORD_SHIFT;
#define W_LOAD_A(r) const uvec2 ua##r = unpack32(wa.v[wa##r + w]);
#define W_LOAD_B(q) const uvec2 ub##q = NR > q ? unpack32(wbv.v[wb##q + w]) : uvec2(0u);
#define W_X(r, e) const float x##r = ELEM(ua##r, e);
#define W_STEP(e)                                                                                      \
  {                                                                                                    \
    W_X(0, e) W_X(1, e) W_X(2, e) W_X(3, e) W_X(4, e) W_X(5, e) W_X(6, e) W_X(7, e)                    \
    const float y0 = ELEM(ub0, e), y1 = ELEM(ub1, e), y2 = ELEM(ub2, e), y3 = ELEM(ub3, e);            \
    ALL8(FMA_ROW)                                                                                      \
  }
#endif

void main() {
  const uint i0 = gl_GlobalInvocationID.x * 8, j0 = gl_GlobalInvocationID.y * NR, batch = gl_GlobalInvocationID.z;
  if (i0 >= p.m || j0 >= p.n) return;
  const uint base_a = p.offset_a + batch * p.stride_a;
  const uint base_b = p.offset_b + batch * p.stride_b;
  const uint base_c = p.offset_c + batch * p.stride_c;
  // op(A)(i, kk) = A[i * lda + kk] (trans_a) or A[kk * lda + i]; op(B)(kk, j) = B[kk * ldb + j]
  // (trans_b) or B[j * ldb + kk].
  const uint step_ai = TRANS_A ? p.lda : 1u, step_ak = TRANS_A ? 1u : p.lda;
  const uint step_bj = TRANS_B ? 1u : p.ldb, step_bk = TRANS_B ? p.ldb : 1u;
  ALL8(ACC_ROW)
#if defined(WIDE)
  // trans_a and not trans_b: row i of op(A) at A[i * lda], column j of op(B) at B[j * ldb], k along both.
  Words wa = Words(p.a), wbv = Words(p.b);
  ALL8(W_ROW)
  W_COL(0) W_COL(1) W_COL(2) W_COL(3)
  for (uint w = 0; w < (p.k >> WORD_SHIFT); ++w) {
    ALL8(W_LOAD_A)
    W_LOAD_B(0) W_LOAD_B(1) W_LOAD_B(2) W_LOAD_B(3)
    W_STEP(0) W_STEP(1)
#if !defined(IN_F32)
    W_STEP(2) W_STEP(3)
#endif
  }
#else
  ALL8(A_ROW)
  B_COL(0) B_COL(1) B_COL(2) B_COL(3)
  for (uint kk = 0; kk < p.k; ++kk) {
    ALL8(LOAD_A)
    LOAD_B(0) LOAD_B(1) LOAD_B(2) LOAD_B(3)
    ALL8(FMA_ROW)
  }
#endif
  ALL8(STORE_ROW)
}
