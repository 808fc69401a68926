// Event checks: elapsed times between events recorded in order are finite, non-negative and
// additive; the timer resolves intervals far below a kernel's length; and device-timed work agrees
// with the host's steady clock around it (a timer that runs fast or slow makes every figure wrong).
#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/conformance/session.h"

namespace cmeter::conformance {
namespace {

using Clock = std::chrono::steady_clock;

bool has_timer(const Session& s) {
  const CMTR_Api& api = *s.api;
  return CMETER_RAW_SLOT(api, event_record) && CMETER_RAW_SLOT(api, event_elapsed) &&
         CMETER_RAW_SLOT(api, event_destroy);
}

const char* kNoTimer = "no device timer (event slots NULL): the host times around stream_synchronize";

// Elapsed between two events; an UNIMPLEMENTED answer means "no device timer".
Result<double> elapsed(const Stream& stream, const Event& a, const Event& b) {
  return stream.elapsed_s(a, b);
}

void busy_wait(double seconds) {
  const auto until =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
  }
}

}  // namespace

void check_events_monotonic(Session& s, CheckContext& ctx) {
  if (!has_timer(s)) return ctx.skip(SkipKind::kNotApplicable, kNoTimer);
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  constexpr uint64_t kBytes = 1 << 20;
  auto buffer = d.create_buffer(kBytes);
  if (!buffer) return (void)ctx.setup_failed(buffer.error(), "buffer_create");
  std::vector<uint8_t> host(kBytes, 7);
  double worst_additivity = 0;
  for (int round = 0; round < 20; ++round) {
    ctx.step(fmt::format("round {}: record, write, record, write, record", round));
    auto e0 = stream->record_event();
    if (!e0) return (void)ctx.setup_failed(e0.error(), "event_record");
    Status st = stream->write(*buffer, 0, host.data(), kBytes);
    auto e1 = stream->record_event();
    if (!e1) return (void)ctx.setup_failed(e1.error(), "event_record");
    if (st) st = stream->write(*buffer, 0, host.data(), kBytes);
    auto e2 = stream->record_event();
    if (!e2) return (void)ctx.setup_failed(e2.error(), "event_record");
    if (st) st = stream->synchronize();
    if (!st) return ctx.fail(st.error().message);
    auto t01 = elapsed(*stream, *e0, *e1), t12 = elapsed(*stream, *e1, *e2), t02 = elapsed(*stream, *e0, *e2);
    if (!t01) {
      if (t01.error().code == ErrorCode::kUnimplemented)
        return ctx.skip(SkipKind::kNotApplicable,
                        "event_elapsed answers UNIMPLEMENTED: the host times instead");
      return ctx.fail("event_elapsed: " + t01.error().message);
    }
    if (!t12 || !t02) return ctx.fail("event_elapsed: " + (!t12 ? t12.error() : t02.error()).message);
    for (double t : {*t01, *t12, *t02}) {
      if (!std::isfinite(t) || t < 0)
        return ctx.fail(fmt::format("round {}: elapsed between events recorded in order is {} s", round, t));
    }
    const double gap = std::fabs(*t02 - (*t01 + *t12));
    worst_additivity = std::max(worst_additivity, gap);
    if (gap > 1e-6 + 0.01 * *t02)
      return ctx.fail(
          fmt::format("round {}: elapsed(e0,e2) = {:.9f} s but elapsed(e0,e1) + elapsed(e1,e2) = {:.9f} s",
                      round, *t02, *t01 + *t12));
    if (round == 0) {
      auto backwards = elapsed(*stream, *e1, *e0);
      if (backwards && *backwards > 0)
        ctx.fail(fmt::format("elapsed(later, earlier) is positive ({} s)", *backwards));
      ctx.note(backwards ? fmt::format("elapsed(later, earlier) = {:.3g} s", *backwards)
                         : "elapsed(later, earlier): error \"" + backwards.error().message + "\"");
    }
  }
  if (!ctx.done())
    ctx.pass(fmt::format("20 rounds: non-negative, additive within {:.3g} s", worst_additivity));
}

