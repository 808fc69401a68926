// Tests for the f16 / bf16 conversions and round_to: an exhaustive round trip of all 65536 f16
// patterns, every f16 rounding midpoint, tie and boundary cases, bf16 cases, and round_to against
// the bit-level conversions (including the double-rounding case that going through f32 gets wrong).
#include "core/validate/half.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

bool f16_is_nan(uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
}

float from_bits(uint32_t bits) {
  return std::bit_cast<float>(bits);
}

// The value of an f16 pattern from its definition, independently of the converter.
double f16_value(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double sign = (h & 0x8000u) != 0 ? -1.0 : 1.0;
  if (exp == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exp - 25);
}

TEST_CASE("half: exhaustive f16 -> f32 -> f16 round trip") {
  int nans = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = f16_bits_to_f32(h);
    const uint16_t back = f32_to_f16_bits(f);
    if (f16_is_nan(h)) {
      ++nans;
      REQUIRE(std::isnan(f));
      REQUIRE(f16_is_nan(back));
      REQUIRE((back & 0x8000u) == (h & 0x8000u));
      REQUIRE((back & 0x200u) != 0);  // quiet
      continue;
    }
    REQUIRE(back == h);
    if ((h & 0x7c00u) == 0x7c00u) {
      REQUIRE(std::isinf(f));
    } else {
      REQUIRE(static_cast<double>(f) == f16_value(h));
      REQUIRE(round_to(DType::kF16, f) == static_cast<double>(f));
    }
  }
  CHECK(nans == 2 * 1023);
}

TEST_CASE("half: every f16 midpoint rounds to even, its neighbours to nearest") {
  // Adjacent positive finite patterns h, h + 1 (0x0000 .. 0x7bff); the midpoint has 12 significant
  // bits, so it is exact in f32.
  for (uint16_t h = 0; h < 0x7bff; ++h) {
    const float lo = f16_bits_to_f32(h);
    const float hi = f16_bits_to_f32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + static_cast<double>(hi)) / 2.0);
    REQUIRE(static_cast<double>(mid) == (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0);
    const uint16_t even = (h & 1u) == 0 ? h : static_cast<uint16_t>(h + 1);
    REQUIRE(f32_to_f16_bits(mid) == even);
    REQUIRE(f32_to_f16_bits(-mid) == (even | 0x8000u));
    REQUIRE(f32_to_f16_bits(std::nextafter(mid, 0.0f)) == h);
    REQUIRE(f32_to_f16_bits(std::nextafter(mid, 1e9f)) == h + 1);
    REQUIRE(round_to(DType::kF16, mid) == static_cast<double>(f16_bits_to_f32(even)));
  }
}

