#version 460
// fma_peak.comp - fma_peak.v1: every item runs LANES independent chains x = fma(x, a, b) for `iters`
// rounds in T (f32, f16 or f64, chosen at build time with -DT_F16 / -DT_F64) and writes the f32 sum of
// its lanes. a, b and iters are push constants, so nothing folds at pipeline creation.
#include "common.glsl"
#if defined(T_F16)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define T float16_t
#define SCALAR float
#elif defined(T_F64)
#define T double
#define SCALAR double
#else
#define T float
#define SCALAR float
#endif
layout(local_size_x = 64) in;
layout(constant_id = 0) const int LANES = 8;
layout(buffer_reference, std430) buffer OutBuf { float v[]; };
layout(buffer_reference, std430) readonly buffer InitBuf { SCALAR v[]; };
layout(push_constant, std430) uniform Push {
  OutBuf out_buf;
  InitBuf init;  // LANES start values, already rounded to T
  uint items;
  uint iters;
  SCALAR a;
  SCALAR b;
  SCALAR item_dx;    // item i's lanes start item_dx * (i mod item_period) above init (ABI 1.3); the
  uint item_period;  // core sends values whose sum is exact in SCALAR
} p;
// Each lane is its own variable (x0..x31, those at or above LANES folded away at pipeline creation):
// an array indexed in a loop would live in memory on drivers that do not unroll it (lavapipe).
#define DECL(k) T x##k = (k < LANES) ? T(p.init.v[k] + off) : T(0);
#define STEP(k) if (k < LANES) x##k = fma(x##k, a, b);
#define SUM(k) if (k < LANES) sum += float(x##k);
#define ALL32(M)                                                                                  \
  M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15) M(16) M(17) \
  M(18) M(19) M(20) M(21) M(22) M(23) M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)
#define ROUNDS8 ALL32(STEP) ALL32(STEP) ALL32(STEP) ALL32(STEP) ALL32(STEP) ALL32(STEP) ALL32(STEP) ALL32(STEP)
void main() {
  const T a = T(p.a), b = T(p.b);
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint item = gl_GlobalInvocationID.x; item < p.items; item += stride) {
    const SCALAR off = SCALAR(item % p.item_period) * p.item_dx;
    ALL32(DECL)
    // 32 rounds per loop trip: a driver's per-trip cost (lavapipe keeps lane masks) is shared
    // by 32 * LANES fmas. Every lane still does exactly `iters` rounds, in order.
    uint r = 0;
    for (; r + 32 <= p.iters; r += 32) {
      ROUNDS8 ROUNDS8 ROUNDS8 ROUNDS8
    }
    for (; r < p.iters; ++r) {
      ALL32(STEP)
    }
    float sum = 0.0;
    ALL32(SUM)
    p.out_buf.v[item] = sum;
  }
}
