// plugins/vulkan/infer_ops_test.cpp - the ABI 1.1 inference ops of the Vulkan plugin (and gemm.v1 in
// f16/bf16 with offsets, as the decoder uses it), through the C ABI, on the Vulkan device present
// (lavapipe on CI), against the FP64 references of the core (core/validate/op_reference.h, compiled
// into this test binary).
//
// Why this file exists: the shaders convert f16/bf16 by integer operations, reduce rows in trees,
// reduce rope's angles in fixed point and read per-call values from device buffers; each of those can
// be wrong in ways only a real device run shows. Every op runs in f32, f16 and bf16 storage on odd
// shapes (rows shorter and longer than a work-group), with the out-of-range index values of the
// catalogue, in place where allowed, and is compared with the reference on the values as stored:
// copies and argmax exactly, conversions bit-exactly, arithmetic by normalised squared error within a
// limit per storage type. Written after plugins/opencl/infer_ops_test.cpp (same cases, same limits).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <cmeter/plugin_client.hpp>

#include "core/validate/half.h"
#include "core/validate/op_reference.h"

// The plugin under test (vulkan_plugin_test.cpp loads it).
const cmeter::client::Plugin& vulkan_test_plugin();

namespace {

using cmeter::client::Outcome;
using cmeter::client::Params;
namespace ref = cmeter::validate::ref;

const cmeter::client::Plugin& P() {
  return vulkan_test_plugin();
}
CMTR_Device* dev() {
  return P().devices.at(0);
}

const char* const kDtypes[] = {"f32", "f16", "bf16"};

size_t esize(const std::string& dtype) {
  return dtype == "f32" ? 4 : 2;
}

// Values in a storage type, as bytes, and back.
std::vector<uint8_t> encode(const std::string& dtype, const std::vector<double>& v) {
  std::vector<uint8_t> out(v.size() * esize(dtype));
  for (size_t i = 0; i < v.size(); ++i) {
    const float f = static_cast<float>(v[i]);
    if (dtype == "f32") {
      std::memcpy(&out[i * 4], &f, 4);
    } else {
      const uint16_t h = dtype == "f16" ? cmeter::f32_to_f16_bits(f) : cmeter::f32_to_bf16_bits(f);
      std::memcpy(&out[i * 2], &h, 2);
    }
  }
  return out;
}
std::vector<double> decode(const std::string& dtype, const std::vector<uint8_t>& b) {
  std::vector<double> out(b.size() / esize(dtype));
  for (size_t i = 0; i < out.size(); ++i) {
    if (dtype == "f32") {
      float f;
      std::memcpy(&f, &b[i * 4], 4);
      out[i] = f;
    } else {
      uint16_t h;
      std::memcpy(&h, &b[i * 2], 2);
      out[i] = dtype == "f16" ? cmeter::f16_bits_to_f32(h) : cmeter::bf16_bits_to_f32(h);
    }
  }
  return out;
}
// `v` rounded to the storage type (what the device holds).
std::vector<double> stored(const std::string& dtype, const std::vector<double>& v) {
  return decode(dtype, encode(dtype, v));
}

std::vector<double> random_values(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// Limits on the normalised squared error: output rounding (half an ulp: 2^-24 f32, 2^-11 f16,
// 2^-8 bf16, squared) plus f32 arithmetic, with margin; a wrong kernel is orders of magnitude off.
double nmse_limit(const std::string& dtype) {
  return dtype == "f32" ? 1e-11 : dtype == "f16" ? 1e-6 : 2e-5;
}

struct Session {
  CMTR_Stream* stream = nullptr;
  std::vector<CMTR_Buffer*> owned;
  Session() { REQUIRE(P().stream(dev(), &stream).ok()); }
  ~Session() {
    for (auto* b : owned) P().destroy(b);
    P().destroy(stream);
  }
  template <class T>
  CMTR_Buffer* upload(const std::vector<T>& host) {
    CMTR_Buffer* b = nullptr;
    const uint64_t bytes = host.size() * sizeof(T);
    Outcome o = P().buffer(dev(), bytes, &b);
    REQUIRE_MESSAGE(o.ok(), o.message);
    owned.push_back(b);
    REQUIRE(P().write(stream, b, 0, host.data(), bytes).ok());
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
  std::vector<uint8_t> download_bytes(CMTR_Buffer* b, size_t bytes) { return download<uint8_t>(b, bytes); }
};

struct Op {
  CMTR_Op* op = nullptr;
  Op(const std::string& name, const Params& p) {
    Outcome o = P().create(dev(), name, p, &op);
    REQUIRE_MESSAGE(o.ok(), name << ": " << o.message);
    CHECK(!P().op_attribute(op, "impl").empty());
  }
  ~Op() { P().destroy(op); }
};

void run(const Op& op, Session& s, std::vector<CMTR_Buffer*> buffers) {
  Outcome o = P().enqueue(op.op, s.stream, buffers);
  REQUIRE_MESSAGE(o.ok(), o.message);
  REQUIRE(P().sync(s.stream).ok());
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, const std::string& dtype) {
  REQUIRE(got.size() == want.size());
  const double e = ref::nmse(got.data(), want.data(), got.size());
  CAPTURE(dtype);
  CHECK_MESSAGE(e <= nmse_limit(dtype), "nmse " << e << " (limit " << nmse_limit(dtype) << ")");
  for (double g : got) REQUIRE(std::isfinite(g));
}

}  // namespace

TEST_CASE("rmsnorm.v1: every dtype, rows shorter and longer than a work-group, in place") {
  for (const char* dtype : kDtypes)
    for (int64_t dim : {5, 37, 300}) {
      const int64_t rows = 3;
      CAPTURE(dtype);
      CAPTURE(dim);
      const auto x = stored(dtype, random_values(static_cast<size_t>(rows * dim), -3, 3, 1));
      const auto w = stored(dtype, random_values(static_cast<size_t>(dim), 0.5, 1.5, 2));
      std::vector<double> want(x.size());
      ref::rmsnorm(x.data(), w.data(), want.data(), rows, dim, 1e-3);
      Params p;
      p.i("rows", rows).i("dim", dim).s("dtype", dtype).d("eps", 1e-3);
      Op op("rmsnorm.v1", p);
      Session s;
      CMTR_Buffer* bx = s.upload(encode(dtype, x));
      CMTR_Buffer* bw = s.upload(encode(dtype, w));
      CMTR_Buffer* by = s.upload(std::vector<uint8_t>(x.size() * esize(dtype)));
      run(op, s, {bx, bw, by});
      check_close(decode(dtype, s.download_bytes(by, x.size() * esize(dtype))), stored(dtype, want), dtype);
      run(op, s, {bx, bw, bx});  // in place
      check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), stored(dtype, want), dtype);
    }
}

