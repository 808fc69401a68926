// Guard bytes: a device buffer is allocated larger than an op's output, the extra bytes (and, where an
// op takes an offset, the bytes before it) filled with a seeded pattern before the call and compared
// after it. A byte changed there is an out-of-bounds write, which an op must never do (docs/abi-keys.md,
// "Out-of-range index values ... never touches memory outside its buffers"). The payload itself is
// poisoned with 0xff bytes (NaN in every float type, -1 as i32), so an element the op forgot to write
// is seen too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cmeter::validate {

// Bytes of guard after a payload of `payload_bytes`: at least 256, at least one `row_bytes`, a multiple
// of 64, at most 64 KiB (an overrun of a whole row or a vector tail lands inside it).
uint64_t guard_size_bytes(uint64_t payload_bytes, uint64_t row_bytes);

// Byte i of the guard pattern for `seed`: pseudo-random, never 0x00 or 0xff (the values zeroing and
// poison write), so a stray write of zeros, ones or NaN is always seen.
uint8_t guard_pattern_byte(uint64_t seed, uint64_t i);

// A host image of a guarded buffer: `lead_bytes` of pattern, then `payload`, then `tail_bytes` of pattern.
struct GuardedImage {
  std::vector<uint8_t> bytes;
  uint64_t lead_bytes = 0;
  uint64_t payload_bytes = 0;
  uint64_t tail_bytes = 0;
  uint64_t seed = 0;
};
GuardedImage make_guarded(const std::vector<uint8_t>& payload, uint64_t lead_bytes, uint64_t tail_bytes,
                          uint64_t seed);

// What changed in the guards of `after` (the buffer read back whole) against the pattern.
struct GuardDamage {
  uint64_t changed_bytes = 0;
  int64_t first_offset = -1;  // byte offset in the buffer of the first changed guard byte, or -1
  bool before_payload = false;
  bool ok() const { return changed_bytes == 0; }
  // "3 guard byte(s) after the output changed, the first at +0 past its end"
  std::string describe() const;
};
// `after` must be image.bytes.size() long; else every guard byte counts as changed.
GuardDamage check_guards(const GuardedImage& image, const std::vector<uint8_t>& after);

// The payload part of a buffer read back whole.
std::vector<uint8_t> payload_of(const GuardedImage& image, const std::vector<uint8_t>& after);

}  // namespace cmeter::validate
