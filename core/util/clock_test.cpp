// Tests for the timestamp formats and steady-clock durations.
#include "core/util/clock.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("clock: UTC timestamps in both forms") {
  const std::time_t t = 1796395459;  // 2026-12-04T14:44:19Z
  CHECK(utc_iso8601(t) == "2026-12-04T14:44:19Z");
  CHECK(utc_compact(t) == "20261204T144419Z");
  CHECK(utc_now_iso8601().size() == 20);
  CHECK(utc_now_compact().size() == 16);
}

TEST_CASE("clock: seconds since a steady time point") {
  auto start = SteadyClock::now();
  double s = seconds_since(start);
  CHECK(s >= 0);
  CHECK(s < 5);
  CHECK(seconds_since(start - std::chrono::seconds(2)) >= 2);
}

}  // namespace
}  // namespace cmeter
