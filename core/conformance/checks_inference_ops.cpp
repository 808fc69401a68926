// Checks of the ABI 1.1 inference ops (docs/abi-keys.md, "Op catalogue 1.1"): one check per op and
// dtype the device claims in op_query, over odd shapes (dims not multiples of 8 or 16, one row, many
// rows), in-place use, out-of-range index values, argmax ties and NaN, both rope layouts, softmax with
// and without lengths, and gemm.v1 with offsets. Every output buffer is allocated larger than the op
// needs and guarded (validate/guard_bytes.h), its payload poisoned with NaN before the call; inputs must
// come back unchanged. Float outputs are compared to the FP64 reference (validate/op_reference.h) by
// NMSE against a limit derived per op and dtype (validate/op_tolerance.h, docs/conformance.md); copies
// and indices exactly. Inputs come from validate's seeded generators, so a failure reproduces.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/conformance/op_check.h"
#include "core/conformance/session.h"
#include "core/validate/guard_bytes.h"
#include "core/validate/half.h"
#include "core/validate/host_data.h"
#include "core/validate/op_reference.h"
#include "core/validate/op_tolerance.h"
#include "core/validate/reference.h"

namespace cmeter::conformance {
namespace {

using namespace op_check;  // NOLINT(google-build-using-namespace): the shared check machinery

// ---------------------------------------------------------------- rmsnorm.v1

struct RmsCase {
  int64_t rows, dim;
  double eps = 1e-5;
  bool in_place = false;
};

void check_rmsnorm(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "rmsnorm.v1", t};
  const std::vector<RmsCase> cases = {{3, 67},     {1, 8}, {1, 4096}, {1031, 24}, {7, 130, 1e-5, true},
                                      {2, 33, 0.5}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const RmsCase& k = cases[ci];
    const std::string label = fmt::format("rmsnorm {} rows={} dim={} eps={}{}", dt(t), k.rows, k.dim, k.eps,
                                          k.in_place ? " in place" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["dim"] = k.dim;
    if (k.eps != 1e-5) p["eps"] = k.eps;
    std::vector<Buf> bufs = {{"X", random_of(t, k.rows * k.dim, label + "X", -2, 2), false, k.dim * es},
                             {"W", random_of(t, k.dim, label + "W", -1.5, 1.5), false, k.dim * es},
                             {"Y", poison(k.rows * k.dim, es), true, k.dim * es}};
    if (k.in_place) {
      bufs[2].alias_of = 0;
      bufs[0].written = true;
    }
    const auto x = doubles_of(t, bufs[0].init), w = doubles_of(t, bufs[1].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(x.size());
    validate::ref::rmsnorm(x.data(), w.data(), want.data(), k.rows, k.dim, k.eps);
    c.compare(label, "Y", t, r.payloads[2], want, lim::nmse_limit(lim::rmsnorm_rel_error(t, k.dim)));
  }
  c.finish();
}

// ---------------------------------------------------------------- rope.v1

struct RopeCase {
  int64_t rows, heads, head_dim;
  bool interleaved = false;
  double theta = 10000;
  int32_t max_pos = 4096;
  bool negatives = false;  // some rows get negative positions (left unchanged)
};

void check_rope(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "rope.v1", t};
  const std::vector<RopeCase> cases = {
      {5, 3, 64},
      {5, 3, 64, true},
      {1, 1, 2},
      {9, 2, 130, false, 500000, 4096, true},
      {7, 4, 24, true, 10000, 100, true},
      {1031, 1, 16, false, 10000, 4096},
  };
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const RopeCase& k = cases[ci];
    const std::string label = fmt::format("rope {} rows={} heads={} head_dim={} layout={} theta={}{}", dt(t),
                                          k.rows, k.heads, k.head_dim, k.interleaved ? "interleaved" : "half",
                                          k.theta, k.negatives ? " negatives" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["heads"] = k.heads;
    p["head_dim"] = k.head_dim;
    if (k.interleaved) p["layout"] = std::string("interleaved");
    if (k.theta != 10000) p["theta"] = k.theta;
    const int64_t row_elems = k.heads * k.head_dim;
    auto rng = validate::make_rng(kOpCheckSeed, label + "POS");
    std::vector<int32_t> pos(static_cast<size_t>(k.rows));
    for (auto& v : pos) v = static_cast<int32_t>(rng() % static_cast<uint64_t>(k.max_pos));
    if (k.rows > 1) pos.back() = k.max_pos - 1;
    if (k.negatives) {
      pos[0] = -1;
      if (k.rows > 3) pos[3] = kI32Min;
    }
    std::vector<Buf> bufs = {{"X", random_of(t, k.rows * row_elems, label + "X", -1, 1), true,
                              static_cast<uint64_t>(row_elems) * es},
                             {"POS", i32_bytes(pos), false, 4}};
    const auto x = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want = x;
    validate::ref::rope(want.data(), pos.data(), k.rows, k.heads, k.head_dim, k.interleaved, k.theta);
    c.compare(label, "X", t, r.payloads[0], want,
              lim::nmse_limit(lim::rope_rel_error(t, k.max_pos, k.theta)));
    const auto got = doubles_of(t, r.payloads[0]);
    for (size_t row = 0; row < pos.size(); ++row) {
      if (pos[row] >= 0) continue;
      const auto first = static_cast<std::ptrdiff_t>(row * static_cast<size_t>(row_elems));
      if (!std::equal(got.begin() + first, got.begin() + first + row_elems, x.begin() + first))
        ctx.fail(fmt::format("{}: row {} (POS {}) changed; a negative position leaves its row unchanged",
                             label, row, pos[row]));
    }
  }
  c.finish();
}

// ---------------------------------------------------------------- softmax.v1

struct SoftmaxCase {
  int64_t rows, cols;
  double scale = 1;
  bool lengths = false;
  bool in_place = false;
  bool large = false;  // one row of large values (overflows exp without the max subtracted)
};

void check_softmax(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "softmax.v1", t};
  const std::vector<SoftmaxCase> cases = {
      {4, 37},
      {6, 33, -0.5, true},
      {1, 1},
      {3, 1000, 0.125, true},
      {2049, 17},
      {5, 40, 1, true, true},
      {4, 64, 1, false, false, true},
      {3, 24, 1, false, true},
  };
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci <= 1 || s.full()); ++ci) {
    const SoftmaxCase& k = cases[ci];
    const std::string label = fmt::format("softmax {} rows={} cols={} scale={} mask={}{}{}", dt(t), k.rows,
                                          k.cols, k.scale, k.lengths ? "lengths" : "none",
                                          k.in_place ? " in place" : "", k.large ? " large values" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["cols"] = k.cols;
    if (k.scale != 1) p["scale"] = k.scale;
    if (k.lengths) p["mask"] = std::string("lengths");
    Bytes xin = random_of(t, k.rows * k.cols, label + "X", -4, 4);
    if (k.large) {
      auto rng = validate::make_rng(kOpCheckSeed, label + "large");
      for (int64_t col = 0; col < k.cols; ++col)
        set_element(t, xin, static_cast<size_t>(col), 100 + static_cast<double>(rng() % 41) * 0.5);
    }
    std::vector<Buf> bufs = {{"X", xin, false, k.cols * es},
                             {"Y", poison(k.rows * k.cols, es), true, k.cols * es}};
    if (k.in_place) {
      bufs[1].alias_of = 0;
      bufs[0].written = true;
    }
    std::vector<int32_t> len;
    if (k.lengths) {
      auto rng = validate::make_rng(kOpCheckSeed, label + "LEN");
      const int32_t specials[] = {0, -3, static_cast<int32_t>(k.cols) + 5, kI32Max, kI32Min, 1};
      for (int64_t row = 0; row < k.rows; ++row)
        len.push_back(row % 3 == 1 ? specials[(row / 3) % 6]
                                   : static_cast<int32_t>(1 + rng() % static_cast<uint64_t>(k.cols)));
      bufs.push_back({"LEN", i32_bytes(len), false, 4});
    }
    const auto x = doubles_of(t, xin);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(x.size());
    validate::ref::softmax(x.data(), want.data(), k.rows, k.cols, k.scale, k.lengths ? len.data() : nullptr);
    double max_scaled = 0;
    for (double v : x) max_scaled = std::max(max_scaled, std::fabs(k.scale * v));
    c.compare(label, "Y", t, r.payloads[1], want,
              lim::nmse_limit(lim::softmax_rel_error(t, k.cols, max_scaled)));
    if (k.lengths) {  // the masked tail is exactly zero
      const auto got = doubles_of(t, r.payloads[1]);
      for (int64_t row = 0; row < k.rows; ++row) {
        const int64_t valid = std::clamp<int64_t>(len[static_cast<size_t>(row)], 0, k.cols);
        for (int64_t col = valid; col < k.cols; ++col)
          if (got[static_cast<size_t>(row * k.cols + col)] != 0) {
            ctx.fail(fmt::format("{}: Y[{}][{}] = {} past LEN {}; the masked columns must be 0", label, row,
                                 col, got[static_cast<size_t>(row * k.cols + col)],
                                 len[static_cast<size_t>(row)]));
            row = k.rows;
            break;
          }
      }
    }
  }
  c.finish();
}

