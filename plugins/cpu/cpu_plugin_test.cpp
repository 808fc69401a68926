// plugins/cpu/cpu_plugin_test.cpp - unit tests of libcmeter-cpu.so, through the C ABI only.
//
// Why this file exists: the CPU plugin is the reference every other plugin is compared with, so it
// is tested the way the host uses it: dlopen the built library (path from CMake), fetch the table
// with cmeter_plugin_get_api, and check attributes, every op against a simple host reference on
// small odd shapes (transposes, leading dimensions, alpha/beta, batches, f16/bf16 inputs), and the
// error paths (NULL args, short struct sizes, unknown keys, bad buffers). The op tests run once per
// kernel ISA the machine supports (AVX-512, AVX2, SSE2) by re-initialising with CMETER_CPU_ISA.
// bf16 and i8 GEMM (oneDNN where the CPU has AVX512-BF16 / AVX512-VNNI) are checked against the
// CPU's own CPUID bits: the plugin must use the dot products where they exist, and declare peaks
// (bf16 2x f32, i8 4x f32) exactly there.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <cmeter/physical_id.hpp>
#include <cmeter/plugin_client.hpp>

#include "cpu_level.hpp"

#include <cpuid.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#ifndef CMETER_CPU_PLUGIN_PATH
#error "CMETER_CPU_PLUGIN_PATH must name the built plugin"
#endif

namespace {

// ---- Access to the plugin (through the SDK's client, cmeter/plugin_client.hpp) ----

using cmeter::client::find;
using cmeter::client::Params;

struct Plugin {
  cmeter::client::Plugin client{CMETER_CPU_PLUGIN_PATH, /*initialize=*/false};
  const CMTR_Api* api = nullptr;
  CMTR_Device* device = nullptr;
  std::vector<CMTR_KeyValue> plugin_attributes;

  static Plugin& get() {
    static Plugin* p = load();
    return *p;
  }

  static Plugin* load() {
    auto* p = new Plugin();
    REQUIRE_MESSAGE(p->client.api() != nullptr, p->client.error);
    p->api = p->client.api();
    p->initialize();
    return p;
  }

  void initialize() {
    REQUIRE_MESSAGE(client.init().ok(), client.error);
    REQUIRE(client.ready());
    plugin_attributes = client.plugin_attributes;
    REQUIRE(client.devices.size() == 1);
    device = client.devices[0];
  }

  void shutdown() { REQUIRE(ok(api->plugin_shutdown(&shutdown_args))); }
  CMTR_Plugin_Shutdown_Args shutdown_args{CMTR_STRUCT_SIZE(CMTR_Plugin_Shutdown_Args, extension), nullptr};

  // Error code (0 = success) and message; frees the error.
  int code(CMTR_Error* e, std::string* message = nullptr) const {
    const cmeter::client::Outcome o = client.take(e);
    if (message) *message = o.message;
    return o.code;
  }
  bool ok(CMTR_Error* e) const {
    const cmeter::client::Outcome o = client.take(e);
    if (!o.ok()) MESSAGE("plugin error " << o.describe());
    return o.ok();
  }

  std::vector<CMTR_KeyValue> device_attributes() const {
    cmeter::client::Outcome o;
    auto kv = client.attributes(device, &o);
    REQUIRE_MESSAGE(o.ok(), o.describe());
    return kv;
  }
};

std::string str(const CMTR_KeyValue* e) {
  return e ? std::string(e->string_value.data, e->string_value.size) : "";
}

struct Stream {
  CMTR_Stream* handle = nullptr;
  Stream() {
    cmeter::client::Outcome o = Plugin::get().client.stream(Plugin::get().device, &handle);
    REQUIRE_MESSAGE(o.ok(), o.describe());
  }
  ~Stream() { (void)Plugin::get().client.destroy(handle); }
};

struct Buffer {
  CMTR_Buffer* handle = nullptr;
  uint64_t size_bytes = 0;
  explicit Buffer(uint64_t bytes, int32_t kind = CMTR_MEMORY_DEVICE) : size_bytes(bytes) {
    cmeter::client::Outcome o = Plugin::get().client.buffer(Plugin::get().device, bytes, &handle, kind);
    REQUIRE_MESSAGE(o.ok(), o.describe());
  }
  ~Buffer() { (void)Plugin::get().client.destroy(handle); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <class T>
  void write(Stream& s, const std::vector<T>& v, uint64_t offset = 0) {
    cmeter::client::Outcome o =
        Plugin::get().client.write(s.handle, handle, offset, v.data(), v.size() * sizeof(T));
    REQUIRE_MESSAGE(o.ok(), o.describe());
  }
  template <class T>
  std::vector<T> read(Stream& s, size_t count, uint64_t offset = 0) {
    std::vector<T> v(count);
    cmeter::client::Outcome o =
        Plugin::get().client.read(s.handle, handle, offset, v.data(), count * sizeof(T));
    REQUIRE_MESSAGE(o.ok(), o.describe());
    return v;
  }
};

struct QueryResult {
  int error = 0;
  bool supported = false;
  std::string reason;
};

QueryResult query(const std::string& name, const Params& params) {
  QueryResult r;
  cmeter::client::Outcome o =
      Plugin::get().client.query(Plugin::get().device, name, params, &r.supported, &r.reason);
  r.error = o.code;
  if (!o.ok()) {
    r.supported = false;
    r.reason = o.message;
  }
  return r;
}

struct Op {
  CMTR_Op* handle = nullptr;
  int error = 0;
  std::string message;
  Op(const std::string& name, const Params& params) {
    cmeter::client::Outcome o = Plugin::get().client.create(Plugin::get().device, name, params, &handle);
    error = o.code;
    message = o.message;
    if (!o.ok()) handle = nullptr;
  }
  ~Op() {
    if (handle != nullptr) (void)Plugin::get().client.destroy(handle);
  }
  std::string impl() const { return Plugin::get().client.op_attribute(handle, "impl"); }
  int enqueue(Stream& s, std::vector<CMTR_Buffer*> buffers, std::string* message_out = nullptr) {
    cmeter::client::Outcome o = Plugin::get().client.enqueue(handle, s.handle, std::move(buffers));
    if (message_out) *message_out = o.message;
    return o.code;
  }
};

// ---- Host references ----

uint16_t to_f16(float f) {
  const _Float16 h = static_cast<_Float16>(f);  // round to nearest even (libgcc)
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float from_f16(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}
// bf16 round to nearest even, computed on the value (not the bits): 8 significant bits.
uint16_t to_bf16(float f) {
  if (std::isnan(f)) return 0x7fc0;
  int e = 0;
  const double m = std::frexp(static_cast<double>(f), &e);  // [0.5, 1)
  const float r = static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8));
  uint32_t u;
  std::memcpy(&u, &r, 4);
  return static_cast<uint16_t>(u >> 16);
}
float from_bf16(uint16_t u) {
  const uint32_t x = static_cast<uint32_t>(u) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// What oneDNN can run natively, from CPUID (leaf 7: ECX bit 11 AVX512-VNNI; subleaf 1: EAX bit 5
// AVX512-BF16); AVX-512 itself (and the OS's ZMM state) from cpu_level.hpp. Only with oneDNN built in.
bool cpuid_avx512bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return cmeter::cpu::cpu_is_x86_64_v4() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));
}
bool expect_onednn_bf16() {
#if CMETER_CPU_WITH_ONEDNN
  return cpuid_avx512bf16();
#else
  return false;
#endif
}
bool expect_onednn_i8() {
#if CMETER_CPU_WITH_ONEDNN
  unsigned a = 0, b = 0, c = 0, d = 0;
  return cmeter::cpu::cpu_is_x86_64_v4() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 11));
