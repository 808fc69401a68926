// Tests of the guard bytes: the pattern, and that a write past (or before) the payload is found while
// writes inside it are not counted.
#include "core/validate/guard_bytes.h"

#include <doctest/doctest.h>

namespace cmeter::validate {
namespace {

TEST_CASE("guard bytes: sizes and pattern") {
  CHECK(guard_size_bytes(10, 4) == 256);
  CHECK(guard_size_bytes(10, 1000) == 1024);
  CHECK(guard_size_bytes(10, 1u << 20) == 64 * 1024);
  int distinct = 0;
  for (uint64_t i = 0; i < 4096; ++i) {
    const uint8_t b = guard_pattern_byte(42, i);
    CHECK(b != 0x00);
    CHECK(b != 0xff);
    distinct += b != guard_pattern_byte(42, i + 1);
  }
  CHECK(distinct > 4000);                                       // not a constant
  CHECK(guard_pattern_byte(1, 0) != guard_pattern_byte(2, 0));  // seeded
}

TEST_CASE("guard bytes: writes outside the payload are found, inside are not") {
  const std::vector<uint8_t> payload(100, 0xff);
  const GuardedImage img = make_guarded(payload, 16, 256, 7);
  REQUIRE(img.bytes.size() == 372);
  std::vector<uint8_t> after = img.bytes;
  CHECK(check_guards(img, after).ok());
  for (size_t i = 16; i < 116; ++i) after[i] = 0;  // the op wrote its output
  CHECK(check_guards(img, after).ok());
  CHECK(payload_of(img, after) == std::vector<uint8_t>(100, 0));
  after[116] ^= 1;  // one byte past the end
  after[200] = 0;
  GuardDamage d = check_guards(img, after);
  CHECK(d.changed_bytes == 2);
  CHECK(d.first_offset == 116);
  CHECK(!d.before_payload);
  CHECK(d.describe().find("after") != std::string::npos);
  std::vector<uint8_t> before = img.bytes;
  before[15] = 0;  // just before an offset payload
  d = check_guards(img, before);
  CHECK(d.changed_bytes == 1);
  CHECK(d.before_payload);
  CHECK(!check_guards(img, std::vector<uint8_t>(10)).ok());  // a short read-back is not intact
}

}  // namespace
}  // namespace cmeter::validate
