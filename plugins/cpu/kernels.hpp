// plugins/cpu/kernels.hpp - the table of ISA-specific kernels of the CPU plugin.
//
// Why this file exists: the hot loops (fma_peak, STREAM, f16/bf16 conversion) are compiled once per
// instruction set (kernels_avx512.cpp with -march=x86-64-v4, kernels_avx2.cpp with -march=x86-64-v3,
// kernels_generic.cpp for baseline x86-64) and picked at run time with __builtin_cpu_supports. Each
// ISA file exports only one constant table of plain function pointers declared here, so no inline
// C++ function compiled with wide-vector flags can leak (by ODR merging) into code that runs on a CPU
// without those instructions. This header must stay free of inline functions and templates.
#ifndef CMETER_PLUGINS_CPU_KERNELS_HPP_
#define CMETER_PLUGINS_CPU_KERNELS_HPP_

#include <cstddef>
#include <cstdint>

namespace cmeter::cpu {

// fma_peak.v1 parameters, already validated (lanes in 1..32, iters >= 1).
struct FmaPeakArgs {
  int64_t iters;
  int32_t lanes;
  double a, b, x0, dx;
  double item_dx = 0;  // lane l of item i starts at x0 + l·dx + (i mod item_period)·item_dx
  int64_t item_period = 1;
  int64_t first_item = 0;  // the index of out[0] (a call covers items first_item ..)
};

enum StreamKind : int32_t { kStreamCopy = 0, kStreamScale = 1, kStreamAdd = 2, kStreamTriad = 3 };

// adamw.v1's per-call constants: g = G·grad_scale; M = b1·M + c1·g; V = b2·V + c2·g²;
// W = W·decay − step_size·M / (sqrt(V)·inv_sqrt_bc2 + eps).
struct AdamwConsts {
  float grad_scale, b1, c1, b2, c2, decay, step_size, inv_sqrt_bc2, eps;
};

// f32 row kernels of the inference ops (kernels_rows.inc); n is any length (vector body + scalar tail).
struct RowKernels {
  float (*sum_sq)(const float* x, size_t n);                                         // Σ x²
  void (*mul_scale)(const float* x, const float* w, float s, float* y, size_t n);    // y = x·s·w
  float (*max)(const float* x, size_t n);                                            // NaN ignored
  float (*min)(const float* x, size_t n);                                            // NaN ignored
  float (*exp_shift)(const float* x, float scale, float shift, float* y, size_t n);  // y = e^(s·(x−m)), Σ y
  void (*scale)(const float* x, float s, float* y, size_t n);                        // y = s·x
  void (*add)(const float* a, const float* b, float* y, size_t n);
  void (*mul)(const float* a, const float* b, float* y, size_t n);
  void (*swiglu)(const float* g, const float* u, float* y, size_t n);  // y = silu(g)·u
  float (*dot)(const float* a, const float* b, size_t n);
  void (*scale_add)(float* o, float c, float p, const float* v, size_t n);  // o = o·c + p·v
  void (*rotate)(float* x0, float* x1, const float* cos, const float* sin, size_t n);
  int64_t (*argmax)(const float* x, size_t n);  // first maximum, NaN never wins, 0 if all NaN
  // ABI 1.2 training ops.
  float (*sum)(const float* x, size_t n);
  void (*axpby)(const float* a, float sa, const float* b, float sb, float* y, size_t n);  // y = sa·a + sb·b
  void (*mul_acc)(float* acc, float s, const float* a, const float* b, size_t n);         // acc += s·a·b
  // dg = dy·u·s·(1 + g·(1 − s)), du = dy·g·s with s = sigmoid(g) (dg may be g, du may be u).
  void (*swiglu_bwd)(const float* g, const float* u, const float* dy, float* dg, float* du, size_t n);
  void (*softmax_bwd)(const float* y, const float* dy, float dot, float scale, float* dx, size_t n);
  void (*adamw)(float* w, const float* g, float* m, float* v, size_t n, const AdamwConsts* c);
  // out[r·n + j] = Σ_i a[r·lda + i]·b[j·k + i] for r < rows, j < n (1..kDotBf16MaxColumns): bf16
  // rows of A, f32 columns of B, f32 accumulation (the small-n GEMM of a decode step: weight rows
  // against the batch's activation columns; beyond 4 columns oneDNN's matmul is faster).
  void (*dot_bf16)(const uint16_t* a, int64_t lda, int64_t rows, const float* b, int64_t n, size_t k,
                   float* out);
};
constexpr int64_t kDotBf16MaxColumns = 4;

// Software prefetch distance of both dot-product kernels' streamed weight rows, in bf16 elements (1 KiB
// ahead in each of a tile's rows). The hardware prefetcher alone left a decode step's weights at
// ~27 GB/s on the dev VM: with it, llm-1b (4 layers) SingleStream TPOT p50 32.5 / 32.1 ms against
// 37.1 / 42.0 ms, the lm_head GEMM (128256 x 1 x 2048) 32.6 / 32.0 against 26.3 / 30.2 GFLOP/s,
// alternating runs, same minutes (docs/results/inference-cpu.md, session 14; widening kernel).
constexpr size_t kDotBf16PrefetchElements = 512;

// out[r·n + j] = Σ_i a[r·lda + i]·b[j·ldb + i] for r < rows, j < n (1..kDotBf16PairsMaxColumns): bf16
// rows of A against bf16 columns of B through AVX512_BF16's vdpbf16ps (exact bf16 products, f32 sums,
// denormals flushed), kernels_avx512bf16.cpp. The same GEMM as RowKernels::dot_bf16 without widening
// the weights to f32 first, for CPUs with AVX512_BF16 (cpu_has_avx512bf16()).
using DotBf16PairsFn = void (*)(const uint16_t* a, int64_t lda, int64_t rows, const uint16_t* b, int64_t ldb,
                                int64_t n, size_t k, float* out);
constexpr int64_t kDotBf16PairsMaxColumns = 8;
extern const DotBf16PairsFn kDotBf16PairsAvx512Bf16;

struct KernelTable {
  const char* isa;           // "avx512", "avx2", "sse2"
  int32_t f32_lanes;         // f32 elements per vector register
  int32_t max_accumulators;  // independent FMA chains the fma kernels keep in registers
  bool has_fma;              // fma_peak kernels are non-null only when true
  bool has_f16c;             // hardware f16 <-> f32 conversion (else the f16 converters are scalar)

