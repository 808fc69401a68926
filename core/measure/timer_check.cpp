// The two physical rules between a device's timer and the host clock (timer_check.h).
#include "core/measure/timer_check.h"

#include <algorithm>

#include <fmt/format.h>

namespace cmeter::measure {

std::string TimerCheck::summary() const {
  if (samples == 0) return "";
  if (long_samples == 0 && medium_samples > 0)
    return fmt::format(
        "device/host time per sample: median {:.3f} over {} samples >= {:.1f} ms ({:.3f}..{:.3f} over all "
        "{})",
        median_medium_ratio, medium_samples, kMediumSampleS * 1e3, min_ratio, max_ratio, samples);
  if (long_samples == 0)
    return fmt::format("device/host time per sample {:.3f}..{:.3f} over {} samples", min_ratio, max_ratio,
                       samples);
  return fmt::format(
      "device/host time per sample: median {:.3f} over {} samples >= {:.0f} ms ({:.3f}..{:.3f} "
      "over all {})",
      median_long_ratio, long_samples, kLongSampleS * 1e3, min_ratio, max_ratio, samples);
}

TimerCheck check_device_timer(const std::vector<double>& device_s, const std::vector<double>& host_s) {
  TimerCheck c;
  const size_t n = std::min(device_s.size(), host_s.size());
  std::vector<double> long_ratios, medium_ratios;
  for (size_t i = 0; i < n; ++i) {
    const double d = device_s[i], h = host_s[i];
    if (!(h > 0)) continue;
    const double ratio = d / h;
    c.min_ratio = c.samples == 0 ? ratio : std::min(c.min_ratio, ratio);
    c.max_ratio = c.samples == 0 ? ratio : std::max(c.max_ratio, ratio);
    ++c.samples;
    if (!c.fault && d > h * 1.01 + 100e-6)
      c.fault = fmt::format(
          "the device timer reported {:.6g} s for a sampled batch that the host clock saw take {:.6g} s "
          "(sample {}): more device time than passed is impossible, a timer fault",
          d, h, i + 1);
    if (h >= kLongSampleS) long_ratios.push_back(ratio);
    if (h >= kMediumSampleS) medium_ratios.push_back(ratio);
  }
  c.medium_samples = medium_ratios.size();
  if (!medium_ratios.empty()) {
    std::nth_element(medium_ratios.begin(),
                     medium_ratios.begin() + static_cast<long>(medium_ratios.size() / 2),
                     medium_ratios.end());
    c.median_medium_ratio = medium_ratios[medium_ratios.size() / 2];
  }
  c.long_samples = long_ratios.size();
  if (!long_ratios.empty()) {
    std::nth_element(long_ratios.begin(), long_ratios.begin() + static_cast<long>(long_ratios.size() / 2),
                     long_ratios.end());
    c.median_long_ratio = long_ratios[long_ratios.size() / 2];
    // Judged only where long samples are the rule (at least kMinLongSamples, and half of all): when
    // batches are short, the few that reach kLongSampleS are mostly those the host was preempted
    // during (their host time grew, their device time did not), a selection that biases the ratio low.
    const bool typical = c.long_samples >= kMinLongSamples && 2 * c.long_samples >= c.samples;
    if (!c.fault && typical && c.median_long_ratio < kMinLongSampleRatio)
      c.fault = fmt::format(
          "the device timer reports a median {:.3g} of the host time around the same batches ({} samples of "
          ">= {:.0f} ms host time): far below 1, a slow or scaled timer",
          c.median_long_ratio, c.long_samples, kLongSampleS * 1e3);
  }
  // Short samples the rule: the medium ones, judged the same way against the lower bound.
  const bool long_typical = c.long_samples >= kMinLongSamples && 2 * c.long_samples >= c.samples;
  const bool medium_typical = c.medium_samples >= kMinLongSamples && 2 * c.medium_samples >= c.samples;
  if (!c.fault && !long_typical && medium_typical && c.median_medium_ratio < kMinMediumSampleRatio)
    c.fault = fmt::format(
        "the device timer reports a median {:.3g} of the host time around the same batches ({} samples of "
        ">= {:.1f} ms host time): far below 1, a slow or scaled timer",
        c.median_medium_ratio, c.medium_samples, kMediumSampleS * 1e3);
  return c;
}

}  // namespace cmeter::measure
