// plugins/cpu/inference_ops_test.cpp - the CPU plugin's ABI 1.1 inference ops against the FP64
// references, through the C ABI only.
//
// Why this file exists: the inference ops (rmsnorm, rope, softmax, swiglu, kv_append, embedding,
// argmax, eltwise, attention) and gemm.v1's offsets feed the model workload, whose validation trusts
// them; each is checked here for f32, f16 and bf16 against core/validate/op_reference (compiled into
// this test from its one source file; the FP64 references the conformance checks use), on odd shapes
// (dims that are no multiple of any vector width, one row, rows enough for the parallel path), in
// place where the catalogue allows it, with out-of-range ids/slots/positions/lengths, and with NaN
// for argmax; too-small buffers must be INVALID_ARGUMENT. Its own binary (own process), so it can
// re-initialise the plugin per kernel ISA (CMETER_CPU_ISA) without disturbing cpu_plugin_test.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <cmeter/plugin_client.hpp>

#include "core/validate/op_reference.h"
#include "cpu_level.hpp"
#include "op_test_support.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#ifndef CMETER_CPU_PLUGIN_PATH
#error "CMETER_CPU_PLUGIN_PATH must name the built plugin"
#endif

namespace {

using namespace cmeter::cpu_op_test;  // NOLINT: the shared test helpers

// ---- The ops ----

void check_rmsnorm(const std::string& t) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 37}, {5, 1000}, {64, 1003}}) {
    for (bool in_place : {false, true}) {
      CAPTURE(rows);
      CAPTURE(dim);
      CAPTURE(in_place);
      Tensor x(t, random_values(static_cast<size_t>(rows * dim), -2, 2, 1)),
          w(t, random_values(dim, 0.5, 1.5, 2));
      auto bx = upload(x), bw = upload(w);
      Buf by(x.bytes.size());
      Params p;
      p.i("rows", rows).i("dim", dim).s("dtype", t).d("eps", 1e-3);
      Op op("rmsnorm.v1", p);
      Buf& out = in_place ? *bx : by;
      op.run({bx->h, bw->h, out.h});
      std::vector<double> want(x.values.size());
      ref::rmsnorm(x.values.data(), w.values.data(), want.data(), rows, dim, 1e-3);
      check_close(download(out, t), rounded(t, want), t);
      if (!in_place) check_too_small(op, {bx.get(), bw.get(), &by}, 1);
    }
  }
}

void check_rope(const std::string& t) {
  for (int64_t head_dim : {2, 38, 128}) {
    for (bool interleaved : {false, true}) {
      CAPTURE(head_dim);
      CAPTURE(interleaved);
      const int64_t rows = 4, heads = 3;
      Tensor x(t, random_values(static_cast<size_t>(rows * heads * head_dim), -1, 1, 3));
      const std::vector<int32_t> pos = {0, 7, -1, 1000};  // -1: row unchanged
      auto bx = upload(x), bp = upload_i32(pos);
      Params p;
      p.i("rows", rows).i("heads", heads).i("head_dim", head_dim).s("dtype", t).d("theta", 500000.0);
      if (interleaved) p.s("layout", "interleaved");
      Op op("rope.v1", p);
      op.run({bx->h, bp->h});
      std::vector<double> want = x.values;
      ref::rope(want.data(), pos.data(), rows, heads, head_dim, interleaved, 500000.0);
      const std::vector<double> got = download(*bx, t);
      check_close(got, rounded(t, want), t);
      for (int64_t i = 2 * heads * head_dim; i < 3 * heads * head_dim; ++i)  // the -1 row: untouched
        CHECK(got[static_cast<size_t>(i)] == x.values[static_cast<size_t>(i)]);
      check_too_small(op, {bx.get(), bp.get()}, 1);
    }
  }
}

