// Names, sizes and precision of the catalogue's data types.
#include "core/validate/dtype.h"

namespace cmeter {

std::string_view to_string(DType type) {
  switch (type) {
    case DType::kF16:
      return "f16";
    case DType::kBF16:
      return "bf16";
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kI8:
      return "i8";
    case DType::kI32:
      return "i32";
    case DType::kTF32:
      return "tf32";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType t : {DType::kF16, DType::kBF16, DType::kF32, DType::kF64, DType::kI8, DType::kI32, DType::kTF32})
    if (to_string(t) == name) return t;
  return std::nullopt;
}

size_t size_bytes(DType type) {
  switch (type) {
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kF32:
    case DType::kTF32:
    case DType::kI32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI8:
      return 1;
  }
  return 0;
}

double epsilon(DType type) {
  switch (type) {
    case DType::kF16:
      return 0x1p-11;  // 11 significand bits
    case DType::kBF16:
      return 0x1p-8;  // 8
    case DType::kTF32:
      return 0x1p-11;  // 11 (10 stored)
    case DType::kF32:
      return 0x1p-24;
    case DType::kF64:
      return 0x1p-53;
    case DType::kI8:
    case DType::kI32:
      return 0.0;
  }
  return 1.0;
}

}  // namespace cmeter
