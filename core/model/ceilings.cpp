// The ceiling table (sources as of 2026-12) and the trust rule for declared peaks.
#include "core/model/ceilings.h"

#include <array>

#include <fmt/format.h>

namespace cmeter {
namespace {

struct Row {
  std::string_view prefix;  // matches the key itself and `<key>.vector`
  Ceiling ceiling;
};

constexpr std::string_view kRevisit = "2027-06";
constexpr std::array kRows = {
    Row{"peak.flops.f64", {4e14, "AMD MI300X/MI325X: 163.4 TFLOP/s FP64 matrix (datasheet), x2", kRevisit}},
    Row{"peak.flops.f32", {4e14, "AMD MI300X/MI325X: 163.4 TFLOP/s FP32 matrix (datasheet), x2", kRevisit}},
    Row{"peak.flops.tf32",
        {3e15, "NVIDIA B300: ~1.2 PFLOP/s dense TF32 (half the sparse figure), x2", kRevisit}},
    Row{"peak.flops.f16",
        {6e15, "NVIDIA B300 / AMD MI355X: ~2.5 PFLOP/s dense FP16 (half the sparse figure), x2", kRevisit}},
    Row{"peak.flops.bf16",
        {6e15, "NVIDIA B300 / AMD MI355X: ~2.5 PFLOP/s dense BF16 (half the sparse figure), x2", kRevisit}},
    Row{"peak.flops.i8", {1.2e16, "AMD MI355X: ~5 POP/s dense INT8 (half the sparse figure), x2", kRevisit}},
    Row{"peak.mem.bytes_per_s", {1.6e13, "NVIDIA B300 / AMD MI355X: 8 TB/s HBM3e, x2", kRevisit}},
    Row{"peak.link.bytes_per_s",
        {1e12, "NVIDIA GH200 NVLink-C2C: 450 GB/s per direction (PCIe 6.0 x16: ~121 GB/s), x2", kRevisit}},
};

}  // namespace

std::optional<Ceiling> ceiling_for(std::string_view peak_key) {
  for (const auto& row : kRows)
    if (peak_key == row.prefix ||
        (peak_key.size() == row.prefix.size() + 7 && peak_key.substr(0, row.prefix.size()) == row.prefix &&
         peak_key.substr(row.prefix.size()) == ".vector"))
      return row.ceiling;
  return std::nullopt;
}

std::optional<std::string> untrusted_peak_reason(const KeyValues& attributes, const std::string& peak_key) {
  const auto declared = get_number(attributes, peak_key);
  if (!declared) return std::nullopt;
  if (const auto c = ceiling_for(peak_key); c && *declared > c->value)
    return fmt::format("the declared {} = {:.4g} exceeds the ceiling {:.4g} no device reaches today ({})",
                       peak_key, *declared, c->value, c->source);
  if (peak_key.rfind("peak.flops.", 0) == 0)
    if (const auto clock = get_number(attributes, "clock.core.mhz"); clock && *clock > kMaxCoreClockMhz)
      return fmt::format(
          "the declared {} comes with a core clock of {:.0f} MHz, above the {:.0f} MHz no chip runs "
          "at today",
          peak_key, *clock, kMaxCoreClockMhz);
  return std::nullopt;
}

}  // namespace cmeter
