// Op checks: every catalogue op the plugin claims in op_query, run over a matrix of shapes and
// parameters and compared with the host reference. GEMM: odd sizes, 1xN and Nx1, transposes, padded
// leading dimensions, batches with padded strides, alpha/beta, every claimed dtype combination,
// against the FP64 reference of core/validate with its tolerance, every element, and C's padding
// untouched. fma_peak against the host simulation in dtype arithmetic; stream and copy element by
// element. Inputs come from core/validate's seeded generators (the workloads' too), so a failure
// reproduces.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/conformance/session.h"
#include "core/validate/host_data.h"
#include "core/validate/reference.h"

namespace cmeter::conformance {
namespace {

Status write_all(Stream& stream, Buffer& buffer, const std::vector<uint8_t>& bytes) {
  return stream.write(buffer, 0, bytes.data(), bytes.size());
}

// Records the op's attributes (impl) once per check.
void note_impl(CheckContext& ctx, const Op& op, const std::string& label, bool& noted) {
  if (noted) return;
  auto attrs = op.attributes();
  if (!attrs) {
    if (attrs.error().code != ErrorCode::kUnimplemented)
      ctx.fail(label + ": op_attributes: " + attrs.error().message);
    return;
  }
  noted = true;
  if (auto impl = get_string(*attrs, "impl")) ctx.note(fmt::format("impl: {}", *impl));
}

// ---------------------------------------------------------------- gemm.v1

struct GemmShape {
  int64_t m, n, k;
  bool trans_a = false, trans_b = false;
  int64_t pad_ld = 0;  // added to every leading dimension (0: leave them tight and unset)
  int64_t batch = 1;
  int64_t pad_stride = 0;  // added to every batch stride (0: leave them tight and unset)
  double alpha = 1, beta = 0;
  bool full_only = false;
};

std::string describe(const GemmShape& s) {
  std::string out = fmt::format("m={} n={} k={}", s.m, s.n, s.k);
  if (s.trans_a || s.trans_b) out += fmt::format(" trans_a={} trans_b={}", s.trans_a, s.trans_b);
  if (s.pad_ld) out += fmt::format(" ld+{}", s.pad_ld);
  if (s.batch > 1) out += fmt::format(" batch={}", s.batch);
  if (s.pad_stride) out += fmt::format(" stride+{}", s.pad_stride);
  if (s.alpha != 1 || s.beta != 0) out += fmt::format(" alpha={} beta={}", s.alpha, s.beta);
  return out;
}

const std::vector<GemmShape>& gemm_shapes() {
  static const std::vector<GemmShape> shapes = {
      {17, 19, 23},                                      // odd sizes (the base case)
      {1, 37, 5},                                        // 1xN
      {13, 11, 7, true, true, 0, 1, 0, -0.5, 0.75},      // both transposed, alpha/beta
      {9, 5, 6, false, false, 0, 3, 0, 1, 0},            // batch, tight strides
      {37, 1, 13, false, false, 0, 1, 0, 1, 0, true},    // Nx1
      {16, 24, 33, true, false, 0, 1, 0, 1, 0, true},    // A transposed
      {16, 24, 33, false, true, 0, 1, 0, 2, 0, true},    // B transposed, alpha
      {21, 14, 10, false, false, 3, 1, 0, 2, 1, true},   // padded ld, beta = 1
      {7, 6, 5, true, false, 2, 2, 5, 0.5, -1, true},    // batch with padded strides
      {1, 1, 1, false, false, 0, 1, 0, 1, 0.5, true},    // 1x1x1
      {33, 31, 1, false, false, 0, 1, 0, 1, 0, true},    // k = 1
      {65, 67, 129, false, false, 0, 1, 0, 1, 0, true},  // several tiles
      // Weight gradients (ABI 1.2 training): dW += op(A)·op(B) with a transpose and beta = 1.
      {24, 40, 33, true, false, 0, 1, 0, 1, 1, true},  // A transposed, beta = 1
      {24, 40, 33, false, true, 0, 1, 0, 1, 1, true},  // B transposed, beta = 1
      // A decode step's projections: weight rows (op(A) = Aᵀ) against one or a few activation columns,
      // k over several vector widths with a tail; plugins often take a dedicated path here.
      {67, 1, 100, true, false, 0, 1, 0, 1, 0, true},  // one column
      {45, 5, 77, true, false, 0, 1, 0, 1, 0, true},   // a few columns
  };
  return shapes;
}

struct GemmTypes {
  DType a, c, compute;
};

// Compares one shape; returns false when the plugin said unsupported (reason in `unsupported`).
bool run_gemm_case(CheckContext& ctx, const Device& d, const GemmTypes& t, GemmShape shape,
                   std::string& unsupported, bool& impl_noted) {
  const bool integer = t.compute == DType::kI32;
  if (integer) {  // integer GEMM: alpha 1, beta 0 or 1
    shape.alpha = 1;
    shape.beta = shape.beta != 0 ? 1 : 0;
  }
  const std::string label = fmt::format("{}->{} compute {} {}", to_string(t.a), to_string(t.c),
                                        to_string(t.compute), describe(shape));
  validate::GemmProblem problem{t.a, t.compute, t.c, shape.m, shape.n, shape.k, shape.trans_a, shape.trans_b};
  problem.batch = shape.batch;
  problem.alpha = shape.alpha;
  problem.beta = shape.beta;
  const int64_t rows_a = shape.trans_a ? shape.k : shape.m, cols_a = shape.trans_a ? shape.m : shape.k;
  const int64_t rows_b = shape.trans_b ? shape.n : shape.k, cols_b = shape.trans_b ? shape.k : shape.n;
  problem.lda = rows_a + shape.pad_ld;
  problem.ldb = rows_b + shape.pad_ld;
  problem.ldc = shape.m + shape.pad_ld;
  problem.stride_a = problem.lda * cols_a + shape.pad_stride;
  problem.stride_b = problem.ldb * cols_b + shape.pad_stride;
  problem.stride_c = problem.ldc * shape.n + shape.pad_stride;
  KeyValues params{{"m", shape.m},
                   {"n", shape.n},
                   {"k", shape.k},
                   {"dtype_a", std::string(to_string(t.a))},
                   {"dtype_b", std::string(to_string(t.a))},
                   {"dtype_c", std::string(to_string(t.c))},
                   {"compute", std::string(to_string(t.compute))},
                   {"trans_a", shape.trans_a},
                   {"trans_b", shape.trans_b},
                   {"alpha", shape.alpha},
                   {"beta", shape.beta}};
  if (shape.batch > 1) params["batch"] = shape.batch;
  if (shape.pad_ld) {
    params["lda"] = problem.lda;
    params["ldb"] = problem.ldb;
    params["ldc"] = problem.ldc;
  }
  if (shape.pad_stride) {
    params["stride_a"] = problem.stride_a;
    params["stride_b"] = problem.stride_b;
    params["stride_c"] = problem.stride_c;
  }
  ctx.step(label + ": op_query");
  auto q = d.query_op("gemm.v1", params);
  if (!q) {
    ctx.fail(label + ": op_query: " + q.error().message);
    return true;
  }
  if (!q->supported) {
    unsupported = q->reason.empty() ? "(no reason given)" : q->reason;
    return false;
  }
  const validate::GemmElementCounts counts = validate::gemm_element_counts(problem);
  auto rng = validate::make_rng(kConformanceSeed, label);
  const double lo = integer ? -8 : -1, hi = integer ? 8 : 1;
  std::vector<uint8_t> a = validate::random_elements(t.a, counts.a, rng, lo, hi);
  std::vector<uint8_t> b = validate::random_elements(t.a, counts.b, rng, lo, hi);
  std::vector<uint8_t> c0 = validate::random_elements(t.c, counts.c, rng, lo, hi);
  auto fail = [&](const std::string& what, const Error& e) {
    ctx.fail(fmt::format("{}: {}: {}", label, what, e.message));
    return true;
  };
  auto stream = d.create_stream();
  if (!stream) return fail("stream_create", stream.error());
  Buffer bufs[3];
  const std::vector<uint8_t>* hosts[3] = {&a, &b, &c0};
  for (int i = 0; i < 3; ++i) {
    auto created = d.create_buffer(hosts[i]->size());
    if (!created) return fail("buffer_create", created.error());
    bufs[i] = std::move(created).value();
    if (auto st = write_all(*stream, bufs[i], *hosts[i]); !st) return fail("buffer_write", st.error());
  }
  ctx.step(label + ": op_create");
  auto op = d.create_op("gemm.v1", params);
  if (!op) return fail("op_create (op_query said supported)", op.error());
  note_impl(ctx, *op, label, impl_noted);
  ctx.step(label + ": op_enqueue");
  Buffer* list[] = {&bufs[0], &bufs[1], &bufs[2]};
  std::vector<uint8_t> got(c0.size());
  Status st = op->enqueue(*stream, list);
  if (st) st = stream->read(bufs[2], 0, got.data(), got.size());
  if (st) st = stream->synchronize();
  if (!st) return fail("run", st.error());

  // Every element of every batch against the FP64 reference (inputs in [-1, 1]: |a|, |b| <= 1).
  validate::ValidationSummary summary;
  const validate::GemmOperands operands{a.data(), b.data(), c0.data(), 1.0, 1.0};
  const size_t c_elem = size_bytes(t.c);
  int64_t padding_changed = 0;
  std::vector<bool> in_matrix(counts.c, false);
  for (int64_t bi = 0; bi < shape.batch; ++bi) {
    for (int64_t j = 0; j < shape.n; ++j) {
      for (int64_t i = 0; i < shape.m; ++i) {
        in_matrix[validate::gemm_c_index(problem, bi, i, j)] = true;
        validate::add_gemm_element(summary, problem, operands, got.data(), bi, i, j);
      }
    }
  }
  for (size_t ci = 0; ci < counts.c; ++ci)
    if (!in_matrix[ci] && std::memcmp(got.data() + ci * c_elem, c0.data() + ci * c_elem, c_elem) != 0)
      ++padding_changed;
  if (!summary.passed())
    ctx.fail(fmt::format("{}: {} of {} elements outside tolerance (max abs error {:.3g}); first: {}", label,
                         summary.failures, summary.points, summary.max_abs_error, summary.first_failure));
  else if (padding_changed > 0)
    ctx.fail(fmt::format("{}: {} element(s) of C outside the m x n matrices (ld/stride padding) were written",
                         label, padding_changed));
  else
    ctx.note(fmt::format("{}: {} elements ok, max abs error {:.3g}", label, summary.points,
                         summary.max_abs_error));
  return true;
}

void check_gemm(Session& s, CheckContext& ctx, const std::vector<GemmTypes>& combos) {
  const Device& d = *s.device();
  int claimed = 0, ran = 0, unsupported_cases = 0;
  std::vector<std::string> not_claimed;
  bool impl_noted = false;
  for (const GemmTypes& t : combos) {
    std::string reason;
    const auto& shapes = gemm_shapes();
    if (!run_gemm_case(ctx, d, t, shapes[0], reason, impl_noted)) {
      not_claimed.push_back(
          fmt::format("{}->{} compute {}: {}", to_string(t.a), to_string(t.c), to_string(t.compute), reason));
      continue;
    }
    ++claimed;
    ++ran;
    for (size_t i = 1; i < shapes.size(); ++i) {
      if (shapes[i].full_only && !s.full()) continue;
      std::string why;
      if (run_gemm_case(ctx, d, t, shapes[i], why, impl_noted)) {
        ++ran;
      } else {
        ++unsupported_cases;
        ctx.note(fmt::format("{}->{} {}: unsupported: {}", to_string(t.a), to_string(t.c),
                             describe(shapes[i]), why));
      }
    }
  }
  for (const auto& n : not_claimed) ctx.note("not claimed: " + n);
  if (claimed == 0)
    return ctx.skip(SkipKind::kNotApplicable, "not claimed by op_query: " + not_claimed.front());
  if (!ctx.done())
    ctx.pass(fmt::format("{} case(s) match the FP64 reference{}", ran,
                         unsupported_cases
                             ? fmt::format("; {} variant(s) unsupported (listed)", unsupported_cases)
                             : std::string()));
}

// ---------------------------------------------------------------- fma_peak.v1

struct FmaCase {
  int64_t items, iters, lanes;
  double a, x0, dx;
  bool full_only = false;
  bool items_apart = false;  // ABI 1.3: the workload's own chain, items apart (item_dx, item_period)
};

double fma_default_b(DType t) {
  return t == DType::kF16 ? 0x1p-8 : t == DType::kF32 ? 0x1p-16 : 0x1p-32;
}

void check_fma_peak(Session& s, CheckContext& ctx, DType t) {
  const Device& d = *s.device();
  const std::vector<FmaCase> cases = {
      {1, 1, 1, 1, 1, 1.0 / 64},
      {257, 1000, 8, 1, 1, 1.0 / 64},
      {33, 64, 32, 0.9375, 0.5, 1.0 / 128},
      {1000, 4096, 3, 1, -1, 1.0 / 32, true},
      {65, 200, 17, 0.5, 2, 0.25, true},
      {300, 1000, 8, 0, 0, 0, false, true},
      {70, 333, 5, 0, 0, 0, true, true},
  };
  const int plugin_minor = s.api != nullptr ? s.api->abi_minor : 0;
  int ran = 0;
  bool impl_noted = false;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const FmaCase& c = cases[ci];
    if (c.full_only && !s.full()) continue;
    validate::FmaPeakChain chain;
    chain.a = c.a;
    chain.b = fma_default_b(t);
    chain.x0 = c.x0;
    chain.dx = c.dx;
    if (c.items_apart) {
      if (plugin_minor < 3) {
        ctx.note(fmt::format("items apart (item_dx, item_period) not checked: the plugin is ABI 1.{}",
                             plugin_minor));
        continue;
      }
      chain = validate::fma_peak_default_chain(t, c.lanes, c.iters);
    }
    const double b = chain.b;
    std::string label = fmt::format("{} items={} iters={} lanes={} a={} x0={} dx={}", to_string(t), c.items,
                                    c.iters, c.lanes, chain.a, chain.x0, chain.dx);
    KeyValues params{{"dtype", std::string(to_string(t))},
                     {"items", c.items},
                     {"iters", c.iters},
                     {"lanes", c.lanes},
                     {"a", chain.a},
                     {"b", b},
                     {"x0", chain.x0},
                     {"dx", chain.dx}};
    if (c.items_apart) {
      params["item_dx"] = chain.item_dx;
      params["item_period"] = chain.item_period;
      label += fmt::format(" b={} item_dx={} item_period={}", b, chain.item_dx, chain.item_period);
    }
    ctx.step(label + ": op_query");
    auto q = d.query_op("fma_peak.v1", params);
    if (!q) return ctx.fail(label + ": op_query: " + q.error().message);
    if (!q->supported) {
      if (ci == 0) return ctx.skip(SkipKind::kNotApplicable, "not claimed by op_query: " + q->reason);
      ctx.note(label + ": unsupported: " + q->reason);
      continue;
    }
    auto stream = d.create_stream();
    if (!stream) return ctx.fail(label + ": stream_create: " + stream.error().message);
    const uint64_t out_bytes = static_cast<uint64_t>(c.items) * 4;
    auto out = d.create_buffer(out_bytes);
    if (!out) return ctx.fail(label + ": buffer_create: " + out.error().message);
    std::vector<float> got(static_cast<size_t>(c.items), NAN);  // poison: a skipped item stays NaN
    Status st = stream->write(*out, 0, got.data(), out_bytes);
    if (!st) return ctx.fail(label + ": buffer_write: " + st.error().message);
    ctx.step(label + ": op_create");
    auto op = d.create_op("fma_peak.v1", params);
    if (!op) return ctx.fail(label + ": op_create (op_query said supported): " + op.error().message);
    note_impl(ctx, *op, label, impl_noted);
    bool fused = true;  // fma.fused = 0: the op says its fma rounds the product first
    if (auto attrs = op->attributes())
      if (auto f = get_number(*attrs, "fma.fused")) fused = *f != 0;
    ctx.step(label + ": op_enqueue");
    Buffer* list[] = {&*out};
    st = op->enqueue(*stream, list);
    if (st) st = stream->read(*out, 0, got.data(), out_bytes);
    if (st) st = stream->synchronize();
    if (!st) return ctx.fail(label + ": run: " + st.error().message);
    // Every item against the host simulation (items one period apart start alike).
    std::vector<double> expected(static_cast<size_t>(std::min(c.items, chain.item_period)));
    for (size_t k = 0; k < expected.size(); ++k)
      expected[k] =
          validate::fma_peak_item(t, c.lanes, c.iters, chain.a, b, chain.x0, chain.dx,
                                  validate::fma_peak_item_offset(chain, static_cast<int64_t>(k)), fused);
    validate::ValidationSummary summary;
    for (int64_t i = 0; i < c.items; ++i) {
      const double want = expected[static_cast<size_t>(i % chain.item_period)];
      validate::add(summary, fmt::format("OUT[{}]", i), want, got[static_cast<size_t>(i)],
                    validate::fma_peak_tolerance(c.lanes, want));
    }
    if (!summary.passed())
      ctx.fail(fmt::format("{}: {} of {} items wrong; first: {}", label, summary.failures, summary.points,
                           summary.first_failure));
    else if (expected.size() == 1)
      ctx.note(fmt::format("{}: every item = {} (host simulation{})", label, expected[0],
                           fused ? "" : ", unfused as the op says"));
    else
      ctx.note(fmt::format("{}: every item matches the host simulation ({} different values{})", label,
                           expected.size(), fused ? "" : ", unfused as the op says"));
    ++ran;
  }
  if (!ctx.done()) ctx.pass(fmt::format("{} case(s) match the host simulation", ran));
}

// ---------------------------------------------------------------- stream.v1

void check_stream(Session& s, CheckContext& ctx, DType t) {
  const Device& d = *s.device();
  const int64_t n = s.full() ? 1000003 : 10007;
  const size_t bytes = static_cast<size_t>(n) * size_bytes(t);
  struct Kind {
    const char* name;
    double scalar;
  };
  const Kind kinds[] = {{"copy", 3},  {"scale", 3},    {"add", 3},
                        {"triad", 3}, {"scale", -1.5}, {"triad", -1.5}};
  int ran = 0;
  bool impl_noted = false;
  for (const Kind& k : kinds) {
    const std::string label = fmt::format("{} {} n={} scalar={}", k.name, to_string(t), n, k.scalar);
    KeyValues params{{"kind", std::string(k.name)}, {"dtype", std::string(to_string(t))}, {"n", n}};
    if (k.scalar != 3) params["scalar"] = k.scalar;
    ctx.step(label + ": op_query");
    auto q = d.query_op("stream.v1", params);
    if (!q) return ctx.fail(label + ": op_query: " + q.error().message);
    if (!q->supported) {
      if (ran == 0 && &k == &kinds[0])
        return ctx.skip(SkipKind::kNotApplicable, "not claimed by op_query: " + q->reason);
      ctx.note(label + ": unsupported: " + q->reason);
      continue;
    }
    auto stream = d.create_stream();
    if (!stream) return ctx.fail(label + ": stream_create: " + stream.error().message);
    auto rng = validate::make_rng(kConformanceSeed, label);
    std::vector<std::vector<uint8_t>> host(3);
    Buffer bufs[3];
    for (int i = 0; i < 3; ++i) {
      host[i] = validate::random_elements(t, static_cast<size_t>(n), rng, 0.5, 2.0);
      auto b = d.create_buffer(bytes);
      if (!b) return ctx.fail(label + ": buffer_create: " + b.error().message);
      bufs[i] = std::move(b).value();
      if (auto st = write_all(*stream, bufs[i], host[i]); !st)
        return ctx.fail(label + ": buffer_write: " + st.error().message);
    }
    ctx.step(label + ": op_create");
    auto op = d.create_op("stream.v1", params);
    if (!op) return ctx.fail(label + ": op_create (op_query said supported): " + op.error().message);
    note_impl(ctx, *op, label, impl_noted);
    ctx.step(label + ": op_enqueue");
    Buffer* list[] = {&bufs[0], &bufs[1], &bufs[2]};
    std::vector<std::vector<uint8_t>> got(3, std::vector<uint8_t>(bytes));
    Status st = op->enqueue(*stream, list);
    for (int i = 0; i < 3 && st; ++i) st = stream->read(bufs[i], 0, got[i].data(), bytes);
    if (st) st = stream->synchronize();
    if (!st) return ctx.fail(label + ": run: " + st.error().message);
    const int out = validate::stream_output_array(k.name);
    validate::ValidationSummary summary;
    const uint8_t* const inputs[3] = {host[0].data(), host[1].data(), host[2].data()};
    validate::check_stream_output(summary, k.name, k.scalar, t, inputs, got[static_cast<size_t>(out)].data(),
                                  n);
    std::string inputs_changed;
    for (int i = 0; i < 3; ++i)
      if (i != out && got[static_cast<size_t>(i)] != host[static_cast<size_t>(i)])
        inputs_changed += std::string(1, "ABC"[i]);
    if (!summary.passed())
      ctx.fail(fmt::format("{}: {} of {} elements wrong; first: {}", label, summary.failures, summary.points,
                           summary.first_failure));
    else if (!inputs_changed.empty())
      ctx.fail(fmt::format("{}: input array(s) {} changed", label, inputs_changed));
    else
      ctx.note(fmt::format("{}: every element ok", label));
    ++ran;
  }
  if (!ctx.done()) ctx.pass(fmt::format("{} kernel(s) correct on every element", ran));
}

}  // namespace

