// Device timers held to the host clock, in every run (MEASUREMENT.md, anti-cheat): a plugin's events
// time each sampled batch, and the host's steady clock times the same batch from before its first
// enqueue to after the stream synchronised. Physics gives two rules, applied per case:
//   - a device time longer than the host time around it is impossible (allowing the two clocks'
//     granularity: 1% + 100 us), so one such sample is a timer fault;
//   - on batches long enough that the enqueue and synchronise overheads are negligible (host time
//     >= kLongSampleS), the device's events span the work the host waited for, so the median ratio
//     device/host far below 1 (< kMinLongSampleRatio) is a timer that runs slow: a fault too.
// Measured on honest plugins (quick profile, this 2-core VM): the CPU plugin's median ratio 0.999-1.000,
// PoCL's 0.979-0.994 (single samples down to 0.29 when the host was preempted: hence the median); but
// PoCL's launch-latency case reached a median 0.78 at load 10 on 2 cores (short kernels, the host's
// enqueue and wake-up delays in its time), so the bound is 0.5: a timer scaled by 0.5 or less is
// caught on any load, a subtler scaling is left to the declared-peak and ceiling gates.
// A fault makes the result `implausible` with both figures in the reason. A plugin that scales its
// timer by 0.1 or 1e-9, or reports more time than passed, is caught whatever peaks it declares.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cmeter::measure {

inline constexpr double kLongSampleS = 0.002;
inline constexpr double kMinLongSampleRatio = 0.5;
// The ratio rule needs this many long samples, and half of all samples long (timer_check.cpp says why:
// a CI run under ASan once judged a stub transfer on its one preempted sample, ratio 0.136).
inline constexpr size_t kMinLongSamples = 3;
// Where long samples are not the rule (a sample capped at a few calls, each writing its own output:
// STREAM on a fast GPU, ~0.3 ms), the same median rule on samples of >= kMediumSampleS with the lower
// bound kMinMediumSampleRatio: an honest ratio that low needs the enqueue and synchronise overhead at
// four times the device's work in most samples. A timer scaled by 0.1 is still caught.
inline constexpr double kMediumSampleS = 0.0003;
inline constexpr double kMinMediumSampleRatio = 0.2;

struct TimerCheck {
  size_t samples = 0;            // samples compared
  size_t long_samples = 0;       // of which host time >= kLongSampleS
  double median_long_ratio = 0;  // device / host over the long samples (0 when none)
  size_t medium_samples = 0;     // host time >= kMediumSampleS (long ones included)
  double median_medium_ratio = 0;
  double min_ratio = 0, max_ratio = 0;
  std::optional<std::string> fault;  // the reason, with both figures, when a rule is broken
  std::string summary() const;       // one line for Method::timer_detail
};

// device_s[i] and host_s[i]: the same sampled batch by the device's events and the host's clock.
TimerCheck check_device_timer(const std::vector<double>& device_s, const std::vector<double>& host_s);

}  // namespace cmeter::measure
