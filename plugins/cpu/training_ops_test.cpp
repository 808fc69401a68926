// plugins/cpu/training_ops_test.cpp - the CPU plugin's ABI 1.2 training ops against the FP64
// references, through the C ABI only.
//
// Why this file exists: the training workload's gradients and optimiser step come from these ops,
// and its trajectory check trusts them; each is checked here for f32, f16 and bf16 against
// core/validate/op_reference on odd shapes (dims no multiple of a vector width, one row, rows enough
// for the parallel partials), in place where the catalogue allows it, with accumulate on and off,
// padding targets and out-of-range ids, and the adamw skip. Linked into the inference ops' test binary
// (one loaded plugin, re-initialised per ISA for both).
#include <doctest/doctest.h>

#include "op_test_support.hpp"

namespace {

using namespace cmeter::cpu_op_test;  // NOLINT: the shared test helpers

std::vector<float> read_f32(Buf& b, size_t n) {
  return b.read<float>(n);
}
std::vector<double> as_double(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}
std::unique_ptr<Buf> upload_f32(const std::vector<double>& v) {
  return upload(Tensor("f32", v));
}

void check_rmsnorm_backward(const std::string& t) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 37}, {64, 1003}}) {
    for (bool in_place : {false, true}) {
      CAPTURE(rows);
      CAPTURE(dim);
      CAPTURE(in_place);
      const size_t n = static_cast<size_t>(rows * dim);
      Tensor x(t, random_values(n, -2, 2, 11)), w(t, random_values(dim, 0.5, 1.5, 12)),
          dy(t, random_values(n, -1, 1, 13));
      auto bx = upload(x), bw = upload(w), bdy = upload(dy);
      Buf bdx(x.bytes.size());
      const std::vector<double> dw0 = random_values(dim, -1, 1, 14);
      auto bdw = upload_f32(dw0);
      Params p;
      p.i("rows", rows).i("dim", dim).s("dtype", t).d("eps", 1e-3).b("accumulate", in_place);
      Op op("rmsnorm_backward.v1", p);
      Buf& out = in_place ? *bdy : bdx;
      op.run({bx->h, bw->h, bdy->h, out.h, bdw->h});
      std::vector<double> want_dx(n), want_dw(dim);
      ref::rmsnorm_backward(x.values.data(), w.values.data(), dy.values.data(), want_dx.data(),
                            want_dw.data(), rows, dim, 1e-3);
      check_close(download(out, t), rounded(t, want_dx), t);
      if (in_place)  // accumulate: DW = its old value + the call's
        for (size_t j = 0; j < want_dw.size(); ++j) want_dw[j] += Tensor("f32", dw0).values[j];
      check_close(as_double(read_f32(*bdw, dim)), want_dw, "f32");
      if (!in_place) check_too_small(op, {bx.get(), bw.get(), bdy.get(), &bdx, bdw.get()}, 4);
    }
  }
}

void check_swiglu_backward(const std::string& t) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 37}, {33, 1000}}) {
    for (bool in_place : {false, true}) {
      CAPTURE(rows);
      CAPTURE(dim);
      CAPTURE(in_place);
      Tensor gu(t, random_values(static_cast<size_t>(rows * dim * 2), -6, 6, 21)),
          dy(t, random_values(static_cast<size_t>(rows * dim), -1, 1, 22));
      auto bgu = upload(gu), bdy = upload(dy);
      Buf bout(gu.bytes.size());
      Params p;
      p.i("rows", rows).i("dim", dim).s("dtype", t);
      Op op("swiglu_backward.v1", p);
      Buf& out = in_place ? *bgu : bout;
      op.run({bgu->h, bdy->h, out.h});
      std::vector<double> want(gu.values.size());
      ref::swiglu_backward(gu.values.data(), dy.values.data(), want.data(), rows, dim);
      check_close(download(out, t), rounded(t, want), t);
      if (!in_place) check_too_small(op, {bgu.get(), bdy.get(), &bout}, 1);
    }
  }
}

