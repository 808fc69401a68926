// The gemm workload: C = alpha·op(A)·op(B) + beta·C through `gemm.v1`, any dtype the device supports.
// Inputs are generated on the host from the run seed in the input type, rotated over enough buffer
// sets to exceed the last-level cache, and the output of the last timed call is checked on sampled
// elements against an FP64 host reference with a dtype- and k-aware tolerance. FLOP = 2·m·n·k·batch.
#include <algorithm>
#include <cmath>

#include "core/validate/tolerance.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {
namespace {

std::string default_compute(DType a) {
  switch (a) {
    case DType::kF64:
      return "f64";
    case DType::kI8:
      return "i32";
    default:
      return "f32";
  }
}

struct Set {
  std::vector<uint8_t> a, b, c0;
  Buffer da, db, dc;
};

}  // namespace

void run_gemm(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const int64_t n = p.get_int("n", 0);
  const int64_t m = p.get_int("m", n);
  const int64_t k = p.get_int("k", n);
  const std::string dtype_name = p.get_string("dtype", "f32");
  const std::string dtype_c_name = p.get_string("dtype_c", dtype_name);
  const auto dtype = parse_dtype(dtype_name);
  const std::string compute_name = p.get_string("compute", dtype ? default_compute(*dtype) : "f32");
  const bool trans_a = p.get_bool("trans_a", false);
  const bool trans_b = p.get_bool("trans_b", false);
  const double alpha = p.get_double("alpha", 1.0);
  const double beta = p.get_double("beta", 0.0);
  const int64_t batch = p.get_int("batch", 1);
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  const auto dtype_c = parse_dtype(dtype_c_name);
  const auto compute = parse_dtype(compute_name);
  if (!dtype || !dtype_c || !compute)
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("unknown dtype in dtype={} dtype_c={} compute={}", dtype_name, dtype_c_name,
                                  compute_name));
  if (m <= 0 || n <= 0 || k <= 0 || batch <= 0)
    return (void)fail(
        result, CaseStatus::kFailed,
        fmt::format("m, n, k, batch must be positive (m={} n={} k={} batch={})", m, n, k, batch));

  KeyValues op_params{{"m", m},
                      {"n", n},
                      {"k", k},
                      {"dtype_a", dtype_name},
                      {"dtype_b", dtype_name},
                      {"dtype_c", dtype_c_name},
                      {"compute", compute_name},
                      {"trans_a", trans_a},
                      {"trans_b", trans_b},
                      {"alpha", alpha},
                      {"beta", beta},
                      {"batch", batch}};
  result.params = op_params;
  const Device& dev = ctx.device;
  auto query = dev.query_op("gemm.v1", op_params);
  if (!query) return (void)fail(result, CaseStatus::kFailed, query.error().message);
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);

  // Sizes, rotation.
  const size_t a_count = static_cast<size_t>(m * k * batch), b_count = static_cast<size_t>(k * n * batch),
               c_count = static_cast<size_t>(m * n * batch);
  const uint64_t set_bytes = a_count * size_bytes(*dtype) * 2 + c_count * size_bytes(*dtype_c);
  const uint64_t budget = memory_budget_bytes(dev);
  if (2 * set_bytes > budget)
    return (void)fail(result, CaseStatus::kUnsupported,
                      fmt::format("needs {:.2f} GiB for two rotated input sets; device budget is {:.2f} GiB",
                                  2.0 * set_bytes / (1 << 30), 1.0 * budget / (1 << 30)));
  const uint64_t llc = static_cast<uint64_t>(get_int(dev.attributes(), "cache.llc.bytes").value_or(32 << 20));
  int64_t sets = std::max<int64_t>(ctx.spec.stats.rotation_sets, static_cast<int64_t>(llc / set_bytes) + 1);
  sets = std::min<int64_t>({sets, 64, static_cast<int64_t>(budget / set_bytes)});
  sets = std::max<int64_t>(sets, 2);
  result.method.rotation_sets = sets;
  result.method.rotation_bytes = sets * set_bytes;
  const double flop = 2.0 * m * n * k * batch;
  result.method.flop_per_call = flop;
  result.method.bytes_per_call = static_cast<double>(set_bytes);

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  std::vector<Set> data(static_cast<size_t>(sets));
  for (int64_t s = 0; s < sets; ++s) {
    auto rng = make_rng(ctx.seed, ctx.spec.id + "/" + dev.id(), static_cast<uint64_t>(s));
    Set& set = data[static_cast<size_t>(s)];
    set.a = random_elements(*dtype, a_count, rng);
    set.b = random_elements(*dtype, b_count, rng);
    set.c0 = random_elements(*dtype_c, c_count, rng);
    for (auto [buf, host] : {std::pair{&set.da, &set.a}, {&set.db, &set.b}, {&set.dc, &set.c0}}) {
      auto created = dev.create_buffer(host->size());
      if (!created) return (void)fail(result, CaseStatus::kFailed, created.error().message);
      *buf = std::move(created).value();
      if (auto st = stream->write(*buf, 0, host->data(), host->size()); !st)
        return (void)fail(result, CaseStatus::kFailed, st.error().message);
    }
  }
  if (auto st = stream->synchronize(); !st)
    return (void)fail(result, CaseStatus::kFailed, st.error().message);

  auto op = dev.create_op("gemm.v1", op_params);
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes = *attrs;
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }

  int64_t last_set = -1;
  auto enqueue = [&](int64_t i) -> Status {
    last_set = i % sets;
    Set& s = data[static_cast<size_t>(last_set)];
    Buffer* bufs[] = {&s.da, &s.db, &s.dc};
    return op->enqueue(*stream, bufs);
  };
  measure::LoopOptions options{ctx.spec.stats};
  auto measured = measure::run_loop(*stream, enqueue, options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, flop, "flops_per_s", "FLOP/s");
  set_status_from_measurement(result, *measured);

  // Validation of the last timed output (beta == 0: C is overwritten by every call). With beta != 0
  // the timed C has been accumulated many times, so one extra call from a fresh C0 is checked.
  Set& vs = data[static_cast<size_t>(last_set)];
  std::string how = "fp64 host reference on sampled C elements of the last timed call";
  if (beta != 0) {
    how = "fp64 host reference on sampled C elements of one call from a fresh C (beta != 0)";
    Buffer* bufs[] = {&vs.da, &vs.db, &vs.dc};
    Status st = stream->write(vs.dc, 0, vs.c0.data(), vs.c0.size());
    if (st) st = op->enqueue(*stream, bufs);
    if (!st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  }
  std::vector<uint8_t> out(vs.c0.size());
  if (auto st = stream->read(vs.dc, 0, out.data(), out.size()); !st)
    return (void)fail(result, CaseStatus::kFailed, st.error().message);
  if (auto st = stream->synchronize(); !st)
    return (void)fail(result, CaseStatus::kFailed, st.error().message);

  const int64_t lda = trans_a ? k : m, ldb = trans_b ? n : k, ldc = m;
  double max_a = 0, max_b = 0;
  for (size_t i = 0; i < a_count; i += std::max<size_t>(1, a_count / 4096))
    max_a = std::max(max_a, std::fabs(element_as_double(*dtype, vs.a.data(), i)));
  for (size_t i = 0; i < b_count; i += std::max<size_t>(1, b_count / 4096))
    max_b = std::max(max_b, std::fabs(element_as_double(*dtype, vs.b.data(), i)));
  max_a = std::max(max_a, 1.0);  // inputs are drawn from [-1, 1]
  max_b = std::max(max_b, 1.0);
  validate::ValidationSummary summary;
  const std::vector<int64_t> batches =
      batch > 1 ? std::vector<int64_t>{0, batch - 1} : std::vector<int64_t>{0};
  for (int64_t bi : batches) {
    const size_t a_off = static_cast<size_t>(bi * m * k), b_off = static_cast<size_t>(bi * k * n),
                 c_off = static_cast<size_t>(bi * m * n);
    for (auto [i, j] : validate::sample_matrix_points(m, n, 1024, ctx.seed ^ static_cast<uint64_t>(bi))) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q) {
        double av = element_as_double(*dtype, vs.a.data(),
                                      a_off + static_cast<size_t>(trans_a ? q + i * lda : i + q * lda));
        double bv = element_as_double(*dtype, vs.b.data(),
                                      b_off + static_cast<size_t>(trans_b ? j + q * ldb : q + j * ldb));
        acc += av * bv;
      }
      const size_t ci = c_off + static_cast<size_t>(i + j * ldc);
      const double c0 = element_as_double(*dtype_c, vs.c0.data(), ci);
      const double expected = alpha * acc + beta * c0;
      const double got = element_as_double(*dtype_c, out.data(), ci);
      const double tol = std::fabs(alpha) * validate::gemm_abs_tolerance(*dtype, *compute, *dtype_c, k, max_a,
                                                                         max_b, std::fabs(expected)) +
                         4 * epsilon(*compute) * std::fabs(beta * c0);
      validate::add(summary, fmt::format("C[{},{}] batch {}", i, j, bi), expected, got, tol);
    }
  }
  Validation v;
  v.method = how;
  v.points = summary.points;
  v.failures = summary.failures;
  v.max_abs_error = summary.max_abs_error;
  v.max_rel_error = summary.max_rel_error;
  v.tolerance = summary.tolerance_at_max;
  v.first_failure = summary.first_failure;
  v.passed = summary.passed();
  result.validation = v;
  if (!v.passed)
    return (void)fail(result, CaseStatus::kInvalid,
                      fmt::format("{} of {} sampled elements outside tolerance; first: {}", v.failures,
                                  v.points, v.first_failure));
  apply_plausibility(result, dev,
                     fmt::format("peak.flops.{}", *compute == DType::kTF32 ? "tf32" : dtype_name),
                     "flops_per_s");
}

}  // namespace cmeter::workloads