// ---------------------------------------------------------------- swiglu.v1

void check_swiglu(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "swiglu.v1", t};
  const std::vector<std::pair<int64_t, int64_t>> cases = {{3, 45}, {1, 1}, {1, 11008}, {1025, 24}, {4, 129}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const auto [rows, dim] = cases[ci];
    const std::string label = fmt::format("swiglu {} rows={} dim={}", dt(t), rows, dim);
    KeyValues p = base_params(t);
    p["rows"] = rows;
    p["dim"] = dim;
    std::vector<Buf> bufs = {{"GU", random_of(t, rows * 2 * dim, label + "GU", -6, 6), false, 2 * dim * es},
                             {"Y", poison(rows * dim, es), true, dim * es}};
    const auto gu = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(static_cast<size_t>(rows * dim));
    validate::ref::swiglu(gu.data(), want.data(), rows, dim);
    c.compare(label, "Y", t, r.payloads[1], want, lim::nmse_limit(lim::swiglu_rel_error(t)));
  }
  c.finish();
}

// ---------------------------------------------------------------- kv_append.v1

struct KvCase {
  int64_t rows, kv_heads, head_dim, slots, capacity;
  bool out_of_range = false;
};

void check_kv_append(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "kv_append.v1", t};
  const std::vector<KvCase> cases = {{3, 2, 16, 2, 8},
                                     {1, 1, 2, 1, 1},
                                     {33, 3, 24, 4, 40, true},
                                     {256, 1, 64, 1, 512},
                                     {5, 2, 10, 3, 7, true}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const KvCase& k = cases[ci];
    const std::string label =
        fmt::format("kv_append {} rows={} kv_heads={} head_dim={} slots={} capacity={}{}", dt(t), k.rows,
                    k.kv_heads, k.head_dim, k.slots, k.capacity, k.out_of_range ? " out-of-range rows" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["kv_heads"] = k.kv_heads;
    p["head_dim"] = k.head_dim;
    p["slots"] = k.slots;
    p["capacity"] = k.capacity;
    // Distinct (slot, position) pairs, so the result does not depend on the order rows are written.
    std::vector<int64_t> cells(static_cast<size_t>(k.slots * k.capacity));
    std::iota(cells.begin(), cells.end(), 0);
    auto rng = validate::make_rng(kOpCheckSeed, label + "cells");
    std::shuffle(cells.begin(), cells.end(), rng);
    std::vector<int32_t> slot(static_cast<size_t>(k.rows)), pos(static_cast<size_t>(k.rows));
    for (size_t r = 0; r < slot.size(); ++r) {
      slot[r] = static_cast<int32_t>(cells[r % cells.size()] / k.capacity);
      pos[r] = static_cast<int32_t>(cells[r % cells.size()] % k.capacity);
    }
    if (k.out_of_range) {
      const std::pair<int32_t, int32_t> bad[] = {{-1, 0},
                                                 {static_cast<int32_t>(k.slots), 0},
                                                 {0, static_cast<int32_t>(k.capacity)},
                                                 {0, -1},
                                                 {kI32Max, kI32Min}};
      for (size_t b = 0; b < 5 && 2 * b + 1 < slot.size(); ++b) {
        slot[2 * b + 1] = bad[b].first;
        pos[2 * b + 1] = bad[b].second;
      }
    }
    const int64_t row_elems = k.kv_heads * k.head_dim;
    std::vector<Buf> bufs = {
        {"SRC", random_of(t, k.rows * row_elems, label + "SRC", -1, 1), false, row_elems * es},
        {"CACHE", random_of(t, k.slots * row_elems * k.capacity, label + "CACHE", -1, 1), true,
         k.head_dim * es},
        {"SLOT", i32_bytes(slot), false, 4},
        {"POS", i32_bytes(pos), false, 4}};
    const auto src = doubles_of(t, bufs[0].init);
    std::vector<double> want = doubles_of(t, bufs[1].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    validate::ref::kv_append(src.data(), want.data(), slot.data(), pos.data(), k.rows, k.kv_heads, k.head_dim,
                             k.slots, k.capacity);
    c.exact(label, "CACHE", doubles_of(t, r.payloads[1]), want);
  }
  c.finish();
}

// ---------------------------------------------------------------- embedding.v1

void check_embedding(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "embedding.v1", t};
  struct EmbCase {
    int64_t rows, vocab, dim;
    bool out_of_range = false;
  };
  const std::vector<EmbCase> cases = {
      {5, 100, 33}, {1, 1, 8}, {700, 50, 24, true}, {3, 32000, 64}, {9, 17, 7, true}};
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const EmbCase& k = cases[ci];
    const std::string label = fmt::format("embedding {} rows={} vocab={} dim={}{}", dt(t), k.rows, k.vocab,
                                          k.dim, k.out_of_range ? " out-of-range ids" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["vocab"] = k.vocab;
    p["dim"] = k.dim;
    auto rng = validate::make_rng(kOpCheckSeed, label + "IDS");
    std::vector<int32_t> ids(static_cast<size_t>(k.rows));
    for (auto& v : ids) v = static_cast<int32_t>(rng() % static_cast<uint64_t>(k.vocab));
    ids.back() = static_cast<int32_t>(k.vocab - 1);
    if (k.out_of_range) {
      const int32_t bad[] = {-1, static_cast<int32_t>(k.vocab), kI32Max, kI32Min};
      for (size_t b = 0; b < 4 && 2 * b < ids.size() - 1; ++b) ids[2 * b] = bad[b];
    }
    std::vector<Buf> bufs = {
        {"TABLE", random_of(t, k.vocab * k.dim, label + "TABLE", -1, 1), false, k.dim * es},
        {"IDS", i32_bytes(ids), false, 4},
        {"Y", poison(k.rows * k.dim, es), true, k.dim * es}};
    const auto table = doubles_of(t, bufs[0].init);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(static_cast<size_t>(k.rows * k.dim));
    validate::ref::embedding(table.data(), ids.data(), want.data(), k.rows, k.vocab, k.dim);
    c.exact(label, "Y", doubles_of(t, r.payloads[2]), want);
  }
  c.finish();
}

