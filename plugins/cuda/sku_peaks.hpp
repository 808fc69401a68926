// plugins/cuda/sku_peaks.hpp - declared peak throughput of known NVIDIA data-centre GPUs.
//
// Why this file exists: "% of declared spec" and the plausibility gate need the vendor's figures, and
// the CUDA runtime does not report them. A small table, each row citing its datasheet, keyed by the
// name the driver reports (and the SM count, which separates SXM from PCIe parts). Unknown parts get
// no tensor peaks (no gate rather than a wrong one) and, for known architectures, a vector f32 peak
// and memory bandwidth computed from SM count, clocks and bus width, said so in peak.source.
// Pure C++ (no CUDA), so it is unit-tested without a GPU.
#ifndef CMETER_PLUGINS_CUDA_SKU_PEAKS_HPP_
#define CMETER_PLUGINS_CUDA_SKU_PEAKS_HPP_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cmeter::cuda {

struct DeclaredPeaks {
  std::string sku;     // "NVIDIA H100 SXM5 80GB"
  std::string source;  // where the figures come from
  // (key suffix, value): "flops.f16" -> 989.4e12 becomes attribute peak.flops.f16.
  std::vector<std::pair<std::string, double>> values;
};

struct DeviceFacts {
  std::string name;  // cudaDeviceProp::name, e.g. "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  double sm_clock_mhz = 0;   // maximum (boost) SM clock
  double mem_clock_mhz = 0;  // memory clock as cudaDevAttrMemoryClockRate reports it
  int mem_bus_bits = 0;
  unsigned long long mem_bytes = 0;
};

// The datasheet row for a known SKU, else figures derived from the facts (possibly none).
DeclaredPeaks declared_peaks(const DeviceFacts& facts);

}  // namespace cmeter::cuda

#endif  // CMETER_PLUGINS_CUDA_SKU_PEAKS_HPP_
