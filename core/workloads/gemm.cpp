// The gemm workload: C = alpha·op(A)·op(B) + beta·C through `gemm.v1`, any dtype the device supports.
// Inputs are generated on the host from the run seed in the input type, rotated over enough buffer
// sets to exceed the last-level cache, and the outputs of the last sample's calls are checked on sampled
// elements against the FP64 host reference of core/validate with its dtype- and k-aware tolerance.
// FLOP = 2·m·n·k·batch. The steps of run_gemm follow the data: read the parameters, ask the device,
// plan the rotated buffer sets, upload them, create the op, measure, validate, judge plausibility.
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include <fmt/ranges.h>

#include "core/validate/host_data.h"
#include "core/validate/reference.h"
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

// Records the failure in the result; for the steps below, which return an empty optional on failure.
std::nullopt_t failed(CaseResult& result, CaseStatus status, std::string reason) {
  fail(result, status, std::move(reason));
  return std::nullopt;
}

// The case's parameters: the problem the reference checks and the op's parameters as sent.
struct GemmCase {
  validate::GemmProblem problem;  // tight layout
  std::string dtype_name;
  KeyValues op_params;
};

// How many input sets rotate through the timed calls, and the bytes of one.
struct RotationPlan {
  int64_t sets = 2;
  uint64_t set_bytes = 0;
};

// One rotated set: host inputs and their device buffers.
struct Set {
  std::vector<uint8_t> a, b, c0;
  Buffer da, db, dc;
};

