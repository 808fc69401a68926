#version 460
// gather.comp - the two ops that only move elements, bit for bit (no conversion: -DW16 for 16-bit
// storage, else 32-bit), KIND a specialisation constant:
//  0 kv_append.v1: CACHE[SLOT[r]][h][POS[r]][d] = SRC[r][h][d]; a row with SLOT or POS out of range
//    is skipped;
//  1 embedding.v1: Y[r][d] = TABLE[IDS[r]][d], zeros for an id outside [0, vocab).
// One invocation per element of the source rows (a grid-stride loop).
#include "common.glsl"
#if defined(W16)
#extension GL_EXT_shader_16bit_storage : require
#define RAW uint16_t
#define ZERO uint16_t(0u)
#else
#define RAW uint
#define ZERO 0u
#endif
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint KIND = 0;
layout(buffer_reference, std430) buffer Raw { RAW v[]; };
layout(buffer_reference, std430) readonly buffer Ints { int v[]; };
layout(push_constant, std430) uniform Push {
  Raw src;    // SRC, or TABLE
  Raw dst;    // CACHE, or Y
  Ints idx;   // SLOT, or IDS
  Ints pos;   // POS (kv_append)
  uint rows;
  uint heads;  // kv_heads (kv_append); 1 (embedding)
  uint dim;    // head_dim, or dim
  uint slots;  // slots, or vocab
  uint capacity;
} p;
void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint e = gl_GlobalInvocationID.x; e < p.rows * p.heads * p.dim; e += stride) {
    const uint d = e % p.dim, rh = e / p.dim;  // rh = r * heads + h
    const uint r = rh / p.heads, h = rh % p.heads;
    const int s = p.idx.v[r];
    if (KIND == 0) {
      const int ps = p.pos.v[r];
      if (s < 0 || s >= int(p.slots) || ps < 0 || ps >= int(p.capacity)) continue;
      p.dst.v[((uint(s) * p.heads + h) * p.capacity + uint(ps)) * p.dim + d] = p.src.v[e];
    } else {
      p.dst.v[e] = (s >= 0 && s < int(p.slots)) ? p.src.v[uint(s) * p.dim + d] : ZERO;
    }
  }
}
