// Portable f16 / bf16 conversions and rounding of a double to any catalogue type. The host generates
// inputs in the device's element type and checks outputs against an FP64 reference; both need the
// exact IEEE rounding (nearest, ties to even) the device applies, with no compiler or CPU support
// for half types assumed (no intrinsics, no _Float16).
#pragma once

#include <cstdint>

#include "core/validate/dtype.h"

namespace cmeter {

// IEEE binary16. Round to nearest even; overflow (|x| >= 65520) gives inf; results below the
// smallest subnormal (2^-24) round to signed zero or to it; NaN gives a quiet NaN (sign and the top
// payload bits kept).
uint16_t f32_to_f16_bits(float value);
// Exact (every f16 is an f32). A signalling NaN comes back quiet.
float f16_bits_to_f32(uint16_t bits);

// bfloat16 (the top half of an f32). Round to nearest even, overflow to inf, subnormals kept,
// NaN gives a quiet NaN.
uint16_t f32_to_bf16_bits(float value);
// Exact. A signalling NaN comes back quiet.
float bf16_bits_to_f32(uint16_t bits);

// `value` rounded to `type`, as a double, rounding once (no double rounding through f32):
// - f16, bf16, f32: round to nearest even, with that type's subnormals and overflow to inf;
// - tf32: f32's exponent range with 10 stored mantissa bits (11 significant), nearest even;
// - f64: unchanged;
// - i8, i32: nearest integer (ties to even), saturated to the type's range; NaN gives 0.
// NaN and infinities pass through for the floating types.
double round_to(DType type, double value);

}  // namespace cmeter
