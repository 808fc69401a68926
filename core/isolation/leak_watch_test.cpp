// Tests for LeakWatch: a one-time growth per kind of work is not flagged; growth that repeats for the
// same kind in a worker is.
#include "core/isolation/leak_watch.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST_CASE("leak watch: one-time growth per kind of work (lazy library load, kernel JIT) is not flagged") {
  // The H200's standard run: cuBLASLt loads kernels for each new data type, once.
  LeakWatch watch(64 * kMiB);
  CHECK_FALSE(watch.observe(100, "gemm-f16-4096", "gemm|f16", 500 * kMiB, 717 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm-f16-8192", "gemm|f16", 717 * kMiB, 720 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm-4096[dtype=f32]", "gemm|f32", 720 * kMiB, 821 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm-4096[dtype=bf16]", "gemm|bf16", 821 * kMiB, 915 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm-8192[dtype=f32]", "gemm|f32", 915 * kMiB, 920 * kMiB));
  CHECK_FALSE(watch.observe(100, "stream", "stream|f32|triad", 920 * kMiB, 921 * kMiB));
  // PoCL: +32 MiB then +121 MiB (the f16 kernel's compile), then +4 MiB.
  LeakWatch pocl(64 * kMiB);
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=f32]", "gemm|f32", 70 * kMiB, 102 * kMiB));
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=f16]", "gemm|f16", 102 * kMiB, 223 * kMiB));
  CHECK_FALSE(pocl.observe(7, "gemm[dtype=bf16]", "gemm|bf16", 223 * kMiB, 227 * kMiB));
  CHECK_FALSE(pocl.observe(7, "launch_latency", "launch_latency|throughput", 227 * kMiB, 228 * kMiB));
}

TEST_CASE("leak watch: growth that repeats for the same kind in one worker is flagged") {
  LeakWatch watch(64 * kMiB);
  CHECK_FALSE(watch.observe(100, "gemm-1", "gemm|f32", 100 * kMiB, 356 * kMiB));
  CHECK_FALSE(watch.observe(100, "stream", "stream|f32", 356 * kMiB, 612 * kMiB));  // another kind
  auto note = watch.observe(100, "gemm-2", "gemm|f32", 612 * kMiB, 868 * kMiB);
  REQUIRE(note);
  CHECK(note->find("grew by 256 MiB during the case and was not given back (a leak?)") != std::string::npos);
  CHECK(note->find("during gemm-1 too") != std::string::npos);
  // Every later growth of that kind is flagged too; small growth never is.
  CHECK(watch.observe(100, "gemm-3", "gemm|f32", 868 * kMiB, 1124 * kMiB));
  CHECK_FALSE(watch.observe(100, "gemm-4", "gemm|f32", 1124 * kMiB, 1150 * kMiB));
  CHECK(watch.observe(100, "stream-2", "stream|f32", 1150 * kMiB, 1406 * kMiB));
}

TEST_CASE("leak watch: a new worker process starts a new history; unknown RSS or no threshold: no note") {
  LeakWatch watch(64 * kMiB);
  CHECK_FALSE(watch.observe(100, "a", "k", 100 * kMiB, 300 * kMiB));
  CHECK_FALSE(watch.observe(101, "b", "k", 100 * kMiB, 300 * kMiB));  // restarted: first use again
  CHECK(watch.observe(101, "c", "k", 300 * kMiB, 500 * kMiB));
  CHECK_FALSE(watch.observe(101, "d", "k", 0, 500 * kMiB));
  LeakWatch off(0);
  CHECK_FALSE(off.observe(1, "a", "k", 100 * kMiB, 900 * kMiB));
  CHECK_FALSE(off.observe(1, "b", "k", 100 * kMiB, 900 * kMiB));
}

}  // namespace
}  // namespace cmeter