TEST_CASE("rope.v1: both layouts, negative and large positions, every dtype") {
  const int64_t rows = 4, heads = 3, head_dim = 18;
  const std::vector<int32_t> pos = {0, 7, -1, 5000};
  for (const char* dtype : kDtypes)
    for (const char* layout : {"half", "interleaved"}) {
      CAPTURE(dtype);
      CAPTURE(layout);
      const auto x = stored(dtype, random_values(static_cast<size_t>(rows * heads * head_dim), -2, 2, 3));
      std::vector<double> want = x;
      ref::rope(want.data(), pos.data(), rows, heads, head_dim, std::string(layout) == "interleaved",
                500000.0);
      Params p;
      p.i("rows", rows).i("heads", heads).i("head_dim", head_dim).s("dtype", dtype).s("layout", layout);
      p.d("theta", 500000.0);
      Op op("rope.v1", p);
      Session s;
      CMTR_Buffer* bx = s.upload(encode(dtype, x));
      run(op, s, {bx, s.upload(pos)});
      const auto got = decode(dtype, s.download_bytes(bx, x.size() * esize(dtype)));
      check_close(got, stored(dtype, want), dtype);
      // The row at a negative position is untouched, bit for bit.
      const size_t row = static_cast<size_t>(heads * head_dim);
      for (size_t i = 2 * row; i < 3 * row; ++i) REQUIRE(got[i] == x[i]);
    }
}

