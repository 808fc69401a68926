#version 460
// gemm.comp - gemm.v1, column-major C = alpha*op(A)*op(B) + beta*C per batch matrix, f32 accumulation.
// Tiled: a 16x16 work-group computes a 64x64 tile of C, each invocation a 4x4 block in registers;
// A and B stream through shared memory 16 columns of k at a time (the kernel a GPU wants; CPU devices
// get gemm_rb.comp). Inputs f32, f16 with -DIN_F16 (float16_t) or bf16 with -DIN_BF16 (uint16_t
// storage, convert.glsl); output f32, f16 with -DOUT_F16 or bf16 with -DOUT_BF16 (rounded to nearest
// even by integer operations); -DT_F64: f64 in, out and accumulation. TRANS_A/TRANS_B are
// specialisation constants.
#include "common.glsl"
#if defined(IN_F16) || defined(OUT_F16)
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
#if defined(IN_BF16) || defined(OUT_BF16)
#extension GL_EXT_shader_16bit_storage : require
#endif
#include "convert.glsl"
#if defined(T_F64)
#define TIN double
#define TOUT double
#define ACC double  // f64 GEMM accumulates in f64 (needs shaderFloat64)
#else
#define ACC float
#if defined(IN_F16)
#define TIN float16_t
#elif defined(IN_BF16)
#define TIN uint16_t
#else
#define TIN float
#endif
#if defined(OUT_F16)
#define TOUT float16_t
#elif defined(OUT_BF16)
#define TOUT uint16_t
#else
#define TOUT float
#endif
#endif
#if defined(IN_BF16)
#define LD_IN(x) bf2f(uint(x))
#else
#define LD_IN(x) ACC(x)
#endif
#if defined(OUT_BF16)
#define LD_OUT(x) bf2f(uint(x))
#define TO_OUT(v) uint16_t(f2bf(v))
#elif defined(OUT_F16)
#define LD_OUT(x) ACC(x)
#define TO_OUT(v) float16_t(h2f(f2h(v)))  // rounded here, so the conversion is exact
#else
#define LD_OUT(x) ACC(x)
#define TO_OUT(v) TOUT(v)
#endif
#define TM 64
#define TN 64
#define TK 16
layout(local_size_x = 16, local_size_y = 16) in;
layout(constant_id = 0) const bool TRANS_A = false;
layout(constant_id = 1) const bool TRANS_B = false;
layout(buffer_reference, std430) readonly buffer InBuf { TIN v[]; };
layout(buffer_reference, std430) buffer OutBuf { TOUT v[]; };
layout(push_constant, std430) uniform Push {
  InBuf a;
  InBuf b;
  OutBuf c;
  uint m, n, k;
  uint lda, ldb, ldc;
  uint stride_a, stride_b, stride_c;
  uint offset_a, offset_b, offset_c;
  ACC alpha, beta;
} p;
shared ACC As[TK][TM + 1];  // As[kk][i] = op(A)(i0 + i, k0 + kk)
shared ACC Bs[TK][TN + 1];  // Bs[kk][j] = op(B)(k0 + kk, j0 + j)

ACC load_a(uint base, uint i, uint kk) {
  if (i >= p.m || kk >= p.k) return ACC(0);
  return LD_IN(p.a.v[base + (TRANS_A ? i * p.lda + kk : kk * p.lda + i)]);
}
ACC load_b(uint base, uint kk, uint j) {
  if (kk >= p.k || j >= p.n) return ACC(0);
  return LD_IN(p.b.v[base + (TRANS_B ? kk * p.ldb + j : j * p.ldb + kk)]);
}

// Everything below is unrolled by hand (16 named accumulators, 16 k-steps per tile, 4 loads per
// operand): drivers that do not unroll loops (lavapipe) would otherwise keep the accumulators in
// memory and pay a loop trip per multiply-add.
#define LOAD(t)                                    \
  {                                                \
    const uint e = tid + 256 * t;                  \
    As[e / TM][e % TM] = load_a(base_a, i0 + e % TM, k0 + e / TM); \
    Bs[e % TK][e / TK] = load_b(base_b, k0 + e % TK, j0 + e / TK); \
  }
#define ROW(r, q) c##r##q = fma(a##r, b##q, c##r##q);
#define KSTEP(kk)                                                                            \
  {                                                                                          \
    const ACC a0 = As[kk][tx], a1 = As[kk][tx + 16], a2 = As[kk][tx + 32], a3 = As[kk][tx + 48]; \
    const ACC b0 = Bs[kk][ty], b1 = Bs[kk][ty + 16], b2 = Bs[kk][ty + 32], b3 = Bs[kk][ty + 48]; \
    ROW(0, 0) ROW(0, 1) ROW(0, 2) ROW(0, 3) ROW(1, 0) ROW(1, 1) ROW(1, 2) ROW(1, 3)         \
    ROW(2, 0) ROW(2, 1) ROW(2, 2) ROW(2, 3) ROW(3, 0) ROW(3, 1) ROW(3, 2) ROW(3, 3)         \
  }
#define STORE(r, q)                                          \
  {                                                          \
    const uint i = i0 + tx + 16 * r, j = j0 + ty + 16 * q;   \
    if (i < p.m && j < p.n) {                                \
      const uint at = base_c + j * p.ldc + i;                \
      ACC v = p.alpha * c##r##q;                           \
      if (p.beta != ACC(0)) v += p.beta * LD_OUT(p.c.v[at]);  \
      p.c.v[at] = TO_OUT(v);                                 \
    }                                                        \
  }

void main() {
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  const uint tid = ty * 16 + tx;
  const uint i0 = gl_WorkGroupID.x * TM, j0 = gl_WorkGroupID.y * TN, batch = gl_WorkGroupID.z;
  const uint base_a = p.offset_a + batch * p.stride_a;
  const uint base_b = p.offset_b + batch * p.stride_b;
  const uint base_c = p.offset_c + batch * p.stride_c;
  ACC c00 = ACC(0), c01 = ACC(0), c02 = ACC(0), c03 = ACC(0), c10 = ACC(0), c11 = ACC(0), c12 = ACC(0);
  ACC c13 = ACC(0), c20 = ACC(0), c21 = ACC(0), c22 = ACC(0), c23 = ACC(0), c30 = ACC(0), c31 = ACC(0);
  ACC c32 = ACC(0), c33 = ACC(0);
  for (uint k0 = 0; k0 < p.k; k0 += TK) {
    // 64x16 elements of each operand, 4 per invocation: A along i (contiguous when not transposed),
    // B along k (contiguous when not transposed).
    LOAD(0) LOAD(1) LOAD(2) LOAD(3)
    barrier();
    KSTEP(0) KSTEP(1) KSTEP(2) KSTEP(3) KSTEP(4) KSTEP(5) KSTEP(6) KSTEP(7)
    KSTEP(8) KSTEP(9) KSTEP(10) KSTEP(11) KSTEP(12) KSTEP(13) KSTEP(14) KSTEP(15)
    barrier();
  }
  STORE(0, 0) STORE(0, 1) STORE(0, 2) STORE(0, 3) STORE(1, 0) STORE(1, 1) STORE(1, 2) STORE(1, 3)
  STORE(2, 0) STORE(2, 1) STORE(2, 2) STORE(2, 3) STORE(3, 0) STORE(3, 1) STORE(3, 2) STORE(3, 3)
}
