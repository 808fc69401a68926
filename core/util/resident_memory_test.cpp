// Tests for the RSS reader: this process has a resident set, it grows when we touch memory, and a
// process that does not exist reads as 0.
#include "core/util/resident_memory.h"

#include <unistd.h>

#include <cstring>
#include <vector>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("resident memory: own RSS is known and grows when memory is touched") {
  const uint64_t before = self_rss_bytes();
  CHECK(before > 0);
  CHECK(process_rss_bytes(static_cast<int>(::getpid())) > 0);
  std::vector<char> block(64u << 20);
  std::memset(block.data(), 1, block.size());
  CHECK(self_rss_bytes() >= before + (32u << 20));
  CHECK(block[block.size() / 2] == 1);
}

TEST_CASE("resident memory: physical memory is known and above this process's RSS") {
  const uint64_t phys = physical_memory_bytes();
  CHECK(phys > (uint64_t{64} << 20));
  CHECK(phys > self_rss_bytes());
}

TEST_CASE("resident memory: an absent process reads as 0") {
  CHECK(process_rss_bytes(-1) == 0);
  CHECK(process_rss_bytes(0x3fffffff) == 0);
}

}  // namespace
}  // namespace cmeter