#else
  return false;
#endif
}

bool g_default_isa = true;      // false while reinitialize_with_isa has lowered the kernels
bool g_widen_dot_bf16 = false;  // true while CMETER_CPU_DOT_BF16=widen is set

// The bf16 dot-product GEMM runs vdpbf16ps: default kernels on an AVX512_BF16 CPU (CPUID read here, not
// through the plugin's own detection).
bool expect_vdpbf16ps() {
  return g_default_isa && !g_widen_dot_bf16 && cpuid_avx512bf16();
}

struct GemmCase {
  int64_t m, n, k;
  bool ta, tb;
  int64_t lda, ldb, ldc;  // explicit (not 0)
  double alpha, beta;
  int64_t batch;
  int64_t sa, sb, sc;  // explicit strides
};

// op(A)(i, l) . op(B)(l, j) for one C entry, in double.
double ref_dot(const GemmCase& g, const std::vector<double>& a, const std::vector<double>& b, int64_t bi,
               int64_t i, int64_t j) {
  std::vector<double> terms(static_cast<size_t>(g.k));
  for (int64_t l = 0; l < g.k; ++l) {
    const double av = a[static_cast<size_t>(bi * g.sa + (g.ta ? l + i * g.lda : i + l * g.lda))];
    const double bv = b[static_cast<size_t>(bi * g.sb + (g.tb ? j + l * g.ldb : l + j * g.ldb))];
    terms[static_cast<size_t>(l)] = av * bv;
  }
  return std::accumulate(terms.begin(), terms.end(), 0.0);
}

Params gemm_params(const GemmCase& g, const std::string& dtype, const std::string& dtype_c) {
  Params p;
  p.i("m", g.m).i("n", g.n).i("k", g.k).s("dtype_a", dtype).s("dtype_b", dtype).s("dtype_c", dtype_c);
  p.b("trans_a", g.ta).b("trans_b", g.tb).i("lda", g.lda).i("ldb", g.ldb).i("ldc", g.ldc);
  p.d("alpha", g.alpha)
      .d("beta", g.beta)
      .i("batch", g.batch)
      .i("stride_a", g.sa)
      .i("stride_b", g.sb)
      .i("stride_c", g.sc);
  return p;
}

const std::vector<GemmCase>& gemm_cases() {
  static const std::vector<GemmCase> cases = [] {
    std::vector<GemmCase> v;
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        GemmCase g{13, 11, 9, ta, tb, 0, 0, 0, 0.75, -0.5, 2, 0, 0, 0};
        g.lda = (ta ? g.k : g.m) + 3;
        g.ldb = (tb ? g.n : g.k) + 2;
        g.ldc = g.m + 5;
        g.sa = g.lda * (ta ? g.m : g.k) + 7;
        g.sb = g.ldb * (tb ? g.k : g.n) + 1;
        g.sc = g.ldc * g.n + 4;
        v.push_back(g);
      }
    v.push_back({70, 65, 129, false, false, 70, 129, 70, 1.0, 0.0, 1, 70 * 129, 129 * 65, 70 * 65});
    // Batch matrices of A and B that overlap (strides below their size), tight C.
    v.push_back({6, 5, 7, false, true, 6, 5, 6, 1.5, 0.5, 3, 4, 3, 30});
    // Tight and batched: one batched primitive.
    v.push_back({17, 19, 33, true, false, 33, 33, 17, -1.0, 0.0, 3, 17 * 33, 33 * 19, 17 * 19});
    v.push_back({1, 1, 1, false, false, 1, 1, 1, 2.0, 1.0, 1, 1, 1, 1});
    // op(A) = Aᵀ with n <= 4: bf16 takes the dot-product path (row tiles of 8/6/4 with a remainder,
    // more than one 64-row block, k with a vector tail, leading dimensions and strides above tight).
    v.push_back({130, 1, 37, true, false, 40, 39, 131, 2.0, 0.5, 2, 40 * 130 + 3, 39 + 5, 131 + 2});
    v.push_back({9, 3, 16, true, false, 16, 16, 9, 1.0, 0.0, 1, 144, 48, 27});
    v.push_back({70, 4, 100, true, false, 101, 100, 72, -0.5, 1.0, 1, 101 * 70, 400, 72 * 4});
    v.push_back({5, 2, 3, true, false, 3, 3, 5, 1.0, 0.25, 1, 15, 6, 10});
    // 5 to 8 columns: the vdpbf16ps path where the CPU has it (tiles of 4/3/3/2 rows), oneDNN or
    // OpenBLAS elsewhere; k odd (a pair split by the masked tail) and above one 32-element step.
    v.push_back({11, 5, 67, true, false, 70, 68, 11, 1.0, 0.0, 1, 70 * 11, 68 * 5, 11 * 5});
    v.push_back({7, 6, 32, true, false, 32, 33, 8, 0.5, 0.5, 2, 32 * 7 + 1, 33 * 6, 8 * 6});
    v.push_back({67, 7, 45, true, false, 45, 45, 67, 1.0, 0.0, 1, 45 * 67, 45 * 7, 67 * 7});
    v.push_back({9, 8, 100, true, false, 101, 100, 9, -1.0, 0.25, 1, 101 * 9, 800, 9 * 8});
    return v;
  }();
  return cases;
}