TEST_CASE("softmax.v1: scale, lengths (none, zero, negative, beyond cols), in place, every dtype") {
  const int64_t rows = 5, cols = 45;
  const std::vector<int32_t> len = {45, 3, 0, 100, -2};
  for (const char* dtype : kDtypes)
    for (bool lengths : {false, true}) {
      CAPTURE(dtype);
      CAPTURE(lengths);
      auto xv = random_values(static_cast<size_t>(rows * cols), -4, 4, 4);
      xv[7] = -150;  // scale * x = 105: exp would overflow f32 unless the maximum is subtracted first
      const auto x = stored(dtype, xv);
      std::vector<double> want(x.size());
      ref::softmax(x.data(), want.data(), rows, cols, -0.7, lengths ? len.data() : nullptr);
      Params p;
      p.i("rows", rows).i("cols", cols).s("dtype", dtype).d("scale", -0.7);
      if (lengths) p.s("mask", "lengths");
      Op op("softmax.v1", p);
      Session s;
      CMTR_Buffer* bx = s.upload(encode(dtype, x));
      std::vector<CMTR_Buffer*> bufs = {bx, bx};  // in place
      if (lengths) bufs.push_back(s.upload(len));
      run(op, s, bufs);
      const auto got = decode(dtype, s.download_bytes(bx, x.size() * esize(dtype)));
      check_close(got, stored(dtype, want), dtype);
      if (lengths)
        for (size_t i = 2 * cols; i < 3 * static_cast<size_t>(cols); ++i) REQUIRE(got[i] == 0);
    }
}

TEST_CASE("swiglu.v1: every dtype, odd widths") {
  for (const char* dtype : kDtypes)
    for (int64_t dim : {3, 29}) {
      const int64_t rows = 3;
      CAPTURE(dtype);
      CAPTURE(dim);
      const auto gu = stored(dtype, random_values(static_cast<size_t>(rows * 2 * dim), -6, 6, 5));
      std::vector<double> want(static_cast<size_t>(rows * dim));
      ref::swiglu(gu.data(), want.data(), rows, dim);
      Params p;
      p.i("rows", rows).i("dim", dim).s("dtype", dtype);
      Op op("swiglu.v1", p);
      Session s;
      CMTR_Buffer* by = s.upload(std::vector<uint8_t>(want.size() * esize(dtype)));
      run(op, s, {s.upload(encode(dtype, gu)), by});
      check_close(decode(dtype, s.download_bytes(by, want.size() * esize(dtype))), stored(dtype, want),
                  dtype);
    }
}

TEST_CASE("kv_append.v1: rows land in their slot and position, out-of-range rows are skipped") {
  const int64_t rows = 5, kv_heads = 2, head_dim = 13, slots = 3, capacity = 4;
  const std::vector<int32_t> slot = {0, 2, -1, 1, 3};
  const std::vector<int32_t> pos = {3, 0, 1, 4, 0};  // row 2: bad slot; row 3: pos == capacity; row 4: slot
  for (const char* dtype : kDtypes) {
    CAPTURE(dtype);
    const auto src = stored(dtype, random_values(static_cast<size_t>(rows * kv_heads * head_dim), -1, 1, 6));
    const auto cache0 =
        stored(dtype, random_values(static_cast<size_t>(slots * kv_heads * capacity * head_dim), 5, 6, 7));
    std::vector<double> want = cache0;
    ref::kv_append(src.data(), want.data(), slot.data(), pos.data(), rows, kv_heads, head_dim, slots,
                   capacity);
    Params p;
    p.i("rows", rows)
        .i("kv_heads", kv_heads)
        .i("head_dim", head_dim)
        .i("slots", slots)
        .i("capacity", capacity);
    p.s("dtype", dtype);
    Op op("kv_append.v1", p);
    Session s;
    CMTR_Buffer* bc = s.upload(encode(dtype, cache0));
    run(op, s, {s.upload(encode(dtype, src)), bc, s.upload(slot), s.upload(pos)});
    const auto got = decode(dtype, s.download_bytes(bc, cache0.size() * esize(dtype)));
    int bad = 0;
    for (size_t i = 0; i < got.size(); ++i) bad += got[i] != want[i];
    CHECK(bad == 0);
    CHECK(got != cache0);  // something was written
  }
}

