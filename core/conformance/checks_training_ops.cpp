// Checks of the ABI 1.2 training ops (docs/abi-keys.md, "Op catalogue 1.2"): one check per op and
// dtype the device claims in op_query, over odd shapes, in-place use, accumulate on and off, padding
// targets and out-of-range ids, masked softmax rows and the adamw skip. As the inference checks
// (op_check.h): every buffer guarded, outputs NaN-poisoned, inputs must come back unchanged, float
// outputs compared to the FP64 reference (validate/op_reference.h) by NMSE. The backward ops cancel
// terms, so their limits come from per-element absolute bounds (validate/op_tolerance.h:
// nmse_limit_abs): each op's relative bound times the magnitude of the terms forming the element,
// computed here from the inputs (docs/conformance.md, "Limits").
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "core/conformance/op_check.h"
#include "core/conformance/session.h"
#include "core/validate/op_reference.h"
#include "core/validate/op_tolerance.h"

namespace cmeter::conformance {
namespace {

using namespace op_check;  // NOLINT(google-build-using-namespace): the shared check machinery

Bytes f32_le_bytes(const std::vector<double>& v) {
  Bytes out(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    const auto f = static_cast<float>(v[i]);
    std::memcpy(out.data() + 4 * i, &f, 4);
  }
  return out;
}

// Quick mode runs the first case of each check, full mode all of them.
bool take_case(Session& s, size_t ci) {
  return ci == 0 || s.full();
}

// ---------------------------------------------------------------- rmsnorm_backward.v1

void check_rmsnorm_backward(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "rmsnorm_backward.v1", t};
  struct Case {
    int64_t rows, dim;
    bool in_place, accumulate;
  };
  const std::vector<Case> cases = {{5, 67, false, false}, {1, 8, true, true}, {300, 130, false, true}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label = fmt::format("rmsnorm_backward {} rows={} dim={}{}{}", dt(t), k.rows, k.dim,
                                          k.in_place ? " in place" : "", k.accumulate ? " accumulate" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["dim"] = k.dim;
    if (k.accumulate) p["accumulate"] = true;
    const Bytes dw0 = random_of(DType::kF32, k.dim, label + "DW", -1, 1);
    std::vector<Buf> bufs = {{"X", random_of(t, k.rows * k.dim, label + "X", -2, 2), false, k.dim * es},
                             {"W", random_of(t, k.dim, label + "W", 0.5, 1.5), false, k.dim * es},
                             {"DY", random_of(t, k.rows * k.dim, label + "DY", -1, 1), false, k.dim * es},
                             {"DX", poison(k.rows * k.dim, es), true, k.dim * es},
                             {"DW", k.accumulate ? dw0 : poison(k.dim, 4), true, k.dim * size_t{4}}};
    if (k.in_place) {
      bufs[3].alias_of = 2;
      bufs[2].written = true;
    }
    const auto x = doubles_of(t, bufs[0].init), w = doubles_of(t, bufs[1].init),
               dy = doubles_of(t, bufs[2].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> dx(x.size()), dw(static_cast<size_t>(k.dim)), dx_bound(x.size()),
        dw_bound(static_cast<size_t>(k.dim), 0.0);
    validate::ref::rmsnorm_backward(x.data(), w.data(), dy.data(), dx.data(), dw.data(), k.rows, k.dim, 1e-5);
    const double rel = lim::rmsnorm_backward_rel_error(t, k.dim);
    for (int64_t row = 0; row < k.rows; ++row) {
      double ss = 0, abs_dot = 0;
      for (int64_t j = 0; j < k.dim; ++j)
        ss += x[static_cast<size_t>(row * k.dim + j)] * x[static_cast<size_t>(row * k.dim + j)];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(k.dim) + 1e-5);
      for (int64_t j = 0; j < k.dim; ++j) {
        const size_t i = static_cast<size_t>(row * k.dim + j);
        abs_dot += std::fabs(dy[i] * w[static_cast<size_t>(j)] * x[i]);
        dw_bound[static_cast<size_t>(j)] += std::fabs(dy[i] * x[i]) * inv;
      }
      for (int64_t j = 0; j < k.dim; ++j) {
        const size_t i = static_cast<size_t>(row * k.dim + j);
        dx_bound[i] = rel * (inv * std::fabs(dy[i] * w[static_cast<size_t>(j)]) +
                             inv * inv * inv * abs_dot / static_cast<double>(k.dim) * std::fabs(x[i]));
      }
    }
    const double dw_rel = lim::sum_rel_error(k.rows) + 2 * lim::kFunction;
    if (k.accumulate) {
      const auto d0 = doubles_of(DType::kF32, dw0);
      for (size_t j = 0; j < dw.size(); ++j) {
        dw_bound[j] += std::fabs(d0[j]);
        dw[j] += d0[j];
      }
    }
    for (double& b : dw_bound) b *= dw_rel;
    c.compare(label, "DX", t, r.payloads[3], dx, lim::nmse_limit_abs(dx_bound, dx));
    c.compare(label, "DW", DType::kF32, r.payloads[4], dw, lim::nmse_limit_abs(dw_bound, dw));
  }
  c.finish();
}

// ---------------------------------------------------------------- swiglu_backward.v1

void check_swiglu_backward(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "swiglu_backward.v1", t};
  struct Case {
    int64_t rows, dim;
    bool in_place;
  };
  const std::vector<Case> cases = {{3, 67, false}, {1, 8, true}, {257, 40, false}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label = fmt::format("swiglu_backward {} rows={} dim={}{}", dt(t), k.rows, k.dim,
                                          k.in_place ? " in place" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["dim"] = k.dim;
    std::vector<Buf> bufs = {
        {"GU", random_of(t, k.rows * 2 * k.dim, label + "GU", -6, 6), false, 2 * k.dim * es},
        {"DY", random_of(t, k.rows * k.dim, label + "DY", -1, 1), false, k.dim * es},
        {"DGU", poison(k.rows * 2 * k.dim, es), true, 2 * k.dim * es}};
    if (k.in_place) {
      bufs[2].alias_of = 0;
      bufs[0].written = true;
    }
    const auto gu = doubles_of(t, bufs[0].init), dy = doubles_of(t, bufs[1].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(gu.size()), bound(gu.size());
    validate::ref::swiglu_backward(gu.data(), dy.data(), want.data(), k.rows, k.dim);
    const double rel = lim::swiglu_backward_rel_error(t);
    for (int64_t row = 0; row < k.rows; ++row)
      for (int64_t j = 0; j < k.dim; ++j) {
        const size_t gi = static_cast<size_t>(row * 2 * k.dim + j), ui = gi + static_cast<size_t>(k.dim);
        const double g = gu[gi], u = gu[ui], d = std::fabs(dy[static_cast<size_t>(row * k.dim + j)]);
        const double sg = 1.0 / (1.0 + std::exp(-g));
        bound[gi] = rel * d * std::fabs(u) * (sg + sg * std::fabs(g) * (1 - sg) + std::fabs(g) * sg);
        bound[ui] = rel * d * std::fabs(g) * sg;
      }
    c.compare(label, "DGU", t, r.payloads[2], want, lim::nmse_limit_abs(bound, want));
  }
  c.finish();
}

// ---------------------------------------------------------------- softmax_backward.v1

void check_softmax_backward(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "softmax_backward.v1", t};
  struct Case {
    int64_t rows, cols;
    bool lengths, in_place;
    double scale;
  };
  const std::vector<Case> cases = {
      {4, 67, false, false, 1.0}, {9, 130, true, true, 0.125}, {1, 8, false, true, -0.5}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label =
        fmt::format("softmax_backward {} rows={} cols={} scale={}{}{}", dt(t), k.rows, k.cols, k.scale,
                    k.lengths ? " lengths" : "", k.in_place ? " in place" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["cols"] = k.cols;
    if (k.scale != 1.0) p["scale"] = k.scale;
    if (k.lengths) p["mask"] = std::string("lengths");
    std::vector<int32_t> len(static_cast<size_t>(k.rows));
    for (int64_t row = 0; row < k.rows; ++row)
      len[static_cast<size_t>(row)] = static_cast<int32_t>(row % 3 == 1   ? -2
                                                           : row % 3 == 2 ? k.cols + 5
                                                                          : (row * 17) % k.cols + 1);
    // Y: a softmax output (the forward's), stored in t.
    const auto logits = doubles_of(t, random_of(t, k.rows * k.cols, label + "L", -4, 4));
    std::vector<double> y_exact(logits.size());
    validate::ref::softmax(logits.data(), y_exact.data(), k.rows, k.cols, k.scale,
                           k.lengths ? len.data() : nullptr);
    Bytes y_bytes = poison(k.rows * k.cols, es);
    for (size_t i = 0; i < y_exact.size(); ++i) set_element(t, y_bytes, i, y_exact[i]);
    std::vector<Buf> bufs = {{"Y", y_bytes, false, k.cols * es},
                             {"DY", random_of(t, k.rows * k.cols, label + "DY", -1, 1), false, k.cols * es},
                             {"DX", poison(k.rows * k.cols, es), true, k.cols * es}};
    if (k.lengths) bufs.push_back({"LEN", i32_bytes(len), false, 4});
    if (k.in_place) {
      bufs[2].alias_of = 1;
      bufs[1].written = true;
    }
    const auto y = doubles_of(t, bufs[0].init), dy = doubles_of(t, bufs[1].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(y.size()), bound(y.size());
    validate::ref::softmax_backward(y.data(), dy.data(), want.data(), k.rows, k.cols, k.scale,
                                    k.lengths ? len.data() : nullptr);
    const double rel = lim::softmax_backward_rel_error(t, k.cols);
    for (int64_t row = 0; row < k.rows; ++row) {
      double abs_dot = 0;
      for (int64_t j = 0; j < k.cols; ++j)
        abs_dot +=
            std::fabs(dy[static_cast<size_t>(row * k.cols + j)] * y[static_cast<size_t>(row * k.cols + j)]);
      for (int64_t j = 0; j < k.cols; ++j) {
        const size_t i = static_cast<size_t>(row * k.cols + j);
        bound[i] = rel * std::fabs(k.scale * y[i]) * (std::fabs(dy[i]) + abs_dot);
      }
    }
    c.compare(label, "DX", t, r.payloads[2], want, lim::nmse_limit_abs(bound, want));
    if (k.lengths) {  // beyond each row's length DX is exactly 0
      const auto got = doubles_of(t, r.payloads[2]);
      std::vector<double> tail_got, tail_want;
      for (int64_t row = 0; row < k.rows; ++row)
        for (int64_t j = std::clamp<int64_t>(len[static_cast<size_t>(row)], 0, k.cols); j < k.cols; ++j) {
          tail_got.push_back(got[static_cast<size_t>(row * k.cols + j)]);
          tail_want.push_back(0.0);
        }
      c.exact(label, "DX beyond LEN", tail_got, tail_want);
    }
  }
  c.finish();
}

// ---------------------------------------------------------------- rope_backward.v1

void check_rope_backward(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "rope_backward.v1", t};
  struct Case {
    int64_t rows, heads, head_dim;
    bool interleaved;
  };
  const std::vector<Case> cases = {{5, 3, 64, false}, {7, 2, 38, true}, {1, 1, 2, false}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label =
        fmt::format("rope_backward {} rows={} heads={} head_dim={} layout={}", dt(t), k.rows, k.heads,
                    k.head_dim, k.interleaved ? "interleaved" : "half");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["heads"] = k.heads;
    p["head_dim"] = k.head_dim;
    if (k.interleaved) p["layout"] = std::string("interleaved");
    auto rng = validate::make_rng(kOpCheckSeed, label + "POS");
    std::vector<int32_t> pos(static_cast<size_t>(k.rows));
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = i % 4 == 3 ? -1 : static_cast<int32_t>(rng() % 4096);
    const int64_t row_elems = k.heads * k.head_dim;
    std::vector<Buf> bufs = {
        {"DX", random_of(t, k.rows * row_elems, label + "DX", -1, 1), true, row_elems * es},
        {"POS", i32_bytes(pos), false, 4}};
    const auto x = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want = x;
    validate::ref::rope_backward(want.data(), pos.data(), k.rows, k.heads, k.head_dim, k.interleaved, 10000);
    c.compare(label, "DX", t, r.payloads[0], want, lim::nmse_limit(lim::rope_rel_error(t, 4096, 10000)));
  }
  c.finish();
}

// ---------------------------------------------------------------- cross_entropy.v1

void check_cross_entropy(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "cross_entropy.v1", t};
  struct Case {
    int64_t rows, vocab;
    bool backward, in_place;
    double offset;  // added to row 0's logits (a row of large values)
  };
  const std::vector<Case> cases = {
      {6, 67, true, false, 0}, {5, 1000, false, false, 0}, {9, 130, true, true, 300}, {1, 8, true, false, 0}};
  const size_t es = size_bytes(t);
  const float gscale = 0.375f;
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label = fmt::format("cross_entropy {} rows={} vocab={}{}{}{}", dt(t), k.rows, k.vocab,
                                          k.backward ? "" : " loss only", k.in_place ? " in place" : "",
                                          k.offset != 0 ? " large logits" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["vocab"] = k.vocab;
    if (!k.backward) p["backward"] = false;
    Bytes x_bytes = random_of(t, k.rows * k.vocab, label + "X", -8, 8);
    if (k.offset != 0) {
      const auto xv = doubles_of(t, x_bytes);
      for (int64_t j = 0; j < k.vocab; ++j)
        set_element(t, x_bytes, static_cast<size_t>(j), xv[static_cast<size_t>(j)] + k.offset);
    }
    std::vector<int32_t> target(static_cast<size_t>(k.rows));
    for (int64_t row = 0; row < k.rows; ++row)
      target[static_cast<size_t>(row)] = static_cast<int32_t>(row % 4 == 2   ? -1
                                                              : row % 4 == 3 ? k.vocab
                                                                             : (row * 31 + 5) % k.vocab);
    std::vector<Buf> bufs = {{"X", x_bytes, false, k.vocab * es},
                             {"T", i32_bytes(target), false, 4},
                             {"LOSS", poison(k.rows, 4), true, 4}};
    if (k.backward) {
      bufs.push_back({"DX", poison(k.rows * k.vocab, es), true, k.vocab * es});
      bufs.push_back({"GSCALE", f32_le_bytes({gscale}), false, 4});
      if (k.in_place) {
        bufs[3].alias_of = 0;
        bufs[0].written = true;
      }
    }
    const auto x = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> loss(static_cast<size_t>(k.rows)), dx(x.size()), loss_bound(loss.size()),
        dx_bound(x.size());
    validate::ref::cross_entropy(x.data(), target.data(), loss.data(), dx.data(), k.rows, k.vocab, gscale);
    double max_abs = 0;
    for (double v : x) max_abs = std::max(max_abs, std::fabs(v));
    const double rel = lim::cross_entropy_rel_error(t, k.vocab, max_abs);
    for (int64_t row = 0; row < k.rows; ++row) {
      const int32_t tr = target[static_cast<size_t>(row)];
      if (tr < 0 || tr >= k.vocab) continue;  // exact zeros (bound 0)
      double m = -INFINITY;
      for (int64_t j = 0; j < k.vocab; ++j) m = std::max(m, x[static_cast<size_t>(row * k.vocab + j)]);
      loss_bound[static_cast<size_t>(row)] =
          rel * (std::fabs(loss[static_cast<size_t>(row)]) + std::fabs(m) +
                 std::fabs(x[static_cast<size_t>(row * k.vocab + tr)]) + 1);
      for (int64_t j = 0; j < k.vocab; ++j) {
        const size_t i = static_cast<size_t>(row * k.vocab + j);
        dx_bound[i] = rel * (std::fabs(dx[i]) + (j == tr ? 2.0 * gscale : 0.0));
      }
    }
    c.compare(label, "LOSS", DType::kF32, r.payloads[2], loss, lim::nmse_limit_abs(loss_bound, loss));
    if (k.backward) c.compare(label, "DX", t, r.payloads[3], dx, lim::nmse_limit_abs(dx_bound, dx));
  }
  c.finish();
}

// ---------------------------------------------------------------- embedding_backward.v1

void check_embedding_backward(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "embedding_backward.v1", t};
  struct Case {
    int64_t rows, vocab, dim;
    bool accumulate;
  };
  const std::vector<Case> cases = {{40, 13, 67, false}, {9, 5, 8, true}, {500, 50, 24, false}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label = fmt::format("embedding_backward {} rows={} vocab={} dim={}{}", dt(t), k.rows,
                                          k.vocab, k.dim, k.accumulate ? " accumulate" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["vocab"] = k.vocab;
    p["dim"] = k.dim;
    if (k.accumulate) p["accumulate"] = true;
    std::vector<int32_t> ids(static_cast<size_t>(k.rows));
    for (int64_t row = 0; row < k.rows; ++row)  // repeats, never id vocab-1, some out of range
      ids[static_cast<size_t>(row)] = static_cast<int32_t>(row % 7 == 6     ? -3
                                                           : row % 11 == 10 ? k.vocab
                                                                            : (row * 5) % (k.vocab - 1));
    const Bytes table0 = random_of(DType::kF32, k.vocab * k.dim, label + "T", -1, 1);
    std::vector<Buf> bufs = {
        {"DY", random_of(t, k.rows * k.dim, label + "DY", -1, 1), false, k.dim * es},
        {"IDS", i32_bytes(ids), false, 4},
        {"DTABLE", k.accumulate ? table0 : poison(k.vocab * k.dim, 4), true, k.dim * size_t{4}}};
    const auto dy = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want = k.accumulate ? doubles_of(DType::kF32, table0)
                                            : std::vector<double>(static_cast<size_t>(k.vocab * k.dim), 0.0);
    std::vector<double> bound(want.size());
    for (size_t i = 0; i < want.size(); ++i) bound[i] = std::fabs(want[i]);
    validate::ref::embedding_backward(dy.data(), ids.data(), want.data(), k.rows, k.vocab, k.dim);
    for (int64_t row = 0; row < k.rows; ++row) {
      const int32_t id = ids[static_cast<size_t>(row)];
      if (id < 0 || id >= k.vocab) continue;
      for (int64_t j = 0; j < k.dim; ++j)
        bound[static_cast<size_t>(id * k.dim + j)] += std::fabs(dy[static_cast<size_t>(row * k.dim + j)]);
    }
    for (double& b : bound) b *= lim::sum_rel_error(k.rows);
    c.compare(label, "DTABLE", DType::kF32, r.payloads[2], want, lim::nmse_limit_abs(bound, want));
    // The last id is never named: its row is exactly its old value (accumulate) or zero.
    const auto got = doubles_of(DType::kF32, r.payloads[2]);
    const size_t last = static_cast<size_t>((k.vocab - 1) * k.dim);
    c.exact(label, "DTABLE row vocab-1", {got.begin() + static_cast<std::ptrdiff_t>(last), got.end()},
            {want.begin() + static_cast<std::ptrdiff_t>(last), want.end()});
  }
  c.finish();
}

// ---------------------------------------------------------------- reduce.v1

void check_reduce(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "reduce.v1", t};
  struct Case {
    int64_t rows, cols;
    bool axis_rows, squares, accumulate;
    double scale;
  };
  const std::vector<Case> cases = {{7, 67, false, false, false, 1.0},
                                   {33, 19, true, true, true, 0.5},
                                   {1, 20001, false, true, false, 1.0},
                                   {3001, 1, true, false, true, 0.25},
                                   {65, 130, true, false, false, -1.0}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label = fmt::format("reduce {} {} axis={} rows={} cols={} scale={}{}", dt(t),
                                          k.squares ? "sum_squares" : "sum", k.axis_rows ? "rows" : "cols",
                                          k.rows, k.cols, k.scale, k.accumulate ? " accumulate" : "");
    KeyValues p = base_params(t);
    p["kind"] = std::string(k.squares ? "sum_squares" : "sum");
    p["axis"] = std::string(k.axis_rows ? "rows" : "cols");
    p["rows"] = k.rows;
    p["cols"] = k.cols;
    if (k.scale != 1.0) p["scale"] = k.scale;
    if (k.accumulate) p["accumulate"] = true;
    const int64_t outs = k.axis_rows ? k.cols : k.rows;
    const Bytes y0 = random_of(DType::kF32, outs, label + "Y", -1, 1);
    std::vector<Buf> bufs = {{"X", random_of(t, k.rows * k.cols, label + "X", -1, 1), false, k.cols * es},
                             {"Y", k.accumulate ? y0 : poison(outs, 4), true, 4}};
    const auto x = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(static_cast<size_t>(outs)), bound(static_cast<size_t>(outs));
    validate::ref::reduce(x.data(), want.data(), k.rows, k.cols, k.axis_rows, k.squares, k.scale);
    std::vector<double> absx(x.size());
    for (size_t i = 0; i < x.size(); ++i) absx[i] = k.squares ? x[i] * x[i] : std::fabs(x[i]);
    validate::ref::reduce(absx.data(), bound.data(), k.rows, k.cols, k.axis_rows, false, std::fabs(k.scale));
    const auto base = doubles_of(DType::kF32, y0);
    for (size_t i = 0; i < want.size(); ++i) {
      if (k.accumulate) {
        want[i] += base[i];
        bound[i] += std::fabs(base[i]);
      }
      bound[i] *= lim::sum_rel_error(k.axis_rows ? k.rows : k.cols);
    }
    c.compare(label, "Y", DType::kF32, r.payloads[1], want, lim::nmse_limit_abs(bound, want));
  }
  c.finish();
}

// ---------------------------------------------------------------- adamw.v1

void check_adamw(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "adamw.v1", t};  // t: the gradient's type; W_OUT in each type
  struct Case {
    int64_t n;
    DType out;
    float lr, step, grad_scale;
    double weight_decay;
  };
  const std::vector<Case> cases = {{1003, DType::kBF16, 1e-2f, 3, 0.5f, 0.1},
                                   {8, DType::kF32, 3e-3f, 1, 1.0f, 0.0},
                                   {4099, DType::kF16, 1e-3f, 1000, 2.0f, 0.01},
                                   {67, DType::kBF16, 1e-2f, 0, 1.0f, 0.1}};  // step 0: the skip
  for (size_t ci = 0; ci < cases.size() && take_case(s, ci); ++ci) {
    const Case& k = cases[ci];
    const std::string label =
        fmt::format("adamw grad={} out={} n={} lr={} step={} grad_scale={} weight_decay={}", dt(t), dt(k.out),
                    k.n, k.lr, k.step, k.grad_scale, k.weight_decay);
    KeyValues p{{"n", k.n}, {"dtype_grad", dt(t)}, {"dtype_out", dt(k.out)}, {"beta2", 0.99}};
    if (k.weight_decay != 0) p["weight_decay"] = k.weight_decay;
    const float hyper[3] = {k.lr, k.step, k.grad_scale};
    Bytes hyper_bytes(12);
    std::memcpy(hyper_bytes.data(), hyper, 12);
    const bool steps = k.step >= 1;  // else nothing may change
    std::vector<Buf> bufs = {{"W", random_of(DType::kF32, k.n, label + "W", -1, 1), steps, 4},
                             {"G", random_of(t, k.n, label + "G", -1, 1), false, size_bytes(t)},
                             {"M", random_of(DType::kF32, k.n, label + "M", -0.1, 0.1), steps, 4},
                             {"V", random_of(DType::kF32, k.n, label + "V", 0, 0.05), steps, 4},
                             {"W_OUT", poison(k.n, size_bytes(k.out)), steps, size_bytes(k.out)},
                             {"HYPER", hyper_bytes, false, 12}};
    auto w = doubles_of(DType::kF32, bufs[0].init), m = doubles_of(DType::kF32, bufs[2].init),
         v = doubles_of(DType::kF32, bufs[3].init);
    const auto g = doubles_of(t, bufs[1].init);
    const auto w0 = w;
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    if (k.step < 1) {  // the skip: nothing written (run() fails any changed buffer not marked written)
      std::vector<double> got = doubles_of(DType::kF32, r.payloads[0]);
      c.exact(label, "W (skipped step)", got, w0);
      continue;
    }
    const auto m0 = m, v0 = v;
    validate::ref::adamw(w.data(), g.data(), m.data(), v.data(), k.n, k.lr, k.step, k.grad_scale, 0.9, 0.99,
                         1e-8, k.weight_decay);
    const double rel = lim::adamw_rel_error(DType::kF32);
    std::vector<double> wb(w.size()), mb(w.size()), vb(w.size()), ob(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      const double gi = g[i] * k.grad_scale;
      mb[i] = 5 * lim::kF32 * (0.9 * std::fabs(m0[i]) + 0.1 * std::fabs(gi));
      vb[i] = 5 * lim::kF32 * (0.99 * v0[i] + 0.01 * gi * gi);
      const double update = std::fabs(w[i] - w0[i] * (1 - k.lr * k.weight_decay));
      wb[i] = rel * (std::fabs(w0[i]) + update);
      ob[i] = wb[i] + epsilon(k.out) * std::fabs(w[i]);
    }
    c.compare(label, "W", DType::kF32, r.payloads[0], w, lim::nmse_limit_abs(wb, w));
    c.compare(label, "M", DType::kF32, r.payloads[2], m, lim::nmse_limit_abs(mb, m));
    c.compare(label, "V", DType::kF32, r.payloads[3], v, lim::nmse_limit_abs(vb, v));
    c.compare(label, "W_OUT", k.out, r.payloads[4], w, lim::nmse_limit_abs(ob, w));
  }
  c.finish();
}

