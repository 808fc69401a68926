// Tests of the seeded host data: reproducible from the seed (pinned values, so a change to the
// generator that would change every workload's and conformance check's inputs is seen), in range,
// exactly representable in the element type, and read back exactly.
#include "core/validate/host_data.h"

#include <cmath>
#include <cstring>
#include <set>

#include <doctest/doctest.h>

#include "core/validate/half.h"

namespace cmeter::validate {
namespace {

TEST_CASE("host data: the generator depends on seed, salt and index only") {
  auto a = make_rng(42, "gemm/cpu:0", 1), b = make_rng(42, "gemm/cpu:0", 1);
  CHECK(a() == b());
  CHECK(make_rng(42, "gemm/cpu:0", 1)() != make_rng(43, "gemm/cpu:0", 1)());
  CHECK(make_rng(42, "gemm/cpu:0", 1)() != make_rng(42, "gemm/cpu:1", 1)());
  CHECK(make_rng(42, "gemm/cpu:0", 1)() != make_rng(42, "gemm/cpu:0", 2)());
  // Pinned: the inputs of every run and conformance check follow from these.
  CHECK(make_rng(1, "x")() == 0x6fd217318dd6715aull);
}

TEST_CASE("host data: float elements are uniform in [lo, hi] and exact in their type") {
  for (DType t : {DType::kF16, DType::kBF16, DType::kF32, DType::kTF32, DType::kF64}) {
    CAPTURE(to_string(t));
    auto rng = make_rng(7, "range");
    const auto bytes = random_elements(t, 10000, rng, -1, 1);
    REQUIRE(bytes.size() == 10000 * size_bytes(t));
    double lo = 1, hi = -1, sum = 0;
    for (size_t i = 0; i < 10000; ++i) {
      const double v = element_as_double(t, bytes.data(), i);
      REQUIRE(v >= -1.0);
      REQUIRE(v <= 1.0);
      REQUIRE(round_to(t == DType::kTF32 ? DType::kF32 : t, v) == v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    CHECK(lo < -0.99);
    CHECK(hi > 0.99);
    CHECK(std::fabs(sum / 10000) < 0.03);  // zero mean, as the GEMM tolerance assumes
  }
}

TEST_CASE("host data: integer elements cover [ceil(lo), floor(hi)]") {
  auto rng = make_rng(7, "ints");
  const auto i8 = random_elements(DType::kI8, 5000, rng, -8.5, 8);
  std::set<double> seen;
  for (size_t i = 0; i < i8.size(); ++i) seen.insert(element_as_double(DType::kI8, i8.data(), i));
  CHECK(seen.size() == 17);
  CHECK(*seen.begin() == -8);
  CHECK(*seen.rbegin() == 8);
  const auto bytes = random_elements(DType::kI8, 4096, rng, -128, 127);
  std::set<double> all;
  for (size_t i = 0; i < bytes.size(); ++i) all.insert(element_as_double(DType::kI8, bytes.data(), i));
  CHECK(all.size() == 256);
  const auto i32 = random_elements(DType::kI32, 100, rng, -1000, 1000);
  for (size_t i = 0; i < 100; ++i) CHECK(std::fabs(element_as_double(DType::kI32, i32.data(), i)) <= 1000);
}

TEST_CASE("host data: the same seed gives the same bytes; pinned f32 values") {
  auto r1 = make_rng(3, "same"), r2 = make_rng(3, "same");
  CHECK(random_elements(DType::kF16, 64, r1) == random_elements(DType::kF16, 64, r2));
  auto r3 = make_rng(1, "x");
  const auto f32 = random_elements(DType::kF32, 2, r3);
  CHECK(element_as_double(DType::kF32, f32.data(), 0) == static_cast<double>(-0.862353623f));
  CHECK(element_as_double(DType::kF32, f32.data(), 1) == static_cast<double>(0.410888791f));
}

TEST_CASE("host data: elements read back exactly in every layout") {
  const uint16_t h = f32_to_f16_bits(-1.5f), bf = f32_to_bf16_bits(0.375f);
  const float f = 0.1f;
  const double d = -0.1;
  const int8_t i8 = -100;
  const int32_t i32 = -123456;
  uint8_t buf[16] = {};
  std::memcpy(buf + 2, &h, 2);
  CHECK(element_as_double(DType::kF16, buf, 1) == -1.5);
  std::memcpy(buf + 2, &bf, 2);
  CHECK(element_as_double(DType::kBF16, buf, 1) == 0.375);
  std::memcpy(buf + 4, &f, 4);
  CHECK(element_as_double(DType::kF32, buf, 1) == static_cast<double>(0.1f));
  CHECK(element_as_double(DType::kTF32, buf, 1) == static_cast<double>(0.1f));
  std::memcpy(buf + 8, &d, 8);
  CHECK(element_as_double(DType::kF64, buf, 1) == -0.1);
  std::memcpy(buf + 3, &i8, 1);
  CHECK(element_as_double(DType::kI8, buf, 3) == -100);
  std::memcpy(buf + 4, &i32, 4);
  CHECK(element_as_double(DType::kI32, buf, 1) == -123456);
}

TEST_CASE("host data: sampled_max_abs looks at evenly spaced elements") {
  std::vector<double> v(100, 0.5);
  v[37] = -3;
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  CHECK(sampled_max_abs(DType::kF64, p, v.size()) == 3);        // 100 <= 4096 samples: every element
  CHECK(sampled_max_abs(DType::kF64, p, v.size(), 10) == 0.5);  // every 10th: 37 not seen
  CHECK(sampled_max_abs(DType::kF64, p, 0) == 0);
}

}  // namespace
}  // namespace cmeter::validate
