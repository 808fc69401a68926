// plugins/testing/infer_ops_cases.hpp - the ABI 1.1 inference ops' device tests shared by the plugin
// test binaries that run them through the C ABI (OpenCL on PoCL, Vulkan on lavapipe), against the
// core's FP64 references (core/validate/op_reference.h, compiled into each test binary).
//
// Why this file exists: every plugin's kernels convert f16/bf16 by bit operations, reduce rows in
// trees and read per-call values from device buffers, each of which can be wrong in ways only a real
// device run shows, and the cases that show it are the same for every plugin. Every op runs in f32,
// f16 and bf16 storage on odd shapes (rows shorter and longer than a work-group, several argmax
// chunks), with the out-of-range index values of the catalogue, in place where allowed, and is
// compared with the reference on the values as stored: copies and argmax exactly, conversions
// bit-exactly, arithmetic by normalised squared error within a limit per storage type.
//
// Include it once, in one test file of a binary that defines infer_ops_test_plugin() (the loaded
// plugin whose device 0 runs the cases); that file adds the plugin's own cases (hints, shapes its
// kernels special-case) with the helpers below.
#ifndef CMETER_PLUGINS_TESTING_INFER_OPS_CASES_HPP_
#define CMETER_PLUGINS_TESTING_INFER_OPS_CASES_HPP_

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

// The plugin under test (defined by the including test binary).
const cmeter::client::Plugin& infer_ops_test_plugin();

namespace {

using cmeter::client::Outcome;
using cmeter::client::Params;
namespace ref = cmeter::validate::ref;

const cmeter::client::Plugin& P() {
  return infer_ops_test_plugin();
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

#endif  // CMETER_PLUGINS_TESTING_INFER_OPS_CASES_HPP_