std::optional<GemmCase> read_gemm_case(const KeyValues& params, CaseResult& result) {
  ParamReader p(params);
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
  if (auto st = p.finish(); !st) return failed(result, CaseStatus::kFailed, st.error().message);
  const auto dtype_c = parse_dtype(dtype_c_name);
  const auto compute = parse_dtype(compute_name);
  if (!dtype || !dtype_c || !compute)
    return failed(result, CaseStatus::kFailed,
                  fmt::format("unknown dtype in dtype={} dtype_c={} compute={}", dtype_name, dtype_c_name,
                              compute_name));
  if (m <= 0 || n <= 0 || k <= 0 || batch <= 0)
    return failed(result, CaseStatus::kFailed,
                  fmt::format("m, n, k, batch must be positive (m={} n={} k={} batch={})", m, n, k, batch));
  GemmCase c;
  c.problem = {*dtype, *compute, *dtype_c, m, n, k, trans_a, trans_b};
  c.problem.batch = batch;
  c.problem.alpha = alpha;
  c.problem.beta = beta;
  validate::set_tight_layout(c.problem);
  c.dtype_name = dtype_name;
  c.op_params = {{"m", m},
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
  return c;
}

// Unsupported (with the plugin's reason) or failed when the device does not take the op.
bool device_supports(const Device& dev, const GemmCase& c, CaseResult& result) {
  auto query = dev.query_op("gemm.v1", c.op_params);
  if (!query) {
    fail(result, CaseStatus::kFailed, query.error().message);
    return false;
  }
  if (!query->supported) {
    fail(result, CaseStatus::kUnsupported, query->reason);
    return false;
  }
  return true;
}

// Enough sets to exceed the last-level cache (at least the profile's rotation_sets and two, at most
// 64 and what the memory budget holds); records the rotation and the work per call in the method.
std::optional<RotationPlan> plan_rotation(const Context& ctx, const GemmCase& c, CaseResult& result) {
  const Device& dev = ctx.device;
  const validate::GemmProblem& p = c.problem;
  const auto counts = validate::gemm_element_counts(p);
  RotationPlan plan;
  plan.set_bytes = (counts.a + counts.b) * size_bytes(p.input) + counts.c * size_bytes(p.output);
  const uint64_t budget = memory_budget_bytes(dev);
  if (2 * plan.set_bytes > budget)
    return failed(result, CaseStatus::kUnsupported,
                  fmt::format("needs {:.2f} GiB for two rotated input sets; device budget is {:.2f} GiB",
                              2.0 * plan.set_bytes / (1 << 30), 1.0 * budget / (1 << 30)));
  const uint64_t llc = static_cast<uint64_t>(get_int(dev.attributes(), "cache.llc.bytes").value_or(32 << 20));
  int64_t sets =
      std::max<int64_t>(ctx.spec.stats.rotation_sets, static_cast<int64_t>(llc / plan.set_bytes) + 1);
  sets = std::min<int64_t>({sets, 64, static_cast<int64_t>(budget / plan.set_bytes)});
  plan.sets = std::max<int64_t>(sets, 2);
  result.method.rotation_sets = plan.sets;
  result.method.rotation_bytes = plan.sets * plan.set_bytes;
  result.method.flop_per_call = 2.0 * p.m * p.n * p.k * p.batch;
  result.method.bytes_per_call = static_cast<double>(plan.set_bytes);
  return plan;
}

// Generates every set from the run seed and writes it to fresh device buffers.
std::optional<std::vector<Set>> upload_sets(const Context& ctx, const GemmCase& c, const RotationPlan& plan,
                                            Stream& stream, CaseResult& result) {
  const Device& dev = ctx.device;
  const auto counts = validate::gemm_element_counts(c.problem);
  std::vector<Set> data(static_cast<size_t>(plan.sets));
  for (int64_t s = 0; s < plan.sets; ++s) {
    auto rng = validate::make_rng(ctx.seed, ctx.spec.id + "/" + dev.id(), static_cast<uint64_t>(s));
    Set& set = data[static_cast<size_t>(s)];
    set.a = validate::random_elements(c.problem.input, counts.a, rng);
    set.b = validate::random_elements(c.problem.input, counts.b, rng);
    set.c0 = validate::random_elements(c.problem.output, counts.c, rng);
    for (auto [buf, host] : {std::pair{&set.da, &set.a}, {&set.db, &set.b}, {&set.dc, &set.c0}}) {
      auto created = dev.create_buffer(host->size());
      if (!created) return failed(result, CaseStatus::kFailed, created.error().message);
      *buf = std::move(created).value();
      if (auto st = stream.write(*buf, 0, host->data(), host->size()); !st)
        return failed(result, CaseStatus::kFailed, st.error().message);
    }
  }
  if (auto st = stream.synchronize(); !st) return failed(result, CaseStatus::kFailed, st.error().message);
  return data;
}

// Creates the op and records its attributes (impl) in the method.
std::optional<Op> create_gemm_op(const Device& dev, const GemmCase& c, CaseResult& result) {
  auto op = dev.create_op("gemm.v1", c.op_params);
  if (!op) return failed(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes = *attrs;
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }
  return std::move(op).value();
}

// What the timed loop did: call i used set i % sets; the last sample was the last `batch` calls.
struct TimedCalls {
  int64_t calls = 0;
  int64_t batch = 1;
  double per_call_s = 0;  // median
};

// The measurement loop over the rotated sets.
std::optional<TimedCalls> measure_gemm(const Context& ctx, const GemmCase& c, Op& op, Stream& stream,
                                       std::vector<Set>& data, CaseResult& result) {
  const int64_t sets = static_cast<int64_t>(data.size());
  int64_t calls = 0;
  auto enqueue = [&](int64_t i) -> Status {
    calls = std::max(calls, i + 1);
    Set& s = data[static_cast<size_t>(i % sets)];
    Buffer* bufs[] = {&s.da, &s.db, &s.dc};
    return op.enqueue(stream, bufs);
  };
  measure::LoopOptions options{ctx.spec.stats};
  // beta == 0: every set's C is poisoned before each sample, so the checked set's C is what the last
  // sample's calls wrote (a batch that skips or caches its work leaves NaNs). With beta != 0 the timed
  // C accumulates and is not what is checked (read_checked_outputs runs one call from a fresh C0).
  if (c.problem.beta == 0)
    options.before_sample = [&]() -> Status {
      for (Set& s : data) CMETER_TRY(poison_buffer(stream, s.dc, s.c0.size()));
      return {};
    };
  auto measured = measure::run_loop(stream, enqueue, options);
  if (!measured) return failed(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, result.method.flop_per_call, "flops_per_s", "FLOP/s");
  set_status_from_measurement(result, *measured);
  return TimedCalls{calls, measured->batch, measured->time_stats.median};
}

// The outputs to validate, read back timed (read_outputs): with beta == 0, the C of every set the last
// sample's calls wrote (each call overwrites its set's C; the others were poisoned before the sample),
// so work deferred into the read-back costs the whole sample's calls there, not one. With beta != 0 the
// timed C has been accumulated many times, so one extra call from a fresh C0 on `sets.front()` is read.
struct CheckedOutputs {
  std::vector<std::vector<uint8_t>> c;  // one per set of `sets`
  OutputRead read;
};
std::optional<CheckedOutputs> read_checked_outputs(const GemmCase& c, Op& op, Stream& stream,
                                                   std::vector<Set>& data, const std::vector<int64_t>& sets,
                                                   CaseResult& result) {
  if (c.problem.beta != 0) {
    Set& set = data[static_cast<size_t>(sets.front())];
    Buffer* bufs[] = {&set.da, &set.db, &set.dc};
    Status st = stream.write(set.dc, 0, set.c0.data(), set.c0.size());
    if (st) st = op.enqueue(stream, bufs);
    if (!st) return failed(result, CaseStatus::kFailed, st.error().message);
  }
  CheckedOutputs out;
  std::vector<ReadRegion> regions;
  for (int64_t i : sets) {
    Set& set = data[static_cast<size_t>(i)];
    out.c.emplace_back(set.c0.size());
    regions.push_back({&set.dc, 0, out.c.back().data(), set.c0.size()});
    if (c.problem.beta != 0) break;
  }
  auto read = read_outputs(stream, regions);
  if (!read) return failed(result, CaseStatus::kFailed, read.error().message);
  out.read = *read;
  return out;
}

// Sampled elements of one set's C against the FP64 reference: `count` points in each of the first and
// last batch matrix and two drawn at random (every batch matrix is eligible), all drawn from `fresh`
// after the timed calls (not from the run seed, which the journal holds and a plugin can read).
struct SetCheck {
  validate::ValidationSummary summary;
  std::vector<int64_t> batches;
  uint64_t points_seed = 0;
};
SetCheck check_set(const GemmCase& c, const Set& set, const std::vector<uint8_t>& out, int count,
                   std::mt19937_64& fresh) {
  const validate::GemmProblem& p = c.problem;
  const auto counts = validate::gemm_element_counts(p);
  validate::GemmOperands operands{set.a.data(), set.b.data(), set.c0.data()};
  // Inputs are drawn from [-1, 1]: the bound is at least 1.
  operands.max_abs_a = std::max(validate::sampled_max_abs(p.input, set.a.data(), counts.a), 1.0);
  operands.max_abs_b = std::max(validate::sampled_max_abs(p.input, set.b.data(), counts.b), 1.0);
  SetCheck check;
  check.batches = {0};
  if (p.batch > 1) {
    std::uniform_int_distribution<int64_t> pick(0, p.batch - 1);
    check.batches = {0, p.batch - 1, pick(fresh), pick(fresh)};
    std::sort(check.batches.begin(), check.batches.end());
    check.batches.erase(std::unique(check.batches.begin(), check.batches.end()), check.batches.end());
  }
  check.points_seed = fresh();
  for (int64_t bi : check.batches)
    for (auto [i, j] :
         validate::sample_matrix_points(p.m, p.n, count, check.points_seed ^ static_cast<uint64_t>(bi)))
      validate::add_gemm_element(check.summary, p, operands, out.data(), bi, i, j);
  return check;
}

// The set drawn for the full check (1024 points per batch matrix) and 64 points in each other set read;
// records the validation and marks the result invalid when an element is outside its tolerance. True
// when it passed.
bool validate_outputs(const GemmCase& c, const std::vector<Set>& data, const std::vector<int64_t>& sets,
                      const CheckedOutputs& out, std::mt19937_64& fresh, CaseResult& result) {
  const validate::GemmProblem& p = c.problem;
  const size_t drawn = std::uniform_int_distribution<size_t>(0, out.c.size() - 1)(fresh);
  const SetCheck full = check_set(c, data[static_cast<size_t>(sets[drawn])], out.c[drawn], 1024, fresh);
  validate::ValidationSummary others;
  for (size_t k = 0; k < out.c.size(); ++k) {
    if (k == drawn) continue;
    const SetCheck light = check_set(c, data[static_cast<size_t>(sets[k])], out.c[k], 64, fresh);
    others.points += light.summary.points;
    others.failures += light.summary.failures;
    if (others.first_failure.empty() && !light.summary.first_failure.empty())
      others.first_failure = fmt::format("rotation set {}: {}", sets[k], light.summary.first_failure);
  }
  const validate::ValidationSummary& summary = full.summary;
  Validation v;
  v.method = fmt::format(
      "fp64 host reference on sampled C elements of {} (batch matrices {}; points drawn after timing, seed "
      "{:#x})",
      p.beta != 0 ? "one call from a fresh C (beta != 0)"
                  : fmt::format("rotation set {} as the last sample's calls left it (every C poisoned before "
                                "each sample), and 64 per batch matrix in each of the {} other sets it wrote",
                                sets[drawn], out.c.size() - 1),
      fmt::join(full.batches, ", "), full.points_seed);
  v.points = summary.points + others.points;
  v.failures = summary.failures + others.failures;
  v.max_abs_error = summary.max_abs_error;
  v.max_rel_error = summary.max_rel_error;
  v.tolerance = summary.tolerance_at_max;
  v.first_failure = summary.first_failure.empty() ? others.first_failure : summary.first_failure;
  v.passed = v.failures == 0;
  result.validation = v;
  if (!v.passed)
    fail(result, CaseStatus::kInvalid,
         fmt::format("{} of {} sampled elements outside tolerance; first: {}", v.failures, v.points,
                     v.first_failure));
  return v.passed;
}

}  // namespace

