// Tests of the measurement loop through its TimedStream seam, with a fake stream whose device timer
// reports what each test dictates: warmup and batch calibration, the stop rule (converged on steady
// times, capped on noise), device vs host timer, and every error of the device or the workload coming
// back as the loop's error value.
#include "core/measure/measurer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

namespace cmeter::measure {
namespace {

// A stream whose device time is the sum of the per-call seconds `call_s(i)` of the calls enqueued
// between its two events. Failures can be planted in each step.
class FakeStream : public TimedStream {
 public:
  std::function<double(int64_t)> call_s = [](int64_t) { return 1e-3; };
  bool device_timer = true;
  bool telemetry = false;
  double device_s = 0;  // the device clock: advanced by enqueue()
  int64_t enqueued = 0;
  int timed_batches = 0, syncs = 0, telemetry_reads = 0;
  int fail_timed_batch_at = -1;  // this timed batch's events fail
  int fail_sync_at = -1;         // this synchronize fails
  double lie_s = -1;             // >= 0 or NaN: what the timer says instead (NaN: planted garbage)
  bool lie = false;

  Status enqueue(int64_t i) {
    ++enqueued;
    device_s += call_s(i);
    return {};
  }
  bool has_device_timer() const override { return device_timer; }
  Result<double> device_time_s(const std::function<Status()>& enqueue_batch) override {
    if (timed_batches++ == fail_timed_batch_at) return Error{ErrorCode::kDeviceLost, "event_record: lost"};
    const double before = device_s;
    CMETER_TRY(enqueue_batch());
    if (lie) return lie_s;
    return device_s - before;
  }
  Status synchronize() override {
    if (syncs++ == fail_sync_at) return Error{ErrorCode::kUnavailable, "stream_synchronize: gone"};
    return {};
  }
  bool has_telemetry() const override { return telemetry; }
  Result<KeyValues> read_telemetry() const override {
    ++const_cast<FakeStream*>(this)->telemetry_reads;
    return KeyValues{{"power.w", 100.0}};
  }
};

LoopOptions quick_options() {
  LoopOptions o;
  o.stats.warmup_min_runs = 2;
  o.stats.warmup_min_s = 0;
  o.stats.sample_min_s = 0.01;
  o.stats.min_samples = 5;
  o.stats.min_s = 0;
  o.stats.noise = 0.02;
  o.stats.max_s = 2;
  return o;
}

Result<Measurement> run(FakeStream& fake, const LoopOptions& options) {
  return run_loop(
      fake, [&](int64_t i) { return fake.enqueue(i); }, options);
}

TEST_CASE("measurer: steady device times converge; batch calibrated to sample_min_s") {
  FakeStream fake;  // 1 ms per call
  auto m = run(fake, quick_options());
  REQUIRE(m.ok());
  CHECK(m->timer == "device");
  CHECK(m->batch == 10);  // 10 x 1 ms >= sample_min_s = 10 ms
  CHECK(m->converged);
  CHECK_FALSE(m->capped);
  CHECK(m->per_call_s.size() == 5);  // min_samples: the CI of identical samples is zero
  for (double s : m->per_call_s) CHECK(s == doctest::Approx(1e-3));
  CHECK(m->time_stats.median == doctest::Approx(1e-3));
  // Warmup: a batch of 1 (to calibrate), then at least one batch of 10.
  CHECK(m->warmup_runs >= 1 + 10);
  CHECK((m->warmup_runs - 1) % 10 == 0);
  CHECK(m->calls == m->warmup_runs + 5 * 10);
  CHECK(m->calls == fake.enqueued);
}

TEST_CASE(
    "measurer: before_sample runs before every sampled batch, outside it, and its error ends the loop") {
  FakeStream fake;
  LoopOptions o = quick_options();
  std::vector<int64_t> enqueued_at_hook;  // calls enqueued when the hook ran: never inside a batch
  o.before_sample = [&]() -> Status {
    enqueued_at_hook.push_back(fake.enqueued);
    return {};
  };
  auto m = run(fake, o);
  REQUIRE(m.ok());
  REQUIRE(enqueued_at_hook.size() == m->per_call_s.size());  // once per sample, none in warmup
  for (size_t i = 0; i < enqueued_at_hook.size(); ++i)
    CHECK(enqueued_at_hook[i] == m->warmup_runs + static_cast<int64_t>(i) * m->batch);
  for (double s : m->per_call_s) CHECK(s == doctest::Approx(1e-3));  // not timed

  FakeStream failing;
  o.before_sample = []() -> Status { return Error{ErrorCode::kUnavailable, "poison write failed"}; };
  auto failed = run(failing, o);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message == "poison write failed");
}

TEST_CASE("measurer: warmup goes on until two consecutive batches agree") {
  FakeStream fake;
  // Clocks ramping up: 5, 4, 3, 2 ms, then 1 ms per call from call 4 on.
  fake.call_s = [](int64_t i) { return std::max<double>(1, 5 - static_cast<double>(i)) * 1e-3; };
  LoopOptions o = quick_options();
  o.fixed_batch = 1;
  auto m = run(fake, o);
  REQUIRE(m.ok());
  CHECK(m->warmup_runs == 6);  // calls 4 and 5 are the first two that agree
  CHECK(m->time_stats.median == doctest::Approx(1e-3));
  for (double s : m->per_call_s) CHECK(s == doctest::Approx(1e-3));
}

TEST_CASE("measurer: a fixed batch skips calibration") {
  FakeStream fake;
  LoopOptions o = quick_options();
  o.fixed_batch = 3;
  auto m = run(fake, o);
  REQUIRE(m.ok());
  CHECK(m->batch == 3);
  CHECK(m->warmup_runs % 3 == 0);
}

TEST_CASE("measurer: noise that never settles stops at the time cap, marked capped") {
  FakeStream fake;
  // Two steady warmup calls, then samples alternating 1 ms and 3 ms: the median's CI never narrows
  // to 0.1%.
  fake.call_s = [](int64_t i) { return i < 2 || i % 2 == 0 ? 1e-3 : 3e-3; };
  LoopOptions o = quick_options();
  o.fixed_batch = 1;
  o.stats.noise = 0.001;
  o.stats.max_s = 0.2;
  auto m = run(fake, o);
  REQUIRE(m.ok());
  CHECK(m->capped);
  CHECK_FALSE(m->converged);
  CHECK(m->sampling_s >= 0.2);
  CHECK(m->sampling_s < 2.0);
  CHECK(m->per_call_s.size() > 5);
}

TEST_CASE("measurer: the host timer when forced or when the device has none") {
  for (bool forced : {true, false}) {
    CAPTURE(forced);
    FakeStream fake;
    fake.call_s = [](int64_t) { return 1.0; };  // what the device timer would say
    fake.device_timer = forced;                 // forced: the device has a timer, but the host's is asked for
    LoopOptions o = quick_options();
    o.force_host_timer = forced;
    o.stats.sample_min_s = 0.002;
    o.stats.noise = 0.5;
    auto m = run_loop(
        fake,
        [&](int64_t i) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          return fake.enqueue(i);
        },
        o);
    REQUIRE(m.ok());
    CHECK(m->timer == "host");
    CHECK(fake.timed_batches == 0);         // no events
    CHECK(fake.syncs > 0);                  // the host waits for every batch
    CHECK(m->time_stats.median >= 150e-6);  // wall time of the sleeps, not the fake's 1 s
    CHECK(m->time_stats.median < 0.1);
  }
}