void check_op_gemm_f32(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kF32, DType::kF32, DType::kF32}});
}
void check_op_gemm_f64(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kF64, DType::kF64, DType::kF64}});
}
void check_op_gemm_f16(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kF16, DType::kF16, DType::kF32}, {DType::kF16, DType::kF32, DType::kF32}});
}
void check_op_gemm_bf16(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kBF16, DType::kBF16, DType::kF32}, {DType::kBF16, DType::kF32, DType::kF32}});
}
void check_op_gemm_tf32(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kF32, DType::kF32, DType::kTF32}});
}
void check_op_gemm_i8(Session& s, CheckContext& ctx) {
  check_gemm(s, ctx, {{DType::kI8, DType::kI32, DType::kI32}});
}

void check_op_fma_peak_f16(Session& s, CheckContext& ctx) {
  check_fma_peak(s, ctx, DType::kF16);
}
void check_op_fma_peak_f32(Session& s, CheckContext& ctx) {
  check_fma_peak(s, ctx, DType::kF32);
}
void check_op_fma_peak_f64(Session& s, CheckContext& ctx) {
  check_fma_peak(s, ctx, DType::kF64);
}

void check_op_stream_f32(Session& s, CheckContext& ctx) {
  check_stream(s, ctx, DType::kF32);
}
void check_op_stream_f64(Session& s, CheckContext& ctx) {
  check_stream(s, ctx, DType::kF64);
}

