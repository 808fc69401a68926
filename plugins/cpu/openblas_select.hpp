// plugins/cpu/openblas_select.hpp - which OpenBLAS kernel set (core type) the plugin runs, and why.
//
// Why this file exists: OpenBLAS picks its kernels once, in its own load-time constructor, from
// OPENBLAS_CORETYPE or its CPUID tables. Environments often pin OPENBLAS_CORETYPE (this project's
// machine sets Haswell: AVX2 kernels, ~190 GFLOP/s sgemm at n=2048 on 2 Zen 5 cores, where the
// AVX-512 "SkylakeX" kernels reach ~380), and an old OpenBLAS may not know a new CPU. A metering
// tool must run the hardware's best kernels, so the plugin links OpenBLAS statically and sets the
// core type from the CPU's ISA (x86-64-v4: SkylakeX, x86-64-v3: Haswell) in a constructor that runs
// before OpenBLAS's (priority 101); the environment is restored at plugin_initialize, and the
// choice is reported in runtime.version and each gemm op's impl.
// CMETER_CPU_OPENBLAS_CORETYPE=<name> forces a core type, =inherit leaves OpenBLAS alone.
#ifndef CMETER_PLUGINS_CPU_OPENBLAS_SELECT_HPP_
#define CMETER_PLUGINS_CPU_OPENBLAS_SELECT_HPP_

#include <string>

namespace cmeter::cpu {

// Puts back the OPENBLAS_CORETYPE the process had (call once OpenBLAS is initialised).
void openblas_restore_environment();

// e.g. "OpenBLAS 0.3.21 SkylakeX kernels (chosen by cmeter for AVX-512; OPENBLAS_CORETYPE=Haswell ignored)"
std::string openblas_description();

// Number of threads OpenBLAS uses (set with openblas_set_num_threads).
void openblas_use_threads(int threads);

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_OPENBLAS_SELECT_HPP_
