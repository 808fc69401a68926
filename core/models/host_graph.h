// The host's executor of an op graph (op_graph.h): every call of a list run with the FP64 op
// references (core/validate/op_reference.h, and a column-major gemm.v1 with leading dimensions,
// strides and offsets), each output rounded to its buffer's storage dtype as the device stores it.
// The training workload replays the first steps of the device's own graph with it (the trajectory
// check) and recomputes the final quality from the weights the device holds. An op or param it does
// not know is an error naming the call, never a silent skip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/op_graph.h"
#include "core/util/result.h"

namespace cmeter::models {

class HostGraph {
 public:
  explicit HostGraph(const OpGraph& graph);
  // Values as doubles (i32 buffers hold integral values); set() rounds to the buffer's dtype.
  void set(int buffer, const std::vector<double>& values);
  void set(int buffer, const std::vector<float>& values);
  const std::vector<double>& get(int buffer) const { return values_[static_cast<size_t>(buffer)]; }
  Status run(const std::string& list);
  Status run_call(const GraphCall& call);

 private:
  const OpGraph& graph_;
  std::vector<std::vector<double>> values_;
};

// gemm.v1 on the host (column-major, as the ABI defines it) over doubles: C = alpha·op(A)·op(B) +
// beta·C for each batch matrix, with the params' lds, strides and offsets (beta = 0 never reads C).
Status host_gemm(const KeyValues& params, const std::vector<double>& a, const std::vector<double>& b,
                 std::vector<double>& c);

}  // namespace cmeter::models