// ---------------------------------------------------------------- the op set

struct TrainingProbe {
  const char* op;
  KeyValues params;  // the dtype key added per type
  const char* dtype_key;
};

const std::vector<TrainingProbe>& training_probes() {
  static const std::vector<TrainingProbe> list = {
      {"rmsnorm_backward.v1", {{"rows", int64_t{1}}, {"dim", int64_t{64}}}, "dtype"},
      {"swiglu_backward.v1", {{"rows", int64_t{1}}, {"dim", int64_t{64}}}, "dtype"},
      {"softmax_backward.v1", {{"rows", int64_t{1}}, {"cols", int64_t{64}}}, "dtype"},
      {"rope_backward.v1", {{"rows", int64_t{1}}, {"heads", int64_t{1}}, {"head_dim", int64_t{64}}}, "dtype"},
      {"cross_entropy.v1", {{"rows", int64_t{1}}, {"vocab", int64_t{64}}}, "dtype"},
      {"embedding_backward.v1",
       {{"rows", int64_t{1}}, {"vocab", int64_t{16}}, {"dim", int64_t{64}}},
       "dtype"},
      {"reduce.v1",
       {{"kind", std::string("sum")},
        {"axis", std::string("cols")},
        {"rows", int64_t{1}},
        {"cols", int64_t{64}}},
       "dtype"},
      {"adamw.v1", {{"n", int64_t{64}}, {"dtype_grad", std::string("f32")}}, "dtype_out"},
  };
  return list;
}

}  // namespace