void check_softmax_backward(const std::string& t) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 37}, {24, 1001}}) {
    for (bool lengths : {false, true}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(lengths);
      const double scale = lengths ? 0.125 : 1.0;
      std::vector<int32_t> len(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r)
        len[static_cast<size_t>(r)] = static_cast<int32_t>(r % 4 == 1   ? -3
                                                           : r % 4 == 2 ? cols + 9
                                                                        : (r * 13) % cols + 1);
      std::vector<double> y_exact(static_cast<size_t>(rows * cols));
      const std::vector<double> logits = random_values(y_exact.size(), -4, 4, 31);
      ref::softmax(logits.data(), y_exact.data(), rows, cols, scale, lengths ? len.data() : nullptr);
      Tensor y(t, y_exact), dy(t, random_values(y_exact.size(), -1, 1, 32));
      auto by = upload(y), bdy = upload(dy), bl = upload_i32(len);
      Params p;
      p.i("rows", rows).i("cols", cols).s("dtype", t).d("scale", scale);
      if (lengths) p.s("mask", "lengths");
      Op op("softmax_backward.v1", p);
      // In place (DX = DY) with lengths, a separate DX without.
      Buf bdx(y.bytes.size());
      Buf& out = lengths ? *bdy : bdx;
      if (lengths)
        op.run({by->h, bdy->h, out.h, bl->h});
      else
        op.run({by->h, bdy->h, out.h});
      std::vector<double> want(y.values.size());
      ref::softmax_backward(y.values.data(), dy.values.data(), want.data(), rows, cols, scale,
                            lengths ? len.data() : nullptr);
      const std::vector<double> got = download(out, t);
      check_close(got, rounded(t, want), t);
      if (lengths) {
        size_t nonzero = 0;  // beyond each row's length DX is 0
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = std::clamp<int64_t>(len[static_cast<size_t>(r)], 0, cols); c < cols; ++c)
            nonzero += got[static_cast<size_t>(r * cols + c)] != 0.0;
        CHECK(nonzero == 0);
        check_too_small(op, {by.get(), &bdx, &bdx, bl.get()}, 3);
      }
    }
  }
}

void check_rope_backward(const std::string& t) {
  for (bool interleaved : {false, true}) {
    CAPTURE(interleaved);
    const int64_t rows = 4, heads = 3, head_dim = 38;
    Tensor x(t, random_values(static_cast<size_t>(rows * heads * head_dim), -1, 1, 41));
    const std::vector<int32_t> pos = {0, 7, -1, 1000};
    auto bx = upload(x), bp = upload_i32(pos);
    Params p;
    p.i("rows", rows).i("heads", heads).i("head_dim", head_dim).s("dtype", t);
    if (interleaved) p.s("layout", "interleaved");
    Op op("rope_backward.v1", p);
    op.run({bx->h, bp->h});
    std::vector<double> want = x.values;
    ref::rope_backward(want.data(), pos.data(), rows, heads, head_dim, interleaved, 10000.0);
    const std::vector<double> got = download(*bx, t);
    check_close(got, rounded(t, want), t);
    // It is the inverse: rotating the reference back gives the input.
    ref::rope(want.data(), pos.data(), rows, heads, head_dim, interleaved, 10000.0);
    check_close(want, x.values, "f32");
    check_too_small(op, {bx.get(), bp.get()}, 1);
  }
}