// ---------------------------------------------------------------- argmax.v1

void check_argmax(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "argmax.v1", t};
  struct ArgCase {
    int64_t rows, cols;
    bool special = false;  // ties, NaN, infinities
  };
  const std::vector<ArgCase> cases = {{4, 1000}, {1, 1}, {300, 33}, {3, 32000}, {9, 37, true}};
  const size_t es = size_bytes(t);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const ArgCase& k = cases[ci];
    const std::string label =
        fmt::format("argmax {} rows={} cols={}{}", dt(t), k.rows, k.cols, k.special ? " ties, NaN, inf" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["cols"] = k.cols;
    Bytes x = random_of(t, k.rows * k.cols, label + "X", -1, 1);
    if (k.special) {
      auto at = [&](int64_t row, int64_t col, double v) {
        set_element(t, x, static_cast<size_t>(row * k.cols + col), v);
      };
      at(0, 5, 2), at(0, 20, 2);                                    // a tie: the lower index wins
      at(1, 0, nan), at(1, 9, 2), at(1, 10, nan);                   // NaN never wins
      for (int64_t col = 0; col < k.cols; ++col) at(2, col, nan);   // all NaN: 0
      for (int64_t col = 0; col < k.cols; ++col) at(3, col, 0.5);   // all equal: 0
      at(4, 30, inf), at(4, 31, nan);                               // +inf wins
      for (int64_t col = 0; col < k.cols; ++col) at(5, col, -inf);  // all -inf: 0
      at(6, k.cols - 1, 3), at(6, 0, 3);                            // tie at both ends
      at(7, k.cols - 1, 2);                                         // the last column
    }
    std::vector<Buf> bufs = {{"X", x, false, k.cols * es}, {"OUT", poison(k.rows, 4), true, 4}};
    const auto xd = doubles_of(t, x);
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<int32_t> want(static_cast<size_t>(k.rows));
    validate::ref::argmax(xd.data(), want.data(), k.rows, k.cols);
    const auto got = i32_of(r.payloads[1]);
    c.exact(label, "OUT", std::vector<double>(got.begin(), got.end()),
            std::vector<double>(want.begin(), want.end()));
  }
  c.finish();
}

