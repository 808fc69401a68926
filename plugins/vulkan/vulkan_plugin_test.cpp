// plugins/vulkan/vulkan_plugin_test.cpp - cmeter_vulkan_plugin_tests: the Vulkan plugin through its C
// ABI, on the Vulkan device present (lavapipe in CI).
//
// Why this file exists: the plugin's ops checked against host references on odd shapes (tile edges,
// transposes, offsets, beta, a copy tail that is not a multiple of 16 bytes; both GEMM kernels),
// transfers through pinned and pageable memory, and device events against the host clock; the 1.1
// inference ops are in infer_ops_test.cpp (same binary). Small sizes. Exits 77 (CTest skip) when no
// Vulkan device exists, and only then.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <cmeter/plugin_client.hpp>

namespace {

using cmeter::client::find;
using cmeter::client::Outcome;
using cmeter::client::Params;
using cmeter::client::Plugin;

Plugin* g_plugin = nullptr;
const Plugin& P() {
  return *g_plugin;
}
CMTR_Device* dev0() {
  return g_plugin->devices.at(0);
}

bool attr_bool(CMTR_Device* d, const std::string& key) {
  const auto kv = P().attributes(d);
  const CMTR_KeyValue* e = find(kv, key);
  return e != nullptr && e->type == CMTR_VALUE_BOOL && e->int_value != 0;
}

struct Session {
  CMTR_Stream* stream = nullptr;
  std::vector<CMTR_Buffer*> owned;
  Session() { REQUIRE(P().stream(dev0(), &stream).ok()); }
  ~Session() {
    for (auto* b : owned) P().destroy(b);
    P().destroy(stream);
  }
  CMTR_Buffer* buffer(uint64_t size_bytes, int32_t kind = CMTR_MEMORY_DEVICE) {
    CMTR_Buffer* b = nullptr;
    Outcome o = P().buffer(dev0(), size_bytes, &b, kind);
    REQUIRE_MESSAGE(o.ok(), o.message);
    owned.push_back(b);
    return b;
  }
  template <class T>
  CMTR_Buffer* upload(const std::vector<T>& host) {
    CMTR_Buffer* b = buffer(host.size() * sizeof(T));
    REQUIRE(P().write(stream, b, 0, host.data(), host.size() * sizeof(T)).ok());
    REQUIRE(P().sync(stream).ok());
    return b;
  }
  template <class T>
  std::vector<T> download(CMTR_Buffer* b, size_t count) {
    std::vector<T> out(count);
    REQUIRE(P().read(stream, b, 0, out.data(), count * sizeof(T)).ok());
    REQUIRE(P().sync(stream).ok());
    return out;
  }
  void run(const std::string& name, const Params& p, std::vector<CMTR_Buffer*> buffers) {
    CMTR_Op* op = nullptr;
    Outcome o = P().create(dev0(), name, p, &op);
    REQUIRE_MESSAGE(o.ok(), name << ": " << o.describe());
    o = P().enqueue(op, stream, buffers);
    CHECK_MESSAGE(o.ok(), o.describe());
    REQUIRE(P().sync(stream).ok());
    P().destroy(op);
  }
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST_CASE("vulkan: devices carry the Vulkan properties") {
  const auto kv = P().attributes(dev0());
  for (const char* key : {"name", "vendor", "kind", "driver.version", "runtime.version", "mem.bytes",
                          "timer.kind", "vulkan.api_version", "vulkan.subgroup_size", "vulkan.memory_heaps",
                          "vulkan.shader_float16", "vulkan.cooperative_matrix"})
    CHECK_MESSAGE(find(kv, key) != nullptr, key);
}

TEST_CASE("vulkan: gemm.v1 f32 on odd shapes, transposes, offsets, batch and beta (both kernels)") {
  struct Shape {
    int64_t m, n, k;
    bool ta, tb;
    int64_t batch;
    double beta;
  };
  for (const char* kernel : {"tiled", "blocked"})
    for (const Shape s : {Shape{37, 29, 45, false, false, 1, 0.0}, Shape{70, 65, 17, true, true, 2, 0.5},
                          Shape{1, 130, 3, false, true, 1, -1.0}, Shape{130, 3, 9, true, false, 3, 1.0},
                          Shape{9, 2, 4, false, false, 1, 0.0}}) {
      CAPTURE(kernel);
      CAPTURE(s.m);
      Session ss;
      const int64_t lda = (s.ta ? s.k : s.m) + 3, ldb = (s.tb ? s.n : s.k) + 1, ldc = s.m + 2;
      const int64_t off = 5, sa = lda * (s.ta ? s.m : s.k), sb = ldb * (s.tb ? s.k : s.n), sc = ldc * s.n;
      const auto a = random_floats(static_cast<size_t>(off + sa * s.batch), 1);
      const auto b = random_floats(static_cast<size_t>(off + sb * s.batch), 2);
      const auto c0 = random_floats(static_cast<size_t>(off + sc * s.batch), 3);
      auto* A = ss.upload(a);
      auto* B = ss.upload(b);
      auto* C = ss.upload(c0);
      Params p;
      p.i("m", s.m).i("n", s.n).i("k", s.k).s("dtype_a", "f32").b("trans_a", s.ta).b("trans_b", s.tb);
      p.i("lda", lda).i("ldb", ldb).i("ldc", ldc).i("batch", s.batch).d("alpha", 1.5).d("beta", s.beta);
      p.i("offset_a", off).i("offset_b", off).i("offset_c", off).s("hint.vulkan.gemm", kernel);
      ss.run("gemm.v1", p, {A, B, C});
      const auto c = ss.download<float>(C, c0.size());
      double worst = 0;
      for (int64_t z = 0; z < s.batch; ++z)
        for (int64_t j = 0; j < s.n; ++j)
          for (int64_t i = 0; i < s.m; ++i) {
            double acc = 0;
            for (int64_t q = 0; q < s.k; ++q) {
              const double av = a[static_cast<size_t>(off + z * sa + (s.ta ? i * lda + q : q * lda + i))];
              const double bv = b[static_cast<size_t>(off + z * sb + (s.tb ? q * ldb + j : j * ldb + q))];
              acc += av * bv;
            }
            const size_t at = static_cast<size_t>(off + z * sc + j * ldc + i);
            const double want = 1.5 * acc + s.beta * c0[at];
            worst = std::max(worst, std::fabs(c[at] - want));
          }
      CHECK(worst < 1e-4);
      // Padding between columns (ldc > m) and before the offset is untouched.
      CHECK(c[0] == c0[0]);
      CHECK(c[static_cast<size_t>(off + s.m)] == c0[static_cast<size_t>(off + s.m)]);
    }
}

TEST_CASE("vulkan: gemm.v1 f16 where shaderFloat16 (tiled kernel), unsupported i8 and a bad hint invalid") {
  bool supported = true;
  std::string reason;
  Params i8;
  i8.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "i8");
  REQUIRE(P().query(dev0(), "gemm.v1", i8, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("i8") != std::string::npos);
  Params bad;
  bad.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "f32").s("hint.vulkan.gemm", "fast");
  CHECK(P().query(dev0(), "gemm.v1", bad, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params h;
  h.i("m", 33).i("n", 20).i("k", 70).s("dtype_a", "f16").s("dtype_c", "f32").s("hint.vulkan.gemm", "tiled");
  REQUIRE(P().query(dev0(), "gemm.v1", h, &supported, &reason).ok());
  CHECK(supported ==
        (attr_bool(dev0(), "vulkan.shader_float16") && attr_bool(dev0(), "vulkan.storage_buffer_16bit")));
  if (!supported) return;
  // Inputs that are exact in f16 (multiples of 1/8 in [-2, 2]): the f32 result is exact too.
  std::vector<uint16_t> a(33 * 70), b(70 * 20);
  std::vector<float> af(a.size()), bf32(b.size());
  auto to_half = [](int eighths) {  // eighths in [-16, 16]
    const float f = static_cast<float>(eighths) / 8.0f;
    if (f == 0) return uint16_t{0};
    int e = 0;
    const float m = std::frexp(std::fabs(f), &e);
    const auto mant = static_cast<uint32_t>((m * 2 - 1) * 1024);
    return static_cast<uint16_t>((f < 0 ? 0x8000u : 0u) | (static_cast<uint32_t>(e - 1 + 15) << 10) | mant);
  };
  for (size_t i = 0; i < a.size(); ++i) {
    const int v = static_cast<int>(i * 7 % 33) - 16;
    a[i] = to_half(v);
    af[i] = static_cast<float>(v) / 8.0f;
  }
  for (size_t i = 0; i < b.size(); ++i) {
    const int v = static_cast<int>(i * 5 % 31) - 15;
    b[i] = to_half(v);
    bf32[i] = static_cast<float>(v) / 8.0f;
  }
  Session ss;
  auto* A = ss.upload(a);
  auto* B = ss.upload(b);
  auto* C = ss.buffer(33 * 20 * 4);
  ss.run("gemm.v1", h, {A, B, C});
  const auto c = ss.download<float>(C, 33 * 20);
  int wrong = 0;
  for (int j = 0; j < 20; ++j)
    for (int i = 0; i < 33; ++i) {
      float want = 0;
      for (int q = 0; q < 70; ++q)
        want += af[static_cast<size_t>(q * 33 + i)] * bf32[static_cast<size_t>(j * 70 + q)];
      wrong += c[static_cast<size_t>(j * 33 + i)] != want;
    }
  CHECK(wrong == 0);
}

TEST_CASE("vulkan: fma_peak.v1 f32 matches the host simulation") {
  Session ss;
  const int64_t items = 1000, iters = 300, lanes = 5;
  auto* out = ss.buffer(items * 4);
  Params p;
  p.s("dtype", "f32").i("items", items).i("iters", iters).i("lanes", lanes).d("a", 0.999).d("b", 0.01);
  ss.run("fma_peak.v1", p, {out});
  float want = 0;
  for (int64_t l = 0; l < lanes; ++l) {
    float x = static_cast<float>(1.0 + static_cast<double>(l) / 64);
    for (int64_t r = 0; r < iters; ++r) x = std::fma(x, 0.999f, 0.01f);
    want += x;
  }
  const auto got = ss.download<float>(out, items);
  int wrong = 0;
  for (float g : got) wrong += std::fabs(g - want) > 1e-5f * std::fabs(want);
  CHECK(wrong == 0);
}

TEST_CASE("vulkan: stream.v1 triad, copy.v1 with a tail, transfers pinned and pageable") {
  Session ss;
  const size_t n = 1000;
  const auto b = random_floats(n, 4), c = random_floats(n, 5);
  auto* A = ss.buffer(n * 4);
  auto* B = ss.upload(b);
  auto* C = ss.upload(c);
  Params p;
  p.s("kind", "triad").s("dtype", "f32").i("n", static_cast<int64_t>(n)).d("scalar", 3.0);
  ss.run("stream.v1", p, {A, B, C});
  const auto a = ss.download<float>(A, n);
  int wrong = 0;
  for (size_t i = 0; i < n; ++i) wrong += std::fabs(a[i] - (b[i] + 3.0f * c[i])) > 1e-6f;
  CHECK(wrong == 0);

  // copy.v1 of 1003 bytes (62 uvec4 words + an 11-byte tail) into a larger buffer: the rest stays.
  auto* dst = ss.upload(std::vector<uint8_t>(1100, 0xee));
  std::vector<uint8_t> src_bytes(1003);
  for (size_t i = 0; i < src_bytes.size(); ++i) src_bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  auto* src = ss.upload(src_bytes);
  for (const char* engine : {"kernel", "copy_engine"}) {
    Params cp;
    cp.i("bytes", 1003).s("engine", engine);
    ss.run("copy.v1", cp, {src, dst});
    const auto got = ss.download<uint8_t>(dst, 1100);
    CHECK(std::memcmp(got.data(), src_bytes.data(), 1003) == 0);
    CHECK(got[1003] == 0xee);
    CHECK(got[1099] == 0xee);
  }

  // A pinned round trip at an offset: host-pinned -> device -> host-pinned.
  CMTR_Buffer* pinned = ss.buffer(4096, CMTR_MEMORY_HOST_PINNED);
  void* host = nullptr;
  REQUIRE(P().host_pointer(pinned, &host).ok());
  auto* bytes = static_cast<uint8_t*>(host);
  for (int i = 0; i < 2048; ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  auto* dev = ss.buffer(4096);
  REQUIRE(P().write(ss.stream, dev, 100, bytes, 2048).ok());
  REQUIRE(P().read(ss.stream, dev, 100, bytes + 2048, 2048).ok());
  REQUIRE(P().sync(ss.stream).ok());
  CHECK(std::memcmp(bytes, bytes + 2048, 2048) == 0);
}

TEST_CASE("vulkan: events time the device work between them") {
  Session ss;
  const int64_t items = 4096, iters = 4000;
  auto* out = ss.buffer(items * 4);
  Params p;
  p.s("dtype", "f32").i("items", items).i("iters", iters).i("lanes", 8);
  CMTR_Op* op = nullptr;
  REQUIRE(P().create(dev0(), "fma_peak.v1", p, &op).ok());
  CMTR_Event *e0 = nullptr, *e1 = nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(P().record(ss.stream, &e0).ok());
  for (int r = 0; r < 4; ++r) REQUIRE(P().enqueue(op, ss.stream, {out}).ok());
  REQUIRE(P().record(ss.stream, &e1).ok());
  REQUIRE(P().sync(ss.stream).ok());
  const double host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double device_s = 0;
  REQUIRE(P().elapsed(e0, e1, &device_s).ok());
  CHECK(device_s > 0);
  CHECK(device_s <= host_s * 1.05);
  CHECK(device_s > host_s * 0.2);
  P().destroy(e0);
  P().destroy(e1);
  P().destroy(op);
}

}  // namespace

// The plugin under test, for infer_ops_test.cpp.
const Plugin& vulkan_test_plugin() {
  return *g_plugin;
}

int main(int argc, char** argv) {
  Plugin plugin(CMETER_VULKAN_PLUGIN_PATH);
  if (!plugin.ready()) {
    std::printf("FAIL: cannot load %s: %s\n", CMETER_VULKAN_PLUGIN_PATH, plugin.error.c_str());
    return 1;
  }
  if (plugin.devices.empty()) {
    const CMTR_KeyValue* s = find(plugin.plugin_attributes, "plugin.status");
    std::printf("SKIP: no Vulkan device (%s)\n",
                s != nullptr ? std::string(s->string_value.data, s->string_value.size).c_str() : "");
    return 77;
  }
  g_plugin = &plugin;
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  const int rc = context.run();
  if (rc != 0 || context.shouldExit()) return rc;
  // Handles the host destroys after plugin_shutdown (a host that shuts down on an error path): the
  // VkDevice is gone, so they must not call into it (this crashed in StreamState's destructor).
  CMTR_Stream* stream = nullptr;
  CMTR_Buffer* buffer = nullptr;
  if (!plugin.stream(dev0(), &stream).ok() || !plugin.buffer(dev0(), 1 << 16, &buffer).ok()) {
    std::printf("FAIL: stream or buffer for the late-destroy check\n");
    return 1;
  }
  const std::vector<float> ones(1 << 14, 1.0f);
  if (!plugin.write(stream, buffer, 0, ones.data(), ones.size() * sizeof(float)).ok() ||
      !plugin.sync(stream).ok()) {
    std::printf("FAIL: write for the late-destroy check\n");
    return 1;
  }
  if (!plugin.shutdown().ok()) {
    std::printf("FAIL: plugin_shutdown\n");
    return 1;
  }
  plugin.destroy(buffer);
  plugin.destroy(stream);
  std::printf("late destroy after plugin_shutdown: no crash\n");
  return 0;
}
