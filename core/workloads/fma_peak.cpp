// The fma_peak workload: vector FMA throughput through `fma_peak.v1`. Every item runs `lanes`
// independent chains of x = fma(x, a, b) for `iters` rounds and writes the f32 sum of its lanes. Items
// start at different values (ABI 1.3 item_dx, item_period) and the chain multiplies (a != 1), so no
// item's answer is another's and no closed form reproduces the rounded chain; the host simulates, in
// the same dtype arithmetic, items drawn after the timed calls from fresh randomness, so a kernel that
// skips work, computes some items or the closed form fails validation. FLOP = 2·items·iters·lanes.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/validate/reference.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

// Items checked, drawn at random after the timed calls (plus the first and the last): a kernel that
// computes a fraction f of the items passes with probability f^kCheckedItems.
constexpr int64_t kCheckedItems = 1024;
// Every call of a sample writes its own OUT (OutputRotation, workload.h: a sample is at most that many
// calls; every set poisoned before each sample): a kernel that computes once per sample and skips the
// rest, or defers the work to the read-back, leaves sets poisoned or pays for every call there. Up to
// kMaxOutSets sets within kOutSetsBudgetBytes (16 MiB of poison per sample; an H200's ~40 us
// quick-profile call makes a 64-call sample ~2.5 ms, past the timer check's 2 ms); each set written is
// checked at kCheckedItemsPerSet drawn items at least.
constexpr int64_t kMaxOutSets = 64;
constexpr uint64_t kOutSetsBudgetBytes = uint64_t{16} << 20;
constexpr int64_t kCheckedItemsPerSet = 16;