// ---------------------------------------------------------------- eltwise.v1

void check_eltwise(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "eltwise.v1", t};
  struct EltCase {
    std::string kind;
    int64_t n;
    DType out;
    double scalar = 1;
    int in_place = 0;  // 1: Y = A, 2: Y = B
  };
  std::vector<EltCase> cases = {{"add", 1001, t}, {"mul", 1001, t}, {"scale", 1001, t, -0.75}};
  for (DType o : kDTypes)
    if (o != t) cases.push_back({"cast", 1001, o});
  const size_t quick_count = cases.size();
  const std::vector<EltCase> more = {{"add", 1, t},          {"mul", 7, t},        {"add", 100003, t},
                                     {"add", 33, t, 1, 1},   {"mul", 33, t, 1, 2}, {"scale", 100003, t, 3},
                                     {"scale", 17, t, 3, 1}, {"cast", 65, t, 1, 0}};
  cases.insert(cases.end(), more.begin(), more.end());
  for (size_t ci = 0; ci < cases.size() && (ci < quick_count || s.full()); ++ci) {
    const EltCase& k = cases[ci];
    const bool binary = k.kind == "add" || k.kind == "mul";
    const std::string label = fmt::format("eltwise {} {}{} n={}{}{}", k.kind, dt(t),
                                          k.out != t || k.kind == "cast" ? "->" + dt(k.out) : "", k.n,
                                          k.kind == "scale" ? fmt::format(" scalar={}", k.scalar) : "",
                                          k.in_place == 1   ? " in place (Y = A)"
                                          : k.in_place == 2 ? " in place (Y = B)"
                                                            : "");
    KeyValues p = base_params(t);
    p["kind"] = k.kind;
    p["n"] = k.n;
    if (k.kind == "cast") p["dtype_out"] = dt(k.out);
    if (k.kind == "scale") p["scalar"] = k.scalar;
    std::vector<Buf> bufs = {{"A", random_of(t, k.n, label + "A", -3, 3), false, 0}};
    if (binary) bufs.push_back({"B", random_of(t, k.n, label + "B", -3, 3), false, 0});
    bufs.push_back({"Y", poison(k.n, size_bytes(k.out)), true, 0});
    if (k.in_place) {
      bufs.back().alias_of = k.in_place - 1;
      bufs[static_cast<size_t>(k.in_place - 1)].written = true;
    }
    const auto a = doubles_of(t, bufs[0].init);
    const auto b = binary ? doubles_of(t, bufs[1].init) : std::vector<double>();
    const CaseRun r = c.run(label, p, bufs);
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(a.size());
    for (size_t i = 0; i < a.size(); ++i)
      want[i] = k.kind == "add"     ? a[i] + b[i]
                : k.kind == "mul"   ? a[i] * b[i]
                : k.kind == "scale" ? k.scalar * a[i]
                                    : a[i];
    c.compare(label, "Y", k.out, r.payloads.back(), want,
              lim::nmse_limit(lim::eltwise_rel_error(k.kind, k.out)));
  }
  c.finish();
}