  // fma_peak.v1: items in one tile (the unit the kernels vectorise over) for `lanes` chains.
  int64_t (*fma_tile_items)(int32_t lanes, bool f64);
  // Computes items [0, count) into out[0, count): each item's f32 sum of its lanes' final values.
  // `count` need not be a multiple of the tile; callers split work on tile boundaries.
  void (*fma_peak_f32)(const FmaPeakArgs* args, int64_t count, float* out);
  void (*fma_peak_f64)(const FmaPeakArgs* args, int64_t count, float* out);

  // STREAM kernels over elements [0, n) of the given arrays (callers offset the pointers).
  // `nontemporal` asks for streaming stores (and an sfence before returning).
  void (*stream_f32)(int32_t kind, float* a, float* b, float* c, float scalar, size_t n, bool nontemporal);
  void (*stream_f64)(int32_t kind, double* a, double* b, double* c, double scalar, size_t n,
                     bool nontemporal);

  // Element conversions; f32 -> f16/bf16 round to nearest even, NaN stays NaN.
  void (*f16_to_f32)(const uint16_t* src, float* dst, size_t n);
  void (*bf16_to_f32)(const uint16_t* src, float* dst, size_t n);
  void (*f32_to_f16)(const float* src, uint16_t* dst, size_t n);
  void (*f32_to_bf16)(const float* src, uint16_t* dst, size_t n);

  // The inference ops' row kernels for this ISA.
  const RowKernels* rows;
};

// One table per ISA, constant-initialised (no code runs when the library loads).
extern const KernelTable kKernelsAvx512;
extern const KernelTable kKernelsAvx2;
extern const KernelTable kKernelsSse2;

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_KERNELS_HPP_
