// convert.glsl - f16 and bf16 <-> f32 by integer operations only, so the rounding is the catalogue's
// (to nearest, ties to even) on every driver: a float16_t conversion's rounding is the driver's choice
// in Vulkan, and a driver that flushes f32 subnormals (lavapipe may) would spoil a conversion done by
// float arithmetic. Values travel as uints holding the 16 bits.

// binary16 -> f32, exact. Subnormals as m * 2^-24 (a normal f32); a NaN keeps its payload, quieted
// (as the host's conversion, core/validate/half.cpp).
float h2f(uint h) {
  const uint s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  const uint normal = s | ((e + 112u) << 23) | (m << 13);
  const uint special = s | 0x7f800000u | (m != 0u ? 0x400000u | (m << 13) : 0u);
  const uint sub = s | floatBitsToUint(float(m) * 5.9604644775390625e-8);  // m * 2^-24, exact
  return uintBitsToFloat(e == 0u ? sub : e == 31u ? special : normal);
}

// f32 -> binary16, round to nearest even: |x| >= 65520 is Inf, NaN stays a quiet NaN, below 2^-14
// the subnormals (the dropped bits rounded to even, down to 0).
uint f2h(float f) {
  const uint x = floatBitsToUint(f);
  const uint sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
  if (ax >= 0x477ff000u) return sign | 0x7c00u;
  if (ax >= 0x38800000u) return sign | ((ax - 0x38000000u + 0x0fffu + ((ax >> 13) & 1u)) >> 13);
  const uint e = ax >> 23;  // below 113: a subnormal half (or zero)
  if (e < 102u) return sign;  // below 2^-25: rounds to zero
  const uint mant = (ax & 0x7fffffu) | 0x800000u, shift = 126u - e;  // 14..24
  const uint q = mant >> shift, rem = mant & ((1u << shift) - 1u), half_unit = 1u << (shift - 1u);
  return sign | (q + ((rem > half_unit || (rem == half_unit && (q & 1u) == 1u)) ? 1u : 0u));
}

// bfloat16: the top half of an f32, rounded to nearest even; NaN stays (or becomes) a quiet NaN.
float bf2f(uint h) {
  const uint x = h << 16;
  return uintBitsToFloat((x & 0x7fffffffu) > 0x7f800000u ? x | 0x400000u : x);
}
uint f2bf(float f) {
  const uint u = floatBitsToUint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
