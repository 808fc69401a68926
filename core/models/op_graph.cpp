// The plain-data op graph (op_graph.h).
#include "core/models/op_graph.h"

#include <stdexcept>

#include <fmt/format.h>

namespace cmeter::models {
namespace {

std::string op_key(const std::string& name, const KeyValues& params) {
  return name + " " + to_json(params).dump();
}

}  // namespace

int OpGraph::buffer(const std::string& name, DType dtype, int64_t elements) {
  if (auto it = buffer_index_.find(name); it != buffer_index_.end()) {
    const GraphBuffer& b = buffers_[static_cast<size_t>(it->second)];
    if (b.dtype != dtype || b.elements != elements)
      throw std::logic_error(fmt::format("op graph: buffer '{}' redeclared with another shape", name));
    return it->second;
  }
  buffers_.push_back({name, dtype, elements});
  const int index = static_cast<int>(buffers_.size() - 1);
  buffer_index_[name] = index;
  return index;
}

int OpGraph::find_buffer(const std::string& name) const {
  auto it = buffer_index_.find(name);
  return it == buffer_index_.end() ? -1 : it->second;
}

int OpGraph::op(const std::string& name, const KeyValues& params) {
  const std::string key = op_key(name, params);
  if (auto it = op_index_.find(key); it != op_index_.end()) return it->second;
  ops_.push_back({name, params});
  const int index = static_cast<int>(ops_.size() - 1);
  op_index_[key] = index;
  return index;
}

void OpGraph::call(const std::string& list, int op, std::vector<int> buffers, std::string role) {
  lists_[list].push_back({op, std::move(buffers), std::move(role)});
}

const std::vector<GraphCall>& OpGraph::list(const std::string& name) const {
  static const std::vector<GraphCall> kEmpty;
  auto it = lists_.find(name);
  return it == lists_.end() ? kEmpty : it->second;
}

std::vector<std::string> OpGraph::list_names() const {
  std::vector<std::string> names;
  for (const auto& [name, calls] : lists_) names.push_back(name);
  return names;
}

double OpGraph::gemm_flop(const std::string& list_name) const {
  double flop = 0;
  for (const GraphCall& c : list(list_name)) {
    const GraphOp& o = ops_[static_cast<size_t>(c.op)];
    if (o.name != "gemm.v1") continue;
    const double m = static_cast<double>(get_int(o.params, "m").value_or(0));
    const double n = static_cast<double>(get_int(o.params, "n").value_or(0));
    const double k = static_cast<double>(get_int(o.params, "k").value_or(0));
    const double batch = static_cast<double>(get_int(o.params, "batch").value_or(1));
    flop += 2 * m * n * k * batch;
  }
  return flop;
}

KeyValues rowmajor_gemm(int64_t M, int64_t N, int64_t K, DType in, DType out, const RowMajorOperand& a,
                        const RowMajorOperand& b, const RowMajorOperand& c, double alpha, double beta,
                        int64_t batch) {
  // Column-major view: C' (N×M, ld = C's row length) = op'(B storage) (N×K) · op'(A storage) (K×M).
  const int64_t lda = b.ld ? b.ld : (b.trans ? K : N);
  const int64_t ldb = a.ld ? a.ld : (a.trans ? M : K);
  const int64_t ldc = c.ld ? c.ld : N;
  KeyValues kv = {{"m", N},
                  {"n", M},
                  {"k", K},
                  {"dtype_a", std::string(to_string(in))},
                  {"dtype_b", std::string(to_string(in))},
                  {"dtype_c", std::string(to_string(out))},
                  {"compute", std::string("f32")},
                  {"trans_a", b.trans},
                  {"trans_b", a.trans},
                  {"lda", lda},
                  {"ldb", ldb},
                  {"ldc", ldc},
                  {"alpha", alpha},
                  {"beta", beta}};
  if (batch > 1) {
    kv["batch"] = batch;
    // Tight strides: the stored matrix's rows × ld.
    kv["stride_a"] = b.stride ? b.stride : lda * (b.trans ? N : K);
    kv["stride_b"] = a.stride ? a.stride : ldb * (a.trans ? K : M);
    kv["stride_c"] = c.stride ? c.stride : ldc * M;
  }
  if (b.offset) kv["offset_a"] = b.offset;
  if (a.offset) kv["offset_b"] = a.offset;
  if (c.offset) kv["offset_c"] = c.offset;
  return kv;
}

}  // namespace cmeter::models
