#version 460
// gemm.comp - gemm.v1, column-major C = alpha*op(A)*op(B) + beta*C per batch matrix, f32 accumulation.
// Tiled: a 16x16 work-group computes a 64x64 tile of C, each invocation a 4x4 block in registers;
// A and B stream through shared memory 16 columns of k at a time. Inputs f32, or f16 with -DIN_F16;
// output f32, or f16 with -DOUT_F16 (16-bit storage). TRANS_A/TRANS_B are specialisation constants.
#include "common.glsl"
#if defined(IN_F16) || defined(OUT_F16)
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
#if defined(IN_F16)
#define TIN float16_t
#else
#define TIN float
#endif
#if defined(OUT_F16)
#define TOUT float16_t
#else
#define TOUT float
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
  float alpha, beta;
} p;
shared float As[TK][TM + 1];  // As[kk][i] = op(A)(i0 + i, k0 + kk)
shared float Bs[TK][TN + 1];  // Bs[kk][j] = op(B)(k0 + kk, j0 + j)

float load_a(uint base, uint i, uint kk) {
  if (i >= p.m || kk >= p.k) return 0.0;
  return float(p.a.v[base + (TRANS_A ? i * p.lda + kk : kk * p.lda + i)]);
}
float load_b(uint base, uint kk, uint j) {
  if (kk >= p.k || j >= p.n) return 0.0;
  return float(p.b.v[base + (TRANS_B ? kk * p.ldb + j : j * p.ldb + kk)]);
}

void main() {
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  const uint tid = ty * 16 + tx;
  const uint i0 = gl_WorkGroupID.x * TM, j0 = gl_WorkGroupID.y * TN, batch = gl_WorkGroupID.z;
  const uint base_a = p.offset_a + batch * p.stride_a;
  const uint base_b = p.offset_b + batch * p.stride_b;
  const uint base_c = p.offset_c + batch * p.stride_c;
  float acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) acc[r][q] = 0.0;
  for (uint k0 = 0; k0 < p.k; k0 += TK) {
    // 64x16 elements of each operand, 4 per invocation: A along i (contiguous when not transposed),
    // B along k (contiguous when not transposed).
    for (uint e = tid; e < TM * TK; e += 256) {
      const uint i = e % TM, kk = e / TM;
      As[kk][i] = load_a(base_a, i0 + i, k0 + kk);
      const uint kb = e % TK, j = e / TK;
      Bs[kb][j] = load_b(base_b, k0 + kb, j0 + j);
    }
    barrier();
    for (uint kk = 0; kk < TK; ++kk) {
      float av[4], bv[4];
      for (int r = 0; r < 4; ++r) av[r] = As[kk][tx + 16 * r];
      for (int q = 0; q < 4; ++q) bv[q] = Bs[kk][ty + 16 * q];
      for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 4; ++q) acc[r][q] = fma(av[r], bv[q], acc[r][q]);
    }
    barrier();
  }
  for (int q = 0; q < 4; ++q) {
    const uint j = j0 + ty + 16 * q;
    if (j >= p.n) continue;
    for (int r = 0; r < 4; ++r) {
      const uint i = i0 + tx + 16 * r;
      if (i >= p.m) continue;
      const uint at = base_c + j * p.ldc + i;
      float v = p.alpha * acc[r][q];
      if (p.beta != 0.0) v += p.beta * float(p.c.v[at]);
      p.c.v[at] = TOUT(v);
    }
  }
}
