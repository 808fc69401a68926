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
} p;
void main() {
  const T a = T(p.a), b = T(p.b);
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint item = gl_GlobalInvocationID.x; item < p.items; item += stride) {
    T x[LANES];
    for (int l = 0; l < LANES; ++l) x[l] = T(p.init.v[l]);
    for (uint r = 0; r < p.iters; ++r)
      for (int l = 0; l < LANES; ++l) x[l] = fma(x[l], a, b);
    float sum = 0.0;
    for (int l = 0; l < LANES; ++l) sum += float(x[l]);
    p.out_buf.v[item] = sum;
  }
}
