// The warmup / calibrate / sample / stop loop.
#include "core/measure/measurer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "core/measure/rapl.h"
#include "core/measure/stop_rule.h"

namespace cmeter::measure {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The plugin's stream as the loop sees it. A CPU device whose plugin reports no energy gets the RAPL
// package counter (core/measure/rapl.h), marked with its source; every reading says where its energy
// came from (energy.source).
class PluginTimedStream : public TimedStream {
 public:
  explicit PluginTimedStream(Stream& stream) : stream_(stream) {
    const Device* device = stream_.device();
    if (device != nullptr && get_string(device->attributes(), "kind").value_or("") == "cpu")
      rapl_.emplace(RaplReader::default_root());
  }
  bool has_device_timer() const override { return stream_.has_device_timer(); }
  Result<double> device_time_s(const std::function<Status()>& enqueue_batch) override {
    auto start = stream_.record_event();
    CMETER_TRY(start);
    CMETER_TRY(enqueue_batch());
    auto stop = stream_.record_event();
    CMETER_TRY(stop);
    CMETER_TRY(stream_.synchronize());
    return stream_.elapsed_s(*start, *stop);
  }
  Status synchronize() override { return stream_.synchronize(); }
  bool has_telemetry() const override { return plugin_telemetry() || (rapl_ && rapl_->available()); }
  Result<KeyValues> read_telemetry() const override {
    KeyValues kv;
    if (plugin_telemetry()) {
      auto r = stream_.device()->telemetry();
      CMETER_TRY(r);
      kv = std::move(r).value();
    }
    if (kv.count("energy.j") != 0) {
      kv.emplace("energy.source", std::string("plugin device_telemetry energy.j"));
    } else if (rapl_ && rapl_->available()) {
      const auto e = rapl_->energy_j();
      if (!e)
        return make_error(ErrorCode::kIo, "RAPL energy counter under {} stopped being readable",
                          RaplReader::default_root());
      kv["energy.j"] = *e;
      kv["energy.source"] = rapl_->source();
    }
    return kv;
  }
  std::string no_telemetry_reason() const override {
    if (rapl_ && !rapl_->available() && !plugin_telemetry()) return rapl_->unavailable_reason();
    return "";
  }

 private:
  bool plugin_telemetry() const { return stream_.device() != nullptr && stream_.device()->has_telemetry(); }
  Stream& stream_;
  mutable std::optional<RaplReader> rapl_;  // reading advances its wrap bookkeeping
};

}  // namespace

Result<Measurement> run_loop(Stream& stream, const std::function<Status(int64_t)>& enqueue,
                             const LoopOptions& options) {
  PluginTimedStream timed(stream);
  return run_loop(timed, enqueue, options);
}

Result<Measurement> run_loop(TimedStream& stream, const std::function<Status(int64_t)>& enqueue,
                             const LoopOptions& options) {
  const profile::StatsSettings& s = options.stats;
  Measurement m;
  const bool device_timer = !options.force_host_timer && stream.has_device_timer();
  m.timer = device_timer ? "device" : "host";
  int64_t next_call = 0;

  // Runs `batch` calls back to back and returns their total seconds. `last_wall_s` keeps the host
  // wall time of the batch, so a device timer that lies (or runs slow) cannot make a batch last for
  // ever: calibration also bounds the batch by wall time.
  double last_wall_s = 0;
  auto run_batch = [&](int64_t batch) -> Result<double> {
    auto wall_start = Clock::now();
    if (device_timer) {
      auto elapsed = stream.device_time_s([&]() -> Status {
        for (int64_t i = 0; i < batch; ++i) CMETER_TRY(enqueue(next_call++));
        return {};
      });
      CMETER_TRY(elapsed);
      if (!std::isfinite(*elapsed) || *elapsed < 0)
        return make_error(ErrorCode::kInternal, "device timer returned {} s for a batch of {}", *elapsed,
                          batch);
      last_wall_s = seconds_since(wall_start);
      return *elapsed;
    }
    auto t0 = Clock::now();
    for (int64_t i = 0; i < batch; ++i) CMETER_TRY(enqueue(next_call++));
    CMETER_TRY(stream.synchronize());
    last_wall_s = seconds_since(t0);
    return last_wall_s;
  };

  // Warmup and calibration.
  int64_t batch = options.fixed_batch > 0 ? options.fixed_batch : 1;
  auto warm_start = Clock::now();
  double previous = -1, last = -1;
  int batches = 0;
  while (true) {
    auto t = run_batch(batch);
    CMETER_TRY(t);
    previous = last;
    last = *t / static_cast<double>(batch);
    ++batches;
    m.warmup_runs += batch;
    if (options.fixed_batch <= 0) {
      int64_t calibrated = calibrate_batch(last, s.sample_min_s, options.max_batch);
      const double wall_per_call = last_wall_s / static_cast<double>(batch);
      calibrated =
          std::min(calibrated, calibrate_batch(wall_per_call, 4 * s.sample_min_s + 0.01, options.max_batch));
      // Re-calibrate only on a clear change (2x), so jitter in tiny calls cannot keep warmup going.
      if (calibrated > 2 * batch || 2 * calibrated < batch) {
        batch = calibrated;
        previous = -1;  // a new batch size: need two agreeing batches of it
        if (seconds_since(warm_start) < s.max_s) continue;
      }
    }
    if (warmup_done(batches, seconds_since(warm_start), last, previous, s.warmup_min_runs, s.warmup_min_s,
                    s.noise))
      break;
  }
  m.warmup_s = seconds_since(warm_start);
  m.batch = batch;

  // Sampling.
  StopRule rule{s.min_samples, s.min_s, s.noise, s.max_s};
  // Telemetry is read between batches by this thread (never while a batch is timed).
  std::optional<TelemetrySampler> telemetry;
  if (options.telemetry && stream.has_telemetry()) {
    telemetry.emplace([&stream] { return stream.read_telemetry(); }, options.telemetry_interval_s);
    telemetry->begin();
  }
  auto sample_start = Clock::now();
  while (true) {
    if (options.before_sample) CMETER_TRY(options.before_sample());
    auto t = run_batch(batch);
    CMETER_TRY(t);
    if (telemetry) telemetry->poll();
    m.per_call_s.push_back(*t / static_cast<double>(batch));
    m.host_wall_s.push_back(last_wall_s);
    StopDecision d = decide_stop(rule, m.per_call_s, seconds_since(sample_start));
    if (d == StopDecision::kConverged) {
      m.converged = true;
      break;
    }
    if (d == StopDecision::kCapped) {
      m.capped = true;
      break;
    }
  }
  m.sampling_s = seconds_since(sample_start);
  if (telemetry) {
    m.telemetry = telemetry->finish();
  } else if (options.telemetry) {
    m.telemetry.unavailable_reason = stream.no_telemetry_reason();  // "" keeps telemetry null
  }
  m.calls = next_call;
  m.time_stats = compute_statistics(m.per_call_s);
  if (device_timer) {
    std::vector<double> device_batch_s;
    device_batch_s.reserve(m.per_call_s.size());
    for (double per_call : m.per_call_s) device_batch_s.push_back(per_call * static_cast<double>(batch));
    m.timer_check = check_device_timer(device_batch_s, m.host_wall_s);
  }
  return m;
}

}  // namespace cmeter::measure