uint64_t span(int64_t batch, int64_t stride, int64_t ld, int64_t rows, int64_t cols) {
  return static_cast<uint64_t>(stride * (batch - 1) + ld * (cols - 1) + rows);
}

// Runs every gemm case for `dtype` inputs and `dtype_c` output, against a double reference.
void check_gemm(const std::string& dtype, const std::string& dtype_c) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> small(-8, 8);
  for (const GemmCase& g : gemm_cases()) {
    CAPTURE(g.m);
    CAPTURE(g.ta);
    CAPTURE(g.tb);
    const uint64_t na = span(g.batch, g.sa, g.lda, g.ta ? g.k : g.m, g.ta ? g.m : g.k);
    const uint64_t nb = span(g.batch, g.sb, g.ldb, g.tb ? g.n : g.k, g.tb ? g.k : g.n);
    const uint64_t nc = span(g.batch, g.sc, g.ldc, g.m, g.n);
    // Values k/8 exact in every dtype, so the only rounding is the accumulation and the output.
    std::vector<double> a(na), b(nb), c0(nc);
    for (auto& x : a) x = small(rng) / 8.0;
    for (auto& x : b) x = small(rng) / 8.0;
    for (auto& x : c0) x = small(rng) / 4.0;
    Stream s;
    const size_t in_size = dtype == "f64" ? 8 : dtype == "f32" ? 4 : 2;
    const size_t out_size = dtype_c == "f64" ? 8 : dtype_c == "f32" ? 4 : 2;
    Buffer A(na * in_size), B(nb * in_size), C(nc * out_size);
    auto upload = [&](Buffer& buf, const std::vector<double>& v, const std::string& t) {
      if (t == "f64") buf.write(s, v);
      if (t == "f32") buf.write(s, std::vector<float>(v.begin(), v.end()));
      if (t == "f16" || t == "bf16") {
        std::vector<uint16_t> h(v.size());
        for (size_t i = 0; i < v.size(); ++i)
          h[i] = t == "f16" ? to_f16(static_cast<float>(v[i])) : to_bf16(static_cast<float>(v[i]));
        buf.write(s, h);
      }
    };
    upload(A, a, dtype);
    upload(B, b, dtype);
    upload(C, c0, dtype_c);
    Params params = gemm_params(g, dtype, dtype_c);
    QueryResult q = query("gemm.v1", params);
    REQUIRE(q.error == 0);
    REQUIRE_MESSAGE(q.supported, q.reason);
    Op op("gemm.v1", params);
    REQUIRE_MESSAGE(op.error == 0, op.message);
    CHECK(!op.impl().empty());
    if (dtype == "bf16" && g.ta && !g.tb && g.n <= (expect_vdpbf16ps() ? 8 : 4)) {
      CHECK_MESSAGE(op.impl().rfind("cpu dot-product gemm", 0) == 0, op.impl());
      CHECK_MESSAGE((op.impl().find("vdpbf16ps") != std::string::npos) == expect_vdpbf16ps(), op.impl());
    } else if (dtype == "bf16")
      CHECK_MESSAGE(
          (op.impl().rfind("onednn.matmul bf16", 0) == 0) == (expect_onednn_bf16() && g_default_isa),
          op.impl());
    REQUIRE(op.enqueue(s, {A.handle, B.handle, C.handle}) == 0);
    std::vector<double> got(nc);
    if (dtype_c == "f64") got = C.read<double>(s, nc);
    if (dtype_c == "f32") {
      auto f = C.read<float>(s, nc);
      got.assign(f.begin(), f.end());
    }
    if (dtype_c == "f16" || dtype_c == "bf16") {
      auto h = C.read<uint16_t>(s, nc);
      for (size_t i = 0; i < nc; ++i) got[i] = dtype_c == "f16" ? from_f16(h[i]) : from_bf16(h[i]);
    }
    const double out_eps = dtype_c == "f16"    ? 0x1p-10
                           : dtype_c == "bf16" ? 0x1p-7
                           : dtype_c == "f32"  ? 0x1p-20
                                               : 0x1p-48;
    int bad = 0;
    std::vector<bool> covered(nc, false);
    for (int64_t bi = 0; bi < g.batch; ++bi)
      for (int64_t j = 0; j < g.n; ++j)
        for (int64_t i = 0; i < g.m; ++i) {
          const size_t ci = static_cast<size_t>(bi * g.sc + i + j * g.ldc);
          covered[ci] = true;
          const double want = g.alpha * ref_dot(g, a, b, bi, i, j) + g.beta * c0[ci];
          const double tol = out_eps * (std::fabs(want) + g.k) + 1e-12;
          if (std::fabs(got[ci] - want) > tol && ++bad < 5)
            FAIL_CHECK("C[" << i << "," << j << "] batch " << bi << ": got " << got[ci] << " want " << want);
        }
    // Elements outside the matrices (ld and stride padding) are untouched.
    for (size_t ci = 0; ci < nc; ++ci)
      if (!covered[ci] && got[ci] != c0[ci] && ++bad < 5) FAIL_CHECK("padding C[" << ci << "] changed");
    CHECK(bad == 0);
  }
}

