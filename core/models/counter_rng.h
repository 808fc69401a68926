// A counter-based generator: the value at (seed, stream, index) is a pure function of the three (a
// splitmix64 hash chain), so the host can regenerate any single weight or prompt token without
// generating the ones before it, in any order and on any number of threads, and a run's model is fixed
// by its seed alone (nothing downloaded, nothing stored).
#pragma once

#include <cstdint>

namespace cmeter::models {

// splitmix64's finaliser (Steele, Lea, Flood 2014): a bijection on 64-bit words with full avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// 64 random bits for element `index` of stream `stream` under `seed`.
constexpr uint64_t counter_bits(uint64_t seed, uint64_t stream, uint64_t index) {
  return mix64(mix64(seed ^ mix64(stream + 0x632be59bd9b4e019ull)) + index);
}

// Uniform in [-1, 1) on a grid of 2^-23 (exact in f32).
constexpr float counter_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return static_cast<float>(static_cast<int64_t>(counter_bits(seed, stream, index) >> 40) -
                            (int64_t{1} << 23)) *
         (1.0f / static_cast<float>(int64_t{1} << 23));
}

}  // namespace cmeter::models
