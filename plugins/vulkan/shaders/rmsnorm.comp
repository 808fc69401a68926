#version 460
// rmsnorm.comp - rmsnorm.v1: Y = X / sqrt(mean(X^2) + eps) * W per row, one work-group per row (a
// grid-stride loop over rows), the sum of squares in f32 by a tree reduction. Y may be X: each
// invocation rewrites only the elements it read, after the reduction's barriers.
#define ROW_KERNEL
#include "infer.glsl"
layout(push_constant, std430) uniform Push {
  Elems x;
  Elems w;
  Elems y;
  uint rows;
  uint dim;
  float eps;
} p;
void main() {
  const uint lid = gl_LocalInvocationID.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    const uint base = row * p.dim;
    float acc = 0.0;
    for (uint i = lid; i < p.dim; i += ROWL) {
      const float a = LD(p.x, base + i);
      acc = fma(a, a, acc);
    }
    const float inv = 1.0 / sqrt(wg_sum(acc) / float(p.dim) + p.eps);
    for (uint i = lid; i < p.dim; i += ROWL) ST(p.y, base + i, LD(p.x, base + i) * inv * LD(p.w, i));
  }
}