// The ABI 1.0 chain (a = 1): the increment per dtype, small enough that the chains stay in range and
// exact. Used only where the multiplying chain would overflow (f16/bf16 with very many rounds).
static double exact_chain_b(DType t) {
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
  const bool dtype_ok = dtype && (*dtype == DType::kF16 || *dtype == DType::kF32 || *dtype == DType::kF64 ||
                                  *dtype == DType::kBF16);
  const bool shape_ok = items > 0 && iters > 0 && lanes > 0 && lanes <= 32;
  validate::FmaPeakChain chain;
  bool overflow_fallback = false;
  if (dtype_ok && shape_ok) {
    chain = validate::fma_peak_default_chain(*dtype, lanes, iters);
    if (!std::isfinite(chain.grown_bound)) {  // many rounds of f16/bf16: the ABI 1.0 exact chain
      const validate::FmaPeakChain spread = chain;
      chain = validate::FmaPeakChain{};
      chain.b = exact_chain_b(*dtype);
      chain.item_dx = spread.item_dx;
      chain.item_period = spread.item_period;
      overflow_fallback = true;
    }
  }
  const double a = p.get_double("a", chain.a);
  const double b = p.get_double("b", chain.b);
  const double x0 = p.get_double("x0", chain.x0);
  const double dx = p.get_double("dx", chain.dx);
  chain.item_dx = p.get_double("item_dx", chain.item_dx);
  chain.item_period = p.get_int("item_period", chain.item_period);
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  if (!dtype_ok)
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("fma_peak dtype must be f16, bf16, f32 or f64, got '{}'", dtype_name));
  if (!shape_ok)
    return (void)fail(result, CaseStatus::kFailed, "items and iters must be positive and lanes in 1..32");
  if (chain.item_period < 1 || chain.item_period > (int64_t{1} << 24))
    return (void)fail(result, CaseStatus::kFailed, "item_period must be in 1..2^24");
  std::string chain_note =
      a != 1
          ? fmt::format("multiplying chain a = {}, b = {}", a, b)
          : fmt::format("additive chain a = 1, b = {} (a closed form x0 + iters*b can answer it{})", b,
                        overflow_fallback ? "; a multiplying chain would overflow in this many rounds" : "");

  KeyValues op_params{{"dtype", dtype_name},
                      {"items", items},
                      {"iters", iters},
                      {"lanes", lanes},
                      {"a", a},
                      {"b", b},
                      {"x0", x0},
                      {"dx", dx}};
  KeyValues item_params = op_params;
  item_params["item_dx"] = chain.item_dx;
  item_params["item_period"] = chain.item_period;
  const Device& dev = ctx.device;
  // Items apart need ABI 1.3: an older plugin rejects the keys as unknown (an error or unsupported);
  // it then runs identical items, said in the method.
  auto query = dev.query_op("fma_peak.v1", item_params);
  if (query && query->supported) {
    op_params = item_params;
  } else {
    const std::string refused = query ? query->reason : query.error().message;
    auto plain = dev.query_op("fma_peak.v1", op_params);
    if (!plain) return (void)fail(result, CaseStatus::kFailed, plain.error().message);
    if (!plain->supported) return (void)fail(result, CaseStatus::kUnsupported, plain->reason);
    if (chain.item_period > 1)
      chain_note += fmt::format(
          "; items identical: the plugin refused item_dx/item_period (ABI 1.3): \"{}\", so one item "
          "computed and copied would pass",
          refused);
    chain.item_period = 1;
    chain.item_dx = 0;
    query = std::move(plain);
  }
  result.params = op_params;
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);

  const double flop =
      2.0 * static_cast<double>(items) * static_cast<double>(iters) * static_cast<double>(lanes);
  result.method.flop_per_call = flop;
  result.method.bytes_per_call = 4.0 * static_cast<double>(items);
  const uint64_t out_bytes = static_cast<uint64_t>(items) * 4;
  const int64_t sets = output_sets_for(
      out_bytes, std::min(kOutSetsBudgetBytes, memory_budget_bytes(ctx.device) / 16), kMaxOutSets);
  result.method.rotation_sets = sets;

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  std::vector<Buffer> outs;
  for (int64_t s = 0; s < sets; ++s) {
    auto out = dev.create_buffer(out_bytes);
    if (!out) return (void)fail(result, CaseStatus::kFailed, out.error().message);
    outs.push_back(std::move(*out));
  }
  auto op = dev.create_op("fma_peak.v1", op_params);
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  bool fused = true;  // the op's fma.fused = 0: the device rounds the product first (Vulkan allows it)
  if (auto attrs = op->attributes()) {
    result.method.op_attributes = *attrs;
    result.method.impl = get_string(*attrs, "impl").value_or("");
    if (auto f = get_number(*attrs, "fma.fused")) fused = *f != 0;
  }
  // Call i writes set i mod sets; the sets written are poisoned before each sample.
  OutputRotation rotation(sets);
  measure::LoopOptions options{ctx.spec.stats};
  options.max_batch = sets;
  options.before_sample = [&] {
    return rotation.before_sample(
        [&](int64_t set) { return poison_buffer(*stream, outs[static_cast<size_t>(set)], out_bytes); });
  };
  auto measured = measure::run_loop(
      *stream,
      [&](int64_t i) {
        Buffer* bufs[] = {&outs[static_cast<size_t>(rotation.set_of_call(i))]};
        return op->enqueue(*stream, bufs);
      },
      options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, flop, "flops_per_s", "FLOP/s");
  set_status_from_measurement(result, *measured);

  // The sets the last sample wrote, read back (timed: deferred work shows there).
  const std::vector<int64_t> written_sets = rotation.last_sample_sets();
  const int64_t written = static_cast<int64_t>(written_sets.size());
  std::vector<std::vector<float>> got(written_sets.size(), std::vector<float>(static_cast<size_t>(items)));
  std::vector<ReadRegion> regions;
  for (size_t k = 0; k < written_sets.size(); ++k)
    regions.push_back({&outs[static_cast<size_t>(written_sets[k])], 0, got[k].data(), out_bytes});
  auto read = read_outputs(*stream, regions);
  if (!read) return (void)fail(result, CaseStatus::kFailed, read.error().message);
  // Items to check, per set written: the first and the last of set 0, kCheckedItems drawn over all sets
  // and kCheckedItemsPerSet in each, drawn now, after the timed calls, from entropy the worker cannot
  // read (not the run seed). Each is simulated on the host in dtype arithmetic (round after every fma);
  // items one period apart start alike, so each simulation is done once.
  std::mt19937_64 fresh = fresh_entropy_rng();
  std::vector<std::pair<int64_t, int64_t>> checked{{0, 0}, {0, items - 1}};  // (set written, item)
  std::uniform_int_distribution<int64_t> pick_item(0, items - 1), pick_set(0, written - 1);
  for (int64_t k = 0; k < std::min(kCheckedItems, items); ++k)
    checked.emplace_back(pick_set(fresh), pick_item(fresh));
  for (int64_t s = 0; s < written; ++s)
    for (int64_t k = 0; k < std::min(kCheckedItemsPerSet, items); ++k)
      checked.emplace_back(s, pick_item(fresh));
  std::sort(checked.begin(), checked.end());
  checked.erase(std::unique(checked.begin(), checked.end()), checked.end());
  std::map<int64_t, double> simulated;  // item mod period -> the item's sum
  validate::ValidationSummary summary;
  double tol = 0;
  for (const auto& [set, i] : checked) {
    const int64_t phase = i % chain.item_period;
    auto it = simulated.find(phase);
    if (it == simulated.end())
      it = simulated
               .emplace(phase, validate::fma_peak_item(*dtype, lanes, iters, a, b, x0, dx,
                                                       validate::fma_peak_item_offset(chain, i), fused))
               .first;
    const double item_tol = validate::fma_peak_tolerance(lanes, it->second);
    tol = std::max(tol, item_tol);
    const float value = got[static_cast<size_t>(set)][static_cast<size_t>(i)];
    validate::add(summary,
                  written > 1 ? fmt::format("OUT[{}] of call {}", i, set + 1) : fmt::format("OUT[{}]", i),
                  it->second, value, item_tol);
  }
  Validation v;
  v.method = fmt::format(
      "host simulation in {} arithmetic of {} items (the first, the last and items drawn after the timed "
      "calls from fresh entropy) of every call of the last sample, each call writing its own OUT ({} of {} "
      "sets; all poisoned before each sample); {}{}{}",
      dtype_name, checked.size(), written, sets, fused ? "" : "unfused fma (the op's fma.fused = 0); ",
      chain_note,
      chain.item_period > 1 ? fmt::format(" (period {} items)", chain.item_period) : std::string());
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