// i8 x i8 -> i32 GEMM, exact: every case of gemm_cases() with integer alpha/beta variants (the
// epilogue paths: none, alpha only, alpha and beta), plus a k whose sums pass 2^24 (where f32
// arithmetic would round). Every C element and the padding between them are compared exactly.
void check_gemm_i8() {
  std::mt19937 rng(7);
  std::vector<GemmCase> cases = gemm_cases();
  cases.push_back({3, 4, 2000, true, false, 2000, 2000, 3, 1.0, 0.0, 1, 0, 0, 0});  // |sums| > 2^24
  cases.back().sa = 2000 * 3;
  cases.back().sb = 2000 * 4;
  cases.back().sc = 3 * 4;
  const std::pair<double, double> scales[] = {{1, 0}, {-3, 0}, {2, -1}};
  for (size_t ci_case = 0; ci_case < cases.size(); ++ci_case) {
    for (const auto& [alpha, beta] : scales) {
      GemmCase g = cases[ci_case];
      g.alpha = alpha;
      g.beta = beta;
      const bool big = g.k == 2000;
      CAPTURE(g.m);
      CAPTURE(g.k);
      CAPTURE(g.ta);
      CAPTURE(g.tb);
      CAPTURE(alpha);
      CAPTURE(beta);
      const uint64_t na = span(g.batch, g.sa, g.lda, g.ta ? g.k : g.m, g.ta ? g.m : g.k);
      const uint64_t nb = span(g.batch, g.sb, g.ldb, g.tb ? g.n : g.k, g.tb ? g.k : g.n);
      const uint64_t nc = span(g.batch, g.sc, g.ldc, g.m, g.n);
      std::uniform_int_distribution<int> in(big ? 120 : -128, 127), out(-1000, 1000);
      std::vector<int8_t> a(na), b(nb);
      std::vector<int32_t> c0(nc);
      for (auto& x : a) x = static_cast<int8_t>(big ? in(rng) : in(rng));
      for (auto& x : b) x = static_cast<int8_t>(big ? -in(rng) : in(rng));
      for (auto& x : c0) x = out(rng);
      // The alpha/beta variant also starts each matrix at an element offset (ABI 1.1 offset_a/b/c).
      const int64_t off = alpha == 2 ? 3 : 0;
      const auto uoff = static_cast<uint64_t>(off);
      Stream s;
      Buffer A(na + uoff), B(nb + uoff), C((nc + uoff) * 4);
      A.write(s, a, uoff);
      B.write(s, b, uoff);
      C.write(s, c0, uoff * 4);
      Params params = gemm_params(g, "i8", "i32");
      if (off > 0) params.i("offset_a", off).i("offset_b", off).i("offset_c", off);
      CAPTURE(off);
      QueryResult q = query("gemm.v1", params);
      REQUIRE(q.error == 0);
      REQUIRE_MESSAGE(q.supported, q.reason);
      Op op("gemm.v1", params);
      REQUIRE_MESSAGE(op.error == 0, op.message);
      CHECK_MESSAGE(op.impl().rfind("onednn.matmul s8xs8->s32", 0) == 0, op.impl());
      REQUIRE(op.enqueue(s, {A.handle, B.handle, C.handle}) == 0);
      const std::vector<int32_t> got = C.read<int32_t>(s, nc, uoff * 4);
      std::vector<double> ad(a.begin(), a.end()), bd(b.begin(), b.end());
      int bad = 0;
      std::vector<bool> covered(nc, false);
      for (int64_t bi = 0; bi < g.batch; ++bi)
        for (int64_t j = 0; j < g.n; ++j)
          for (int64_t i = 0; i < g.m; ++i) {
            const size_t ci = static_cast<size_t>(bi * g.sc + i + j * g.ldc);
            covered[ci] = true;
            const double want = alpha * ref_dot(g, ad, bd, bi, i, j) + beta * c0[ci];
            if (big && bi == 0 && i == 0 && j == 0) CHECK(std::fabs(want) > 0x1p24);  // the case tests that
            if (static_cast<double>(got[ci]) != want && ++bad < 5)
              FAIL_CHECK("C[" << i << "," << j << "] batch " << bi << ": got " << got[ci] << " want "
                              << want);
          }
      for (size_t ci = 0; ci < nc; ++ci)
        if (!covered[ci] && got[ci] != c0[ci] && ++bad < 5) FAIL_CHECK("padding C[" << ci << "] changed");
      CHECK(bad == 0);
    }
  }
}

// Simulates one fma_peak item exactly as specified (in T), then the lane sum in T, then f32.
template <class T>
float fma_item(int64_t iters, int lanes, double a, double b, double x0, double dx) {
  const T at = static_cast<T>(a), bt = static_cast<T>(b);
  T sum = 0;
  for (int l = 0; l < lanes; ++l) {
    T x = static_cast<T>(x0 + l * dx);
    for (int64_t t = 0; t < iters; ++t) x = std::fma(x, at, bt);
    sum = l == 0 ? x : sum + x;
  }
  return static_cast<float>(sum);
}

