// The stream and copy workloads: device memory bandwidth. `stream` runs STREAM's four kernels through
// `stream.v1` with arrays of at least 4x the last-level cache and counts bytes as STREAM does; `copy`
// times `copy.v1` (device-to-device, 2 bytes moved per byte copied). Every output element is checked.
// Both kernels are idempotent (same inputs, same output), so a call that skips its work leaves a right
// output wherever an earlier call wrote it. So every call of a sample writes an output of its own
// (OutputRotation, workload.h): no call of a sample can be skipped (docs/measurement.md).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/util/resident_memory.h"
#include "core/validate/host_data.h"
#include "core/validate/reference.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {
namespace {

// Output arrays per case (a sample is at most that many calls), where memory allows: every one is
// poisoned before each sample, from the host, so each costs about one array write per sample. Two keep
// that at the cost of the sample's own calls. Limit: on a fast GPU a sample is then two calls
// (~0.3 ms for 256 MiB arrays on an H200), short of the timer check's 2 ms long-sample threshold, so
// there a scaled timer is left to the ceilings (docs/measurement.md).
constexpr int64_t kMaxOutputSets = 2;

// MEASUREMENT.md: arrays of at least 4x the last-level cache, so no kernel runs from cache. Capped at
// `max_bytes` (a profile parameter): some hypervisors report the whole host's L3 (512 MiB seen on a
// 2-vCPU VM), which would make arrays of gigabytes. The multiple reached is recorded in the result.
//
// The growth past `requested` is also capped by host memory: a case holds its arrays' host copies and
// read-backs (5 arrays) and, on a device in host memory (mem.host_shared), the device arrays too (4
// more), all inside a worker limited to half the machine's memory. 2 GiB arrays on the 24 GiB VM above
// (a 12 GiB limit) stopped the worker. The requested size itself is never cut.
uint64_t array_bytes_for(const Device& dev, uint64_t requested, uint64_t max_bytes, CaseResult& result) {
  const uint64_t llc = static_cast<uint64_t>(get_int(dev.attributes(), "cache.llc.bytes").value_or(0));
  const bool host_shared = get_bool(dev.attributes(), "mem.host_shared").value_or(false);
  const uint64_t phys = physical_memory_bytes();
  const uint64_t host_cap = phys > 0 ? phys / 2 / 10 * 8 / (host_shared ? 9 : 5) : max_bytes;
  const uint64_t grown = std::min({4 * llc, max_bytes, host_cap});
  const uint64_t bytes = std::max(requested, grown);
  if (4 * llc > bytes && host_cap < std::min(4 * llc, max_bytes))
    result.method.op_attributes["array_capped_by"] = "host memory (" + mib_text(host_cap) + " per array)";
  if (llc > 0) {
    result.method.op_attributes["llc_bytes"] = static_cast<int64_t>(llc);
    result.method.op_attributes["array_llc_multiple"] = static_cast<double>(bytes) / static_cast<double>(llc);
  }
  return bytes;
}

Validation to_validation(const validate::ValidationSummary& s, std::string method, double tol) {
  Validation v;
  v.method = std::move(method);
  v.points = s.points;
  v.failures = s.failures;
  v.max_abs_error = s.max_abs_error;
  v.max_rel_error = s.max_rel_error;
  v.tolerance = tol;
  v.first_failure = s.first_failure;
  v.passed = s.passed();
  return v;
}

}  // namespace

