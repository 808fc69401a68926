// Seeded generation of host data in any dtype and element access for the host references.
#include "core/validate/host_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/validate/half.h"

namespace cmeter::validate {

std::mt19937_64 make_rng(uint64_t seed, const std::string& salt, uint64_t index) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the salt
  for (unsigned char c : salt) h = (h ^ c) * 1099511628211ull;
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(h),
                    static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(index)};
  return std::mt19937_64(seq);
}

std::vector<uint8_t> random_elements(DType type, size_t count, std::mt19937_64& rng, double lo, double hi) {
  std::vector<uint8_t> out(count * size_bytes(type));
  // splitmix64 seeded from the case generator: far faster than a distribution per element, and the
  // stream of values is fixed by the seed alone.
  uint64_t state = rng();
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const double span = hi - lo;
  auto uniform = [&] { return lo + span * static_cast<double>(next() >> 11) * 0x1p-53; };
  const auto ilo = static_cast<int64_t>(std::ceil(lo)), ihi = static_cast<int64_t>(std::floor(hi));
  const auto irange = static_cast<uint64_t>(ihi - ilo + 1);
  uint8_t* p = out.data();
  switch (type) {
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < count; ++i) {
        float f = static_cast<float>(uniform());
        uint16_t v = type == DType::kF16 ? f32_to_f16_bits(f) : f32_to_bf16_bits(f);
        std::memcpy(p + 2 * i, &v, 2);
      }
      break;
    case DType::kF32:
    case DType::kTF32:
      for (size_t i = 0; i < count; ++i) {
        float v = static_cast<float>(uniform());
        std::memcpy(p + 4 * i, &v, 4);
      }
      break;
    case DType::kF64:
      for (size_t i = 0; i < count; ++i) {
        double v = uniform();
        std::memcpy(p + 8 * i, &v, 8);
      }
      break;
    case DType::kI8:
      for (size_t i = 0; i < count; ++i)
        p[i] = static_cast<uint8_t>(static_cast<int8_t>(ilo + static_cast<int64_t>(next() % irange)));
      break;
    case DType::kI32:
      for (size_t i = 0; i < count; ++i) {
        auto v = static_cast<int32_t>(ilo + static_cast<int64_t>(next() % irange));
        std::memcpy(p + 4 * i, &v, 4);
      }
      break;
  }
  return out;
}

double element_as_double(DType type, const uint8_t* data, size_t i) {
  switch (type) {
    case DType::kF16: {
      uint16_t v;
      std::memcpy(&v, data + 2 * i, 2);
      return f16_bits_to_f32(v);
    }
    case DType::kBF16: {
      uint16_t v;
      std::memcpy(&v, data + 2 * i, 2);
      return bf16_bits_to_f32(v);
    }
    case DType::kF32:
    case DType::kTF32: {
      float v;
      std::memcpy(&v, data + 4 * i, 4);
      return v;
    }
    case DType::kF64: {
      double v;
      std::memcpy(&v, data + 8 * i, 8);
      return v;
    }
    case DType::kI8:
      return static_cast<int8_t>(data[i]);
    case DType::kI32: {
      int32_t v;
      std::memcpy(&v, data + 4 * i, 4);
      return v;
    }
  }
  return NAN;
}

double sampled_max_abs(DType type, const uint8_t* data, size_t count, size_t samples) {
  double max_abs = 0;
  const size_t step = std::max<size_t>(1, count / std::max<size_t>(samples, 1));
  for (size_t i = 0; i < count; i += step)
    max_abs = std::max(max_abs, std::fabs(element_as_double(type, data, i)));
  return max_abs;
}

}  // namespace cmeter::validate
