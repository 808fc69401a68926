// plugins/cuda/sku_peaks.cpp - the declared-peak table. Dense figures only: NVIDIA's datasheets quote
// tensor throughput "with sparsity" (2x); the dense value, half of it, is what a dense GEMM can reach.
// peak.flops.f64 and .f32 carry the highest dense rate a GEMM of that type may use (f64 tensor cores
// on A100/H100/H200), the vector rates go in .f64.vector / .f32.vector / .f16.vector (fma_peak).
#include "sku_peaks.hpp"

namespace cmeter::cuda {
namespace {

bool contains(const std::string& s, const char* what) {
  return s.find(what) != std::string::npos;
}

constexpr double T = 1e12;

DeclaredPeaks h100_sxm() {
  return {
      "NVIDIA H100 SXM5",
      "NVIDIA H100 Tensor Core GPU datasheet (SXM5 column; dense = half the 'with sparsity' tensor figures): "
      "FP16/BF16 989.4 TFLOPS, TF32 494.7, FP64 tensor 66.9, FP64 33.5, FP32 66.9, INT8 1978.9 TOPS, "
      "HBM3 3.35 TB/s, PCIe Gen5 64 GB/s per direction; FP16 vector 133.8 from the H100 whitepaper",
      {{"flops.f16", 989.4 * T},
       {"flops.bf16", 989.4 * T},
       {"flops.tf32", 494.7 * T},
       {"flops.f32", 66.9 * T},
       {"flops.f64", 66.9 * T},
       {"flops.i8", 1978.9 * T},
       {"flops.f64.vector", 33.5 * T},
       {"flops.f32.vector", 66.9 * T},
       {"flops.f16.vector", 133.8 * T},
       {"flops.bf16.vector", 133.8 * T},
       {"mem.bytes_per_s", 3.35 * T},
       {"link.bytes_per_s", 64e9}}};
}

DeclaredPeaks h100_pcie() {
  return {
      "NVIDIA H100 PCIe",
      "NVIDIA H100 Tensor Core GPU datasheet (PCIe column; dense = half the 'with sparsity' tensor figures): "
      "FP16/BF16 756.5 TFLOPS, TF32 378, FP64 tensor 51.2, FP64 25.6, FP32 51.2, INT8 1513 TOPS, "
      "HBM2e 2.0 TB/s, PCIe Gen5 64 GB/s per direction; FP16/BF16 vector 102.4 = 2 x FP32 (Hopper's packed "
      "half2 FMA on the FP32 lanes, as the H100 whitepaper's SXM5 133.8 = 2 x 66.9)",
      {{"flops.f16", 756.5 * T},
       {"flops.bf16", 756.5 * T},
       {"flops.tf32", 378.0 * T},
       {"flops.f32", 51.2 * T},
       {"flops.f64", 51.2 * T},
       {"flops.i8", 1513.0 * T},
       {"flops.f64.vector", 25.6 * T},
       {"flops.f32.vector", 51.2 * T},
       {"flops.f16.vector", 102.4 * T},
       {"flops.bf16.vector", 102.4 * T},
       {"mem.bytes_per_s", 2.0 * T},
       {"link.bytes_per_s", 64e9}}};
}

DeclaredPeaks h100_nvl() {
  return {
      "NVIDIA H100 NVL",
      "NVIDIA H100 Tensor Core GPU datasheet (H100 NVL column; dense = half the 'with sparsity' tensor "
      "figures): FP16/BF16 835.5 TFLOPS, TF32 417.5, FP64 tensor 60, FP64 30, FP32 60, INT8 1670.5 TOPS, "
      "HBM3 3.9 TB/s, PCIe Gen5 64 GB/s per direction; FP16/BF16 vector 120 = 2 x FP32 (Hopper half2 FMA)",
      {{"flops.f16", 835.5 * T},
       {"flops.bf16", 835.5 * T},
       {"flops.tf32", 417.5 * T},
       {"flops.f32", 60.0 * T},
       {"flops.f64", 60.0 * T},
       {"flops.i8", 1670.5 * T},
       {"flops.f64.vector", 30.0 * T},
       {"flops.f32.vector", 60.0 * T},
       {"flops.f16.vector", 120.0 * T},
       {"flops.bf16.vector", 120.0 * T},
       {"mem.bytes_per_s", 3.9 * T},
       {"link.bytes_per_s", 64e9}}};
}

DeclaredPeaks h200_sxm() {
  return {
      "NVIDIA H200 SXM",
      "NVIDIA H200 Tensor Core GPU datasheet (SXM column; dense = half the 'with sparsity' tensor figures): "
      "FP16/BF16 989.5 TFLOPS, TF32 494.5, FP64 tensor 67, FP64 34, FP32 67, INT8 1979 TOPS, HBM3e 4.8 TB/s, "
      "PCIe Gen5 64 GB/s per direction; FP16/BF16 vector 133.8 as the H100 SXM5 (same GH100 die, 132 SMs at "
      "1980 MHz: H100 whitepaper)",
      {{"flops.f16", 989.5 * T},
       {"flops.bf16", 989.5 * T},
       {"flops.tf32", 494.5 * T},
       {"flops.f32", 67.0 * T},
       {"flops.f64", 67.0 * T},
       {"flops.i8", 1979.0 * T},
       {"flops.f64.vector", 34.0 * T},
       {"flops.f32.vector", 67.0 * T},
       {"flops.f16.vector", 133.8 * T},
       {"flops.bf16.vector", 133.8 * T},
       {"mem.bytes_per_s", 4.8 * T},
       {"link.bytes_per_s", 64e9}}};
}

DeclaredPeaks h200_nvl() {
  return {
      "NVIDIA H200 NVL",
      "NVIDIA H200 Tensor Core GPU datasheet (H200 NVL column; dense = half the 'with sparsity' tensor "
      "figures): FP16/BF16 835.5 TFLOPS, TF32 417.5, FP64 tensor 60, FP64 30, FP32 60, INT8 1670.5 TOPS, "
      "HBM3e 4.8 TB/s, PCIe Gen5 64 GB/s per direction; FP16/BF16 vector 120 = 2 x FP32 (Hopper half2 FMA)",
      {{"flops.f16", 835.5 * T},
       {"flops.bf16", 835.5 * T},
       {"flops.tf32", 417.5 * T},
       {"flops.f32", 60.0 * T},
       {"flops.f64", 60.0 * T},
       {"flops.i8", 1670.5 * T},
       {"flops.f64.vector", 30.0 * T},
       {"flops.f32.vector", 60.0 * T},
       {"flops.f16.vector", 120.0 * T},
       {"flops.bf16.vector", 120.0 * T},
       {"mem.bytes_per_s", 4.8 * T},
       {"link.bytes_per_s", 64e9}}};
}

DeclaredPeaks a100(bool sxm, bool gb80) {
  const double mem = sxm ? (gb80 ? 2.039 : 1.555) : (gb80 ? 1.935 : 1.555);
  return {std::string("NVIDIA A100 ") + (sxm ? "SXM4 " : "PCIe ") + (gb80 ? "80GB" : "40GB"),
          "NVIDIA A100 Tensor Core GPU datasheet (dense): FP16/BF16 312 TFLOPS, TF32 156, FP64 tensor 19.5, "
          "FP64 9.7, FP32 19.5, INT8 624 TOPS, FP16 vector 78 and BF16 vector 39 (A100 whitepaper), memory " +
              std::to_string(mem).substr(0, 5) + " TB/s, PCIe Gen4 32 GB/s per direction",
          {{"flops.f16", 312.0 * T},
           {"flops.bf16", 312.0 * T},
           {"flops.tf32", 156.0 * T},
           {"flops.f32", 19.5 * T},
           {"flops.f64", 19.5 * T},
           {"flops.i8", 624.0 * T},
           {"flops.f64.vector", 9.7 * T},
           {"flops.f32.vector", 19.5 * T},
           {"flops.f16.vector", 78.0 * T},
           {"flops.bf16.vector", 39.0 * T},
           {"mem.bytes_per_s", mem * T},
           {"link.bytes_per_s", 32e9}}};
}

// FP32 lanes per SM by architecture (CUDA C Programming Guide, "Arithmetic Instructions").
int f32_lanes_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;
  if (major == 8 || major == 9 || major == 10 || major == 12) return 128;
  return 0;
}

}  // namespace

