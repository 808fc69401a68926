// plugins/cpu/cpu_info.hpp - what the CPU plugin knows about the machine, and how it found out.
//
// Why this file exists: a CPU's peak FLOP/s is not printed anywhere a program can read, and inside a
// VM /proc/cpuinfo shows only the nominal clock. The plugin therefore measures the effective clock
// (a dependent integer-add chain, one add per cycle) and each core's FMA throughput at
// plugin_initialize, combines them with a small documented table of FMA pipes per
// microarchitecture, and keeps the whole derivation so `peak.source` can state it.
#ifndef CMETER_PLUGINS_CPU_CPU_INFO_HPP_
#define CMETER_PLUGINS_CPU_CPU_INFO_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels.hpp"

namespace cmeter::cpu {

// What the plugin's bf16 and i8 GEMM (oneDNN, onednn_gemm.cpp) runs natively on this CPU.
struct LowPrecisionIsa {
  bool onednn = false;    // built with oneDNN
  std::string library;    // "oneDNN 2.6.3 (OpenMP, 2 threads)"
  std::string isa;        // oneDNN's effective ISA ("avx512_core_bf16"), capped at the kernels' ISA
  bool bf16_dot = false;  // vdpbf16ps (avx512_core_bf16) or AMX-BF16
  bool i8_dot = false;    // VNNI (avx512_core_vnni) or AMX-INT8
  bool amx = false;       // AMX tiles (avx512_core_amx)
  std::string note;       // what is missing and why, for peak.source and op reasons
};

struct CpuInfo {
  // Identification.
  std::string model_name;  // /proc/cpuinfo "model name" (CPUID brand string as fallback)
  std::string vendor;      // "AMD", "Intel", or the raw CPUID vendor string
  int family = 0, model = 0;
  bool hypervisor = false;

  // Resources visible to this process.
  std::vector<int> cpus;  // sched_getaffinity
  int compute_units = 1;
  std::optional<int> numa_node;
  int64_t mem_bytes = 0;
  int64_t llc_bytes = 0;
  std::string llc_source;

  // Kernels chosen for this CPU (CMETER_CPU_ISA can lower the choice).
  const KernelTable* kernels = nullptr;
  std::string isa_note;
  // The small-n bf16 GEMM through vdpbf16ps: with the AVX-512 kernels on AVX512_BF16 CPUs, unless
  // CMETER_CPU_DOT_BF16=widen asks for the widening kernels (RowKernels::dot_bf16); else null.
  DotBf16PairsFn dot_bf16_pairs = nullptr;

  // Clocks.
  double nominal_mhz = 0;
  std::string nominal_source;
  double clock_hz = 0;  // effective: the fastest core's best sustained add-chain rate
  double clock_min_hz = 0, clock_max_hz = 0;

  // FMA: table, measurement, result.
  int simd_lanes_f32 = 4;
  int fma_pipes = 0;
  std::string pipes_source;
  double measured_fma_per_cycle = 0;       // chosen ISA, per core, all cores running at once
  double measured_avx2_fma_per_cycle = 0;  // only when AVX-512 was chosen (for the comparison)
  double measured_allcore_f32_flops = 0;   // sum over cores of the chosen ISA's probe rate

  double peak_f32 = 0, peak_f64 = 0;
  // bf16: 2x f32 with vdpbf16ps, per-core AMX rate with AMX, else = f32 (converted). i8: 4x f32 with
  // VNNI, AMX rate with AMX, else 0 (no i8 GEMM, no peak declared).
  LowPrecisionIsa low;
  double peak_bf16 = 0, peak_i8 = 0;
  std::string peak_source;
  double probe_s = 0;  // wall time of probe_cpu
};

// Reads /proc, /sys and CPUID, picks the kernels, measures clock and FMA throughput (~50 ms).
CpuInfo probe_cpu();

// The kernel table for the best ISA this CPU supports, lowered by CMETER_CPU_ISA
// (avx512, avx2, sse2) when set; `note` says what happened.
const KernelTable* select_kernels(std::string* note);
// info.dot_bf16_pairs for these kernels (see CpuInfo); a note when CMETER_CPU_DOT_BF16 changed it.
DotBf16PairsFn select_dot_bf16_pairs(const KernelTable* kernels, std::string* note);

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_CPU_INFO_HPP_