void check_softmax(const std::string& t) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 37}, {7, 1000}, {40, 1001}}) {
    for (bool lengths : {false, true}) {
      for (double scale : {1.0, -0.37}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(lengths);
        CAPTURE(scale);
        std::vector<double> v = random_values(static_cast<size_t>(rows * cols), -8, 8, 4);
        // A row of large values: exp overflows unless the maximum is subtracted first.
        for (int64_t c = 0; c < cols; ++c) v[static_cast<size_t>(c)] += t == "f32" ? 2000.0 : 300.0;
        Tensor x(t, v);
        std::vector<int32_t> len(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r)
          len[static_cast<size_t>(r)] = static_cast<int32_t>(r % 4 == 1   ? -3
                                                             : r % 4 == 2 ? cols + 9
                                                                          : (r * 13) % cols + 1);
        auto bx = upload(x), bl = upload_i32(len);
        Buf by(x.bytes.size());
        Params p;
        p.i("rows", rows).i("cols", cols).s("dtype", t).d("scale", scale);
        if (lengths) p.s("mask", "lengths");
        Op op("softmax.v1", p);
        const bool in_place = scale < 0;  // in place for half of the cases
        Buf& out = in_place ? *bx : by;
        if (lengths)
          op.run({bx->h, out.h, bl->h});
        else
          op.run({bx->h, out.h});
        std::vector<double> want(x.values.size());
        ref::softmax(x.values.data(), want.data(), rows, cols, scale, lengths ? len.data() : nullptr);
        const std::vector<double> got = download(out, t);
        check_close(got, rounded(t, want), t);
        if (lengths)
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = std::max<int64_t>(0, std::min<int64_t>(cols, len[static_cast<size_t>(r)]));
                 c < cols; ++c)
              REQUIRE(got[static_cast<size_t>(r * cols + c)] == 0.0);
        if (lengths && !in_place) check_too_small(op, {bx.get(), &by, bl.get()}, 2);
      }
    }
  }
}

void check_swiglu(const std::string& t) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 37}, {5, 1000}, {33, 1003}}) {
    CAPTURE(rows);
    CAPTURE(dim);
    Tensor gu(t, random_values(static_cast<size_t>(rows * dim * 2), -6, 6, 5));
    auto bg = upload(gu);
    Buf by(static_cast<uint64_t>(rows * dim) * elem_bytes(t));
    Params p;
    p.i("rows", rows).i("dim", dim).s("dtype", t);
    Op op("swiglu.v1", p);
    op.run({bg->h, by.h});
    std::vector<double> want(static_cast<size_t>(rows * dim));
    ref::swiglu(gu.values.data(), want.data(), rows, dim);
    check_close(download(by, t), rounded(t, want), t);
    check_too_small(op, {bg.get(), &by}, 0);
  }
}

void check_kv_append(const std::string& t) {
  const int64_t rows = 6, kv_heads = 2, head_dim = 37, slots = 3, capacity = 5;
  Tensor src(t, random_values(static_cast<size_t>(rows * kv_heads * head_dim), -1, 1, 6));
  Tensor cache(t, std::vector<double>(static_cast<size_t>(slots * kv_heads * capacity * head_dim), 7.0));
  const std::vector<int32_t> slot = {0, 2, -1, 3, 1, 1}, pos = {4, 0, 1, 1, 5, 2};  // rows 2, 3, 4 skipped
  auto bs = upload(src), bc = upload(cache), bsl = upload_i32(slot), bp = upload_i32(pos);
  Params p;
  p.i("rows", rows)
      .i("kv_heads", kv_heads)
      .i("head_dim", head_dim)
      .i("slots", slots)
      .i("capacity", capacity)
      .s("dtype", t);
  Op op("kv_append.v1", p);
  op.run({bs->h, bc->h, bsl->h, bp->h});
  std::vector<double> want = cache.values;
  ref::kv_append(src.values.data(), want.data(), slot.data(), pos.data(), rows, kv_heads, head_dim, slots,
                 capacity);
  CHECK(download(*bc, t) == want);  // copies: exact
  check_too_small(op, {bs.get(), bc.get(), bsl.get(), bp.get()}, 1);
  check_too_small(op, {bs.get(), bc.get(), bsl.get(), bp.get()}, 3);
}

