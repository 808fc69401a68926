// infer.glsl - what the inference-op shaders share: the storage of `dtype` chosen at build time
// (-DT_F32, -DT_F16 or -DT_BF16; plugins/vulkan/CMakeLists.txt), index buffers, and work-group
// reductions. f16 and bf16 are stored as uint16_t (16-bit storage) and converted by convert.glsl, so
// every op computes in f32 and rounds once per output; two invocations never share a 32-bit word.
// LD(buf, i) reads element i as f32; ST(buf, i, v) rounds v to the storage type and writes it.
#include "common.glsl"
#if defined(T_F16) || defined(T_BF16)
#extension GL_EXT_shader_16bit_storage : require
#endif
#include "convert.glsl"

#if defined(T_F16) || defined(T_BF16)
layout(buffer_reference, std430) buffer Elems { uint16_t v[]; };
#else
layout(buffer_reference, std430) buffer Elems { float v[]; };
#endif
layout(buffer_reference, std430) buffer Ints { int v[]; };

#if defined(T_F16)
#define LD(b, i) h2f(uint((b).v[i]))
#define ST(b, i, x) (b).v[i] = uint16_t(f2h(x))
#elif defined(T_BF16)
#define LD(b, i) bf2f(uint((b).v[i]))
#define ST(b, i, x) (b).v[i] = uint16_t(f2bf(x))
#else
#define LD(b, i) (b).v[i]
#define ST(b, i, x) (b).v[i] = (x)
#endif

// NaN by its bits (a driver may drop isnan() where it assumes no NaN).
bool is_nan(float v) {
  return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u;
}

// Row kernels: one work-group of ROWL invocations (a power of two; spec constant 1, equal to the
// local size, spec constant 0) per row, sums and maxima as tree reductions in shared memory.
#ifdef ROW_KERNEL
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWL = 64;
shared float red[ROWL];
float wg_sum(float v) {
  const uint lid = gl_LocalInvocationID.x;
  red[lid] = v;
  barrier();
  for (uint s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    barrier();
  }
  const float r = red[0];
  barrier();
  return r;
}
float wg_max(float v) {
  const uint lid = gl_LocalInvocationID.x;
  red[lid] = v;
  barrier();
  for (uint s = ROWL / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = max(red[lid], red[lid + s]);
    barrier();
  }
  const float r = red[0];
  barrier();
  return r;
}
#else
layout(local_size_x = 64) in;
// Element kernels: a grid-stride loop over `count` items.
#define FOR_ITEMS(e, count) \
  for (uint e = gl_GlobalInvocationID.x; e < (count); e += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
#endif