TEST_CASE("embedding.v1: gathers rows exactly, zeros for ids out of range") {
  const int64_t rows = 6, vocab = 7, dim = 19;
  const std::vector<int32_t> ids = {3, 0, -1, 6, 7, 3};
  for (const char* dtype : kDtypes) {
    CAPTURE(dtype);
    const auto table = stored(dtype, random_values(static_cast<size_t>(vocab * dim), -1, 1, 8));
    std::vector<double> want(static_cast<size_t>(rows * dim));
    ref::embedding(table.data(), ids.data(), want.data(), rows, vocab, dim);
    Params p;
    p.i("rows", rows).i("vocab", vocab).i("dim", dim).s("dtype", dtype);
    Op op("embedding.v1", p);
    Session s;
    CMTR_Buffer* by = s.upload(encode(dtype, std::vector<double>(want.size(), 9.0)));
    run(op, s, {s.upload(encode(dtype, table)), s.upload(ids), by});
    CHECK(decode(dtype, s.download_bytes(by, want.size() * esize(dtype))) == want);
  }
}

TEST_CASE("argmax.v1: one and several chunks per row, ties to the lowest index, NaN never wins") {
  for (const char* dtype : kDtypes)
    for (int64_t cols : {5, 3001}) {
      CAPTURE(dtype);
      CAPTURE(cols);
      const int64_t rows = 5;
      auto x = random_values(static_cast<size_t>(rows * cols), -10, 10, 9);
      const double nan = std::numeric_limits<double>::quiet_NaN();
      // row 0: a tie between the last column and an early one; row 1: NaN before the maximum and at
      // the end; row 2: all NaN (answer 0); row 3: all -inf (answer 0); row 4: the maximum last.
      const auto at = [&](int64_t r, int64_t c) -> double& { return x[static_cast<size_t>(r * cols + c)]; };
      at(0, cols - 1) = 50;
      at(0, 1) = 50;
      at(1, 0) = nan;
      at(1, cols / 2) = 40;
      at(1, cols - 1) = nan;
      for (int64_t c = 0; c < cols; ++c) at(2, c) = nan;
      for (int64_t c = 0; c < cols; ++c) at(3, c) = -std::numeric_limits<double>::infinity();
      at(4, cols - 1) = 30;
      x = stored(dtype, x);
      std::vector<int32_t> want(static_cast<size_t>(rows));
      ref::argmax(x.data(), want.data(), rows, cols);
      REQUIRE(want[0] == 1);
      Params p;
      p.i("rows", rows).i("cols", cols).s("dtype", dtype);
      Op op("argmax.v1", p);
      Session s;
      CMTR_Buffer* out = s.upload(std::vector<int32_t>(static_cast<size_t>(rows), -7));
      run(op, s, {s.upload(encode(dtype, x)), out});
      CHECK(s.download<int32_t>(out, static_cast<size_t>(rows)) == want);
    }
}

TEST_CASE("eltwise.v1: add, mul, scale (in place) in every dtype") {
  const int64_t n = 37;
  for (const char* dtype : kDtypes)
    for (const char* kind : {"add", "mul", "scale"}) {
      CAPTURE(dtype);
      CAPTURE(kind);
      const auto a = stored(dtype, random_values(static_cast<size_t>(n), -3, 3, 10));
      const auto b = stored(dtype, random_values(static_cast<size_t>(n), -3, 3, 11));
      const std::string k = kind;
      std::vector<double> want(a.size());
      for (size_t i = 0; i < a.size(); ++i)
        want[i] = k == "add"   ? static_cast<double>(static_cast<float>(a[i] + b[i]))
                  : k == "mul" ? static_cast<double>(static_cast<float>(a[i] * b[i]))
                               : static_cast<double>(static_cast<float>(1.75 * a[i]));
      Params p;
      p.s("kind", kind).i("n", n).s("dtype", dtype);
      if (k == "scale") p.d("scalar", 1.75);
      Op op("eltwise.v1", p);
      Session s;
      CMTR_Buffer* ba = s.upload(encode(dtype, a));
      if (k == "scale")
        run(op, s, {ba, ba});
      else
        run(op, s, {ba, s.upload(encode(dtype, b)), ba});
      // One f32 operation, then one rounding: exactly the host's.
      CHECK(decode(dtype, s.download_bytes(ba, a.size() * esize(dtype))) == stored(dtype, want));
    }
}