// ---------------------------------------------------------------- attention.v1 (optional)

struct AttnCase {
  int64_t rows, heads, kv_heads, head_dim, slots, capacity;
  bool prefill = false;       // the rows are one sequence's positions 0..rows-1 in slot 0
  bool out_of_range = false;  // some rows with SLOT or POS out of range (zeros)
  double scale = 0;           // 0: the default 1/sqrt(head_dim)
};

void check_attention(Session& s, CheckContext& ctx, DType t) {
  OpCheck c{s, ctx, "attention.v1", t};
  const std::vector<AttnCase> cases = {
      {2, 4, 2, 16, 2, 24},
      {9, 4, 4, 24, 1, 16, true},
      {3, 8, 1, 64, 3, 128},
      {6, 6, 3, 40, 4, 33, false, true},
      {1, 2, 1, 8, 1, 1, false, false, 0.3},
  };
  const size_t es = size_bytes(t);
  for (size_t ci = 0; ci < cases.size() && (ci == 0 || s.full()); ++ci) {
    const AttnCase& k = cases[ci];
    const double scale = k.scale != 0 ? k.scale : 1 / std::sqrt(static_cast<double>(k.head_dim));
    const std::string label =
        fmt::format("attention {} rows={} heads={} kv_heads={} head_dim={} slots={} capacity={}{}{}", dt(t),
                    k.rows, k.heads, k.kv_heads, k.head_dim, k.slots, k.capacity,
                    k.prefill ? " prefill" : " decode", k.out_of_range ? " out-of-range rows" : "");
    KeyValues p = base_params(t);
    p["rows"] = k.rows;
    p["heads"] = k.heads;
    p["kv_heads"] = k.kv_heads;
    p["head_dim"] = k.head_dim;
    p["slots"] = k.slots;
    p["capacity"] = k.capacity;
    if (k.scale != 0) p["scale"] = k.scale;
    auto rng = validate::make_rng(kOpCheckSeed, label + "SLOTPOS");
    std::vector<int32_t> slot(static_cast<size_t>(k.rows)), pos(static_cast<size_t>(k.rows));
    for (size_t r = 0; r < slot.size(); ++r) {
      slot[r] = k.prefill ? 0 : static_cast<int32_t>(r % static_cast<size_t>(k.slots));
      pos[r] = k.prefill ? static_cast<int32_t>(r)
                         : static_cast<int32_t>(rng() % static_cast<uint64_t>(k.capacity));
    }
    if (!k.prefill && k.rows > 1) pos[1] = static_cast<int32_t>(k.capacity - 1);
    if (k.out_of_range) {
      slot[0] = -1;
      pos[2] = static_cast<int32_t>(k.capacity);
      slot[4] = static_cast<int32_t>(k.slots);
      pos[5] = -2;
    }
    const int64_t q_elems = k.rows * k.heads * k.head_dim,
                  cache_elems = k.slots * k.kv_heads * k.capacity * k.head_dim;
    std::vector<Buf> bufs = {
        {"Q", random_of(t, q_elems, label + "Q", -1, 1), false, k.heads * k.head_dim * es},
        {"K_CACHE", random_of(t, cache_elems, label + "K", -1, 1), false, k.head_dim * es},
        {"V_CACHE", random_of(t, cache_elems, label + "V", -1, 1), false, k.head_dim * es},
        {"SLOT", i32_bytes(slot), false, 4},
        {"POS", i32_bytes(pos), false, 4},
        {"O", poison(q_elems, es), true, k.heads * k.head_dim * es}};
    const auto q = doubles_of(t, bufs[0].init), kc = doubles_of(t, bufs[1].init),
               vc = doubles_of(t, bufs[2].init);
    const CaseRun r = c.run(label, p, bufs);
    if (r.outcome == Outcome::kUnsupported && ci == 0) {
      ctx.skip(
          SkipKind::kNotApplicable,
          fmt::format("attention.v1 {} is optional and not offered ({}); the core composes attention from "
                      "kv_append.v1, gemm.v1 and softmax.v1",
                      dt(t), r.reason));
      return;
    }
    if (!c.handle(r, label, ci == 0)) {
      if (ctx.done()) return;
      continue;
    }
    std::vector<double> want(static_cast<size_t>(q_elems));
    validate::ref::attention(q.data(), kc.data(), vc.data(), slot.data(), pos.data(), want.data(), k.rows,
                             k.heads, k.kv_heads, k.head_dim, k.slots, k.capacity, scale);
    // Each element's bound is relative to max|V| (= 1 here), so the NMSE limit is that bound squared
    // over the mean square of the reference.
    int64_t max_positions = 0;
    for (int32_t v : pos) max_positions = std::max<int64_t>(max_positions, static_cast<int64_t>(v) + 1);
    const double max_score = std::fabs(scale) * static_cast<double>(k.head_dim);
    const double score_err = static_cast<double>(k.head_dim + 1) * lim::kF32 * max_score;
    double mean_sq = 0;
    for (double v : want) mean_sq += v * v;
    mean_sq /= static_cast<double>(want.size());
    const double rel = lim::attention_rel_error(t, max_positions, max_score, score_err);
    c.compare(label, "O", t, r.payloads[5], want, mean_sq > 0 ? lim::nmse_limit(rel) / mean_sq : 0.0);
  }
  c.finish();
}

