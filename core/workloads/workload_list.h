// The workload registry: name -> function. Each workload lives in its own file (gemm.cpp, ...).
#pragma once

#include <string_view>

#include "core/model/case_result.h"

namespace cmeter::workloads {

struct Context;
// Fills `result` (status, metrics, method, validation). May leave status failed with a reason.
using WorkloadFn = void (*)(const Context& context, CaseResult& result);

void run_gemm(const Context& context, CaseResult& result);
void run_fma_peak(const Context& context, CaseResult& result);
void run_stream(const Context& context, CaseResult& result);
void run_copy(const Context& context, CaseResult& result);
void run_transfer(const Context& context, CaseResult& result);
void run_launch_latency(const Context& context, CaseResult& result);
void run_inference(const Context& context, CaseResult& result);  // inference.cpp
void run_training(const Context& context, CaseResult& result);   // training.cpp

WorkloadFn find_workload(std::string_view name);

}  // namespace cmeter::workloads