TEST_CASE("eltwise.v1 cast: every pair of types, rounding to nearest even bit for bit") {
  // f32 values around the f16/bf16 rounding and range edges: ties, subnormals, overflow, inf, NaN.
  std::vector<float> src = {0.0f,           -0.0f,          1.0f,       1.0f + 0x1p-11f, 1.0f + 0x3p-11f,
                            1.0f + 0x1p-8f, 1.0f + 0x3p-8f, 65504.0f,   65519.0f,        65520.0f,
                            1e30f,          -1e30f,         0x1p-24f,   0x1p-25f,        0x3p-26f,
                            0x1p-14f,       0x1.ffcp-15f,   6.1e-5f,    3.0e-39f,        -2.5f,
                            INFINITY,       -INFINITY,      3.3333333f, -1234.567f,      0x1.fffffep127f};
  const auto more = random_values(40, -100, 100, 12);
  for (double v : more) src.push_back(static_cast<float>(v));
  const int64_t n = static_cast<int64_t>(src.size());
  for (const char* from : kDtypes)
    for (const char* to : kDtypes) {
      CAPTURE(from);
      CAPTURE(to);
      std::vector<double> as_double(src.begin(), src.end());
      const std::vector<uint8_t> in = encode(from, as_double);
      Params p;
      p.s("kind", "cast").i("n", n).s("dtype", from).s("dtype_out", to);
      Op op("eltwise.v1", p);
      Session s;
      CMTR_Buffer* by = s.upload(std::vector<uint8_t>(src.size() * esize(to)));
      run(op, s, {s.upload(in), by});
      const std::vector<uint8_t> want = encode(to, decode(from, in));
      CHECK(s.download_bytes(by, want.size()) == want);
    }
  // NaN stays NaN.
  Params p;
  p.s("kind", "cast").i("n", 3).s("dtype", "f32").s("dtype_out", "f16");
  Op op("eltwise.v1", p);
  Session s;
  CMTR_Buffer* by = s.upload(std::vector<uint16_t>(3));
  run(op, s, {s.upload(std::vector<float>(3, NAN)), by});
  for (uint16_t h : s.download<uint16_t>(by, 3)) CHECK(std::isnan(cmeter::f16_bits_to_f32(h)));
}

TEST_CASE("row kernels with a GPU's work-group size (hint.vulkan.row_local) are right too") {
  const char* dtype = "bf16";
  const int64_t rows = 3, cols = 1100;
  const auto x = stored(dtype, random_values(static_cast<size_t>(rows * cols), -5, 5, 13));
  std::vector<double> want(x.size());
  ref::softmax(x.data(), want.data(), rows, cols, 1.0, nullptr);
  std::vector<int32_t> want_idx(static_cast<size_t>(rows));
  ref::argmax(x.data(), want_idx.data(), rows, cols);
  std::vector<double> want_norm(x.size()), w(static_cast<size_t>(cols), 1.0);
  ref::rmsnorm(x.data(), w.data(), want_norm.data(), rows, cols, 1e-5);
  Session s;
  CMTR_Buffer* bx = s.upload(encode(dtype, x));
  CMTR_Buffer* bw = s.upload(encode(dtype, w));
  CMTR_Buffer* by = s.upload(std::vector<uint8_t>(x.size() * esize(dtype)));
  CMTR_Buffer* out = s.upload(std::vector<int32_t>(static_cast<size_t>(rows)));
  Params pa;
  pa.i("rows", rows).i("cols", cols).s("dtype", dtype).i("hint.vulkan.row_local", 128);
  Op am("argmax.v1", pa);
  run(am, s, {bx, out});
  CHECK(s.download<int32_t>(out, static_cast<size_t>(rows)) == want_idx);
  Params pn;
  pn.i("rows", rows).i("dim", cols).s("dtype", dtype).i("hint.vulkan.row_local", 256);
  Op nm("rmsnorm.v1", pn);
  run(nm, s, {bx, bw, by});
  check_close(decode(dtype, s.download_bytes(by, x.size() * esize(dtype))), stored(dtype, want_norm), dtype);
  Params ps;
  ps.i("rows", rows).i("cols", cols).s("dtype", dtype).i("hint.vulkan.row_local", 64);
  Op sm("softmax.v1", ps);
  run(sm, s, {bx, bx});
  check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), stored(dtype, want), dtype);
  Params bad;
  bad.i("rows", 1).i("cols", 8).s("dtype", dtype).i("hint.vulkan.row_local", 48);
  CMTR_Op* op = nullptr;
  CHECK(P().create(dev(), "softmax.v1", bad, &op).code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("rope.v1: positions up to 2^31 - 1 keep f32 accuracy (the angle is reduced exactly)") {
  const int64_t rows = 5, heads = 1, head_dim = 64;
  const std::vector<int32_t> pos = {2147483647, 1000000007, 65537, 3, 123456789};
  for (const char* dtype : {"f32"}) {
    const auto x = stored(dtype, random_values(static_cast<size_t>(rows * heads * head_dim), -1, 1, 17));
    std::vector<double> want = x;
    ref::rope(want.data(), pos.data(), rows, heads, head_dim, false, 10000.0);
    Params p;
    p.i("rows", rows).i("heads", heads).i("head_dim", head_dim).s("dtype", dtype);
    Op op("rope.v1", p);
    Session s;
    CMTR_Buffer* bx = s.upload(encode(dtype, x));
    run(op, s, {bx, s.upload(pos)});
    check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), want, dtype);
  }
}