void check_events_resolution(Session& s, CheckContext& ctx) {
  if (!has_timer(s)) return ctx.skip(SkipKind::kNotApplicable, kNoTimer);
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  double smallest_positive = INFINITY;
  int zero_back_to_back = 0, zero_with_gap = 0;
  constexpr double kGapS = 50e-6;
  constexpr int kPairs = 50;
  for (int gap = 0; gap < 2; ++gap) {
    for (int i = 0; i < kPairs; ++i) {
      ctx.step(fmt::format("pair {} ({})", i, gap ? "50 us host gap" : "back to back"));
      auto a = stream->record_event();
      if (!a) return (void)ctx.setup_failed(a.error(), "event_record");
      if (gap) busy_wait(kGapS);
      auto b = stream->record_event();
      if (!b) return (void)ctx.setup_failed(b.error(), "event_record");
      if (auto st = stream->synchronize(); !st) return ctx.fail(st.error().message);
      auto t = elapsed(*stream, *a, *b);
      if (!t) {
        if (t.error().code == ErrorCode::kUnimplemented)
          return ctx.skip(SkipKind::kNotApplicable,
                          "event_elapsed answers UNIMPLEMENTED: the host times instead");
        return ctx.fail("event_elapsed: " + t.error().message);
      }
      if (!std::isfinite(*t) || *t < 0)
        return ctx.fail(fmt::format("elapsed of an ordered pair is {} s", *t));
      if (*t > 0) smallest_positive = std::min(smallest_positive, *t);
      if (*t == 0) ++(gap ? zero_with_gap : zero_back_to_back);
    }
  }
  ctx.note(fmt::format("{} of {} back-to-back pairs read 0; {} of {} pairs 50 us apart read 0",
                       zero_back_to_back, kPairs, zero_with_gap, kPairs));
  if (zero_with_gap == kPairs)
    return ctx.fail(
        "events recorded 50 us apart (host clock) always read 0 s: the timer is coarser than 50 us");
  if (smallest_positive > 1e-4)
    return ctx.fail(
        fmt::format("smallest non-zero interval is {:.3g} s: coarser than 100 us", smallest_positive));
  ctx.pass(fmt::format("smallest non-zero interval {:.3g} s", smallest_positive));
}

void check_events_host_agreement(Session& s, CheckContext& ctx) {
  if (!has_timer(s)) return ctx.skip(SkipKind::kNotApplicable, kNoTimer);
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  // The work: copy.v1 on the device when it has it, else host-to-device writes.
  constexpr uint64_t kBytes = 8 << 20;
  auto src = d.create_buffer(kBytes);
  if (!src) return (void)ctx.setup_failed(src.error(), "buffer_create");
  auto dst = d.create_buffer(kBytes);
  if (!dst) return (void)ctx.setup_failed(dst.error(), "buffer_create");
  std::vector<uint8_t> host(kBytes, 3);
  if (auto st = stream->write(*src, 0, host.data(), kBytes); !st)
    return (void)ctx.setup_failed(st.error(), "buffer_write");
  std::optional<Op> copy;
  KeyValues params{{"bytes", static_cast<int64_t>(kBytes)}};
  if (auto q = d.query_op("copy.v1", params); q && q->supported) {
    auto op = d.create_op("copy.v1", params);
    if (op) copy = std::move(op).value();
  }
  const std::string work = copy ? "copy.v1 of 8 MiB" : "buffer_write of 8 MiB";
  auto one = [&]() -> Status {
    if (copy) {
      Buffer* bufs[] = {&*src, &*dst};
      return copy->enqueue(*stream, bufs);
    }
    return stream->write(*dst, 0, host.data(), kBytes);
  };
  struct Sample {
    double device_s, host_s;
  };
  auto measure = [&](int count) -> Result<Sample> {
    const auto t0 = Clock::now();
    auto e0 = stream->record_event();
    if (!e0) return e0.error();
    for (int i = 0; i < count; ++i) CMETER_TRY(one());
    auto e1 = stream->record_event();
    if (!e1) return e1.error();
    CMETER_TRY(stream->synchronize());
    const double host_s = std::chrono::duration<double>(Clock::now() - t0).count();
    auto dev = elapsed(*stream, *e0, *e1);
    if (!dev) return dev.error();
    return Sample{*dev, host_s};
  };
  // Calibrate: enough work for 20 ms of host time.
  int count = 1;
  Result<Sample> sample = Error{};
  for (;;) {
    ctx.step(fmt::format("calibrating: {} x {}", count, work));
    sample = measure(count);
    if (!sample) {
      if (sample.error().code == ErrorCode::kUnimplemented)
        return ctx.skip(SkipKind::kNotApplicable,
                        "event_elapsed answers UNIMPLEMENTED: the host times instead");
      return ctx.fail(sample.error().message);
    }
    if (sample->host_s >= 0.02 || count >= 4096) break;
    count *= 2;
  }
  std::vector<double> ratios;
  for (int i = 0; i < 3; ++i) {
    ctx.step(fmt::format("measuring {} x {} ({} of 3)", count, work, i + 1));
    auto m = measure(count);
    if (!m) return ctx.fail(m.error().message);
    ratios.push_back(m->device_s / m->host_s);
    ctx.note(fmt::format("{} x {}: device {:.6f} s, host {:.6f} s, ratio {:.3f}", count, work, m->device_s,
                         m->host_s, m->device_s / m->host_s));
  }
  std::sort(ratios.begin(), ratios.end());
  const double median = ratios[1];
  if (!std::isfinite(median) || median < 0.5 || median > 1.02)
    return ctx.fail(
        fmt::format("device timer disagrees with the host clock: device/host = {:.4f} (median of 3; "
                    "expected 0.5 to 1.02: the device cannot take longer than the host waited, "
                    "nor much less for {:.0f} ms of work)",
                    median, 1e3 * sample->host_s));
  ctx.pass(fmt::format("device/host time ratio {:.3f} over {} x {}", median, count, work));
}

}  // namespace cmeter::conformance
