#version 460
// softmax.comp - softmax.v1: Y = softmax(scale * X) over each row's valid prefix (USE_LEN: LEN[row]
// clamped to [0, cols], else cols), zeros after; the maximum subtracted before exp; one work-group per
// row, max and sum as f32 tree reductions. Y may be X: every invocation touches the same columns in
// each pass and writes a column only after reading it.
#define ROW_KERNEL
#include "infer.glsl"
layout(constant_id = 2) const bool USE_LEN = false;
layout(push_constant, std430) uniform Push {
  Elems x;
  Elems y;
  Ints len;  // read only with USE_LEN
  uint rows;
  uint cols;
  float scale;
} p;
void main() {
  const uint lid = gl_LocalInvocationID.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    const uint base = row * p.cols;
    uint n = p.cols;
    if (USE_LEN) {
      const int l = p.len.v[row];
      n = l <= 0 ? 0u : min(uint(l), p.cols);
    }
    float m = uintBitsToFloat(0xff800000u);  // -inf
    for (uint i = lid; i < n; i += ROWL) m = max(m, p.scale * LD(p.x, base + i));
    m = wg_max(m);
    float s = 0.0;
    for (uint i = lid; i < n; i += ROWL) s += exp(p.scale * LD(p.x, base + i) - m);
    const float inv = 1.0 / wg_sum(s);
    for (uint i = lid; i < n; i += ROWL) ST(p.y, base + i, exp(p.scale * LD(p.x, base + i) - m) * inv);
    for (uint i = n + lid; i < p.cols; i += ROWL) ST(p.y, base + i, 0.0);
  }
}
