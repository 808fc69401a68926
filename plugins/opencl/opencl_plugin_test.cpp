// plugins/opencl/opencl_plugin_test.cpp - cmeter_opencl_plugin_tests: the OpenCL plugin through its
// C ABI, on the OpenCL device(s) present (PoCL on CI and on the reference VM).
//
// Why this file exists: the "tested for real" promise. Each test drives libcmeter-opencl.so
// as cmeter does (dlopen, the ABI only; cmeter/plugin_client.hpp) and checks answers against host references:
// enumeration and attributes, op_query answers (f16 fma_peak unsupported with "no cl_khr_fp16" where
// the device lacks it), the build-failure path (the build log in the error), out-of-memory
// allocation, buffer round trips, device events against the host clock, and every op's output on
// odd shapes. Exits 77 (CTest skip) when no OpenCL device exists, and only then.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <cmeter/physical_id.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cmeter/plugin_client.hpp>
#include "device_info.hpp"

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

std::string attr_string(const std::vector<CMTR_KeyValue>& kv, const std::string& key) {
  const CMTR_KeyValue* e = find(kv, key);
  return e != nullptr && e->type == CMTR_VALUE_STRING
             ? std::string(e->string_value.data, e->string_value.size)
             : "";
}
bool attr_bool(const std::vector<CMTR_KeyValue>& kv, const std::string& key) {
  const CMTR_KeyValue* e = find(kv, key);
  return e != nullptr && e->type == CMTR_VALUE_BOOL && e->int_value != 0;
}
int64_t attr_int(const std::vector<CMTR_KeyValue>& kv, const std::string& key) {
  const CMTR_KeyValue* e = find(kv, key);
  return e != nullptr && e->type == CMTR_VALUE_INT64 ? e->int_value : -1;
}

// RAII over a stream and buffers of device 0.
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
    REQUIRE(P().sync(stream).ok());  // the write is asynchronous: `host` must outlive it
    return b;
  }
  template <class T>
  std::vector<T> download(CMTR_Buffer* b, size_t count) {
    std::vector<T> out(count);
    REQUIRE(P().read(stream, b, 0, out.data(), count * sizeof(T)).ok());
    REQUIRE(P().sync(stream).ok());
    return out;
  }
};

// RAII op of device 0.
struct Op {
  CMTR_Op* op = nullptr;
  Op(const std::string& name, const Params& p) {
    Outcome o = P().create(dev0(), name, p, &op);
    REQUIRE_MESSAGE(o.ok(), name << ": " << o.message);
  }
  ~Op() { P().destroy(op); }
};

// ---- host f16 helpers (test-side references) ----

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00u);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 0x1p-14f) {  // subnormal: quantum 2^-24, round to nearest even
    const float q = std::nearbyint(a * 0x1p24f);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(q));
  }
  int e = 0;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint((m * 2 - 1) * 1024));
  int exp = e - 1 + 15;
  if (mant == 1024) {
    mant = 0;
    ++exp;
  }
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | mant);
}