// ---------------------------------------------------------------- gemm.v1 offsets (ABI >= 1.1)

void check_gemm_offsets(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  if (s.lib->abi_minor() < 1) {
    // A 1.0 plugin rejects the keys (the core never sends them to it); one that takes them is checked.
    ctx.step("gemm.v1 with offset_c on an ABI 1.0 plugin: op_query");
    auto q = d.query_op("gemm.v1", {{"m", int64_t{4}},
                                    {"n", int64_t{4}},
                                    {"k", int64_t{4}},
                                    {"dtype_a", std::string("f32")},
                                    {"offset_c", int64_t{1}}});
    if (!q)
      return ctx.skip(SkipKind::kNotApplicable,
                      fmt::format("plugin ABI 1.{}: gemm.v1 offsets are ABI 1.1 (op_query: {})",
                                  s.lib->abi_minor(), q.error().message));
    ctx.note("the plugin reports ABI 1.0 but takes gemm.v1 offsets: checked (it should report minor 1)");
  }
  struct OffCase {
    int64_t m, n, k, off_a, off_b, off_c;
    bool trans_a = false;
    int64_t batch = 1;
  };
  const std::vector<OffCase> cases = {{13, 9, 7, 5, 3, 11},
                                      {1, 17, 33, 0, 64, 1},
                                      {8, 5, 3, 100, 0, 0, true},
                                      {7, 6, 5, 9, 13, 17, false, 3}};
  int ran = 0;
  int claimed = 0;
  for (DType t : kDTypes) {
    const DType out = DType::kF32;  // f16/bf16 inputs with f32 output: the composed attention's scores
    // f16/bf16 inputs: the base case only (each shape is a kernel build on some devices).
    for (size_t ci = 0; ci < cases.size() && (ci == 0 || (s.full() && t == DType::kF32)); ++ci) {
      const OffCase& k = cases[ci];
      const std::string label =
          fmt::format("gemm {}->{} m={} n={} k={} offset_a={} offset_b={} offset_c={}{}{}", dt(t), dt(out),
                      k.m, k.n, k.k, k.off_a, k.off_b, k.off_c, k.trans_a ? " trans_a" : "",
                      k.batch > 1 ? fmt::format(" batch={}", k.batch) : "");
      validate::GemmProblem prob{t, DType::kF32, out, k.m, k.n, k.k, k.trans_a, false};
      prob.batch = k.batch;
      validate::set_tight_layout(prob);
      const validate::GemmElementCounts counts = validate::gemm_element_counts(prob);
      KeyValues p{{"m", k.m},         {"n", k.n},         {"k", k.k},
                  {"dtype_a", dt(t)}, {"dtype_b", dt(t)}, {"dtype_c", dt(out)}};
      if (k.trans_a) p["trans_a"] = true;
      if (k.batch > 1) p["batch"] = k.batch;
      if (k.off_a) p["offset_a"] = k.off_a;
      if (k.off_b) p["offset_b"] = k.off_b;
      if (k.off_c) p["offset_c"] = k.off_c;
      ctx.step(label + ": op_query");
      auto q = d.query_op("gemm.v1", p);
      if (!q) return ctx.fail(label + ": op_query: " + q.error().message);
      if (!q->supported) {
        ctx.note(label + ": unsupported: " + q->reason);
        if (ci == 0) break;
        continue;
      }
      if (ci == 0) ++claimed;
      const size_t ea = size_bytes(t), eo = size_bytes(out);
      Bytes a = random_of(t, static_cast<int64_t>(counts.a) + k.off_a, label + "A", -1, 1);
      Bytes b = random_of(t, static_cast<int64_t>(counts.b) + k.off_b, label + "B", -1, 1);
      const validate::GuardedImage cimg = validate::make_guarded(
          poison(static_cast<int64_t>(counts.c), eo), static_cast<uint64_t>(k.off_c) * eo,
          validate::guard_size_bytes(counts.c * eo, static_cast<uint64_t>(k.m) * eo), kOpCheckSeed);
      auto stream = d.create_stream();
      if (!stream) return ctx.fail(label + ": stream_create: " + stream.error().message);
      auto ba = d.create_buffer(a.size()), bb = d.create_buffer(b.size()),
           bc = d.create_buffer(cimg.bytes.size());
      if (!ba || !bb || !bc) return ctx.fail(label + ": buffer_create failed");
      Status st = stream->write(*ba, 0, a.data(), a.size());
      if (st) st = stream->write(*bb, 0, b.data(), b.size());
      if (st) st = stream->write(*bc, 0, cimg.bytes.data(), cimg.bytes.size());
      if (!st) return ctx.fail(label + ": buffer_write: " + st.error().message);
      ctx.step(label + ": op_create");
      auto op = d.create_op("gemm.v1", p);
      if (!op) return ctx.fail(label + ": op_create (op_query said supported): " + op.error().message);
      Buffer* list[] = {&*ba, &*bb, &*bc};
      ctx.step(label + ": op_enqueue");
      Bytes after(cimg.bytes.size());
      st = op->enqueue(*stream, list);
      if (st) st = stream->read(*bc, 0, after.data(), after.size());
      if (st) st = stream->synchronize();
      if (!st) return ctx.fail(label + ": run: " + st.error().message);
      ++ran;
      const validate::GuardDamage damage = validate::check_guards(cimg, after);
      if (!damage.ok())
        ctx.fail(fmt::format("{}: C written outside offset_c + its matrices: {}", label, damage.describe()));
      const Bytes got = validate::payload_of(cimg, after);
      const Bytes c0(counts.c * eo, 0);  // beta = 0: C is not read (the device's C was NaN-poisoned)
      validate::ValidationSummary summary;
      const validate::GemmOperands operands{a.data() + k.off_a * ea, b.data() + k.off_b * ea, c0.data(), 1.0,
                                            1.0};
      for (int64_t bi = 0; bi < k.batch; ++bi)
        for (int64_t j = 0; j < k.n; ++j)
          for (int64_t i = 0; i < k.m; ++i)
            validate::add_gemm_element(summary, prob, operands, got.data(), bi, i, j);
      if (!summary.passed())
        ctx.fail(fmt::format("{}: {} of {} elements outside tolerance; first: {}", label, summary.failures,
                             summary.points, summary.first_failure));
      else
        ctx.note(fmt::format("{}: {} elements ok", label, summary.points));
      // A buffer one element short of offset + matrices is INVALID_ARGUMENT at enqueue.
      if (ci == 0 && k.off_c > 0) {
        auto small = d.create_buffer(cimg.bytes.size() - cimg.tail_bytes - eo);
        if (small) {
          Buffer* short_list[] = {&*ba, &*bb, &*small};
          ctx.step(label + ": op_enqueue with C one element short");
          Status bad = op->enqueue(*stream, short_list);
          if (bad) bad = stream->synchronize();
          if (bad || bad.error().code != ErrorCode::kInvalidArgument)
            ctx.fail(
                fmt::format("{}: C one element shorter than offset_c + the matrix was {}; the catalogue says "
                            "INVALID_ARGUMENT",
                            label, bad ? "accepted" : bad.error().message));
        }
      }
    }
    // A negative offset is INVALID_ARGUMENT.
    if (t == DType::kF32) {
      ctx.step("gemm.v1 offset_a = -1: op_query");
      auto q = d.query_op("gemm.v1", {{"m", int64_t{4}},
                                      {"n", int64_t{4}},
                                      {"k", int64_t{4}},
                                      {"dtype_a", dt(t)},
                                      {"dtype_b", dt(t)},
                                      {"offset_a", int64_t{-1}}});
      if (q)
        ctx.fail("gemm.v1 with offset_a = -1: op_query answered instead of INVALID_ARGUMENT");
      else if (q.error().code != ErrorCode::kInvalidArgument)
        ctx.fail("gemm.v1 with offset_a = -1: op_query error is not INVALID_ARGUMENT: " + q.error().message);
    }
  }
  if (claimed == 0 && !ctx.done()) {
    // A plugin without gemm.v1 at all (the template) has nothing to offset.
    bool plain_gemm = false;
    for (DType t : kDTypes) {
      auto q = d.query_op("gemm.v1",
                          {{"m", int64_t{4}}, {"n", int64_t{4}}, {"k", int64_t{4}}, {"dtype_a", dt(t)}});
      plain_gemm = plain_gemm || (q && q->supported);
    }
    if (!plain_gemm)
      return ctx.skip(SkipKind::kNotApplicable,
                      "the plugin offers no gemm.v1 in f32, f16 or bf16: no offsets to check");
    return ctx.fail("gemm.v1 with offsets is not offered in f32, f16 or bf16 by an ABI 1.1 plugin");
  }
  if (!ctx.done())
    ctx.pass(fmt::format("{} case(s) with offsets match the FP64 reference; guards intact", ran));
}

