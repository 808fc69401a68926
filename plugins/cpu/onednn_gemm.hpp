// plugins/cpu/onednn_gemm.hpp - gemm.v1 with bf16 and i8 inputs on oneDNN's matmul.
//
// Why this file exists: OpenBLAS has no bf16 or int8 GEMM, so the plugin converted bf16 to f32 (and
// had no i8 GEMM at all) and ran at the f32 rate on CPUs whose AVX512-BF16 dot products (vdpbf16ps)
// double it and whose VNNI (vpdpbusd) quadruples it for int8. oneDNN's matmul (Intel's JIT library,
// Debian's libdnnl 2.6) uses those instructions. This file says what oneDNN runs natively here,
// maps gemm.v1's column-major contract onto oneDNN's row-major matmul, creates the primitive at
// op_create (never at enqueue) and only executes it at op_enqueue. f32 and f64 stay with OpenBLAS
// (faster there), f16 too (oneDNN 2.6 has no f16 matmul without AVX512-FP16); the figures are in
// docs/results/inference-cpu.md. Built without oneDNN, everything here answers "not available".
#ifndef CMETER_PLUGINS_CPU_ONEDNN_GEMM_HPP_
#define CMETER_PLUGINS_CPU_ONEDNN_GEMM_HPP_

#include <cmeter/plugin_ops.hpp>

#include "cpu_info.hpp"
#include "ops.hpp"

namespace cmeter::cpu {

// Initialises oneDNN once per process: its ISA is capped at the plugin kernels' (`kernels_isa`,
// lowered by CMETER_CPU_ISA), so the declared peaks and what runs agree; then reads what it runs.
LowPrecisionIsa probe_low_precision_isa(const char* kernels_isa);

// gemm.v1 with bf16 inputs (f32 compute, dtype_c f32 or bf16) or i8 inputs (i32 compute, dtype_c i32,
// integer alpha and beta): kSupported when oneDNN runs the request with a JIT implementation on
// native dot-product instructions (with `create`: the op, primitive built); otherwise kUnsupported
// with the reason (for bf16 the caller then converts to f32 for OpenBLAS). `g` must have parsed.
OpPlan plan_onednn_gemm(const Runtime& rt, const sdk::GemmParams& g, bool create);

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_ONEDNN_GEMM_HPP_
