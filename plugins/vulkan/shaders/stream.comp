#version 460
// stream.comp - stream.v1: STREAM's copy (C=A), scale (B=s*C), add (C=A+B), triad (A=B+s*C) in T
// (f32, or f64 with -DT_F64), KIND a specialisation constant; a grid-stride loop over n/4 vectors.
#include "common.glsl"
#if defined(T_F64)
#define T double
#define V dvec4
#else
#define T float
#define V vec4
#endif
layout(local_size_x = 256) in;
layout(constant_id = 0) const int KIND = 0;  // 0 copy, 1 scale, 2 add, 3 triad
layout(buffer_reference, std430) buffer Arr { T v[]; };
layout(buffer_reference, std430) buffer Arr4 { V v[]; };  // the same arrays, 4 elements at a time
layout(push_constant, std430) uniform Push {
  Arr a;
  Arr b;
  Arr c;
  uint n;
  T s;
} p;
// One 4-element vector per invocation and trip (drivers such as lavapipe load each lane's address
// separately: a vector load moves 4 elements per address), then the n % 4 last elements one by one.
void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const uint n4 = p.n / 4;
  Arr4 a4 = Arr4(p.a), b4 = Arr4(p.b), c4 = Arr4(p.c);
  for (uint i = gl_GlobalInvocationID.x; i < n4; i += stride) {
    if (KIND == 0) c4.v[i] = a4.v[i];
    else if (KIND == 1) b4.v[i] = p.s * c4.v[i];
    else if (KIND == 2) c4.v[i] = a4.v[i] + b4.v[i];
    else a4.v[i] = b4.v[i] + p.s * c4.v[i];
  }
  const uint i = n4 * 4 + gl_GlobalInvocationID.x;
  if (i < p.n) {
    if (KIND == 0) p.c.v[i] = p.a.v[i];
    else if (KIND == 1) p.b.v[i] = p.s * p.c.v[i];
    else if (KIND == 2) p.c.v[i] = p.a.v[i] + p.b.v[i];
    else p.a.v[i] = p.b.v[i] + p.s * p.c.v[i];
  }
}