void check_op_copy(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  std::vector<uint64_t> sizes = {1, 7, 4099};
  if (s.full()) sizes.push_back(1000003);
  constexpr uint64_t kTail = 16;
  int ran = 0;
  bool impl_noted = false;
  for (uint64_t bytes : sizes) {
    const std::string label = fmt::format("copy.v1 {}", bytes_label(bytes));
    KeyValues params{{"bytes", static_cast<int64_t>(bytes)}};
    ctx.step(label + ": op_query");
    auto q = d.query_op("copy.v1", params);
    if (!q) return ctx.fail(label + ": op_query: " + q.error().message);
    if (!q->supported) {
      if (bytes == sizes.front())
        return ctx.skip(SkipKind::kNotApplicable, "not claimed by op_query: " + q->reason);
      ctx.note(label + ": unsupported: " + q->reason);
      continue;
    }
    auto stream = d.create_stream();
    if (!stream) return ctx.fail(label + ": stream_create: " + stream.error().message);
    auto rng = validate::make_rng(kConformanceSeed, label);
    std::vector<uint8_t> src = validate::random_elements(DType::kI8, bytes, rng, -128, 127);
    std::vector<uint8_t> dst_init(bytes + kTail, 0xcd);
    auto sb = d.create_buffer(bytes);
    auto db = d.create_buffer(bytes + kTail);
    if (!sb || !db) return ctx.fail(label + ": buffer_create: " + (!sb ? sb.error() : db.error()).message);
    Status st = write_all(*stream, *sb, src);
    if (st) st = write_all(*stream, *db, dst_init);
    if (!st) return ctx.fail(label + ": buffer_write: " + st.error().message);
    ctx.step(label + ": op_create");
    auto op = d.create_op("copy.v1", params);
    if (!op) return ctx.fail(label + ": op_create (op_query said supported): " + op.error().message);
    note_impl(ctx, *op, label, impl_noted);
    ctx.step(label + ": op_enqueue");
    Buffer* list[] = {&*sb, &*db};
    std::vector<uint8_t> got(bytes + kTail), src_after(bytes);
    st = op->enqueue(*stream, list);
    if (st) st = stream->read(*db, 0, got.data(), got.size());
    if (st) st = stream->read(*sb, 0, src_after.data(), bytes);
    if (st) st = stream->synchronize();
    if (!st) return ctx.fail(label + ": run: " + st.error().message);
    if (std::memcmp(got.data(), src.data(), bytes) != 0) {
      size_t i = 0;
      while (got[i] == src[i]) ++i;
      ctx.fail(fmt::format("{}: DST differs from SRC at byte {}", label, i));
    } else if (std::any_of(got.begin() + static_cast<std::ptrdiff_t>(bytes), got.end(),
                           [](uint8_t v) { return v != 0xcd; })) {
      ctx.fail(fmt::format("{}: bytes past the copy were written", label));
    } else if (src_after != src) {
      ctx.fail(fmt::format("{}: SRC changed", label));
    } else {
      ctx.note(label + ": ok");
    }
    ++ran;
  }
  if (!ctx.done()) ctx.pass(fmt::format("{} size(s) copied exactly, nothing past the end", ran));
}

void check_op_noop(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  ctx.step("op_query noop.v1");
  auto q = d.query_op("noop.v1", {});
  if (!q) return ctx.fail("op_query: " + q.error().message);
  if (!q->supported) return ctx.skip(SkipKind::kNotApplicable, "not claimed by op_query: " + q->reason);
  auto stream = d.create_stream();
  if (!stream) return ctx.fail("stream_create: " + stream.error().message);
  ctx.step("op_create noop.v1");
  auto op = d.create_op("noop.v1", {});
  if (!op) return ctx.fail("op_create (op_query said supported): " + op.error().message);
  bool impl_noted = false;
  note_impl(ctx, *op, "noop.v1", impl_noted);
  ctx.step("100 x op_enqueue noop.v1");
  for (int i = 0; i < 100; ++i) {
    if (auto st = op->enqueue(*stream, {}); !st)
      return ctx.fail(fmt::format("enqueue {}: {}", i, st.error().message));
  }
  if (auto st = stream->synchronize(); !st) return ctx.fail("stream_synchronize: " + st.error().message);
  ctx.pass("created, launched 100 times, synchronised");
}

}  // namespace cmeter::conformance
