// Tests for Result<T>: values, errors and CMETER_TRY propagation.
#include "core/util/result.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return make_error(ErrorCode::kInvalidArgument, "{} is odd", x);
  return x / 2;
}

Result<int> quarter(int x) {
  auto h = half(x);
  CMETER_TRY(h);
  return half(*h);
}

TEST_CASE("Result carries a value or an error") {
  CHECK(half(4).value() == 2);
  auto r = half(3);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "3 is odd");
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(half(3).value_or(-1) == -1);
}

TEST_CASE("CMETER_TRY propagates the first error") {
  CHECK(quarter(8).value() == 2);
  CHECK(quarter(6).error().message == "3 is odd");
  CHECK(quarter(5).error().message == "5 is odd");
}

}  // namespace
}  // namespace cmeter