void check_cross_entropy(const std::string& t) {
  for (auto [rows, vocab] : {std::pair<int64_t, int64_t>{1, 37}, {24, 1001}}) {
    for (bool backward : {false, true}) {
      for (bool in_place : {false, true}) {
        if (!backward && in_place) continue;
        CAPTURE(rows);
        CAPTURE(vocab);
        CAPTURE(backward);
        CAPTURE(in_place);
        std::vector<double> v = random_values(static_cast<size_t>(rows * vocab), -8, 8, 51);
        // A row of large logits: exp overflows unless the maximum is subtracted first.
        for (int64_t c = 0; c < vocab; ++c) v[static_cast<size_t>(c)] += t == "f32" ? 2000.0 : 300.0;
        Tensor x(t, v);
        std::vector<int32_t> target(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r)
          target[static_cast<size_t>(r)] = static_cast<int32_t>(r % 5 == 3   ? -1
                                                                : r % 5 == 4 ? vocab
                                                                             : (r * 31) % vocab);
        auto bx = upload(x), bt = upload_i32(target);
        Buf bloss(static_cast<uint64_t>(rows) * 4), bdx(x.bytes.size());
        const float gscale = 0.25f;
        auto bg = std::make_unique<Buf>(4);
        bg->write(&gscale, 4);
        Params p;
        p.i("rows", rows).i("vocab", vocab).s("dtype", t);
        if (!backward) p.b("backward", false);
        Op op("cross_entropy.v1", p);
        Buf& dx = in_place ? *bx : bdx;
        if (backward)
          op.run({bx->h, bt->h, bloss.h, dx.h, bg->h});
        else
          op.run({bx->h, bt->h, bloss.h});
        std::vector<double> want_loss(static_cast<size_t>(rows)), want_dx(x.values.size());
        ref::cross_entropy(x.values.data(), target.data(), want_loss.data(),
                           backward ? want_dx.data() : nullptr, rows, vocab, gscale);
        const std::vector<double> loss = as_double(read_f32(bloss, static_cast<size_t>(rows)));
        check_close(loss, want_loss, "f32");
        for (int64_t r = 0; r < rows; ++r)
          if (target[static_cast<size_t>(r)] < 0 || target[static_cast<size_t>(r)] >= vocab)
            CHECK(loss[static_cast<size_t>(r)] == 0.0);
        if (backward) {
          check_close(download(dx, t), rounded(t, want_dx), t);
          if (!in_place) check_too_small(op, {bx.get(), bt.get(), &bloss, &bdx, bg.get()}, 4);
        }
      }
    }
  }
}

void check_embedding_backward(const std::string& t) {
  for (bool accumulate : {false, true}) {
    CAPTURE(accumulate);
    const int64_t rows = 50, vocab = 13, dim = 37;
    Tensor dy(t, random_values(static_cast<size_t>(rows * dim), -1, 1, 61));
    std::vector<int32_t> ids(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)  // repeated ids, and some out of range (skipped)
      ids[static_cast<size_t>(r)] = static_cast<int32_t>(r % 9 == 8     ? -2
                                                         : r % 11 == 10 ? vocab
                                                                        : (r * 7) % 5);
    const std::vector<double> table0 =
        Tensor("f32", random_values(static_cast<size_t>(vocab * dim), -1, 1, 62)).values;
    auto bdy = upload(dy), bids = upload_i32(ids), btable = upload_f32(table0);
    Params p;
    p.i("rows", rows).i("vocab", vocab).i("dim", dim).s("dtype", t).b("accumulate", accumulate);
    Op op("embedding_backward.v1", p);
    op.run({bdy->h, bids->h, btable->h});
    std::vector<double> want = accumulate ? table0 : std::vector<double>(table0.size(), 0.0);
    ref::embedding_backward(dy.values.data(), ids.data(), want.data(), rows, vocab, dim);
    const std::vector<double> got = as_double(read_f32(*btable, want.size()));
    check_close(got, want, "f32");
    if (!accumulate)  // ids never named stay zero
      for (int64_t c = 0; c < dim; ++c) CHECK(got[static_cast<size_t>(12 * dim + c)] == 0.0);
    check_too_small(op, {bdy.get(), bids.get(), btable.get()}, 2);
  }
}

void check_reduce(const std::string& t) {
  struct Shape {
    int64_t rows, cols;
  };
  for (Shape s : {Shape{1, 50001}, Shape{300, 37}, Shape{1000, 1}, Shape{7, 3}}) {
    for (bool axis_rows : {false, true}) {
      for (bool squares : {false, true}) {
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        CAPTURE(axis_rows);
        CAPTURE(squares);
        const bool accumulate = squares;
        Tensor x(t, random_values(static_cast<size_t>(s.rows * s.cols), -1, 1, 71));
        const int64_t outs = axis_rows ? s.cols : s.rows;
        const std::vector<double> y0 =
            Tensor("f32", random_values(static_cast<size_t>(outs), -1, 1, 72)).values;
        auto bx = upload(x), by = upload_f32(y0);
        Params p;
        p.s("kind", squares ? "sum_squares" : "sum")
            .s("axis", axis_rows ? "rows" : "cols")
            .i("rows", s.rows)
            .i("cols", s.cols)
            .s("dtype", t)
            .d("scale", 0.5)
            .b("accumulate", accumulate);
        Op op("reduce.v1", p);
        op.run({bx->h, by->h});
        std::vector<double> want(static_cast<size_t>(outs));
        ref::reduce(x.values.data(), want.data(), s.rows, s.cols, axis_rows, squares, 0.5);
        if (accumulate)
          for (size_t i = 0; i < want.size(); ++i) want[i] += y0[i];
        check_close(as_double(read_f32(*by, want.size())), want, "f32");
        check_too_small(op, {bx.get(), by.get()}, 1);
      }
    }
  }
}