void check_fma_peak() {
  for (const std::string dtype : {"f32", "f64"})
    for (int lanes : {1, 2, 3, 5, 8, 12, 13, 16, 17, 24, 25, 31, 32}) {
      CAPTURE(dtype);
      CAPTURE(lanes);
      const int64_t items = 1000 + lanes, iters = 77;
      const double a = 0.999, b = 0.0123, x0 = 1.25, dx = 1.0 / 64;
      Params p;
      p.s("dtype", dtype)
          .i("items", items)
          .i("iters", iters)
          .i("lanes", lanes)
          .d("a", a)
          .d("b", b)
          .d("x0", x0)
          .d("dx", dx);
      QueryResult q = query("fma_peak.v1", p);
      REQUIRE(q.error == 0);
      REQUIRE_MESSAGE(q.supported, q.reason);
      Op op("fma_peak.v1", p);
      REQUIRE_MESSAGE(op.error == 0, op.message);
      Stream s;
      Buffer out(static_cast<uint64_t>(items) * 4);
      out.write(s, std::vector<float>(static_cast<size_t>(items), NAN));
      REQUIRE(op.enqueue(s, {out.handle}) == 0);
      const auto got = out.read<float>(s, static_cast<size_t>(items));
      const float want = dtype == "f32" ? fma_item<float>(iters, lanes, a, b, x0, dx)
                                        : fma_item<double>(iters, lanes, a, b, x0, dx);
      int bad = 0;
      for (int64_t i = 0; i < items; ++i)
        if (got[static_cast<size_t>(i)] != want && ++bad < 3)
          FAIL_CHECK("item " << i << ": " << got[static_cast<size_t>(i)] << " != " << want);
      CHECK(bad == 0);
    }
}

template <class T>
void check_stream_dtype(const std::string& dtype) {
  for (const std::string kind : {"copy", "scale", "add", "triad"})
    for (int64_t n : {int64_t{1}, int64_t{37}, int64_t{4099}, int64_t{300001}})
      for (bool nt : {false, true}) {
        CAPTURE(kind);
        CAPTURE(n);
        CAPTURE(nt);
        const T s = static_cast<T>(2.5);
        std::vector<T> a(static_cast<size_t>(n)), b(a.size()), c(a.size());
        for (size_t i = 0; i < a.size(); ++i) {
          a[i] = static_cast<T>(0.5 + static_cast<double>(i % 97));
          b[i] = static_cast<T>(1.0 / (1 + static_cast<double>(i % 13)));
          c[i] = static_cast<T>(-3.0 + static_cast<double>(i % 7) * 0.3);
        }
        Stream st;
        Buffer A(a.size() * sizeof(T)), B(a.size() * sizeof(T)), C(a.size() * sizeof(T));
        A.write(st, a);
        B.write(st, b);
        C.write(st, c);
        Params p;
        p.s("kind", kind)
            .s("dtype", dtype)
            .i("n", n)
            .d("scalar", static_cast<double>(s))
            .b("hint.nontemporal", nt);
        Op op("stream.v1", p);
        REQUIRE_MESSAGE(op.error == 0, op.message);
        REQUIRE(op.enqueue(st, {A.handle, B.handle, C.handle}) == 0);
        for (size_t i = 0; i < a.size(); ++i) {
          if (kind == "copy") c[i] = a[i];
          if (kind == "scale") b[i] = s * c[i];
          if (kind == "add") c[i] = a[i] + b[i];
          if (kind == "triad") a[i] = b[i] + s * c[i];
        }
        CHECK(A.read<T>(st, a.size()) == a);
        CHECK(B.read<T>(st, a.size()) == b);
        CHECK(C.read<T>(st, a.size()) == c);
      }
}

void check_all_ops() {
  for (const auto& [in, out] : std::vector<std::pair<std::string, std::string>>{{"f32", "f32"},
                                                                                {"f64", "f64"},
                                                                                {"f16", "f32"},
                                                                                {"f16", "f16"},
                                                                                {"bf16", "f32"},
                                                                                {"bf16", "bf16"}}) {
    CAPTURE(in);
    CAPTURE(out);
    check_gemm(in, out);
  }
  {
    Params i8;
    i8.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "i8").s("dtype_c", "i32");
    const QueryResult q = query("gemm.v1", i8);
    CHECK_MESSAGE(q.supported == (expect_onednn_i8() && g_default_isa), q.reason);
    if (q.supported) check_gemm_i8();
  }
  Params p;
  p.s("dtype", "f32").i("items", 1).i("iters", 1);
  if (query("fma_peak.v1", p).supported) check_fma_peak();
  check_stream_dtype<float>("f32");
  check_stream_dtype<double>("f64");
}

// f32 -> f16/bf16 rounding of the gemm output, ties included: C = alpha * 1 * 1 with k = 1 is
// alpha rounded to f32, then to the output type.
void check_output_rounding(const std::string& dtype) {
  const std::vector<double> values = {1.0 + 0x1p-11,
                                      1.0 + 3 * 0x1p-11,
                                      1.0 + 0x1p-8 + 0x1p-9,
                                      65504.0,
                                      65520.0,
                                      1e6,
                                      -2.5e-7,
                                      6.1e-5,
                                      0x1p-24,
                                      0x1p-25,
                                      3 * 0x1p-26,
                                      1.0 + 0x1p-8,
                                      1.0 + 3 * 0x1p-8,
                                      -0.0};
  Stream s;
  Buffer A(2), B(2), C(2);
  const uint16_t one = dtype == "f16" ? to_f16(1.0f) : to_bf16(1.0f);
  A.write(s, std::vector<uint16_t>{one});
  B.write(s, std::vector<uint16_t>{one});
  for (double v : values) {
    CAPTURE(v);
    Params p;
    p.i("m", 1).i("n", 1).i("k", 1).s("dtype_a", dtype).s("dtype_c", dtype).d("alpha", v);
    Op op("gemm.v1", p);
    REQUIRE(op.error == 0);
    REQUIRE(op.enqueue(s, {A.handle, B.handle, C.handle}) == 0);
    const uint16_t got = C.read<uint16_t>(s, 1)[0];
    const float f = static_cast<float>(v);
    CHECK(got == (dtype == "f16" ? to_f16(f) : to_bf16(f)));
  }
}

bool cpu_has(const char* isa) {
  if (std::string(isa) == "avx512") return cmeter::cpu::cpu_is_x86_64_v4();
  if (std::string(isa) == "avx2") return cmeter::cpu::cpu_is_x86_64_v3();
  return true;
}

void reinitialize_with_isa(const char* isa) {
  auto& p = Plugin::get();
  p.shutdown();
  if (isa == nullptr)
    unsetenv("CMETER_CPU_ISA");
  else
    setenv("CMETER_CPU_ISA", isa, 1);
  g_default_isa = isa == nullptr;
  p.initialize();
}

}  // namespace

