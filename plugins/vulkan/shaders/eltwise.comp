#version 460
// eltwise.comp - eltwise.v1 with A and B in IN (-DIN_F32/-DIN_F16/-DIN_BF16) and Y in OUT
// (-DOUT_...), KIND a specialisation constant: 0 add, 1 mul, 2 scale (in f32, one rounding to OUT),
// 3 cast (IN to f32, exactly, then one rounding; between equal types a bit-for-bit copy). One
// invocation per element (grid-stride); Y may be A or B (each element is read before it is written).
#include "common.glsl"
#if defined(IN_F16) || defined(IN_BF16) || defined(OUT_F16) || defined(OUT_BF16)
#extension GL_EXT_shader_16bit_storage : require
#endif
#include "convert.glsl"
#if defined(IN_F16)
#define TIN uint16_t
#define LD_IN(x) h2f(uint(x))
#elif defined(IN_BF16)
#define TIN uint16_t
#define LD_IN(x) bf2f(uint(x))
#else
#define TIN float
#define LD_IN(x) (x)
#endif
#if defined(OUT_F16)
#define TOUT uint16_t
#define TO_OUT(v) uint16_t(f2h(v))
#elif defined(OUT_BF16)
#define TOUT uint16_t
#define TO_OUT(v) uint16_t(f2bf(v))
#else
#define TOUT float
#define TO_OUT(v) (v)
#endif
#if (defined(IN_F16) && defined(OUT_F16)) || (defined(IN_BF16) && defined(OUT_BF16)) || \
    (defined(IN_F32) && defined(OUT_F32))
#define SAME_TYPE 1
#endif
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint KIND = 0;
layout(buffer_reference, std430) readonly buffer InBuf { TIN v[]; };
layout(buffer_reference, std430) buffer OutBuf { TOUT v[]; };
layout(push_constant, std430) uniform Push {
  InBuf a;
  InBuf b;  // read only by add and mul
  OutBuf y;
  uint n;
  float scalar;
} p;
void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
#ifdef SAME_TYPE
    if (KIND == 3) {
      p.y.v[i] = p.a.v[i];
      continue;
    }
#endif
    const float a = LD_IN(p.a.v[i]);
    float v = a;
    if (KIND == 0) v = a + LD_IN(p.b.v[i]);
    if (KIND == 1) v = a * LD_IN(p.b.v[i]);
    if (KIND == 2) v = p.scalar * a;
    p.y.v[i] = TO_OUT(v);
  }
}
