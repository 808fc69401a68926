// The fma_peak workload: vector FMA throughput through `fma_peak.v1`. Every item runs `lanes`
// independent chains of x = fma(x, a, b) for `iters` rounds and writes the f32 sum of its lanes; the
// host simulates one item in the same dtype arithmetic and checks sampled items, so a kernel (or a
// compiler) that skips work fails validation. FLOP = 2·items·iters·lanes.
#include <algorithm>
#include <cmath>

#include "core/validate/reference.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

// Default increment per dtype: small enough that the chains stay in range and (for f32/f64) exact.
static double default_b(DType t) {
  switch (t) {
    case DType::kF16:
      return 0x1p-10;
    case DType::kBF16:
      return 0x1p-7;
    default:
      return 0x1p-12;
  }
}

void run_fma_peak(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const std::string dtype_name = p.get_string("dtype", "f32");
  const auto dtype = parse_dtype(dtype_name);
  const int64_t items = p.get_int("items", 65536);
  const int64_t iters = p.get_int("iters", 2048);
  const int64_t lanes = p.get_int("lanes", 8);
  const double a = p.get_double("a", 1.0);
  const double b = p.get_double("b", dtype ? default_b(*dtype) : 0x1p-12);
  const double x0 = p.get_double("x0", 1.0);
  const double dx = p.get_double("dx", 1.0 / 64);
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  if (!dtype ||
      (*dtype != DType::kF16 && *dtype != DType::kF32 && *dtype != DType::kF64 && *dtype != DType::kBF16))
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("fma_peak dtype must be f16, bf16, f32 or f64, got '{}'", dtype_name));
  if (items <= 0 || iters <= 0 || lanes <= 0 || lanes > 32)
    return (void)fail(result, CaseStatus::kFailed, "items and iters must be positive and lanes in 1..32");

  KeyValues op_params{{"dtype", dtype_name},
                      {"items", items},
                      {"iters", iters},
                      {"lanes", lanes},
                      {"a", a},
                      {"b", b},
                      {"x0", x0},
                      {"dx", dx}};
  result.params = op_params;
  const Device& dev = ctx.device;
  auto query = dev.query_op("fma_peak.v1", op_params);
  if (!query) return (void)fail(result, CaseStatus::kFailed, query.error().message);
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);

  const double flop =
      2.0 * static_cast<double>(items) * static_cast<double>(iters) * static_cast<double>(lanes);
  result.method.flop_per_call = flop;
  result.method.bytes_per_call = 4.0 * static_cast<double>(items);
  result.method.rotation_sets = 1;  // no inputs to rotate: the output is recomputed each call

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  auto out = dev.create_buffer(static_cast<uint64_t>(items) * 4);
  if (!out) return (void)fail(result, CaseStatus::kFailed, out.error().message);
  auto op = dev.create_op("fma_peak.v1", op_params);
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes = *attrs;
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }
  Buffer* bufs[] = {&*out};
  // OUT is poisoned before every sample: the last sample's calls must have written every item.
  measure::LoopOptions options{ctx.spec.stats};
  options.before_sample = [&] { return poison_buffer(*stream, *out, static_cast<uint64_t>(items) * 4); };
  auto measured = measure::run_loop(
      *stream, [&](int64_t) { return op->enqueue(*stream, bufs); }, options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, flop, "flops_per_s", "FLOP/s");
  set_status_from_measurement(result, *measured);

  // Host simulation of one item, in dtype arithmetic (round after every fma).
  const double expected = validate::fma_peak_item(*dtype, lanes, iters, a, b, x0, dx);
  std::vector<float> got(static_cast<size_t>(items));
  auto read = read_outputs(*stream, {{&*out, 0, got.data(), got.size() * 4}});
  if (!read) return (void)fail(result, CaseStatus::kFailed, read.error().message);
  const double tol = validate::fma_peak_tolerance(lanes, expected);
  validate::ValidationSummary summary;
  const int64_t step = std::max<int64_t>(1, items / 4096);
  for (int64_t i = 0; i < items; i += step)
    validate::add(summary, fmt::format("OUT[{}]", i), expected, got[static_cast<size_t>(i)], tol);
  validate::add(summary, fmt::format("OUT[{}]", items - 1), expected, got.back(), tol);
  Validation v;
  v.method = fmt::format(
      "host simulation of one item in {} arithmetic; sampled items of the last timed call (OUT poisoned "
      "before each sample)",
      dtype_name);
  v.points = summary.points;
  v.failures = summary.failures;
  v.max_abs_error = summary.max_abs_error;
  v.max_rel_error = summary.max_rel_error;
  v.tolerance = tol;
  v.first_failure = summary.first_failure;
  v.passed = summary.passed();
  result.validation = v;
  if (!v.passed)
    return (void)fail(
        result, CaseStatus::kInvalid,
        fmt::format("{} of {} sampled items wrong; first: {}", v.failures, v.points, v.first_failure));
  if (!check_read_back(*read, measured->time_stats.median, result)) return;
  // Vector FMA: judged against the declared vector peak where the device has matrix units too.
  const std::string vector_key = "peak.flops." + dtype_name + ".vector";
  apply_plausibility(result, dev,
                     get_number(dev.attributes(), vector_key) ? vector_key : "peak.flops." + dtype_name,
                     "flops_per_s");
}

}  // namespace cmeter::workloads