// ---- Tests ----

TEST_CASE("api table: version, sizes, slots") {
  auto& p = Plugin::get();
  CHECK(p.api->struct_size >= CMTR_API_STRUCT_SIZE_1_0);
  CHECK(p.api->abi_major == CMTR_ABI_MAJOR);
  CHECK((p.api->error_info != nullptr));
  CHECK((p.api->op_destroy != nullptr));
  CHECK((p.api->event_elapsed != nullptr));
  CHECK((p.api->device_telemetry == nullptr));  // no telemetry on this CPU
  CHECK(str(find(p.plugin_attributes, "plugin.name")) == "cpu");
  CHECK(!str(find(p.plugin_attributes, "plugin.version")).empty());
}

TEST_CASE("device attributes") {
  auto& p = Plugin::get();
  const auto kv = p.device_attributes();
  for (const auto& e : kv) {
    const std::string key(e.key.data, e.key.size);
    if (e.type == CMTR_VALUE_STRING) MESSAGE(key << " = " << str(&e));
    if (e.type == CMTR_VALUE_INT64 || e.type == CMTR_VALUE_BOOL) MESSAGE(key << " = " << e.int_value);
    if (e.type == CMTR_VALUE_DOUBLE) MESSAGE(key << " = " << e.double_value);
  }
  CHECK(str(find(kv, "kind")) == "cpu");
  CHECK(!str(find(kv, "name")).empty());
  CHECK(!str(find(kv, "vendor")).empty());
  CHECK(find(kv, "pci.bus_id") == nullptr);
  // The silicon identity every CPU device of this host shares (the OpenCL CPU device's too).
  CHECK(str(find(kv, "physical.id")) == cmeter::sdk::host_cpu_physical_id());
  CHECK(str(find(kv, "physical.id")).rfind("host-cpu:package=", 0) == 0);
  REQUIRE(find(kv, "compute_units") != nullptr);
  CHECK(find(kv, "compute_units")->int_value >= 1);
  REQUIRE(find(kv, "mem.bytes") != nullptr);
  CHECK(find(kv, "mem.bytes")->int_value > 0);
  REQUIRE(find(kv, "mem.host_shared") != nullptr);
  CHECK(find(kv, "mem.host_shared")->type == CMTR_VALUE_BOOL);
  CHECK(find(kv, "mem.host_shared")->int_value == 1);
  REQUIRE(find(kv, "simd.lanes.f32") != nullptr);
  const int64_t lanes = find(kv, "simd.lanes.f32")->int_value;
  CHECK((lanes == 4 || lanes == 8 || lanes == 16));
  REQUIRE(find(kv, "fma.pipes") != nullptr);
  REQUIRE(find(kv, "clock.core.mhz") != nullptr);
  const double mhz = find(kv, "clock.core.mhz")->double_value;
  CHECK(mhz > 200);
  CHECK(mhz < 10000);
  REQUIRE(find(kv, "peak.flops.f32") != nullptr);
  const double f32 = find(kv, "peak.flops.f32")->double_value;
  const double cores = static_cast<double>(find(kv, "compute_units")->int_value);
  const double pipes = static_cast<double>(find(kv, "fma.pipes")->int_value);
  if (pipes > 0) CHECK(f32 == doctest::Approx(cores * pipes * static_cast<double>(lanes) * 2 * mhz * 1e6));
  CHECK(find(kv, "peak.flops.f64")->double_value == doctest::Approx(f32 / 2));
  CHECK(find(kv, "peak.flops.f16")->double_value == f32);
  // bf16: 2x f32 with AVX512-BF16 dot products (oneDNN), else f32; i8: 4x f32 with VNNI, else none.
  // (AMX machines declare per-core tile rates instead: not checked here.)
  const std::string source = str(find(kv, "peak.source"));
  if (source.find("AMX") == std::string::npos) {
    CHECK(find(kv, "peak.flops.bf16")->double_value == doctest::Approx(f32 * (expect_onednn_bf16() ? 2 : 1)));
    if (expect_onednn_i8()) {
      REQUIRE(find(kv, "peak.flops.i8") != nullptr);
      CHECK(find(kv, "peak.flops.i8")->double_value == doctest::Approx(4 * f32));
      CHECK(source.find("vpdpbusd") != std::string::npos);
    } else {
      CHECK(find(kv, "peak.flops.i8") == nullptr);
    }
    CHECK(source.find(expect_onednn_bf16() ? "vdpbf16ps" : "bf16 = f32") != std::string::npos);
  }
  CHECK(str(find(kv, "runtime.version")).find(expect_onednn_bf16() ? "oneDNN 2." : "") != std::string::npos);
  CHECK(str(find(kv, "peak.source")).find("computed") != std::string::npos);
  CHECK(str(find(kv, "timer.kind")) == "host.steady_clock in stream order");
}

