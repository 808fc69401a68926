// The scratch buffer keeps its storage across smaller requests and grows for larger ones.
#include "core/util/scratch_buffer.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("scratch buffer: reused for smaller requests, grown for larger, contents kept when reused") {
  ScratchBuffer<float> s;
  CHECK(s.capacity() == 0);
  float* a = s.get(100);
  a[99] = 7.0f;
  CHECK(s.capacity() == 100);
  float* b = s.get(50);
  CHECK(b == a);
  CHECK(b[99] == 7.0f);
  CHECK(s.capacity() == 100);
  s.get(1000)[999] = 1.0f;
  CHECK(s.capacity() == 1000);
}

}  // namespace
}  // namespace cmeter