void check_adamw(const std::string& t) {
  for (const char* out_t : kDtypes) {
    const std::string dtype_out = out_t;
    CAPTURE(dtype_out);
    const int64_t n = 10003;
    std::vector<double> w = Tensor("f32", random_values(n, -1, 1, 81)).values;
    std::vector<double> m(n, 0.0), v(n, 0.0);
    auto bw = upload_f32(w), bm = upload_f32(m), bv = upload_f32(v);
    Buf bout(static_cast<uint64_t>(n) * elem_bytes(dtype_out)), bh(12);
    Params p;
    p.i("n", n).s("dtype_grad", t).s("dtype_out", dtype_out).d("weight_decay", 0.1).d("beta2", 0.99);
    Op op("adamw.v1", p);
    for (int step = 1; step <= 3; ++step) {
      Tensor g(t, random_values(n, -1, 1, 82 + static_cast<uint32_t>(step)));
      auto bg = upload(g);
      const float hyper[3] = {1e-2f, static_cast<float>(step), 0.5f};
      bh.write(hyper, sizeof hyper);
      op.run({bw->h, bg->h, bm->h, bv->h, bout.h, bh.h});
      ref::adamw(w.data(), g.values.data(), m.data(), v.data(), n, static_cast<double>(hyper[0]), step, 0.5,
                 0.9, 0.99, 1e-8, 0.1);
    }
    check_close(as_double(read_f32(*bw, n)), w, "f32");
    check_close(as_double(read_f32(*bm, n)), m, "f32");
    check_close(as_double(read_f32(*bv, n)), v, "f32");
    check_close(download(bout, dtype_out), rounded(dtype_out, w), dtype_out);
    // Step 0 is the skip: nothing changes.
    const std::vector<float> before = read_f32(*bw, n);
    const float skip[3] = {1e-2f, 0.0f, 0.5f};
    bh.write(skip, sizeof skip);
    Tensor g(t, random_values(n, -1, 1, 99));
    auto bg = upload(g);
    op.run({bw->h, bg->h, bm->h, bv->h, bout.h, bh.h});
    CHECK(read_f32(*bw, n) == before);
    check_too_small(op, {bw.get(), bg.get(), bm.get(), bv.get(), &bout, &bh}, 5);
  }
}

void check_all_training() {
  for (const char* t : kDtypes) {
    const std::string dtype = t;
    CAPTURE(dtype);
    check_rmsnorm_backward(t);
    check_swiglu_backward(t);
    check_softmax_backward(t);
    check_rope_backward(t);
    check_cross_entropy(t);
    check_embedding_backward(t);
    check_reduce(t);
    check_adamw(t);
  }
}

// One case per lower ISA (each under the 2 s a unit test case may take).
void check_with_isa(const char* isa) {
  if (!cpu_has(isa)) return;
  Dev::get().restart_with_isa(isa);
  check_all_training();
  Dev::get().restart_with_isa(nullptr);
}

}  // namespace

TEST_CASE("training ops match the FP64 references (default kernels)") {
  check_all_training();
}

TEST_CASE("training ops match the FP64 references with the AVX2 kernels") {
  check_with_isa("avx2");
}

TEST_CASE("training ops match the FP64 references with the SSE2 kernels") {
  check_with_isa("sse2");
}

TEST_CASE("training ops: f64 is unsupported, malformed is invalid") {
  bool supported = true;
  std::string reason;
  Params p;
  p.i("rows", 2).i("vocab", 8).s("dtype", "f64");
  CHECK(Dev::get().client.query(Dev::get().device, "cross_entropy.v1", p, &supported, &reason).ok());
  CHECK(!supported);
  CHECK(reason.find("f64") != std::string::npos);
  Params bad;
  bad.i("n", 8).s("dtype_out", "bf16").d("beta1", 1.0);
  CMTR_Op* h = nullptr;
  CHECK(Dev::get().client.create(Dev::get().device, "adamw.v1", bad, &h).code == CMTR_ERROR_INVALID_ARGUMENT);
}