void check_embedding(const std::string& t) {
  for (int64_t rows : {1, 6, 1000}) {
    CAPTURE(rows);
    const int64_t vocab = 11, dim = 37;
    Tensor table(t, random_values(static_cast<size_t>(vocab * dim), -1, 1, 7));
    std::vector<int32_t> ids(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)
      ids[static_cast<size_t>(r)] = static_cast<int32_t>((r * 7) % 14 - 1);  // -1..12
    auto bt = upload(table), bi = upload_i32(ids);
    Buf by(static_cast<uint64_t>(rows * dim) * elem_bytes(t));
    Params p;
    p.i("rows", rows).i("vocab", vocab).i("dim", dim).s("dtype", t);
    Op op("embedding.v1", p);
    op.run({bt->h, bi->h, by.h});
    std::vector<double> want(static_cast<size_t>(rows * dim));
    ref::embedding(table.values.data(), ids.data(), want.data(), rows, vocab, dim);
    CHECK(download(by, t) == want);
    check_too_small(op, {bt.get(), bi.get(), &by}, 0);
  }
}

void check_argmax(const std::string& t) {
  const int64_t rows = 8, cols = 1000;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  std::vector<double> v = random_values(static_cast<size_t>(rows * cols), -100, 100, 8);
  auto at = [&](int64_t r, int64_t c) -> double& { return v[static_cast<size_t>(r * cols + c)]; };
  at(0, 999) = 500;                                                    // maximum in the scalar tail
  at(1, 3) = 500, at(1, 700) = 500;                                    // tie: the lower index
  for (int64_t c = 0; c < cols; ++c) at(2, c) = nan;                   // all NaN: 0
  at(3, 0) = nan, at(3, 5) = nan, at(3, 17) = 400;                     // NaN never wins
  for (int64_t c = 0; c < cols; ++c) at(4, c) = c == 42 ? nan : -inf;  // -inf everywhere but a NaN: 0
  at(5, 500) = inf;
  for (int64_t c = 0; c < cols; ++c) at(6, c) = -1;  // all equal: 0
  Tensor x(t, v);
  auto bx = upload(x);
  Buf bo(static_cast<uint64_t>(rows) * 4);
  Params p;
  p.i("rows", rows).i("cols", cols).s("dtype", t);
  Op op("argmax.v1", p);
  op.run({bx->h, bo.h});
  std::vector<int32_t> want(rows);
  ref::argmax(x.values.data(), want.data(), rows, cols);
  CHECK(bo.read<int32_t>(rows) == want);
  CHECK(want[0] == 999);
  CHECK(want[1] == 3);
  CHECK(want[2] == 0);
  CHECK(want[3] == 17);
  CHECK(want[5] == 500);
  CHECK(want[6] == 0);
  check_too_small(op, {bx.get(), &bo}, 1);
  // One column, one row.
  Params p1;
  p1.i("rows", 1).i("cols", 1).s("dtype", t);
  Op op1("argmax.v1", p1);
  Tensor x1(t, {-3.0});
  auto bx1 = upload(x1);
  op1.run({bx1->h, bo.h});
  CHECK(bo.read<int32_t>(1)[0] == 0);
}

