// DType: the element and compute types of the op catalogue (docs/abi-keys.md), shared by workloads,
// validation and reports, so every component spells and sizes them the same way.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace cmeter {

enum class DType { kF16, kBF16, kF32, kF64, kI8, kI32, kTF32 };

std::string_view to_string(DType type);
std::optional<DType> parse_dtype(std::string_view name);
// Bytes per stored element (tf32 is stored as f32).
size_t size_bytes(DType type);
// Unit roundoff-style machine epsilon (2^-p for p significand bits; 1 for integers: exact).
double epsilon(DType type);

}  // namespace cmeter