// ---------------------------------------------------------------- the op set

struct Probe {
  const char* op;
  KeyValues params;  // without dtype
};

const std::vector<Probe>& probes() {
  static const std::vector<Probe> list = {
      {"rmsnorm.v1", {{"rows", int64_t{1}}, {"dim", int64_t{64}}}},
      {"rope.v1", {{"rows", int64_t{1}}, {"heads", int64_t{1}}, {"head_dim", int64_t{64}}}},
      {"softmax.v1", {{"rows", int64_t{1}}, {"cols", int64_t{64}}}},
      {"swiglu.v1", {{"rows", int64_t{1}}, {"dim", int64_t{64}}}},
      {"kv_append.v1",
       {{"rows", int64_t{1}},
        {"kv_heads", int64_t{1}},
        {"head_dim", int64_t{64}},
        {"slots", int64_t{1}},
        {"capacity", int64_t{16}}}},
      {"embedding.v1", {{"rows", int64_t{1}}, {"vocab", int64_t{16}}, {"dim", int64_t{64}}}},
      {"argmax.v1", {{"rows", int64_t{1}}, {"cols", int64_t{64}}}},
      {"eltwise.v1", {{"kind", std::string("add")}, {"n", int64_t{64}}}},
      {"attention.v1",
       {{"rows", int64_t{1}},
        {"heads", int64_t{1}},
        {"kv_heads", int64_t{1}},
        {"head_dim", int64_t{64}},
        {"slots", int64_t{1}},
        {"capacity", int64_t{16}}}},
  };
  return list;
}

}  // namespace