TEST_CASE("gemm.v1 f16, bf16 (16-bit and f32 outputs) and f32, both kernels, as the decoder calls it") {
  // The decoder's projection y = W x (+ residual): trans_a, offsets, beta 1; and a batched one.
  struct Case {
    int64_t m, n, k;
    bool trans_a;
    int64_t batch, off_a, off_b, off_c;
    double beta;
  };
  // The last three take the blocked kernel's 64-bit-load form (k, offsets and strides in whole words).
  const Case cases[] = {{37, 4, 70, true, 1, 3, 5, 7, 1.0},     {24, 2, 33, false, 3, 0, 0, 0, 0.0},
                        {300, 1, 17, true, 1, 0, 17, 300, 0.0}, {64, 4, 128, true, 1, 8, 16, 3, 1.0},
                        {41, 3, 64, true, 2, 0, 0, 0, 0.0},     {19, 6, 12, true, 3, 4, 8, 1, 0.5}};
  for (const char* dtype : {"f16", "bf16", "f32"})
    for (const char* out : {"same", "f32"})
      for (const char* kernel : {"blocked", "tiled"})
        for (const Case& c : cases) {
          if (std::string(dtype) == "f32" && std::string(out) == "f32") continue;  // as "same"
          const std::string dc = std::string(out) == "same" ? dtype : out;
          CAPTURE(dtype);
          CAPTURE(dc);
          CAPTURE(kernel);
          CAPTURE(c.m);
          const int64_t rows_a = c.trans_a ? c.k : c.m, cols_a = c.trans_a ? c.m : c.k;
          const size_t na = static_cast<size_t>(c.off_a + rows_a * cols_a * c.batch);
          const size_t nb = static_cast<size_t>(c.off_b + c.k * c.n * c.batch);
          const size_t nc = static_cast<size_t>(c.off_c + c.m * c.n * c.batch);
          const auto a = stored(dtype, random_values(na, -1, 1, 18));
          const auto b = stored(dtype, random_values(nb, -1, 1, 19));
          const auto c0 = stored(dc, random_values(nc, -1, 1, 20));
          std::vector<double> want = c0;
          for (int64_t z = 0; z < c.batch; ++z)
            for (int64_t j = 0; j < c.n; ++j)
              for (int64_t i = 0; i < c.m; ++i) {
                double acc = 0;
                for (int64_t q = 0; q < c.k; ++q)
                  acc += a[static_cast<size_t>(c.off_a + z * rows_a * cols_a +
                                               (c.trans_a ? i * c.k + q : q * c.m + i))] *
                         b[static_cast<size_t>(c.off_b + z * c.k * c.n + j * c.k + q)];
                const size_t at = static_cast<size_t>(c.off_c + z * c.m * c.n + j * c.m + i);
                want[at] = acc + c.beta * c0[at];
              }
          Params p;
          p.i("m", c.m).i("n", c.n).i("k", c.k).s("dtype_a", dtype).s("dtype_b", dtype).s("dtype_c", dc);
          p.b("trans_a", c.trans_a).d("beta", c.beta).i("batch", c.batch).s("hint.vulkan.gemm", kernel);
          if (c.off_a) p.i("offset_a", c.off_a);
          if (c.off_b) p.i("offset_b", c.off_b);
          if (c.off_c) p.i("offset_c", c.off_c);
          bool supported = false;
          std::string reason;
          REQUIRE(P().query(dev(), "gemm.v1", p, &supported, &reason).ok());
          if (!supported) {  // the tiled kernel's f16 needs shaderFloat16
            CHECK(std::string(kernel) == "tiled");
            CHECK(std::string(dtype) == "f16");
            continue;
          }
          Op op("gemm.v1", p);
          const bool words = c.trans_a && c.k % 4 == 0 && c.off_a % 4 == 0 && c.off_b % 4 == 0;
          if (std::string(kernel) == "blocked" && words)  // needs shaderInt64, which lavapipe has
            CHECK(P().op_attribute(op.op, "impl").find("64 bits at a time") != std::string::npos);
          Session s;
          CMTR_Buffer* bc = s.upload(encode(dc, c0));
          run(op, s, {s.upload(encode(dtype, a)), s.upload(encode(dtype, b)), bc});
          const auto got = decode(dc, s.download_bytes(bc, nc * esize(dc)));
          // Outside offset_c + the matrices nothing changes; inside, one rounding of an f32 sum.
          for (int64_t i = 0; i < c.off_c; ++i)
            REQUIRE(got[static_cast<size_t>(i)] == c0[static_cast<size_t>(i)]);
          check_close(got, stored(dc, want), dc);
        }
}

