// Guard patterns around op outputs and the check that an op left them alone.
#include "core/validate/guard_bytes.h"

#include <algorithm>

#include <fmt/format.h>

namespace cmeter::validate {

uint64_t guard_size_bytes(uint64_t payload_bytes, uint64_t row_bytes) {
  (void)payload_bytes;
  uint64_t g = std::max<uint64_t>(256, row_bytes);
  g = (g + 63) / 64 * 64;
  return std::min<uint64_t>(g, 64 * 1024);
}

uint8_t guard_pattern_byte(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  // 1..254: never 0x00 nor 0xff.
  return static_cast<uint8_t>(1 + z % 254);
}

GuardedImage make_guarded(const std::vector<uint8_t>& payload, uint64_t lead_bytes, uint64_t tail_bytes,
                          uint64_t seed) {
  GuardedImage img;
  img.lead_bytes = lead_bytes;
  img.payload_bytes = payload.size();
  img.tail_bytes = tail_bytes;
  img.seed = seed;
  img.bytes.resize(lead_bytes + payload.size() + tail_bytes);
  for (uint64_t i = 0; i < lead_bytes; ++i) img.bytes[i] = guard_pattern_byte(seed, i);
  std::copy(payload.begin(), payload.end(), img.bytes.begin() + static_cast<std::ptrdiff_t>(lead_bytes));
  const uint64_t tail0 = lead_bytes + payload.size();
  for (uint64_t i = 0; i < tail_bytes; ++i) img.bytes[tail0 + i] = guard_pattern_byte(seed, lead_bytes + i);
  return img;
}

GuardDamage check_guards(const GuardedImage& image, const std::vector<uint8_t>& after) {
  GuardDamage d;
  if (after.size() != image.bytes.size()) {
    d.changed_bytes = image.lead_bytes + image.tail_bytes;
    d.first_offset = 0;
    d.before_payload = image.lead_bytes > 0;
    return d;
  }
  auto scan = [&](uint64_t from, uint64_t count, bool before) {
    for (uint64_t i = from; i < from + count; ++i) {
      if (after[i] == image.bytes[i]) continue;
      if (d.changed_bytes++ == 0) {
        d.first_offset = static_cast<int64_t>(i);
        d.before_payload = before;
      }
    }
  };
  scan(0, image.lead_bytes, true);
  scan(image.lead_bytes + image.payload_bytes, image.tail_bytes, false);
  return d;
}

std::string GuardDamage::describe() const {
  if (ok()) return "guards intact";
  return fmt::format("{} guard byte(s) changed, the first at buffer byte {} ({} the op's elements)",
                     changed_bytes, first_offset, before_payload ? "before" : "after");
}

std::vector<uint8_t> payload_of(const GuardedImage& image, const std::vector<uint8_t>& after) {
  const auto first = after.begin() + static_cast<std::ptrdiff_t>(image.lead_bytes);
  return std::vector<uint8_t>(first, first + static_cast<std::ptrdiff_t>(image.payload_bytes));
}

}  // namespace cmeter::validate