void check_eltwise(const std::string& t) {
  const int64_t n = 20037;  // > one parallel chunk, not a multiple of any width
  Tensor a(t, random_values(static_cast<size_t>(n), -3, 3, 9)),
      b(t, random_values(static_cast<size_t>(n), -3, 3, 10));
  for (const char* kind : {"add", "mul", "scale"}) {
    for (bool in_place : {false, true}) {
      const std::string kind_name = kind;
      CAPTURE(kind_name);
      CAPTURE(in_place);
      auto ba = upload(a), bb = upload(b);
      Buf by(a.bytes.size());
      Params p;
      p.s("kind", kind).i("n", n).s("dtype", t);
      if (std::string(kind) == "scale") p.d("scalar", -1.75);
      Op op("eltwise.v1", p);
      Buf& out = in_place ? (std::string(kind) == "mul" ? *bb : *ba) : by;
      if (std::string(kind) == "scale")
        op.run({ba->h, out.h});
      else
        op.run({ba->h, bb->h, out.h});
      std::vector<double> want(static_cast<size_t>(n));
      for (size_t i = 0; i < want.size(); ++i)
        want[i] = std::string(kind) == "add"   ? a.values[i] + b.values[i]
                  : std::string(kind) == "mul" ? a.values[i] * b.values[i]
                                               : -1.75 * a.values[i];
      check_close(download(out, t), rounded(t, want), t);
      if (!in_place) check_too_small(op, {ba.get(), &by}, 1);
    }
  }
  for (const char* to : kDtypes) {
    const std::string to_name = to;
    CAPTURE(to_name);
    auto ba = upload(a);
    Buf by(static_cast<uint64_t>(n) * elem_bytes(to));
    Params p;
    p.s("kind", "cast").i("n", n).s("dtype", t).s("dtype_out", to);
    Op op("eltwise.v1", p);
    op.run({ba->h, by.h});
    CHECK(download(by, to) == rounded(to, a.values));  // one rounding of an exact value: exact
    // In place (Y = A), in a buffer large enough for both: narrowing and widening casts too.
    Buf both(static_cast<uint64_t>(n) * 4);
    both.write(a.bytes.data(), a.bytes.size());
    op.run({both.h, both.h});
    std::vector<uint8_t> y_bytes = both.read<uint8_t>(static_cast<size_t>(n) * elem_bytes(to));
    CHECK(decode(to, y_bytes) == rounded(to, a.values));
  }
}

void check_attention_case(const std::string& t, int64_t heads, int64_t kv_heads, int64_t head_dim,
                          int64_t slots, int64_t capacity, const std::vector<int32_t>& slot,
                          const std::vector<int32_t>& pos);

// Causal GQA attention: rows x heads tasks grouped by KV head when there are enough of them (the first
// call), one head per task otherwise (the second: one row, one KV head for three query heads).
void check_attention(const std::string& t) {
  check_attention_case(t, 4, 2, 37, 2, 150, {0, 1, 1, 2, 0, -1},
                       {130, 0, 149, 3, 150, 4});  // rows 3-5: zeros
  check_attention_case(t, 3, 1, 8, 1, 70, {0}, {69});
}

void check_attention_case(const std::string& t, int64_t heads, int64_t kv_heads, int64_t head_dim,
                          int64_t slots, int64_t capacity, const std::vector<int32_t>& slot,
                          const std::vector<int32_t>& pos) {
  CAPTURE(heads);
  CAPTURE(kv_heads);
  const int64_t rows = static_cast<int64_t>(slot.size());
  Tensor q(t, random_values(static_cast<size_t>(rows * heads * head_dim), -1, 1, 11));
  Tensor kc(t, random_values(static_cast<size_t>(slots * kv_heads * capacity * head_dim), -1, 1, 12));
  Tensor vc(t, random_values(static_cast<size_t>(slots * kv_heads * capacity * head_dim), -1, 1, 13));
  auto bq = upload(q), bk = upload(kc), bv = upload(vc), bs = upload_i32(slot), bp = upload_i32(pos);
  Buf bo(q.bytes.size());
  Params p;
  p.i("rows", rows)
      .i("heads", heads)
      .i("kv_heads", kv_heads)
      .i("head_dim", head_dim)
      .i("slots", slots)
      .i("capacity", capacity)
      .s("dtype", t);
  Op op("attention.v1", p);
  op.run({bq->h, bk->h, bv->h, bs->h, bp->h, bo.h});
  std::vector<double> want(q.values.size());
  ref::attention(q.values.data(), kc.values.data(), vc.values.data(), slot.data(), pos.data(), want.data(),
                 rows, heads, kv_heads, head_dim, slots, capacity,
                 1.0 / std::sqrt(static_cast<double>(head_dim)));
  const std::vector<double> got = download(bo, t);
  check_close(got, rounded(t, want), t);
  for (int64_t r = 0; r < rows; ++r) {
    const size_t ri = static_cast<size_t>(r);
    if (slot[ri] >= 0 && slot[ri] < slots && pos[ri] >= 0 && pos[ri] < capacity) continue;
    for (int64_t i = r * heads * head_dim; i < (r + 1) * heads * head_dim; ++i)
      REQUIRE(got[static_cast<size_t>(i)] == 0.0);
  }
  check_too_small(op, {bq.get(), bk.get(), bv.get(), bs.get(), bp.get(), &bo}, 2);
}

