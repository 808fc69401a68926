// plugins/opencl/kernels.hpp - OpenCL C sources of the plugin's kernels, generated per configuration.
//
// Why this file exists: the kernels are specialised at source level (element type, vector width,
// number of FMA chains, GEMM register tile, transposes) so that the device compiler sees straight-line
// code with every accumulator a named register, which is what a vectorising compiler (PoCL's LLVM,
// a GPU driver's) needs to keep many independent FMA chains in flight. Each generator returns the
// full program text; the program cache (runtime.hpp) builds each distinct text once per device.
#ifndef CMETER_PLUGINS_OPENCL_KERNELS_HPP_
#define CMETER_PLUGINS_OPENCL_KERNELS_HPP_

#include <string>

namespace cmeter::opencl {

enum class Elem { kF16, kBF16, kF32, kF64 };

// fma_peak: kernel `cmeter_fma_peak(out, items, iters, a, b, zero, init)`, one work item per `vw`
// items, `lanes` chains per item; element type f16 (needs cl_khr_fp16), f32 or f64.
std::string fma_peak_source(Elem type, int vw, int lanes);

// STREAM: kernels `cmeter_stream_{copy,scale,add,triad}(a, b, c, scalar, n)`, one work item per
// `vw`-vector, the last one also doing the scalar tail. `nontemporal` uses clang's
// __builtin_nontemporal_store (only for clang-based compilers such as PoCL's).
std::string stream_source(Elem type, int vw, bool nontemporal);

// copy.v1 as a kernel: `cmeter_copy(src, dst, bytes)`, 64-byte vectors plus a byte tail.
std::string copy_source();

// noop.v1: `cmeter_noop()`, an empty kernel.
std::string noop_source();

// GEMM with a register tile of (vw*mv) rows x tn columns per work item (see kernels.cpp).
struct GemmKernelConfig {
  Elem in = Elem::kF32;   // A and B storage
  Elem out = Elem::kF32;  // C storage
  bool trans_a = false, trans_b = false;
  int vw = 16;  // rows per vector
  int mv = 2;   // vectors per tile column
  int tn = 8;   // columns per tile
  // f16 loads as integer bit operations instead of vload_half: PoCL scalarises vload_halfN, while
  // the shift/multiply form vectorises (4x faster f16-input GEMM on the reference VM).
  bool half_by_bits = false;
  int tile_rows() const { return vw * mv; }
};
// Kernel `cmeter_gemm(m, n, k, alpha, beta, A, lda, stride_a, B, ldb, stride_b, C, ldc, stride_c)`,
// global (ceil(n/tn), ceil(m/tile_rows), batch); work items past the matrix return at once.
std::string gemm_source(const GemmKernelConfig& config);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_KERNELS_HPP_