TEST_CASE("measurer: device and workload errors come back as the loop's error") {
  SUBCASE("the timed batch's events fail") {
    FakeStream fake;
    fake.fail_timed_batch_at = 4;
    auto m = run(fake, quick_options());
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == ErrorCode::kDeviceLost);
    CHECK(m.error().message == "event_record: lost");
  }
  SUBCASE("synchronize fails (host timer)") {
    FakeStream fake;
    fake.device_timer = false;
    fake.fail_sync_at = 2;
    auto m = run(fake, quick_options());
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == ErrorCode::kUnavailable);
  }
  SUBCASE("an enqueue fails") {
    FakeStream fake;
    auto m = run_loop(
        fake,
        [&](int64_t i) -> Status {
          if (i == 17) return Error{ErrorCode::kResourceExhausted, "op_enqueue: out of memory"};
          return fake.enqueue(i);
        },
        quick_options());
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == ErrorCode::kResourceExhausted);
    CHECK(m.error().message == "op_enqueue: out of memory");
  }
  SUBCASE("the device timer returns garbage") {
    for (double garbage :
         {std::numeric_limits<double>::quiet_NaN(), -1.0, std::numeric_limits<double>::infinity()}) {
      FakeStream fake;
      fake.lie = true;
      fake.lie_s = garbage;
      auto m = run(fake, quick_options());
      REQUIRE_FALSE(m.ok());
      CHECK(m.error().code == ErrorCode::kInternal);
      CHECK(m.error().message.find("device timer returned") != std::string::npos);
    }
  }
}

TEST_CASE("measurer: telemetry is read during sampling only when asked and offered") {
  FakeStream fake;
  fake.telemetry = true;
  LoopOptions o = quick_options();
  auto m = run(fake, o);
  REQUIRE(m.ok());
  CHECK(fake.telemetry_reads >= 2);  // begin and finish
  FakeStream off;
  off.telemetry = true;
  o.telemetry = false;
  REQUIRE(run(off, o).ok());
  CHECK(off.telemetry_reads == 0);
}

}  // namespace
}  // namespace cmeter::measure