void run_stream(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const std::string kind = p.get_string("kind", "triad");
  const std::string dtype_name = p.get_string("dtype", "f64");
  const int64_t bytes_per_array = p.get_int("bytes_per_array", 64 << 20);
  const int64_t max_bytes_per_array = p.get_int("max_bytes_per_array", int64_t{1} << 30);
  const double scalar = p.get_double("scalar", 3.0);
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  const auto dtype = parse_dtype(dtype_name);
  if (!dtype || (*dtype != DType::kF32 && *dtype != DType::kF64))
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("stream dtype must be f32 or f64, got '{}'", dtype_name));
  if (kind != "copy" && kind != "scale" && kind != "add" && kind != "triad")
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("stream kind must be copy, scale, add or triad, got '{}'", kind));
  const Device& dev = ctx.device;
  const size_t elem = size_bytes(*dtype);
  const uint64_t array_bytes =
      array_bytes_for(dev, static_cast<uint64_t>(std::max<int64_t>(bytes_per_array, 4096)),
                      static_cast<uint64_t>(std::max<int64_t>(max_bytes_per_array, 4096)), result);
  const int64_t n = static_cast<int64_t>(array_bytes / elem);
  KeyValues op_params{{"kind", kind}, {"dtype", dtype_name}, {"n", n}, {"scalar", scalar}};
  result.params = op_params;
  result.params["bytes_per_array"] = static_cast<int64_t>(n * static_cast<int64_t>(elem));
  if (3 * array_bytes > memory_budget_bytes(dev))
    return (void)fail(result, CaseStatus::kUnsupported, "three arrays do not fit the device memory budget");
  auto query = dev.query_op("stream.v1", op_params);
  if (!query) return (void)fail(result, CaseStatus::kFailed, query.error().message);
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);

  const double bytes =
      static_cast<double>((kind == "copy" || kind == "scale") ? 2 : 3) * static_cast<double>(n * elem);
  result.method.bytes_per_call = bytes;

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  auto rng = validate::make_rng(ctx.seed, ctx.spec.id + "/" + dev.id());
  std::vector<std::vector<uint8_t>> host(3);
  Buffer bufs[3];
  for (int i = 0; i < 3; ++i) {
    host[i] = validate::random_elements(*dtype, static_cast<size_t>(n), rng, 0.5, 2.0);
    auto b = dev.create_buffer(array_bytes);
    if (!b) return (void)fail(result, CaseStatus::kFailed, b.error().message);
    bufs[i] = std::move(b).value();
    if (auto st = stream->write(bufs[i], 0, host[i].data(), host[i].size()); !st)
      return (void)fail(result, CaseStatus::kFailed, st.error().message);
  }
  auto op = dev.create_op("stream.v1", op_params);
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes.insert(attrs->begin(), attrs->end());
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }
  // Output set s is bufs[out_index] for s = 0, then extra arrays; call i writes set i mod sets.
  const int out_index = validate::stream_output_array(kind);
  const int64_t sets =
      output_sets_for(array_bytes, memory_budget_bytes(dev) - 3 * array_bytes, kMaxOutputSets);
  result.method.rotation_sets = sets;  // output sets: call i writes output i mod sets
  result.method.rotation_bytes = static_cast<int64_t>(2 + sets) * n * static_cast<int64_t>(elem);
  std::vector<Buffer> extra_outputs;
  for (int64_t s = 1; s < sets; ++s) {
    auto b = dev.create_buffer(array_bytes);
    if (!b) return (void)fail(result, CaseStatus::kFailed, b.error().message);
    extra_outputs.push_back(std::move(b).value());
  }
  auto output = [&](int64_t set) -> Buffer& {
    return set == 0 ? bufs[out_index] : extra_outputs[static_cast<size_t>(set - 1)];
  };
  OutputRotation rotation(sets);
  measure::LoopOptions options{ctx.spec.stats};
  options.max_batch = sets;
  options.before_sample = [&] {
    return rotation.before_sample([&](int64_t set) { return poison_buffer(*stream, output(set), n * elem); });
  };
  auto measured = measure::run_loop(
      *stream,
      [&](int64_t i) {
        Buffer* ptrs[] = {&bufs[0], &bufs[1], &bufs[2]};
        ptrs[out_index] = &output(rotation.set_of_call(i));
        return op->enqueue(*stream, ptrs);
      },
      options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, bytes, "bytes_per_s", "B/s");
  set_status_from_measurement(result, *measured);

  // Each kernel is idempotent (it never writes an array it reads), so every output has a closed form.
  const std::vector<int64_t> written_sets = rotation.last_sample_sets();
  const int64_t written = static_cast<int64_t>(written_sets.size());
  std::vector<std::vector<uint8_t>> got(written_sets.size(), std::vector<uint8_t>(host[0].size()));
  std::vector<ReadRegion> regions;
  for (size_t k = 0; k < written_sets.size(); ++k)
    regions.push_back({&output(written_sets[k]), 0, got[k].data(), host[0].size()});
  auto read = read_outputs(*stream, regions);
  if (!read) return (void)fail(result, CaseStatus::kFailed, read.error().message);
  validate::ValidationSummary summary;
  const uint8_t* const inputs[3] = {host[0].data(), host[1].data(), host[2].data()};
  double tol_max = 0;
  for (const auto& out : got)
    tol_max = std::max(tol_max,
                       validate::check_stream_output(summary, kind, scalar, *dtype, inputs, out.data(), n));
  result.validation = to_validation(
      summary,
      fmt::format("every output element of each call of the last sample against its closed form (each call "
                  "writing its own output, {} of {}; all poisoned before each sample)",
                  written, sets),
      tol_max);
  if (!result.validation->passed)
    return (void)fail(result, CaseStatus::kInvalid,
                      fmt::format("{} of {} elements wrong; first: {}", summary.failures, summary.points,
                                  summary.first_failure));
  record_read_back(*read, result);  // times only: see kFirstReadAllowance
  apply_plausibility(result, dev, "peak.mem.bytes_per_s", "bytes_per_s");
}

