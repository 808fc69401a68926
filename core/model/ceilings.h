// Physical ceilings: per-device figures no accelerator or CPU shipping today reaches, applied to every
// result whether or not its plugin declares a peak (MEASUREMENT.md, anti-cheat). A plugin that declares
// no peak, or an absurd one, must not be able to report 10x or 10^6x its real speed as `ok`: a measured
// figure above its ceiling is `implausible`, and a declared peak above it (or one derived from a clock
// no chip runs at) is untrusted: not used as a plausibility gate, nor for efficiency.
//
// Each ceiling is about twice the best single device known (dense, no sparsity), with its source and a
// date to revisit (docs/measurement.md, "Physical ceilings", has the table).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/model/key_values.h"

namespace cmeter {

struct Ceiling {
  double value = 0;          // in the unit of the peak key (FLOP/s, op/s, B/s)
  std::string_view source;   // the best device known and where its figure comes from
  std::string_view revisit;  // when the table is due to be checked again
};

// The ceiling for a declared-peak key (`peak.flops.f16`, `peak.flops.f32.vector`, `peak.mem.bytes_per_s`,
// `peak.link.bytes_per_s`), or nothing for keys without one.
std::optional<Ceiling> ceiling_for(std::string_view peak_key);

// The fastest core clock any chip runs at today (MHz); a device declaring more has its peaks untrusted.
inline constexpr double kMaxCoreClockMhz = 7000;

// Why the declared `peak_key` of a device with these attributes is not to be trusted (above its
// ceiling, or declared from a core clock above kMaxCoreClockMhz), or nothing when it may be used.
std::optional<std::string> untrusted_peak_reason(const KeyValues& attributes, const std::string& peak_key);

}  // namespace cmeter
