// Tests for LeakWatch: a one-time growth is not flagged; growth that repeats in a worker is.
#include "core/isolation/leak_watch.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST_CASE("leak watch: a one-time growth (lazy library load, kernel JIT) is not flagged") {
  LeakWatch watch(64 * kMiB);
  // cuBLASLt's first tf32 GEMM: +185 MiB once, then flat.
  CHECK_FALSE(watch.observe(100, "gemm[tf32]", 500 * kMiB, 685 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm[tf32,big]", 685 * kMiB, 690 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm[f16]", 690 * kMiB, 700 * kMiB));
  CHECK_FALSE(watch.observe(100, "stream", 700 * kMiB, 701 * kMiB));
  // PoCL: +32 MiB then +121 MiB (the f16 kernel's compile), then +4 MiB: one growth above 64 MiB.
  LeakWatch pocl(64 * kMiB);
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=f32]", 70 * kMiB, 102 * kMiB));
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=f16]", 102 * kMiB, 223 * kMiB));
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=bf16]", 223 * kMiB, 227 * kMiB));
  CHECK_FALSE(pocl.observe(7, "launch_latency", 227 * kMiB, 228 * kMiB));
}

TEST_CASE("leak watch: growth that repeats in one worker is flagged") {
  LeakWatch watch(64 * kMiB);
  CHECK_FALSE(watch.observe(100, "gemm-1", 100 * kMiB, 356 * kMiB));
  auto note = watch.observe(100, "gemm-2", 356 * kMiB, 612 * kMiB);
  REQUIRE(note);
  CHECK(note->find("grew by 256 MiB during the case and was not given back (a leak?)") != std::string::npos);
  CHECK(note->find("during gemm-1 too") != std::string::npos);
  // Every later growth is flagged too.
  CHECK(watch.observe(100, "stream", 612 * kMiB, 868 * kMiB));  // whatever the workload
  // Small growth never is.
  CHECK_FALSE(watch.observe(100, "gemm-4", 868 * kMiB, 900 * kMiB));
}

TEST_CASE("leak watch: a new worker process starts a new history; unknown RSS or no threshold: no note") {
  LeakWatch watch(64 * kMiB);
  CHECK_FALSE(watch.observe(100, "a", 100 * kMiB, 300 * kMiB));
  CHECK_FALSE(watch.observe(101, "b", 100 * kMiB, 300 * kMiB));  // restarted: first use again
  CHECK(watch.observe(101, "c", 300 * kMiB, 500 * kMiB));
  CHECK_FALSE(watch.observe(101, "d", 0, 500 * kMiB));
  LeakWatch off(0);
  CHECK_FALSE(off.observe(1, "a", 100 * kMiB, 900 * kMiB));
  CHECK_FALSE(off.observe(1, "b", 100 * kMiB, 900 * kMiB));
}

}  // namespace
}  // namespace cmeter