TEST_CASE("half: f16 boundaries") {
  CHECK(f32_to_f16_bits(1.0f) == 0x3c00);
  CHECK(f32_to_f16_bits(-2.0f) == 0xc000);
  CHECK(f32_to_f16_bits(0.0f) == 0x0000);
  CHECK(f32_to_f16_bits(-0.0f) == 0x8000);
  CHECK(f32_to_f16_bits(1.0f + 0x1p-11f) == 0x3c00);      // tie, 0x3c00 is even
  CHECK(f32_to_f16_bits(1.0f + 3 * 0x1p-11f) == 0x3c02);  // tie, up to even
  CHECK(f32_to_f16_bits(65504.0f) == 0x7bff);             // largest finite
  CHECK(f32_to_f16_bits(65519.996f) == 0x7bff);
  CHECK(f32_to_f16_bits(65520.0f) == 0x7c00);  // tie above the largest finite: inf
  CHECK(f32_to_f16_bits(1e10f) == 0x7c00);
  CHECK(f32_to_f16_bits(-1e10f) == 0xfc00);
  CHECK(f32_to_f16_bits(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(f32_to_f16_bits(0x1p-14f) == 0x0400);             // smallest normal
  CHECK(f32_to_f16_bits(0x1p-24f) == 0x0001);             // smallest subnormal
  CHECK(f32_to_f16_bits(1023 * 0x1p-24f) == 0x03ff);      // largest subnormal
  CHECK(f32_to_f16_bits(0x1p-14f - 0x1p-26f) == 0x0400);  // rounds up into the normals
  CHECK(f32_to_f16_bits(0x1p-25f) == 0x0000);             // tie with zero: zero is even
  CHECK(f32_to_f16_bits(-0x1p-25f) == 0x8000);
  CHECK(f32_to_f16_bits(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
  CHECK(f32_to_f16_bits(3 * 0x1p-25f) == 0x0002);  // tie between 1 and 2 ulps: 2
  CHECK(f32_to_f16_bits(5 * 0x1p-25f) == 0x0002);  // tie between 2 and 3: 2
  CHECK(f32_to_f16_bits(1e-30f) == 0x0000);
  CHECK(f32_to_f16_bits(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(f16_bits_to_f32(0x7bff) == 65504.0f);
  CHECK(f16_bits_to_f32(0x0001) == 0x1p-24f);
  CHECK(f16_bits_to_f32(0x03ff) == 1023 * 0x1p-24f);
  CHECK(std::signbit(f16_bits_to_f32(0x8000)));
  // NaN: quiet, sign kept; a NaN whose payload is only in low f32 bits stays NaN.
  CHECK(f32_to_f16_bits(std::numeric_limits<float>::quiet_NaN()) == 0x7e00);
  CHECK(f16_is_nan(f32_to_f16_bits(from_bits(0x7f800001u))));
  CHECK(f16_is_nan(f32_to_f16_bits(from_bits(0xff800001u))));
  CHECK((f32_to_f16_bits(from_bits(0xff800001u)) & 0x8000u) != 0);
  CHECK(std::isnan(f16_bits_to_f32(0x7c01)));  // signalling f16 NaN
  CHECK((std::bit_cast<uint32_t>(f16_bits_to_f32(0x7c01)) & 0x400000u) != 0);
}

TEST_CASE("half: bf16") {
  CHECK(f32_to_bf16_bits(1.0f) == 0x3f80);
  CHECK(f32_to_bf16_bits(-1.0f) == 0xbf80);
  CHECK(f32_to_bf16_bits(1.0f + 0x1p-8f) == 0x3f80);             // tie, 0x3f80 even
  CHECK(f32_to_bf16_bits(1.0f + 3 * 0x1p-8f) == 0x3f82);         // tie, up to even
  CHECK(f32_to_bf16_bits(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81);  // just above the tie
  CHECK(f32_to_bf16_bits(from_bits(0x7f7f7fffu)) == 0x7f7f);     // largest finite stays
  CHECK(f32_to_bf16_bits(from_bits(0x7f7f8000u)) == 0x7f80);     // tie above it: inf
  CHECK(f32_to_bf16_bits(std::numeric_limits<float>::max()) == 0x7f80);
  CHECK(f32_to_bf16_bits(-std::numeric_limits<float>::infinity()) == 0xff80);
  CHECK(f32_to_bf16_bits(from_bits(0x00000001u)) == 0x0000);  // subnormals round like the rest
  CHECK(f32_to_bf16_bits(from_bits(0x00008000u)) == 0x0000);  // tie with zero
  CHECK(f32_to_bf16_bits(from_bits(0x00018000u)) == 0x0002);  // tie between 1 and 2
  CHECK(f32_to_bf16_bits(from_bits(0x00010000u)) == 0x0001);  // smallest bf16 subnormal, 2^-133
  CHECK(f32_to_bf16_bits(from_bits(0x007fffffu)) == 0x0080);  // up into the smallest normal
  CHECK(f32_to_bf16_bits(std::numeric_limits<float>::quiet_NaN()) == 0x7fc0);
  CHECK(f32_to_bf16_bits(from_bits(0x7f800001u)) == 0x7fc0);  // payload only in low bits: still NaN
  CHECK(bf16_bits_to_f32(0x3f80) == 1.0f);
  CHECK(bf16_bits_to_f32(0x0001) == 0x1p-133f);
  CHECK(bf16_bits_to_f32(0x7f7f) == 0x1.fep127f);
  CHECK(std::isnan(bf16_bits_to_f32(0x7f81)));
  CHECK((std::bit_cast<uint32_t>(bf16_bits_to_f32(0x7f81)) & 0x400000u) != 0);
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto b = static_cast<uint16_t>(i);
    const float f = bf16_bits_to_f32(b);
    if (std::isnan(f)) {
      REQUIRE(std::isnan(bf16_bits_to_f32(f32_to_bf16_bits(f))));
    } else {
      REQUIRE(f32_to_bf16_bits(f) == b);
      if (!std::isinf(f)) REQUIRE(round_to(DType::kBF16, f) == static_cast<double>(f));
    }
  }
}

TEST_CASE("half: round_to rounds once, for every type") {
  // 1 + 2^-11 + 2^-40 is just above an f16 tie; through f32 it lands on the tie and goes to even.
  const double x = 1.0 + 0x1p-11 + 0x1p-40;
  CHECK(f16_bits_to_f32(f32_to_f16_bits(static_cast<float>(x))) == 1.0f);  // double rounding
  CHECK(round_to(DType::kF16, x) == 1.0 + 0x1p-10);                        // correct
  CHECK(round_to(DType::kF16, 65519.9) == 65504.0);
  CHECK(std::isinf(round_to(DType::kF16, 65520.0)));
  CHECK(round_to(DType::kF16, -0x1p-25) == 0.0);
  CHECK(std::signbit(round_to(DType::kF16, -0x1p-25)));
  CHECK(round_to(DType::kF16, 0x1p-25 + 0x1p-60) == 0x1p-24);
  CHECK(round_to(DType::kBF16, 1.0 + 0x1p-8) == 1.0);
  CHECK(round_to(DType::kBF16, 1.0 + 0x1p-8 + 0x1p-50) == 1.0 + 0x1p-7);
  CHECK(round_to(DType::kTF32, 1.0 + 0x1p-11) == 1.0);               // tie to even
  CHECK(round_to(DType::kTF32, 1.0 + 3 * 0x1p-11) == 1.0 + 0x1p-9);  // tie to even, up
  CHECK(round_to(DType::kTF32, 1e30) == doctest::Approx(1e30).epsilon(1e-3));
  CHECK(round_to(DType::kTF32, 0x1p-140) == 0.0);  // below half of tf32's subnormal step 2^-136
  CHECK(std::isinf(round_to(DType::kTF32, 0x1.ffep127)));
  CHECK(round_to(DType::kTF32, 0x1.ffcp127) == 0x1.ffcp127);
  CHECK(round_to(DType::kF32, 0.1) == static_cast<double>(0.1f));
  CHECK(std::isinf(round_to(DType::kF32, 1e39)));
  CHECK(round_to(DType::kF32, 1e-46) == 0.0);
  CHECK(round_to(DType::kF32, 0x1p-149) == 0x1p-149);
  CHECK(round_to(DType::kF64, 0.1) == 0.1);
  CHECK(std::isnan(round_to(DType::kF16, std::numeric_limits<double>::quiet_NaN())));
  CHECK(std::isinf(round_to(DType::kBF16, -std::numeric_limits<double>::infinity())));
  // Integers: nearest, ties to even, saturate; NaN -> 0.
  CHECK(round_to(DType::kI8, 2.5) == 2.0);
  CHECK(round_to(DType::kI8, 3.5) == 4.0);
  CHECK(round_to(DType::kI8, -2.6) == -3.0);
  CHECK(round_to(DType::kI8, 127.4) == 127.0);
  CHECK(round_to(DType::kI8, 300.0) == 127.0);
  CHECK(round_to(DType::kI8, -300.0) == -128.0);
  CHECK_FALSE(std::signbit(round_to(DType::kI8, -0.2)));
  CHECK(round_to(DType::kI32, 3e9) == 2147483647.0);
  CHECK(round_to(DType::kI32, -3e9) == -2147483648.0);
  CHECK(round_to(DType::kI32, 1e6 + 0.5) == 1e6);
  CHECK(round_to(DType::kI32, std::numeric_limits<double>::quiet_NaN()) == 0.0);
}

TEST_CASE("half: round_to(f32) matches the compiler's double -> float conversion") {
  uint64_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    // Random bit patterns, both signs, exponents -160..126 (in f32's range, so the cast is defined).
    const uint64_t bits =
        (state & 0x800fffffffffffffull) | (static_cast<uint64_t>(1023 - 160 + (state >> 52) % 287) << 52);
    const double d = std::bit_cast<double>(bits);
    REQUIRE(round_to(DType::kF32, d) == static_cast<double>(static_cast<float>(d)));
    // And round_to(f16) of an f32 agrees with the bit-level converter.
    const float f = static_cast<float>(d);
    if (!std::isnan(f))
      REQUIRE(round_to(DType::kF16, f) == static_cast<double>(f16_bits_to_f32(f32_to_f16_bits(f))));
  }
}

}  // namespace
}  // namespace cmeter