void run_gemm(const Context& ctx, CaseResult& result) {
  const Device& dev = ctx.device;
  std::optional<GemmCase> c = read_gemm_case(ctx.spec.params, result);
  if (!c) return;
  result.params = c->op_params;
  if (!device_supports(dev, *c, result)) return;
  std::optional<RotationPlan> plan = plan_rotation(ctx, *c, result);
  if (!plan) return;
  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  std::optional<std::vector<Set>> data = upload_sets(ctx, *c, *plan, *stream, result);
  if (!data) return;
  std::optional<Op> op = create_gemm_op(dev, *c, result);
  if (!op) return;
  std::optional<TimedCalls> timed = measure_gemm(ctx, *c, *op, *stream, *data, result);
  if (!timed) return;
  // The sets read back are those the last sample's calls wrote (the others were poisoned before it);
  // which of them gets the full check is drawn after the timed calls from fresh randomness, so a plugin
  // cannot know which call's output will be read closely.
  std::mt19937_64 fresh = fresh_entropy_rng();
  const int64_t sets = static_cast<int64_t>(data->size());
  const int64_t written = std::max<int64_t>(std::min(timed->batch, sets), 1);
  std::vector<int64_t> written_sets;
  for (int64_t back = 0; back < written; ++back)
    written_sets.push_back(((timed->calls - 1 - back) % sets + sets) % sets);
  if (c->problem.beta != 0)  // one extra call on one set drawn among them
    written_sets = {written_sets[std::uniform_int_distribution<size_t>(0, written_sets.size() - 1)(fresh)]};
  std::optional<CheckedOutputs> out = read_checked_outputs(*c, *op, *stream, *data, written_sets, result);
  if (!out) return;
  if (!validate_outputs(*c, *data, written_sets, *out, fresh, result)) return;
  if (!check_read_back(out->read, timed->per_call_s, result)) return;
  apply_plausibility(
      result, dev, fmt::format("peak.flops.{}", c->problem.compute == DType::kTF32 ? "tf32" : c->dtype_name),
      "flops_per_s");
}

}  // namespace cmeter::workloads