TEST_CASE("inference ops: small buffers are INVALID_ARGUMENT, other dtypes and attention unsupported") {
  Params p;
  p.i("rows", 4).i("dim", 16).s("dtype", "f16");
  Op op("rmsnorm.v1", p);
  Session s;
  CMTR_Buffer* x = s.upload(std::vector<uint16_t>(64));
  CMTR_Buffer* w = s.upload(std::vector<uint16_t>(16));
  CMTR_Buffer* small = s.upload(std::vector<uint16_t>(63));
  CHECK(P().enqueue(op.op, s.stream, {x, w, small}).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().enqueue(op.op, s.stream, {x, small}).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().enqueue(op.op, s.stream, {x, w, x}).ok());
  CHECK(P().sync(s.stream).ok());
  bool supported = true;
  std::string reason;
  Params f64;
  f64.i("rows", 4).i("dim", 16).s("dtype", "f64");
  REQUIRE(P().query(dev(), "rmsnorm.v1", f64, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("f64") != std::string::npos);
  Params cast_i8;
  cast_i8.s("kind", "cast").i("n", 4).s("dtype", "f32").s("dtype_out", "i8");
  REQUIRE(P().query(dev(), "eltwise.v1", cast_i8, &supported, &reason).ok());
  CHECK_FALSE(supported);
  Params bad;
  bad.i("rows", 0).i("dim", 16).s("dtype", "f16");
  CHECK(P().query(dev(), "rmsnorm.v1", bad, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params unknown;
  unknown.i("rows", 1).i("dim", 16).s("dtype", "f16").i("colour", 3);
  CHECK(P().query(dev(), "rmsnorm.v1", unknown, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params att;
  att.i("rows", 1).i("heads", 2).i("kv_heads", 1).i("head_dim", 16).i("slots", 1).i("capacity", 4);
  att.s("dtype", "f16");
  REQUIRE(P().query(dev(), "attention.v1", att, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("attention.v1") != std::string::npos);
  CMTR_Op* none = nullptr;
  CHECK(P().create(dev(), "attention.v1", att, &none).code == CMTR_ERROR_UNIMPLEMENTED);
  att.i("kv_heads", 3);  // heads not a multiple of kv_heads: malformed
  CHECK(P().query(dev(), "attention.v1", att, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
}