float f16_to_f32(uint16_t h) {
  const float sign = (h & 0x8000u) ? -1.0f : 1.0f;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1.0f + mant / 1024.0f, exp - 15);
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
float bf16_to_f32(uint16_t h) {
  const uint32_t x = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace

// For the other test files of this binary (infer_ops_test.cpp).
const Plugin& opencl_test_plugin() {
  return *g_plugin;
}

// ---- enumeration and attributes ----

TEST_CASE("the plugin names itself and enumerates devices with attributes") {
  CHECK(attr_string(P().plugin_attributes, "plugin.name") == "opencl");
  CHECK(!attr_string(P().plugin_attributes, "plugin.version").empty());
  REQUIRE(!P().devices.empty());
  for (CMTR_Device* d : P().devices) {
    Outcome o;
    auto kv = P().attributes(d, &o);
    REQUIRE(o.ok());
    CHECK(!attr_string(kv, "name").empty());
    CHECK(!attr_string(kv, "vendor").empty());
    const std::string kind = attr_string(kv, "kind");
    CHECK((kind == "cpu" || kind == "gpu" || kind == "other"));
    CHECK(attr_int(kv, "mem.bytes") > 0);
    CHECK(attr_int(kv, "compute_units") > 0);
    CHECK(attr_int(kv, "opencl.max_alloc.bytes") > 0);
    CHECK(attr_string(kv, "timer.kind").rfind("opencl.profiling", 0) == 0);
    CHECK(!attr_string(kv, "peak.source").empty());
    CHECK(!attr_string(kv, "opencl.c.version").empty());
    for (const char* ext :
         {"opencl.ext.cl_khr_fp16", "opencl.ext.cl_khr_fp64", "opencl.ext.cl_khr_integer_dot_product"})
      CHECK_MESSAGE(find(kv, ext) != nullptr, ext);
    const std::string bus = attr_string(kv, "pci.bus_id");
    if (!bus.empty()) CHECK(bus.size() == 12);
    if (kind == "cpu") {
      // A CPU device is not on PCI, and no peak is declared (its clock is the nominal one).
      CHECK(find(kv, "pci.bus_id") == nullptr);
      CHECK(find(kv, "peak.flops.f32") == nullptr);
      CHECK(attr_bool(kv, "mem.host_shared"));
      CHECK(attr_int(kv, "cache.llc.bytes") > 0);
      // The same silicon as the CPU plugin's device: the host CPU's packages.
      CHECK(attr_string(kv, "physical.id") == cmeter::sdk::host_cpu_physical_id());
    } else if (!bus.empty()) {
      CHECK(attr_string(kv, "physical.id") == cmeter::sdk::pci_physical_id(bus));
    }
  }
  // Handles are checked: a NULL device is an error, not a crash.
  Outcome o;
  P().attributes(nullptr, &o);
  CHECK(o.code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("PCI bus ids and the NVIDIA peak table") {
  using namespace cmeter::opencl;
  CHECK(format_pci_bus_id(0, 0x3b, 0, 0) == "0000:3b:00.0");
  CHECK(format_pci_bus_id(1, 0xc1, 0x1f, 7) == "0001:c1:1f.7");
  CHECK(nvidia_fp32_lanes_per_sm(9, 0) == 128);  // H100: 132 SMs x 128 x 2 x 1.98 GHz = 66.9 TFLOP/s
  CHECK(nvidia_fp32_lanes_per_sm(8, 0) == 64);   // A100
  CHECK(nvidia_fp32_lanes_per_sm(8, 6) == 128);  // GA10x
  CHECK(nvidia_fp64_lanes_per_sm(9, 0) == 64);
  CHECK(nvidia_fp64_lanes_per_sm(8, 6) == 0);  // consumer parts: no full-rate f64 declared
  CHECK(nvidia_fp32_lanes_per_sm(2, 0) == 0);
}

// ---- op_query ----

TEST_CASE("op_query answers supported, unsupported with a reason, or an argument error") {
  auto kv = P().attributes(dev0());
  const bool fp16 = attr_bool(kv, "opencl.ext.cl_khr_fp16");
  const bool fp64 = attr_bool(kv, "opencl.ext.cl_khr_fp64");
  bool supported = false;
  std::string reason;
  auto fma = [](const char* dtype) {
    Params p;
    p.s("dtype", dtype).i("items", 1024).i("iters", 16);
    return p;
  };
  REQUIRE(P().query(dev0(), "fma_peak.v1", fma("f32"), &supported, &reason).ok());
  CHECK(supported);
  REQUIRE(P().query(dev0(), "fma_peak.v1", fma("f16"), &supported, &reason).ok());
  if (fp16) {
    CHECK(supported);
  } else {
    CHECK_FALSE(supported);
    CHECK(reason.find("no cl_khr_fp16") != std::string::npos);
  }
  REQUIRE(P().query(dev0(), "fma_peak.v1", fma("f64"), &supported, &reason).ok());
  CHECK(supported == fp64);
  REQUIRE(P().query(dev0(), "fma_peak.v1", fma("bf16"), &supported, &reason).ok());
  CHECK_FALSE(supported);

  Params gemm_f16;
  gemm_f16.i("m", 64).i("n", 64).i("k", 64).s("dtype_a", "f16");
  REQUIRE(P().query(dev0(), "gemm.v1", gemm_f16, &supported, &reason).ok());
  CHECK_MESSAGE(supported, "f16-input GEMM with f32 compute runs without cl_khr_fp16: " << reason);
  Params gemm_i8;
  gemm_i8.i("m", 64).i("n", 64).i("k", 64).s("dtype_a", "i8");
  REQUIRE(P().query(dev0(), "gemm.v1", gemm_i8, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("integer") != std::string::npos);

  Params noop;
  REQUIRE(P().query(dev0(), "noop.v1", noop, &supported, &reason).ok());
  CHECK(supported);
  REQUIRE(P().query(dev0(), "softmax.v9", noop, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("unknown op") != std::string::npos);

  // Bad arguments are errors: unknown key, missing key, out of range; hint.* keys are tolerated.
  Params unknown = fma("f32");
  unknown.i("itemz", 3);
  CHECK(P().query(dev0(), "fma_peak.v1", unknown, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params missing;
  missing.s("dtype", "f32");
  CHECK(P().query(dev0(), "fma_peak.v1", missing, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params lanes = fma("f32");
  lanes.i("lanes", 33);
  CHECK(P().query(dev0(), "fma_peak.v1", lanes, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params hinted = fma("f32");
  hinted.s("hint.someone_else.knob", "x");
  CHECK(P().query(dev0(), "fma_peak.v1", hinted, &supported, &reason).ok());
  // op_create of an unsupported op is UNIMPLEMENTED with the same reason.
  if (!fp16) {
    CMTR_Op* op = nullptr;
    Outcome o = P().create(dev0(), "fma_peak.v1", fma("f16"), &op);
    CHECK(o.code == CMTR_ERROR_UNIMPLEMENTED);
    CHECK(o.message.find("no cl_khr_fp16") != std::string::npos);
  }
}

// ---- failure paths ----

TEST_CASE("a kernel that fails to build gives an error holding the build log, and nothing breaks") {
  // Defining the kernel's name as a number turns its declaration into a syntax error.
  Params p;
  p.s("dtype", "f32").i("items", 256).i("iters", 4).s("hint.opencl.build_options", "-Dcmeter_fma_peak=42");
  CMTR_Op* op = nullptr;
  Outcome o = P().create(dev0(), "fma_peak.v1", p, &op);
  REQUIRE_FALSE(o.ok());
  CHECK(op == nullptr);
  CHECK(o.message.find("clBuildProgram failed") != std::string::npos);
  CHECK(o.message.find("CL_BUILD_PROGRAM_FAILURE") != std::string::npos);
  CHECK(o.message.find("build log:") != std::string::npos);
  CHECK(o.message.find("error") != std::string::npos);  // the compiler's own words
  MESSAGE("build failure as reported: " << o.message.substr(0, 400));
  // The same op without the bad option builds, and a failure is never cached.
  Params good;
  good.s("dtype", "f32").i("items", 256).i("iters", 4);
  Op ok("fma_peak.v1", good);
  CHECK(P().create(dev0(), "fma_peak.v1", p, &op).code != 0);
}

TEST_CASE("programs are built once per device and then come from the cache") {
  Params p;
  p.s("dtype", "f32").i("items", 512).i("iters", 8).i("lanes", 7);
  Op first("fma_peak.v1", p);
  Op second("fma_peak.v1", p);
  CHECK(P().op_attribute(second.op, "opencl.build") == "from the plugin's program cache");
}

TEST_CASE("allocations the device cannot make are RESOURCE_EXHAUSTED, and the plugin goes on") {
  auto kv = P().attributes(dev0());
  const int64_t mem = attr_int(kv, "mem.bytes");
  const int64_t max_alloc = attr_int(kv, "opencl.max_alloc.bytes");
  CMTR_Buffer* b = nullptr;
  Outcome o = P().buffer(dev0(), static_cast<uint64_t>(mem) * 2, &b);
  CHECK(o.code == CMTR_ERROR_RESOURCE_EXHAUSTED);
  CHECK(o.message.find("global memory") != std::string::npos);
  CHECK(b == nullptr);
  if (max_alloc < mem) {
    // Above CL_DEVICE_MAX_MEM_ALLOC_SIZE but within global memory: the driver's own refusal.
    o = P().buffer(dev0(), static_cast<uint64_t>(max_alloc) + (1 << 20), &b);
    if (o.ok()) {
      MESSAGE("this driver allocates beyond CL_DEVICE_MAX_MEM_ALLOC_SIZE");
      P().destroy(b);
    } else {
      CHECK(o.code == CMTR_ERROR_RESOURCE_EXHAUSTED);
      CHECK(o.message.find("clCreateBuffer failed") != std::string::npos);
      CHECK(o.message.find("CL_DEVICE_MAX_MEM_ALLOC_SIZE") != std::string::npos);
    }
  }
  CHECK(P().buffer(dev0(), 0, &b).code == CMTR_ERROR_INVALID_ARGUMENT);
  Session s;
  CMTR_Buffer* small = s.buffer(4096);
  CHECK(small != nullptr);
}

// ---- buffers and transfers ----

TEST_CASE("buffer round trips: device and host-pinned memory, offsets, range checks") {
  Session s;
  std::vector<uint8_t> pattern(1 << 20);
  std::mt19937 rng(7);
  for (auto& x : pattern) x = static_cast<uint8_t>(rng());
  CMTR_Buffer* dev = s.upload(pattern);
  CHECK(s.download<uint8_t>(dev, pattern.size()) == pattern);
  // Partial write at an offset, partial read at another.
  std::vector<uint8_t> patch(1000, 0xab);
  REQUIRE(P().write(s.stream, dev, 12345, patch.data(), patch.size()).ok());
  std::vector<uint8_t> window(3000);
  REQUIRE(P().read(s.stream, dev, 11345, window.data(), window.size()).ok());
  REQUIRE(P().sync(s.stream).ok());
  for (size_t i = 0; i < window.size(); ++i) {
    const uint8_t want = (i >= 1000 && i < 2000) ? 0xab : pattern[11345 + i];
    if (window[i] != want) FAIL("byte " << i << " of the window");
  }
  // Host-pinned: host-addressable, usable as the host side of a transfer.
  CMTR_Buffer* pinned = s.buffer(pattern.size(), CMTR_MEMORY_HOST_PINNED);
  void* host = nullptr;
  REQUIRE(P().host_pointer(pinned, &host).ok());
  REQUIRE(host != nullptr);
  CHECK(static_cast<uint8_t*>(host)[0] == 0);  // zeroed at creation
  std::vector<uint8_t> reversed(pattern.rbegin(), pattern.rend());
  std::memcpy(host, reversed.data(), reversed.size());
  CMTR_Buffer* dev2 = s.buffer(pattern.size());
  REQUIRE(P().write(s.stream, dev2, 0, host, reversed.size()).ok());
  CHECK(s.download<uint8_t>(dev2, reversed.size()) == reversed);
  std::memset(host, 0, pattern.size());
  REQUIRE(P().read(s.stream, dev, 0, host, pattern.size()).ok());
  REQUIRE(P().sync(s.stream).ok());
  CHECK(std::memcmp(host, s.download<uint8_t>(dev, pattern.size()).data(), pattern.size()) == 0);
  // Device memory is not host-addressable; ranges are checked.
  void* none = nullptr;
  CHECK(P().host_pointer(dev, &none).code == CMTR_ERROR_UNIMPLEMENTED);
  CHECK(P().write(s.stream, dev, pattern.size() - 10, patch.data(), 11).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().read(s.stream, dev, 0, nullptr, 10).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().write(nullptr, dev, 0, patch.data(), 10).code == CMTR_ERROR_INVALID_ARGUMENT);
}

// ---- events ----

TEST_CASE("device events time the work between them, in agreement with the host clock") {
  Session s;
  const int64_t items = 16384, iters = 4096, lanes = 8;
  Params p;
  p.s("dtype", "f32").i("items", items).i("iters", iters).i("lanes", lanes);
  Op fma("fma_peak.v1", p);
  CMTR_Buffer* out = s.buffer(items * 4);
  REQUIRE(P().enqueue(fma.op, s.stream, {out}).ok());  // warm
  REQUIRE(P().sync(s.stream).ok());
  CMTR_Event *e0 = nullptr, *e1 = nullptr, *e2 = nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(P().record(s.stream, &e0).ok());
  for (int i = 0; i < 4; ++i) REQUIRE(P().enqueue(fma.op, s.stream, {out}).ok());
  REQUIRE(P().record(s.stream, &e1).ok());
  REQUIRE(P().record(s.stream, &e2).ok());
  REQUIRE(P().sync(s.stream).ok());
  const double host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double work_s = 0, empty_s = 0;
  REQUIRE(P().elapsed(e0, e1, &work_s).ok());
  REQUIRE(P().elapsed(e1, e2, &empty_s).ok());
  MESSAGE("4 fma_peak calls: device " << work_s * 1e3 << " ms, host " << host_s * 1e3 << " ms");
  CHECK(work_s > 0);
  CHECK(work_s <= host_s * 1.02 + 1e-4);  // the device time lies within the host's wall time
  CHECK(work_s >= host_s * 0.5);          // ...and is most of it (the work dominates)
  CHECK(empty_s >= 0);
  CHECK(empty_s < 0.5 * work_s);
  double dummy = 0;
  CHECK(P().elapsed(nullptr, e1, &dummy).code == CMTR_ERROR_INVALID_ARGUMENT);
  for (auto* e : {e0, e1, e2}) CHECK(P().destroy(e).ok());
}

// ---- ops against host references ----

TEST_CASE("fma_peak matches the closed form for f32 and f64, any lanes, ragged item counts") {
  auto kv = P().attributes(dev0());
  std::vector<std::string> dtypes{"f32"};
  if (attr_bool(kv, "opencl.ext.cl_khr_fp64")) dtypes.push_back("f64");
  for (const std::string& dtype : dtypes)
    for (int64_t lanes : {1, 5, 8, 32}) {
      CAPTURE(dtype);
      CAPTURE(lanes);
      const int64_t items = 1000 + lanes, iters = 300;
      const double a = 0.999, b = 0x1p-10, x0 = 0.75, dx = 1.0 / 32;
      Params p;
      p.s("dtype", dtype)
          .i("items", items)
          .i("iters", iters)
          .i("lanes", lanes)
          .d("a", a)
          .d("b", b)
          .d("x0", x0)
          .d("dx", dx);
      if (lanes == 5) p.i("hint.opencl.vector_width", 1);  // the scalar form GPUs get
      Op op("fma_peak.v1", p);
      Session s;
      std::vector<float> poison(static_cast<size_t>(items), NAN);
      CMTR_Buffer* out = s.upload(poison);
      REQUIRE(P().enqueue(op.op, s.stream, {out}).ok());
      auto got = s.download<float>(out, static_cast<size_t>(items));
      double expected = 0;
      for (int64_t l = 0; l < lanes; ++l) {
        if (dtype == "f64") {
          double x = x0 + static_cast<double>(l) * dx;
          for (int64_t t = 0; t < iters; ++t) x = std::fma(x, a, b);
          expected += x;
        } else {
          float x = static_cast<float>(x0 + static_cast<double>(l) * dx);
          for (int64_t t = 0; t < iters; ++t) x = std::fmaf(x, static_cast<float>(a), static_cast<float>(b));
          expected += x;
        }
      }
      const double tol = (static_cast<double>(lanes) + 1) * 0x1p-24 * std::fabs(expected);
      int bad = 0;
      for (int64_t i = 0; i < items; ++i)
        if (!(std::fabs(got[static_cast<size_t>(i)] - expected) <= tol)) ++bad;
      CHECK_MESSAGE(bad == 0, bad << " items wrong; item 0 = " << got[0] << ", expected " << expected);
    }
}

TEST_CASE("stream kernels and copy.v1 produce exact results, including the tail") {
  for (const std::string dtype : {"f32", "f64"}) {
    const int64_t n = 100003;
    const double scalar = 3;
    for (const std::string kind : {"copy", "scale", "add", "triad"}) {
      CAPTURE(dtype);
      CAPTURE(kind);
      for (int64_t nt : {0, 1}) {
        Params p;
        p.s("kind", kind).s("dtype", dtype).i("n", n).d("scalar", scalar).i("hint.opencl.nontemporal", nt);
        if (nt == 0) p.i("hint.opencl.vector_width", 4);
        Op op("stream.v1", p);
        Session s;
        std::vector<double> a(n), b(n), c(n);
        for (int64_t i = 0; i < n; ++i) {
          a[i] = 0.5 + (i % 97) * 0.25;
          b[i] = 1.0 + (i % 13) * 0.125;
          c[i] = 2.0 + (i % 7) * 0.5;
        }
        std::vector<CMTR_Buffer*> bufs;
        for (auto* v : {&a, &b, &c}) {
          if (dtype == "f64") {
            bufs.push_back(s.upload(*v));
          } else {
            std::vector<float> f(v->begin(), v->end());
            bufs.push_back(s.upload(f));
          }
        }
        REQUIRE(P().enqueue(op.op, s.stream, bufs).ok());
        const int out = kind == "copy" ? 2 : kind == "scale" ? 1 : kind == "add" ? 2 : 0;
        std::vector<double> got(n);
        if (dtype == "f64") {
          got = s.download<double>(bufs[out], n);
        } else {
          auto f = s.download<float>(bufs[out], n);
          got.assign(f.begin(), f.end());
        }
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double want = kind == "copy"    ? a[i]
                              : kind == "scale" ? scalar * c[i]
                              : kind == "add"   ? a[i] + b[i]
                                                : b[i] + scalar * c[i];
          if (got[i] != want) ++bad;  // all values exact in f32 and f64
        }
        CHECK_MESSAGE(bad == 0, bad << " wrong elements (nontemporal " << nt << ")");
      }
    }
  }
  for (const std::string engine : {"kernel", "copy_engine"}) {
    CAPTURE(engine);
    const int64_t bytes = 1000003;
    Params p;
    p.i("bytes", bytes).s("engine", engine);
    Op op("copy.v1", p);
    CHECK(P().op_attribute(op.op, "engine") == engine);
    Session s;
    std::vector<uint8_t> src(bytes);
    for (int64_t i = 0; i < bytes; ++i) src[i] = static_cast<uint8_t>(i * 131 + 7);
    CMTR_Buffer* a = s.upload(src);
    CMTR_Buffer* b = s.buffer(bytes);
    REQUIRE(P().enqueue(op.op, s.stream, {a, b}).ok());
    CHECK(s.download<uint8_t>(b, bytes) == src);
  }
}

TEST_CASE("noop launches, and enqueue checks its buffers") {
  Session s;
  Op noop("noop.v1", Params{});
  for (int i = 0; i < 10; ++i) REQUIRE(P().enqueue(noop.op, s.stream, {}).ok());
  CHECK(P().sync(s.stream).ok());
  CMTR_Buffer* b = s.buffer(64);
  CHECK(P().enqueue(noop.op, s.stream, {b}).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params p;
  p.s("dtype", "f32").i("items", 1024).i("iters", 2);
  Op fma("fma_peak.v1", p);
  Outcome small = P().enqueue(fma.op, s.stream, {b});
  CHECK(small.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(small.message.find("OUT") != std::string::npos);
  CMTR_Buffer* pinned = s.buffer(4096, CMTR_MEMORY_HOST_PINNED);
  CHECK(P().enqueue(fma.op, s.stream, {pinned}).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().enqueue(fma.op, nullptr, {b}).code == CMTR_ERROR_INVALID_ARGUMENT);
}

namespace {

struct GemmCase {
  std::string dtype = "f32", dtype_c = "";
  int64_t m = 37, n = 29, k = 53;
  bool ta = false, tb = false;
  double alpha = 1, beta = 0;
  int64_t batch = 1, lda = 0, ldb = 0, ldc = 0;
  int64_t offset_a = 0, offset_b = 0, offset_c = 0;  // ABI 1.1: elements before each first matrix
  std::string impl = "";
  std::vector<std::pair<std::string, std::string>> hints;
};

size_t elem(const std::string& t) {
  return t == "f64" ? 8 : t == "f32" ? 4 : 2;
}

// Stores `v` (a value representable in type t) into raw storage.
void put(std::vector<uint8_t>& buf, const std::string& t, size_t i, double v) {
  if (t == "f64") {
    std::memcpy(buf.data() + 8 * i, &v, 8);
  } else if (t == "f32") {
    float f = static_cast<float>(v);
    std::memcpy(buf.data() + 4 * i, &f, 4);
  } else {
    uint16_t h = t == "f16" ? f32_to_f16(static_cast<float>(v)) : f32_to_bf16(static_cast<float>(v));
    std::memcpy(buf.data() + 2 * i, &h, 2);
  }
}
double get(const std::vector<uint8_t>& buf, const std::string& t, size_t i) {
  if (t == "f64") {
    double v;
    std::memcpy(&v, buf.data() + 8 * i, 8);
    return v;
  }
  if (t == "f32") {
    float v;
    std::memcpy(&v, buf.data() + 4 * i, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, buf.data() + 2 * i, 2);
  return t == "f16" ? f16_to_f32(h) : bf16_to_f32(h);
}

void run_gemm_case(const GemmCase& g) {
  const std::string tc = g.dtype_c.empty() ? g.dtype : g.dtype_c;
  const int64_t rows_a = g.ta ? g.k : g.m, cols_a = g.ta ? g.m : g.k;
  const int64_t rows_b = g.tb ? g.n : g.k, cols_b = g.tb ? g.k : g.n;
  const int64_t lda = g.lda ? g.lda : rows_a, ldb = g.ldb ? g.ldb : rows_b, ldc = g.ldc ? g.ldc : g.m;
  const int64_t sa = lda * cols_a + 3, sb = ldb * cols_b + 5, sc = ldc * g.n + 1;  // padded batch strides
  Params p;
  p.i("m", g.m)
      .i("n", g.n)
      .i("k", g.k)
      .s("dtype_a", g.dtype)
      .s("dtype_c", tc)
      .b("trans_a", g.ta)
      .b("trans_b", g.tb);
  p.d("alpha", g.alpha).d("beta", g.beta).i("batch", g.batch).i("lda", lda).i("ldb", ldb).i("ldc", ldc);
  p.i("stride_a", sa).i("stride_b", sb).i("stride_c", sc);
  if (g.offset_a != 0) p.i("offset_a", g.offset_a);
  if (g.offset_b != 0) p.i("offset_b", g.offset_b);
  if (g.offset_c != 0) p.i("offset_c", g.offset_c);
  if (!g.impl.empty()) p.s("hint.opencl.gemm_impl", g.impl);
  for (const auto& [key, value] : g.hints) p.s(key, value);
  Op op("gemm.v1", p);
  MESSAGE("impl: " << P().op_attribute(op.op, "impl"));
  const size_t na = static_cast<size_t>(g.offset_a + sa * (g.batch - 1) + lda * cols_a),
               nb = static_cast<size_t>(g.offset_b + sb * (g.batch - 1) + ldb * cols_b),
               nc = static_cast<size_t>(g.offset_c + sc * (g.batch - 1) + ldc * g.n);
  std::vector<uint8_t> A(na * elem(g.dtype)), B(nb * elem(g.dtype)), C(nc * elem(tc));
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> U(-1, 1);
  for (size_t i = 0; i < na; ++i) put(A, g.dtype, i, U(rng));
  for (size_t i = 0; i < nb; ++i) put(B, g.dtype, i, U(rng));
  for (size_t i = 0; i < nc; ++i) put(C, tc, i, U(rng));
  Session s;
  CMTR_Buffer* da = s.upload(A);
  CMTR_Buffer* db = s.upload(B);
  CMTR_Buffer* dc = s.upload(C);
  REQUIRE(P().enqueue(op.op, s.stream, {da, db, dc}).ok());
  auto out = s.download<uint8_t>(dc, C.size());
  const double eps = tc == "f16" ? 0x1p-11 : tc == "bf16" ? 0x1p-8 : g.dtype == "f64" ? 0x1p-53 : 0x1p-24;
  const double tol_acc = (g.dtype == "f64" ? 0x1p-53 : 0x1p-24) * 4 * static_cast<double>(g.k);
  int bad = 0;
  std::string first;
  for (int64_t bi = 0; bi < g.batch; ++bi)
    for (int64_t j = 0; j < g.n; ++j)
      for (int64_t i = 0; i < g.m; ++i) {
        double acc = 0, mag = 0;
        for (int64_t q = 0; q < g.k; ++q) {
          const double av =
              get(A, g.dtype, static_cast<size_t>(g.offset_a + bi * sa + (g.ta ? q + i * lda : i + q * lda)));
          const double bv =
              get(B, g.dtype, static_cast<size_t>(g.offset_b + bi * sb + (g.tb ? j + q * ldb : q + j * ldb)));
          acc += av * bv;
          mag += std::fabs(av * bv);
        }
        const size_t ci = static_cast<size_t>(g.offset_c + bi * sc + i + j * ldc);
        const double want = g.alpha * acc + g.beta * get(C, tc, ci);
        const double tol = std::fabs(g.alpha) * tol_acc * mag + 2 * eps * std::fabs(want) + 1e-300;
        const double have = get(out, tc, ci);
        if (!(std::fabs(have - want) <= tol)) {
          if (bad++ == 0)
            first = "C[" + std::to_string(i) + "," + std::to_string(j) + "] batch " + std::to_string(bi) +
                    ": got " + std::to_string(have) + ", want " + std::to_string(want);
        }
      }
  // Padding between batch matrices (beyond ldc*n) and the elements before offset_c must be untouched.
  if (g.batch > 1)
    CHECK(get(out, tc, static_cast<size_t>(g.offset_c + ldc * g.n)) ==
          get(C, tc, static_cast<size_t>(g.offset_c + ldc * g.n)));
  for (int64_t i = 0; i < g.offset_c; ++i)
    CHECK(get(out, tc, static_cast<size_t>(i)) == get(C, tc, static_cast<size_t>(i)));
  CHECK_MESSAGE(bad == 0, bad << " wrong elements; first " << first);
}

}  // namespace

TEST_CASE("gemm: the tiled kernel on odd shapes, transposes, alpha/beta, batches, every input type") {
  auto kv = P().attributes(dev0());
  std::vector<GemmCase> cases;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      GemmCase g;
      g.ta = ta;
      g.tb = tb;
      g.alpha = 0.5;
      g.beta = -1.25;
      cases.push_back(g);
    }
  GemmCase big;  // interior tiles plus edges in both directions, k not a multiple of the unroll
  big.m = 77;
  big.n = 45;
  big.k = 203;
  cases.push_back(big);
  GemmCase batched;
  batched.batch = 3;
  batched.beta = 0.5;
  batched.lda = 40;
  batched.ldc = 41;
  cases.push_back(batched);
  GemmCase offsets = batched;  // ABI 1.1 offsets, odd so no vector alignment can be assumed
  offsets.offset_a = 5;
  offsets.offset_b = 17;
  offsets.offset_c = 3;
  cases.push_back(offsets);
  for (const char* t : {"f16", "bf16"}) {
    GemmCase h;
    h.dtype = t;
    h.m = 64;
    h.n = 24;
    h.k = 40;
    cases.push_back(h);
    h.dtype_c = "f32";
    h.tb = true;
    h.beta = 1;
    cases.push_back(h);
  }
  if (attr_bool(kv, "opencl.ext.cl_khr_fp64")) {
    GemmCase d;
    d.dtype = "f64";
    d.ta = true;
    d.beta = 2;
    cases.push_back(d);
    d.ta = false;
    d.m = 40;
    d.n = 17;
    d.batch = 2;
    cases.push_back(d);
  }
  for (const GemmCase& g : cases) {
    CAPTURE(g.dtype);
    CAPTURE(g.dtype_c);
    CAPTURE(g.m);
    CAPTURE(g.n);
    CAPTURE(g.k);
    CAPTURE(g.ta);
    CAPTURE(g.tb);
    CAPTURE(g.batch);
    run_gemm_case(g);
  }
}

TEST_CASE("gemm: the kernel shapes used on GPUs (narrow vectors, vload_half) are right too") {
  // GPU devices get vw=4, mv=1, tn=4 and vload_half; they are forced here so PoCL checks them.
  for (const char* tile : {"4,1,4", "1,2,3", "8,1,5"})
    for (const char* dtype : {"f32", "f16"}) {
      GemmCase g;
      g.dtype = dtype;
      g.m = 45;
      g.n = 22;
      g.k = 31;
      g.beta = 0.5;
      g.tb = std::string(tile) == "1,2,3";
      g.hints = {{"hint.opencl.gemm_tile", tile}, {"hint.opencl.f16_loads", "vload_half"}};
      CAPTURE(tile);
      CAPTURE(dtype);
      run_gemm_case(g);
    }
  Params bad;
  bad.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "f32").s("hint.opencl.gemm_tile", "3,1,1");
  CMTR_Op* op = nullptr;
  CHECK(P().create(dev0(), "gemm.v1", bad, &op).code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("gemm: f16 inputs convert exactly, subnormals and extremes included") {
  // C = A * I with f32 output: every C element must equal A's element exactly.
  const int64_t m = 48, k = 16;
  std::vector<uint16_t> a(static_cast<size_t>(m * k));
  const uint16_t specials[] = {0x0001, 0x03ff, 0x0400, 0x8001, 0x7bff, 0xfbff,
                               0x3c00, 0x0000, 0x8000, 0x3555, 0x0200};
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = specials[i % (sizeof specials / sizeof specials[0])] ^ static_cast<uint16_t>((i / 11) << 1);
  std::vector<uint16_t> eye(static_cast<size_t>(k * k), 0);
  for (int64_t i = 0; i < k; ++i) eye[static_cast<size_t>(i + i * k)] = 0x3c00;  // 1.0
  Params p;
  p.i("m", m).i("n", k).i("k", k).s("dtype_a", "f16").s("dtype_c", "f32");
  Op op("gemm.v1", p);
  Session s;
  CMTR_Buffer* da = s.upload(a);
  CMTR_Buffer* db = s.upload(eye);
  CMTR_Buffer* dc = s.buffer(static_cast<uint64_t>(m * k) * 4);
  REQUIRE(P().enqueue(op.op, s.stream, {da, db, dc}).ok());
  auto c = s.download<float>(dc, static_cast<size_t>(m * k));
  int bad = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (c[i] != f16_to_f32(a[i])) {
      if (bad++ < 3)
        MESSAGE("f16 0x" << std::hex << a[i] << std::dec << ": got " << c[i] << ", want "
                         << f16_to_f32(a[i]));
    }
  CHECK(bad == 0);
}

TEST_CASE("gemm: CLBlast when forced, validated the same way") {
  GemmCase g;
  g.impl = "clblast";
  g.ta = true;
  g.alpha = 1.5;
  g.beta = 0.25;
  g.batch = 2;
  run_gemm_case(g);
  g.offset_a = 7;  // ABI 1.1 offsets go to CLBlast's own offset arguments
  g.offset_b = 1;
  g.offset_c = 13;
  run_gemm_case(g);
  bool supported = true;
  std::string reason;
  Params p;
  p.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "f16").s("hint.opencl.gemm_impl", "clblast");
  REQUIRE(P().query(dev0(), "gemm.v1", p, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("CLBlast") != std::string::npos);
}

int main(int argc, char** argv) {
  Plugin plugin(CMETER_OPENCL_PLUGIN_PATH);
  if (!plugin.ready()) {
    std::printf("FAIL: cannot load %s: %s\n", CMETER_OPENCL_PLUGIN_PATH, plugin.error.c_str());
    return 1;
  }
  if (plugin.devices.empty()) {
    const std::string status = attr_string(plugin.plugin_attributes, "plugin.status");
    std::printf("SKIP: no OpenCL device (%s)\n", status.c_str());
    return 77;
  }
  g_plugin = &plugin;
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