DeclaredPeaks declared_peaks(const DeviceFacts& f) {
  const std::string& n = f.name;
  if (f.cc_major == 9 && f.cc_minor == 0) {
    if (contains(n, "H200 NVL")) return h200_nvl();
    if (contains(n, "H200")) return h200_sxm();
    if (contains(n, "H100 NVL")) return h100_nvl();
    if (contains(n, "H100 PCIe") || (contains(n, "H100") && f.sm_count == 114)) return h100_pcie();
    if (contains(n, "H100") && f.sm_count == 132) return h100_sxm();
  }
  if (f.cc_major == 8 && f.cc_minor == 0 && contains(n, "A100") && f.sm_count == 108) {
    const bool sxm = contains(n, "SXM");
    const bool gb80 = f.mem_bytes > (60ull << 30);
    return a100(sxm, gb80);
  }
  // Unknown SKU: what the device's own numbers give, no tensor peaks.
  DeclaredPeaks p;
  p.sku = n;
  std::string how;
  const int lanes = f32_lanes_per_sm(f.cc_major, f.cc_minor);
  if (lanes > 0 && f.sm_count > 0 && f.sm_clock_mhz > 0) {
    const double f32 = 2.0 * lanes * f.sm_count * f.sm_clock_mhz * 1e6;
    p.values.push_back({"flops.f32.vector", f32});
    how += "f32 vector = 2 x " + std::to_string(lanes) + " lanes x " + std::to_string(f.sm_count) +
           " SMs x " + std::to_string(static_cast<int>(f.sm_clock_mhz)) + " MHz";
  }
  if (f.mem_clock_mhz > 0 && f.mem_bus_bits > 0) {
    const double bw = 2.0 * f.mem_clock_mhz * 1e6 * f.mem_bus_bits / 8.0;
    p.values.push_back({"mem.bytes_per_s", bw});
    how += std::string(how.empty() ? "" : "; ") + "memory = 2 x " +
           std::to_string(static_cast<int>(f.mem_clock_mhz)) + " MHz x " + std::to_string(f.mem_bus_bits) +
           " bits / 8";
  }
  p.source = how.empty() ? "unknown SKU: no declared peaks"
                         : "unknown SKU, computed from the driver's figures (not a datasheet): " + how;
  return p;
}

}  // namespace cmeter::cuda
