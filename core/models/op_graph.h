// An op graph as plain data: named buffers (dtype, elements), op instances (ABI op name and params,
// each distinct instance once) and named call lists (the op to enqueue and the buffers it takes, in
// the op's buffer order). The `lm` training form is written once as such a graph (lm_training.h); the
// device runs it through the plugin (workloads/training.cpp) and the host runs the very same calls
// through the FP64 op references (host_graph.h) for the trajectory replay and the host-recomputed
// quality, so the two can never drift apart. Pure data: no ABI call here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/key_values.h"
#include "core/validate/dtype.h"

namespace cmeter::models {

struct GraphBuffer {
  std::string name;
  DType dtype = DType::kF32;  // kI32 for ids, positions, lengths and targets
  int64_t elements = 0;
  uint64_t bytes() const { return static_cast<uint64_t>(elements) * size_bytes(dtype); }
};

struct GraphOp {
  std::string name;  // "gemm.v1", "rmsnorm.v1", ...
  KeyValues params;
};

struct GraphCall {
  int op = 0;
  std::vector<int> buffers;
  std::string role;  // what the call computes ("layers.0.wq forward"): error messages and op paths
};

class OpGraph {
 public:
  // Adds a buffer (a name already present must have the same dtype and size) and returns its index.
  int buffer(const std::string& name, DType dtype, int64_t elements);
  int find_buffer(const std::string& name) const;  // -1 when absent
  // Adds an op instance (an identical name + params is shared) and returns its index.
  int op(const std::string& name, const KeyValues& params);
  // Appends a call to list `list`.
  void call(const std::string& list, int op, std::vector<int> buffers, std::string role);

  const std::vector<GraphBuffer>& buffers() const { return buffers_; }
  const std::vector<GraphOp>& ops() const { return ops_; }
  const std::vector<GraphCall>& list(const std::string& name) const;
  std::vector<std::string> list_names() const;
  // Tensor FLOPs of one pass over `list` (the catalogue's FLOP formulas of gemm.v1 only: MLPerf's
  // "model tensor FLOPs").
  double gemm_flop(const std::string& list) const;

 private:
  std::vector<GraphBuffer> buffers_;
  std::map<std::string, int> buffer_index_;
  std::vector<GraphOp> ops_;
  std::map<std::string, int> op_index_;
  std::map<std::string, std::vector<GraphCall>> lists_;
};

// One operand of a row-major product: the matrix stored row-major with `ld` elements between rows
// (0: tight), starting at element `offset`, `stride` elements between batch matrices (0: tight), and
// used transposed when `trans`.
struct RowMajorOperand {
  int64_t ld = 0, offset = 0, stride = 0;
  bool trans = false;
};
// gemm.v1 params of the row-major product C (M×N) = alpha·op(A)(M×K)·op(B)(K×N) + beta·C over
// `batch` matrices: in gemm.v1's column-major view that is Cᵀ = op(B)ᵀ·op(A)ᵀ, so A and B trade
// places. The call's buffers are then [B, A, C] (rowmajor_gemm_buffers says so). Zero offsets and
// strides are left out (a 1.0 plugin rejects the keys).
KeyValues rowmajor_gemm(int64_t M, int64_t N, int64_t K, DType in, DType out, const RowMajorOperand& a,
                        const RowMajorOperand& b, const RowMajorOperand& c, double alpha, double beta,
                        int64_t batch = 1);
inline std::vector<int> rowmajor_gemm_buffers(int a, int b, int c) {
  return {b, a, c};
}

}  // namespace cmeter::models