void check_op_training_set(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  std::vector<std::string> missing, offered;
  for (const TrainingProbe& probe : training_probes()) {
    std::vector<std::string> dtypes, reasons;
    for (DType t : kDTypes) {
      KeyValues params = probe.params;
      params[probe.dtype_key] = dt(t);
      ctx.step(std::string(probe.op) + " " + dt(t) + ": op_query");
      auto q = d.query_op(probe.op, params);
      if (!q) return ctx.fail(fmt::format("{} {}: op_query: {}", probe.op, dt(t), q.error().message));
      if (q->supported)
        dtypes.push_back(dt(t));
      else
        reasons.push_back(dt(t) + ": " + q->reason);
    }
    if (!dtypes.empty())
      offered.push_back(fmt::format("{} ({})", probe.op, fmt::join(dtypes, ", ")));
    else
      missing.push_back(fmt::format("{} ({})", probe.op, reasons.empty() ? "" : reasons.front()));
  }
  // None offered: the training workload is unsupported on this plugin (a legitimate answer); part of
  // the set: it cannot train, so each missing op is named as a FAIL.
  if (offered.empty())
    return ctx.skip(SkipKind::kNotApplicable,
                    fmt::format("plugin ABI 1.{}: no 1.2 training op offered (the training workload will be "
                                "unsupported on it)",
                                s.lib->abi_minor()));
  if (!missing.empty())
    return ctx.fail(fmt::format("missing op(s) of the 1.2 training set: {}", fmt::join(missing, "; ")));
  ctx.pass(fmt::format("every 1.2 training op offered: {}", fmt::join(offered, "; ")));
}

#define CMETER_TRAINING_CHECKS(fn, name)                       \
  void check_op_##name##_f32(Session& s, CheckContext& ctx) {  \
    fn(s, ctx, DType::kF32);                                   \
  }                                                            \
  void check_op_##name##_f16(Session& s, CheckContext& ctx) {  \
    fn(s, ctx, DType::kF16);                                   \
  }                                                            \
  void check_op_##name##_bf16(Session& s, CheckContext& ctx) { \
    fn(s, ctx, DType::kBF16);                                  \
  }
CMETER_TRAINING_CHECKS(check_rmsnorm_backward, rmsnorm_backward)
CMETER_TRAINING_CHECKS(check_swiglu_backward, swiglu_backward)
CMETER_TRAINING_CHECKS(check_softmax_backward, softmax_backward)
CMETER_TRAINING_CHECKS(check_rope_backward, rope_backward)
CMETER_TRAINING_CHECKS(check_cross_entropy, cross_entropy)
CMETER_TRAINING_CHECKS(check_embedding_backward, embedding_backward)
CMETER_TRAINING_CHECKS(check_reduce, reduce)
CMETER_TRAINING_CHECKS(check_adamw, adamw)
#undef CMETER_TRAINING_CHECKS

}  // namespace cmeter::conformance
