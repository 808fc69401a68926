#version 460
// swiglu.comp - swiglu.v1: Y[r][i] = silu(G) * U with G = GU[r][i], U = GU[r][dim + i], in f32.
#include "infer.glsl"
layout(push_constant, std430) uniform Push {
  Elems gu;
  Elems y;
  uint rows;
  uint dim;
} p;
void main() {
  FOR_ITEMS(e, p.rows * p.dim) {
    const uint r = e / p.dim, i = e % p.dim;
    const float g = LD(p.gu, 2u * r * p.dim + i), u = LD(p.gu, 2u * r * p.dim + p.dim + i);
    ST(p.y, e, g / (1.0 + exp(-g)) * u);
  }
}
