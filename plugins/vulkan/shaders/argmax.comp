#version 460
// argmax.comp - argmax.v1: OUT[row] = the lowest index of the row's largest value, NaN never winning
// (a row of NaN answers 0). One work-group per row: each invocation scans its columns in order (a
// strictly larger value replaces its candidate, so it keeps its lowest index), then a tree reduction
// over (value, index) candidates in shared memory.
#define ROW_KERNEL
#include "infer.glsl"
layout(push_constant, std430) uniform Push {
  Elems x;
  Ints out_idx;
  uint rows;
  uint cols;
} p;
const uint NONE = 0xffffffffu;  // no candidate (every value seen was NaN)
shared float cand_v[ROWL];
shared uint cand_i[ROWL];
bool better(float v, uint i, float bv, uint bi) {
  if (i == NONE) return false;
  if (bi == NONE) return true;
  return v > bv || (v == bv && i < bi);
}
void main() {
  const uint lid = gl_LocalInvocationID.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    const uint base = row * p.cols;
    float bv = 0.0;
    uint bi = NONE;
    for (uint i = lid; i < p.cols; i += ROWL) {
      const float v = LD(p.x, base + i);
      if (!is_nan(v) && (bi == NONE || v > bv)) {
        bv = v;
        bi = i;
      }
    }
    cand_v[lid] = bv;
    cand_i[lid] = bi;
    barrier();
    for (uint s = ROWL / 2; s > 0; s >>= 1) {
      if (lid < s && better(cand_v[lid + s], cand_i[lid + s], cand_v[lid], cand_i[lid])) {
        cand_v[lid] = cand_v[lid + s];
        cand_i[lid] = cand_i[lid + s];
      }
      barrier();
    }
    if (lid == 0) p.out_idx.v[row] = cand_i[0] == NONE ? 0 : int(cand_i[0]);
    barrier();  // the next row's candidates overwrite these
  }
}