// gemm.v1 offsets with f16 inputs and output (the convert-then-sgemm path), batch 2.
void check_gemm_offsets_half() {
  const int64_t m = 3, n = 2, k = 5, batch = 2, oa = 7, ob = 3, oc = 11;
  const int64_t sa = m * k, sb = k * n, sc = m * n;
  Tensor a("f16", random_values(static_cast<size_t>(oa + batch * sa), -1, 1, 14));
  Tensor b("f16", random_values(static_cast<size_t>(ob + batch * sb), -1, 1, 15));
  Tensor c("f16", std::vector<double>(static_cast<size_t>(oc + batch * sc + 4), 9.0));
  auto ba = upload(a), bb = upload(b), bc = upload(c);
  Params p;
  p.i("m", m)
      .i("n", n)
      .i("k", k)
      .s("dtype_a", "f16")
      .i("batch", batch)
      .i("offset_a", oa)
      .i("offset_b", ob)
      .i("offset_c", oc);
  Op op("gemm.v1", p);
  op.run({ba->h, bb->h, bc->h});
  std::vector<double> want = c.values;
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; ++i) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l)
          s += a.values[static_cast<size_t>(oa + bi * sa + l * m + i)] *
               b.values[static_cast<size_t>(ob + bi * sb + j * k + l)];
        want[static_cast<size_t>(oc + bi * sc + j * m + i)] = s;
      }
  check_close(download(*bc, "f16"), rounded("f16", want), "f16");
  // The offset counts against the buffer: one element less than offset + matrices is too small.
  Buf small(static_cast<uint64_t>(oa + batch * sa) * 2 - 1);
  CHECK(op.enqueue({small.h, bb->h, bc->h}).code == CMTR_ERROR_INVALID_ARGUMENT);
}

void check_all() {
  for (const char* t : kDtypes) {
    const std::string dtype = t;
    CAPTURE(dtype);
    check_rmsnorm(t);
    check_rope(t);
    check_softmax(t);
    check_swiglu(t);
    check_kv_append(t);
    check_embedding(t);
    check_argmax(t);
    check_eltwise(t);
    check_attention(t);
  }
  check_gemm_offsets_half();
}

}  // namespace

TEST_CASE("inference ops match the FP64 references (default kernels)") {
  check_all();
}

TEST_CASE("inference ops match the FP64 references with lower ISAs") {
  for (const char* isa : {"avx2", "sse2"}) {
    if (!cpu_has(isa)) continue;
    const std::string isa_name = isa;
    CAPTURE(isa_name);
    Dev::get().restart_with_isa(isa);
    check_all();
  }
  Dev::get().restart_with_isa(nullptr);
}

TEST_CASE("inference ops: f64 and i32 are unsupported, not invalid") {
  bool supported = true;
  std::string reason;
  Params p;
  p.i("rows", 2).i("dim", 8).s("dtype", "f64");
  Outcome o = Dev::get().client.query(Dev::get().device, "rmsnorm.v1", p, &supported, &reason);
  CHECK(o.ok());
  CHECK(!supported);
  CHECK(reason.find("f64") != std::string::npos);
  Params e;
  e.s("kind", "cast").i("n", 8).s("dtype", "f32").s("dtype_out", "i32");
  CMTR_Op* h = nullptr;
  CHECK(Dev::get().client.create(Dev::get().device, "eltwise.v1", e, &h).code == CMTR_ERROR_UNIMPLEMENTED);
}