void run_copy(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const int64_t requested = p.get_int("bytes", 64 << 20);
  const int64_t max_bytes = p.get_int("max_bytes", int64_t{1} << 30);
  // Which copy path (copy.v1 `engine`: kernel or copy_engine); passed only when the profile names one.
  const std::string engine = p.get_string("engine", "");
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  const Device& dev = ctx.device;
  const uint64_t bytes = array_bytes_for(dev, static_cast<uint64_t>(std::max<int64_t>(requested, 64)),
                                         static_cast<uint64_t>(std::max<int64_t>(max_bytes, 64)), result);
  KeyValues op_params{{"bytes", static_cast<int64_t>(bytes)}};
  if (!engine.empty()) op_params["engine"] = engine;
  result.params = op_params;
  if (2 * bytes > memory_budget_bytes(dev))
    return (void)fail(result, CaseStatus::kUnsupported, "two buffers do not fit the device memory budget");
  auto query = dev.query_op("copy.v1", op_params);
  if (!query) return (void)fail(result, CaseStatus::kFailed, query.error().message);
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);
  result.method.bytes_per_call = 2.0 * static_cast<double>(bytes);

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  auto rng = validate::make_rng(ctx.seed, ctx.spec.id + "/" + dev.id());
  std::vector<uint8_t> pattern = validate::random_elements(DType::kI8, bytes, rng, -128, 127);
  auto src = dev.create_buffer(bytes);
  if (!src) return (void)fail(result, CaseStatus::kFailed, src.error().message);
  Status st = stream->write(*src, 0, pattern.data(), bytes);
  if (!st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  std::vector<Buffer> dsts;
  auto first_dst = dev.create_buffer(bytes);
  if (!first_dst) return (void)fail(result, CaseStatus::kFailed, first_dst.error().message);
  dsts.push_back(std::move(first_dst).value());
  auto op = dev.create_op("copy.v1", op_params);
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes.insert(attrs->begin(), attrs->end());
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }
  // Call i writes DST i mod sets.
  const int64_t sets = output_sets_for(bytes, memory_budget_bytes(dev) - 2 * bytes, kMaxOutputSets);
  result.method.rotation_sets = sets;  // DST sets: call i writes DST i mod sets
  result.method.rotation_bytes = static_cast<int64_t>((1 + sets) * bytes);
  for (int64_t s = 1; s < sets; ++s) {
    auto dst = dev.create_buffer(bytes);
    if (!dst) return (void)fail(result, CaseStatus::kFailed, dst.error().message);
    dsts.push_back(std::move(dst).value());
  }
  OutputRotation rotation(sets);
  measure::LoopOptions options{ctx.spec.stats};
  options.max_batch = sets;
  options.before_sample = [&] {
    return rotation.before_sample(
        [&](int64_t set) { return poison_buffer(*stream, dsts[static_cast<size_t>(set)], bytes); });
  };
  auto measured = measure::run_loop(
      *stream,
      [&](int64_t i) {
        Buffer* ptrs[] = {&*src, &dsts[static_cast<size_t>(rotation.set_of_call(i))]};
        return op->enqueue(*stream, ptrs);
      },
      options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, 2.0 * static_cast<double>(bytes), "bytes_per_s", "B/s");
  set_status_from_measurement(result, *measured);

  const std::vector<int64_t> written_sets = rotation.last_sample_sets();
  const int64_t written = static_cast<int64_t>(written_sets.size());
  std::vector<std::vector<uint8_t>> got(written_sets.size(), std::vector<uint8_t>(bytes));
  std::vector<ReadRegion> regions;
  for (size_t k = 0; k < written_sets.size(); ++k)
    regions.push_back({&dsts[static_cast<size_t>(written_sets[k])], 0, got[k].data(), bytes});
  auto read = read_outputs(*stream, regions);
  if (!read) return (void)fail(result, CaseStatus::kFailed, read.error().message);
  validate::ValidationSummary summary;
  summary.points = static_cast<int64_t>(bytes) * written;
  for (int64_t k = 0; k < written && summary.failures == 0; ++k) {
    const std::vector<uint8_t>& out = got[static_cast<size_t>(k)];
    if (std::memcmp(out.data(), pattern.data(), bytes) != 0) {
      size_t first = 0;
      while (first < bytes && out[first] == pattern[first]) ++first;
      summary.failures = 1;
      summary.first_failure = fmt::format("DST of call {}, byte {}: got {}, expected {}", k + 1, first,
                                          out[first], pattern[first]);
    }
  }
  result.validation = to_validation(
      summary,
      fmt::format("every byte of each DST the last sample wrote compared with SRC (each call writing its own "
                  "DST, {} of {}; all poisoned before each sample)",
                  written, sets),
      0);
  if (!result.validation->passed)
    return (void)fail(result, CaseStatus::kInvalid, "copied data differs: " + summary.first_failure);
  record_read_back(*read, result);  // times only: see kFirstReadAllowance
  apply_plausibility(result, dev, "peak.mem.bytes_per_s", "bytes_per_s");
}

}  // namespace cmeter::workloads
