// kernels.hpp - the template device's kernels, as ops.cpp calls them.
//
// Why this file exists: ops.cpp (the glue) and kernels.cpp (the arithmetic) meet here, and only these
// two files need the op parameter contracts (cmeter/plugin_ops.hpp), so the other glue files stay
// light. Plain, single-threaded loops over host memory: the arithmetic the catalogue prescribes
// (docs/abi-keys.md), written to be read. Each takes the op's parsed parameters and the buffers' data
// pointers in the catalogue's buffer order, and runs to completion. VENDOR: replace each with a launch
// of your kernel (or library call) on the stream; keep these as the reference to test yours against.
#pragma once

#include <cmeter/plugin_ops.hpp>

namespace tmpl {

void run_gemm(const cmeter::sdk::GemmParams& p, const void* a, const void* b, void* c);
void run_fma_peak(const cmeter::sdk::FmaPeakParams& p, void* out);
void run_stream(const cmeter::sdk::StreamParams& p, void* a, void* b, void* c);
void run_inference_op(const cmeter::sdk::InferenceOpParams& p, void* const* buffers);

}  // namespace tmpl