void check_op_inference_set(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  const int minor = s.lib->abi_minor();
  std::vector<std::string> missing, offered;
  for (const Probe& probe : probes()) {
    std::vector<std::string> dtypes, reasons;
    for (DType t : kDTypes) {
      KeyValues params = probe.params;
      params["dtype"] = dt(t);
      ctx.step(std::string(probe.op) + " " + dt(t) + ": op_query");
      auto q = d.query_op(probe.op, params);
      if (!q) return ctx.fail(fmt::format("{} {}: op_query: {}", probe.op, dt(t), q.error().message));
      if (q->supported)
        dtypes.push_back(dt(t));
      else
        reasons.push_back(dt(t) + ": " + q->reason);
    }
    const bool optional = std::string(probe.op) == "attention.v1";
    if (!dtypes.empty())
      offered.push_back(fmt::format("{} ({})", probe.op, fmt::join(dtypes, ", ")));
    else if (!optional)
      missing.push_back(fmt::format("{} ({})", probe.op, reasons.empty() ? "" : reasons.front()));
    ctx.note(fmt::format("{}{}: {}", probe.op, optional ? " (optional)" : "",
                         dtypes.empty() ? "not offered: " + fmt::format("{}", fmt::join(reasons, "; "))
                                        : "offered in " + fmt::format("{}", fmt::join(dtypes, ", "))));
  }
  // A plugin that offers none of the set answers every model workload unsupported (a legitimate
  // answer); one that offers part of it cannot run the model, so each missing op is named as a FAIL.
  if (offered.empty() || (offered.size() == 1 && offered.front().rfind("attention.v1", 0) == 0))
    return ctx.skip(SkipKind::kNotApplicable,
                    fmt::format("plugin ABI 1.{}: no 1.1 inference op offered (model workloads will be "
                                "unsupported on it)",
                                minor));
  if (!missing.empty())
    return ctx.fail(
        fmt::format("missing mandatory op(s) of the 1.1 inference set: {}", fmt::join(missing, "; ")));
  ctx.pass(fmt::format("every mandatory 1.1 op offered: {}", fmt::join(offered, "; ")));
}

void check_op_gemm_offsets_v1_1(Session& s, CheckContext& ctx) {
  check_gemm_offsets(s, ctx);
}

#define CMETER_INFERENCE_CHECKS(fn, name)                      \
  void check_op_##name##_f32(Session& s, CheckContext& ctx) {  \
    fn(s, ctx, DType::kF32);                                   \
  }                                                            \
  void check_op_##name##_f16(Session& s, CheckContext& ctx) {  \
    fn(s, ctx, DType::kF16);                                   \
  }                                                            \
  void check_op_##name##_bf16(Session& s, CheckContext& ctx) { \
    fn(s, ctx, DType::kBF16);                                  \
  }
CMETER_INFERENCE_CHECKS(check_rmsnorm, rmsnorm)
CMETER_INFERENCE_CHECKS(check_rope, rope)
CMETER_INFERENCE_CHECKS(check_softmax, softmax)
CMETER_INFERENCE_CHECKS(check_swiglu, swiglu)
CMETER_INFERENCE_CHECKS(check_kv_append, kv_append)
CMETER_INFERENCE_CHECKS(check_embedding, embedding)
CMETER_INFERENCE_CHECKS(check_argmax, argmax)
CMETER_INFERENCE_CHECKS(check_eltwise, eltwise)
CMETER_INFERENCE_CHECKS(check_attention, attention)
#undef CMETER_INFERENCE_CHECKS

}  // namespace cmeter::conformance
