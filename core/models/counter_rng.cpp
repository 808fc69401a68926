// The generator is header-only (constexpr); this file holds its compile-time self-checks.
#include "core/models/counter_rng.h"

namespace cmeter::models {

static_assert(counter_uniform(1, 2, 3) >= -1.0f && counter_uniform(1, 2, 3) < 1.0f);
static_assert(counter_bits(1, 2, 3) != counter_bits(1, 2, 4));
static_assert(counter_bits(1, 2, 3) != counter_bits(1, 3, 3));
static_assert(counter_bits(1, 2, 3) != counter_bits(2, 2, 3));

}  // namespace cmeter::models
