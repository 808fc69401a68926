// Bit-level f16 / bf16 conversions and single-step rounding of doubles to the catalogue's types.
// Written with integer arithmetic only, so results do not depend on the compiler, the CPU's half
// support, or the floating-point environment (the rounding mode is not consulted).
#include "core/validate/half.h"

#include <bit>
#include <cmath>
#include <limits>

namespace cmeter {
namespace {

// Round a non-negative double that is an exact value with at most 53 significant bits to the nearest
// integer, ties to even, without consulting the rounding mode.
double round_half_even(double y) {
  const double r = std::floor(y);
  const double diff = y - r;  // exact: y and r share an exponent range
  if (diff > 0.5) return r + 1.0;
  if (diff < 0.5) return r;
  return std::fmod(r, 2.0) == 0.0 ? r : r + 1.0;
}

// Round to a binary format with `precision` significant bits, minimum normal exponent `emin`
// (value 2^emin) and largest finite value `max_finite`.
double round_binary(double value, int precision, int emin, double max_finite) {
  if (std::isnan(value) || std::isinf(value) || value == 0.0) return value;
  int e = 0;
  std::frexp(value, &e);  // |value| = m 2^e, m in [0.5, 1): the leading bit is 2^(e-1)
  const int exponent = std::max(e - 1, emin);
  const int quantum = exponent - (precision - 1);                // value of the last kept bit: 2^quantum
  const double scaled = std::ldexp(std::fabs(value), -quantum);  // exact (power-of-two scaling)
  const double rounded = std::ldexp(round_half_even(scaled), quantum);
  const double magnitude = rounded > max_finite ? std::numeric_limits<double>::infinity() : rounded;
  return std::copysign(magnitude, value);
}

double round_integer(double value, double lo, double hi) {
  if (std::isnan(value)) return 0.0;
  if (value <= lo) return lo;
  if (value >= hi) return hi;
  const double r = round_half_even(std::fabs(value));
  return std::copysign(r, value) + 0.0;  // + 0.0: no negative zero for an integer
}

}  // namespace

uint16_t f32_to_f16_bits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN: quiet bit set, top 9 payload bits kept
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x1ffu));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 (or inf): inf
  if (abs >= 0x38800000u) {                                              // >= 2^-14: normal f16
    // Rebias the exponent (127 -> 15) and drop 13 mantissa bits; a carry out of the mantissa
    // correctly bumps the exponent.
    uint32_t h = (abs - 0x38000000u) >> 13;
    const uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (abs <= 0x33000000u) return sign;  // <= 2^-25: half the smallest subnormal ties to zero
  // Subnormal f16: m * 2^-24. The f32 is (1.mantissa) * 2^(E-127) with E in [102, 112], i.e.
  // significand * 2^(E-150) with a 24-bit significand, so m = significand >> (126 - E), rounded.
  const uint32_t exp = abs >> 23;
  const uint32_t significand = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exp;  // 14..24
  uint32_t m = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (m & 1u) != 0)) ++m;  // may carry into the smallest normal
  return static_cast<uint16_t>(sign | m);
}

float f16_bits_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exp == 0x1f) {
    const uint32_t nan_bits = mantissa != 0 ? (0x400000u | (mantissa << 13)) : 0u;
    return std::bit_cast<float>(sign | 0x7f800000u | nan_bits);
  }
  if (exp == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32 (a normal f32 for every nonzero mantissa).
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mantissa << 13));
}

uint16_t f32_to_bf16_bits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // quiet NaN
  // Nearest even on the dropped 16 bits; a carry propagates into the exponent and past the largest
  // finite value to inf, exactly as IEEE rounding does. Subnormals need no special case.
  const uint32_t rounded = x + 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(rounded >> 16);
}

float bf16_bits_to_f32(uint16_t bits) {
  uint32_t x = static_cast<uint32_t>(bits) << 16;
  if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x400000u;  // quiet a signalling NaN
  return std::bit_cast<float>(x);
}

double round_to(DType type, double value) {
  switch (type) {
    case DType::kF16:
      return round_binary(value, 11, -14, 65504.0);
    case DType::kBF16:
      return round_binary(value, 8, -126, 0x1.fep127);
    case DType::kTF32:
      return round_binary(value, 11, -126, 0x1.ffcp127);
    case DType::kF32:
      return round_binary(value, 24, -126, static_cast<double>(std::numeric_limits<float>::max()));
    case DType::kF64:
      return value;
    case DType::kI8:
      return round_integer(value, -128.0, 127.0);
    case DType::kI32:
      return round_integer(value, -2147483648.0, 2147483647.0);
  }
  return value;
}

}  // namespace cmeter
