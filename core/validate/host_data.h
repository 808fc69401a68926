// Seeded host data in any catalogue dtype: the inputs every workload and every conformance check
// writes to a device, and the reading back of elements as doubles for the host references. One
// generator for both, so a workload's inputs and a conformance check's are drawn the same way and a
// failure reproduces from its seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/validate/dtype.h"

namespace cmeter::validate {

// Deterministic generator for one case: `seed` mixed with a string (the case id, a check label) and a
// set index, the same on every platform.
std::mt19937_64 make_rng(uint64_t seed, const std::string& salt, uint64_t index = 0);

// `count` values uniform in [lo, hi], rounded to `type`, stored in its bit layout (integer types:
// uniform integers in [ceil(lo), floor(hi)]).
std::vector<uint8_t> random_elements(DType type, size_t count, std::mt19937_64& rng, double lo = -1,
                                     double hi = 1);

// Element i of a buffer in `type`, as double (exact for every type).
double element_as_double(DType type, const uint8_t* data, size_t i);

// The largest |element| over about `samples` evenly spaced elements of the first `count` (all of them
// when count <= samples); 0 for an empty buffer.
double sampled_max_abs(DType type, const uint8_t* data, size_t count, size_t samples = 4096);

}  // namespace cmeter::validate
