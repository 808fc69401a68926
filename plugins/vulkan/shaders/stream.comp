#version 460
// stream.comp - stream.v1: STREAM's copy (C=A), scale (B=s*C), add (C=A+B), triad (A=B+s*C) in T
// (f32, or f64 with -DT_F64), KIND a specialisation constant; a grid-stride loop over n elements.
#include "common.glsl"
#if defined(T_F64)
#define T double
#else
#define T float
#endif
layout(local_size_x = 256) in;
layout(constant_id = 0) const int KIND = 0;  // 0 copy, 1 scale, 2 add, 3 triad
layout(buffer_reference, std430) buffer Arr { T v[]; };
layout(push_constant, std430) uniform Push {
  Arr a;
  Arr b;
  Arr c;
  uint n;
  T s;
} p;
void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
    if (KIND == 0) p.c.v[i] = p.a.v[i];
    else if (KIND == 1) p.b.v[i] = p.s * p.c.v[i];
    else if (KIND == 2) p.c.v[i] = p.a.v[i] + p.b.v[i];
    else p.a.v[i] = p.b.v[i] + p.s * p.c.v[i];
  }
}