TEST_CASE("bad arguments give errors, not crashes") {
  auto& p = Plugin::get();
  CHECK(p.code(p.api->plugin_devices(nullptr)) == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(p.code(p.api->device_attributes(nullptr)) == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(p.code(p.api->op_enqueue(nullptr)) == CMTR_ERROR_INVALID_ARGUMENT);
  {
    CMTR_Device_Attributes_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes) - 1;  // too small
    a.device = p.device;
    CHECK(p.code(p.api->device_attributes(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes);
    a.device = nullptr;
    CHECK(p.code(p.api->device_attributes(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
  }
  {
    CMTR_Buffer_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
    a.device = p.device;
    a.size_bytes = 0;
    CHECK(p.code(p.api->buffer_create(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
    a.size_bytes = uint64_t{1} << 62;
    CHECK(p.code(p.api->buffer_create(&a)) == CMTR_ERROR_RESOURCE_EXHAUSTED);
    a.size_bytes = ~uint64_t{0};
    CHECK(p.code(p.api->buffer_create(&a)) == CMTR_ERROR_RESOURCE_EXHAUSTED);
    a.size_bytes = 64;
    a.memory_kind = 7;
    CHECK(p.code(p.api->buffer_create(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
  }
  {
    CMTR_Buffer_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
    CHECK(p.code(p.api->buffer_destroy(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
    CMTR_Stream_Synchronize_Args s{};
    s.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
    CHECK(p.code(p.api->stream_synchronize(&s)) == CMTR_ERROR_INVALID_ARGUMENT);
    CMTR_Event_Elapsed_Args e{};
    e.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
    CHECK(p.code(p.api->event_elapsed(&e)) == CMTR_ERROR_INVALID_ARGUMENT);
    CMTR_Op_Enqueue_Args q{};
    q.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
    CHECK(p.code(p.api->op_enqueue(&q)) == CMTR_ERROR_INVALID_ARGUMENT);
  }
}

TEST_CASE("buffers: both kinds are host memory; writes, reads and ranges") {
  auto& p = Plugin::get();
  Stream s;
  for (int32_t kind : {CMTR_MEMORY_DEVICE, CMTR_MEMORY_HOST_PINNED}) {
    Buffer buf(1000, kind);
    CMTR_Buffer_Host_Pointer_Args hp{};
    hp.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    hp.buffer = buf.handle;
    REQUIRE(p.ok(p.api->buffer_host_pointer(&hp)));
    REQUIRE(hp.host_pointer != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(hp.host_pointer) % 64 == 0);
    std::vector<uint8_t> data(100);
    std::iota(data.begin(), data.end(), uint8_t{1});
    buf.write(s, data, 900);
    CHECK(buf.read<uint8_t>(s, 100, 900) == data);
    CHECK(std::memcmp(static_cast<uint8_t*>(hp.host_pointer) + 900, data.data(), 100) == 0);

    std::vector<uint8_t> big(101);
    CMTR_Buffer_Read_Args r{};
    r.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Read_Args, size_bytes);
    r.stream = s.handle;
    r.buffer = buf.handle;
    r.offset_bytes = 900;
    r.host_pointer = big.data();
    r.size_bytes = 101;  // one past the end
    std::string msg;
    CHECK(p.code(p.api->buffer_read(&r), &msg) == CMTR_ERROR_INVALID_ARGUMENT);
    CHECK(msg.find("outside") != std::string::npos);
    r.offset_bytes = ~uint64_t{0};  // offset + size overflows
    CHECK(p.code(p.api->buffer_read(&r)) == CMTR_ERROR_INVALID_ARGUMENT);
    r.offset_bytes = 0;
    r.size_bytes = 0;
    CHECK(p.code(p.api->buffer_read(&r)) == CMTR_ERROR_INVALID_ARGUMENT);
    r.size_bytes = 10;
    r.host_pointer = nullptr;
    CHECK(p.code(p.api->buffer_read(&r)) == CMTR_ERROR_INVALID_ARGUMENT);
    r.host_pointer = big.data();
    r.stream = nullptr;
    CHECK(p.code(p.api->buffer_read(&r)) == CMTR_ERROR_INVALID_ARGUMENT);
  }
  // Large enough for the parallel copy path.
  std::vector<uint32_t> large(3'000'001);
  std::iota(large.begin(), large.end(), 7u);
  Buffer buf(large.size() * 4);
  buf.write(s, large);
  CHECK(buf.read<uint32_t>(s, large.size()) == large);
}

TEST_CASE("events: elapsed is monotonic") {
  auto& p = Plugin::get();
  Stream s;
  auto record = [&] {
    CMTR_Event_Record_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Record_Args, event);
    a.stream = s.handle;
    REQUIRE(p.ok(p.api->event_record(&a)));
    return a.event;
  };
  auto elapsed = [&](CMTR_Event* a, CMTR_Event* b) {
    CMTR_Event_Elapsed_Args e{};
    e.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
    e.start = a;
    e.stop = b;
    REQUIRE(p.ok(p.api->event_elapsed(&e)));
    return e.elapsed_s;
  };
  CMTR_Event* e0 = record();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CMTR_Event* e1 = record();
  CMTR_Event* e2 = record();
  CMTR_Stream_Synchronize_Args sync{};
  sync.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
  sync.stream = s.handle;
  REQUIRE(p.ok(p.api->stream_synchronize(&sync)));
  CHECK(elapsed(e0, e1) >= 0.0015);
  CHECK(elapsed(e1, e2) >= 0);
  CHECK(elapsed(e0, e2) >= elapsed(e0, e1));
  for (CMTR_Event* e : {e0, e1, e2}) {
    CMTR_Event_Destroy_Args d{};
    d.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Destroy_Args, event);
    d.event = e;
    CHECK(p.ok(p.api->event_destroy(&d)));
  }
}

TEST_CASE("op_query and op_create: unknown, unsupported, invalid") {
  auto& p = Plugin::get();
  {
    QueryResult q = query("fft.v1", Params());
    CHECK(q.error == 0);
    CHECK(!q.supported);
    CHECK(q.reason.find("unknown op") != std::string::npos);
    Op op("fft.v1", Params());
    CHECK(op.error == CMTR_ERROR_NOT_FOUND);
  }
  Params base;
  base.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "f32");
  CHECK(query("gemm.v1", base).supported);
  {
    Params bad;
    bad.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "f32").i("colour", 3);
    CHECK(query("gemm.v1", bad).error == CMTR_ERROR_INVALID_ARGUMENT);
    bad = Params();
    bad.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "f32").i("hint.tile", 3);  // hints are ignored
    CHECK(query("gemm.v1", bad).supported);
    bad = Params();
    bad.i("m", 4).i("n", 4).s("dtype_a", "f32");  // k missing
    CHECK(query("gemm.v1", bad).error == CMTR_ERROR_INVALID_ARGUMENT);
    bad = Params();
    bad.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "f32").i("lda", 2);
    CHECK(query("gemm.v1", bad).error == CMTR_ERROR_INVALID_ARGUMENT);
    bad = Params();
    bad.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "f32").s("trans_a", "yes");  // wrong type
    CHECK(query("gemm.v1", bad).error == CMTR_ERROR_INVALID_ARGUMENT);
  }
  for (const auto& [a, c, compute] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"i8", "f32", "i32"},
                                                                      {"i32", "i32", "i32"},
                                                                      {"f32", "f32", "tf32"},
                                                                      {"f16", "f16", "f16"},
                                                                      {"f32", "f16", "f32"},
                                                                      {"f16", "bf16", "f32"}}) {
    CAPTURE(a);
    CAPTURE(compute);
    Params q;
    q.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", a).s("dtype_c", c).s("compute", compute);
    QueryResult r = query("gemm.v1", q);
    CHECK(r.error == 0);
    CHECK(!r.supported);
    CHECK(!r.reason.empty());
    Op op("gemm.v1", q);
    CHECK(op.error == CMTR_ERROR_UNIMPLEMENTED);
  }
  {
    Params q;
    q.s("dtype", "f16").i("items", 16).i("iters", 4);
    QueryResult r = query("fma_peak.v1", q);
    CHECK(!r.supported);
    CHECK(r.reason.find("f16") != std::string::npos);
    Params l;
    l.s("dtype", "f32").i("items", 16).i("iters", 4).i("lanes", 33);
    CHECK(query("fma_peak.v1", l).error == CMTR_ERROR_INVALID_ARGUMENT);
  }
  {
    Params q;
    q.s("kind", "triad").s("dtype", "f16").i("n", 16);
    CHECK(!query("stream.v1", q).supported);
    Params k;
    k.s("kind", "fma").i("n", 16);
    CHECK(query("stream.v1", k).error == CMTR_ERROR_INVALID_ARGUMENT);
  }
  {
    // Truncated reason buffer, and a query with a short struct.
    Params q;
    q.i("m", 4).i("n", 4).i("k", 4).s("dtype_a", "i8");
    char tiny[5];
    const std::string name = "gemm.v1";
    CMTR_Op_Query_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_size);
    a.device = p.device;
    a.name = {name.data(), name.size()};
    a.params = q.kv.data();
    a.num_params = q.kv.size();
    a.reason_buffer = tiny;
    a.reason_buffer_size = sizeof tiny;
    CHECK(p.ok(p.api->op_query(&a)));
    CHECK(a.reason_size == sizeof tiny);
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_buffer);
    CHECK(p.code(p.api->op_query(&a)) == CMTR_ERROR_INVALID_ARGUMENT);
  }
}

TEST_CASE("op_enqueue: wrong buffers are named") {
  Stream s;
  Params g;
  g.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "f32");
  Op op("gemm.v1", g);
  REQUIRE(op.error == 0);
  Buffer a(256), b(256), c(255);
  std::string msg;
  CHECK(op.enqueue(s, {a.handle, b.handle}, &msg) == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(msg.find("3 buffers") != std::string::npos);
  CHECK(op.enqueue(s, {a.handle, b.handle, c.handle}, &msg) == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(msg.find("buffer 2 (C)") != std::string::npos);
  CHECK(op.enqueue(s, {a.handle, nullptr, c.handle}, &msg) == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(msg.find("buffer 1 (B)") != std::string::npos);
  Buffer c_ok(256);
  CHECK(op.enqueue(s, {a.handle, b.handle, c_ok.handle}) == 0);
}

TEST_CASE("copy.v1 and noop.v1") {
  Stream s;
  for (int64_t bytes : {int64_t{1}, int64_t{4097}, int64_t{5} << 20}) {
    std::vector<uint8_t> src(static_cast<size_t>(bytes));
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 31 + 7);
    Buffer a(static_cast<uint64_t>(bytes)), b(static_cast<uint64_t>(bytes) + 64);
    a.write(s, src);
    Params p;
    p.i("bytes", bytes);
    Op op("copy.v1", p);
    REQUIRE(op.error == 0);
    REQUIRE(op.enqueue(s, {a.handle, b.handle}) == 0);
    CHECK(b.read<uint8_t>(s, src.size()) == src);
  }
  Op noop("noop.v1", Params());
  REQUIRE(noop.error == 0);
  for (int i = 0; i < 1000; ++i) REQUIRE(noop.enqueue(s, {}) == 0);
  Buffer x(64);
  CHECK(noop.enqueue(s, {x.handle}) == CMTR_ERROR_INVALID_ARGUMENT);
  Params extra;
  extra.i("n", 1);
  CHECK(query("noop.v1", extra).error == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("ops match the host reference (default kernels)") {
  check_all_ops();
}

TEST_CASE("f16/bf16 output rounding is to nearest even") {
  check_output_rounding("f16");
  check_output_rounding("bf16");
}

TEST_CASE("ops match the host reference with lower ISAs") {
  for (const char* isa : {"avx2", "sse2"}) {
    if (!cpu_has(isa)) continue;
    CAPTURE(isa);
    reinitialize_with_isa(isa);
    const auto kv = Plugin::get().device_attributes();
    CHECK(str(find(kv, "runtime.version")).find(std::string(isa) + " kernels") != std::string::npos);
    check_all_ops();
    check_output_rounding("f16");
    check_output_rounding("bf16");
  }
  reinitialize_with_isa(nullptr);
}

TEST_CASE("bf16 dot-product gemm without vdpbf16ps (CMETER_CPU_DOT_BF16=widen)") {
  // On an AVX512_BF16 CPU the default kernels take vdpbf16ps; this keeps the widening AVX-512 kernels,
  // which such CPUs would otherwise never run here, under test.
  auto& p = Plugin::get();
  p.shutdown();
  setenv("CMETER_CPU_DOT_BF16", "widen", 1);
  g_widen_dot_bf16 = true;
  p.initialize();
  check_gemm("bf16", "f32");
  check_gemm("bf16", "bf16");
  p.shutdown();
  unsetenv("CMETER_CPU_DOT_BF16");
  g_widen_dot_bf16 = false;
  p.initialize();
}
