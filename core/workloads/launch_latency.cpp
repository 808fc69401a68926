// The launch_latency workload, two forms (MEASUREMENT.md): `throughput` times a long back-to-back
// batch of `noop.v1` launches with the device timer (time per launch when the queue is full);
// `round_trip` times one launch from enqueue to completion with the host clock, one call per sample.
#include <cmath>

#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

void run_launch_latency(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const std::string form = p.get_string("form", "throughput");
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  if (form != "throughput" && form != "round_trip")
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("form must be throughput or round_trip, got '{}'", form));
  result.params = KeyValues{{"form", form}};
  const Device& dev = ctx.device;
  auto query = dev.query_op("noop.v1", {});
  if (!query) return (void)fail(result, CaseStatus::kFailed, query.error().message);
  if (!query->supported) return (void)fail(result, CaseStatus::kUnsupported, query->reason);
  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  auto op = dev.create_op("noop.v1", {});
  if (!op) return (void)fail(result, CaseStatus::kFailed, op.error().message);
  if (auto attrs = op->attributes()) {
    result.method.op_attributes = *attrs;
    result.method.impl = get_string(*attrs, "impl").value_or("");
  }
  measure::LoopOptions options{ctx.spec.stats};
  if (form == "round_trip") {
    options.force_host_timer = true;
    options.fixed_batch = 1;
  }
  std::span<Buffer* const> none;
  auto measured = measure::run_loop(
      *stream, [&](int64_t) { return op->enqueue(*stream, none); }, options);
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, 0, "", "");
  // The time metric is the figure: rename it to say what it is.
  result.metrics.front().name = "latency_s";
  set_status_from_measurement(result, *measured);
  const std::string timer_check = result.method.timer_detail;  // set by set_status_from_measurement
  result.method.timer_detail =
      std::string(form == "round_trip"
                      ? "host steady_clock around enqueue + stream_synchronize, 1 call per sample"
                      : "per launch within a back-to-back batch") +
      (timer_check.empty() ? "" : "; " + timer_check);
  Validation v;
  v.method = "noop has no output; only the physical bound (>= 1 ns per launch) is checked";
  v.passed = true;
  result.validation = v;
  if (counts_in_summary(result.status) && result.metrics.front().stats.median < 1e-9)
    fail(result, CaseStatus::kImplausible,
         fmt::format("median {:.3g} s per launch is below 1 ns: a timer bug",
                     result.metrics.front().stats.median));
}

}  // namespace cmeter::workloads
