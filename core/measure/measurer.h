// The measurement loop of MEASUREMENT.md, written once for every workload: warmup until stable, batch
// calibration (a sample lasts at least sample_min_s so launch overhead is amortised), sampling until
// the stop rule converges or the time cap is hit, with the device timer (events) when the plugin has
// one and a host steady clock around stream_synchronize otherwise. Workloads supply only "enqueue
// call number i"; the loop owns timing and statistics.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/measure/statistics.h"
#include "core/measure/telemetry.h"
#include "core/measure/timer_check.h"
#include "core/plugin/device.h"
#include "core/profile/profile.h"
#include "core/util/result.h"

namespace cmeter::measure {

struct LoopOptions {
  profile::StatsSettings stats;
  bool force_host_timer = false;  // round-trip latency: time enqueue + sync from the host
  int64_t fixed_batch = 0;        // > 0: no calibration, every sample is this many calls
  int64_t max_batch = 1 << 20;
  bool telemetry = true;  // read the device's telemetry between sampled batches, if it has any
  double telemetry_interval_s = 0.1;
  // Runs before each sampled batch, outside the timed region (and before the host clock starts): a
  // workload resets or poisons its outputs here, so a batch that skips, caches or defers its work
  // leaves them wrong for the validation that follows the loop (MEASUREMENT.md, docs/measurement.md).
  std::function<Status()> before_sample;
};

struct Measurement {
  std::vector<double> per_call_s;   // one per sample: sample time / batch
  std::vector<double> host_wall_s;  // one per sample: the host clock around the whole batch (timer check)
  TimerCheck timer_check;           // device timer vs host clock (empty with the host timer)
  int64_t batch = 1;
  int64_t warmup_runs = 0;  // calls made during warmup
  double warmup_s = 0;
  double sampling_s = 0;
  int64_t calls = 0;  // total calls, warmup included
  bool converged = false;
  bool capped = false;
  std::string timer;  // "device" or "host"
  Statistics time_stats;
  // Over the sampling phase; `available` false with no reason when the device offers no telemetry.
  TelemetrySummary telemetry;
};

// What the loop needs of the stream it times: a seam, so the loop can be tested with a fake
// (measurer_test.cpp). Production passes the plugin's Stream (run_loop below adapts it).
class TimedStream {
 public:
  virtual ~TimedStream() = default;
  virtual bool has_device_timer() const = 0;
  // Device seconds from an event recorded before `enqueue_batch` runs to one recorded after it, once
  // both completed (the stream synchronised). Any failing step's error.
  virtual Result<double> device_time_s(const std::function<Status()>& enqueue_batch) = 0;
  virtual Status synchronize() = 0;
  virtual bool has_telemetry() const = 0;
  virtual Result<KeyValues> read_telemetry() const = 0;
  // Why a device has no telemetry worth saying in the report ("no energy source: ..."), or "".
  virtual std::string no_telemetry_reason() const { return ""; }
};

// `enqueue(i)` enqueues call number i (0, 1, 2, ... across warmup and sampling) on `stream`.
Result<Measurement> run_loop(TimedStream& stream, const std::function<Status(int64_t)>& enqueue,
                             const LoopOptions& options);
// The same loop over a plugin stream (its events, its device's telemetry).
Result<Measurement> run_loop(Stream& stream, const std::function<Status(int64_t)>& enqueue,
                             const LoopOptions& options);

}  // namespace cmeter::measure
