// Name -> workload function.
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

WorkloadFn find_workload(std::string_view name) {
  if (name == "gemm") return run_gemm;
  if (name == "fma_peak") return run_fma_peak;
  if (name == "stream") return run_stream;
  if (name == "copy") return run_copy;
  if (name == "transfer") return run_transfer;
  if (name == "launch_latency") return run_launch_latency;
  if (name == "inference") return run_inference;
  if (name == "training") return run_training;
  return nullptr;
}

}  // namespace cmeter::workloads
