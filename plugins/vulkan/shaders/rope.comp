#version 460
// rope.comp - rope.v1 in place: invocation (pair i, row) rotates pair i of every head of the row by
// angle POS[row] * theta^(-2i/head_dim) (a negative position leaves the row unchanged). The angle is
// reduced exactly: the plugin gives each pair's frequency in turns per position as a 64-bit fraction
// (computed in long double), POS times it modulo 1 is integer arithmetic, so sine and cosine come from
// a reduced argument in [-pi/4, pi/4] by f32 polynomials, accurate at any position (Vulkan's sin/cos
// promise only 2^-11 absolute error, and only inside [-pi, pi]).
#include "infer.glsl"
layout(constant_id = 0) const bool INTERLEAVED = false;
layout(buffer_reference, std430) readonly buffer Turns { uvec2 v[]; };  // (low, high) 32-bit words
layout(push_constant, std430) uniform Push {
  Elems x;
  Ints pos;
  Turns turns;
  uint rows;
  uint heads;
  uint head_dim;
} p;

// sin and cos of 2*pi*(hi * 2^-32 + lo * 2^-64).
void sincos_turns(uint hi, uint lo, out float s, out float c) {
  const uint u = hi + 0x20000000u;  // the nearest quarter turn in the top two bits
  const uint q = u >> 30;
  const int rest = int(u & 0x3fffffffu) - 0x20000000;  // what remains, in [-1/8, 1/8) turn (2^-32 units)
  const float t = (float(rest) + float(lo) * 2.3283064365386963e-10) * 2.3283064365386963e-10;
  const float y = t * 6.2831853071795865, y2 = y * y;
  // Minimax polynomials on [-pi/4, pi/4] (Cephes sinf/cosf), under an f32 ulp.
  const float sn = y + y * y2 * (-1.6666654611e-1 + y2 * (8.3321608736e-3 + y2 * -1.9515295891e-4));
  const float cs = 1.0 - 0.5 * y2 +
                   y2 * y2 * (4.166664568298827e-2 + y2 * (-1.388731625493765e-3 + y2 * 2.443315711809948e-5));
  s = q == 0u ? sn : q == 1u ? cs : q == 2u ? -sn : -cs;
  c = q == 0u ? cs : q == 1u ? -sn : q == 2u ? -cs : sn;
}

void main() {
  const uint half_dim = p.head_dim / 2;
  FOR_ITEMS(e, p.rows * half_dim) {
    const uint row = e / half_dim, i = e % half_dim;
    const int position = p.pos.v[row];
    if (position < 0) continue;
    const uvec2 f = p.turns.v[i];
    uint carry, low;
    umulExtended(uint(position), f.x, carry, low);
    float sn, cs;
    sincos_turns(uint(position) * f.y + carry, low, sn, cs);
    const uint ia = INTERLEAVED ? 2u * i : i, ib = INTERLEAVED ? 2u * i + 1u : i + half_dim;
    for (uint h = 0; h < p.heads; ++h) {
      const uint base = (row * p.heads + h) * p.head_dim;
      const float a = LD(p.x, base + ia), b = LD(p.x, base + ib);
      ST(p.x, base + ia, a * cs - b * sn);
      ST(p.x, base + ib, a * sn + b * cs);
    }
  }
}
