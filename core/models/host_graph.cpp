// The host executor of op graphs (host_graph.h).
#include "core/models/host_graph.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/validate/half.h"
#include "core/validate/op_reference.h"

namespace cmeter::models {
namespace {

namespace ref = validate::ref;

int64_t iparam(const KeyValues& p, const char* key, int64_t fallback) {
  return get_int(p, key).value_or(fallback);
}
double dparam(const KeyValues& p, const char* key, double fallback) {
  return get_number(p, key).value_or(fallback);
}
bool bparam(const KeyValues& p, const char* key, bool fallback) {
  return get_bool(p, key).value_or(fallback);
}
std::string sparam(const KeyValues& p, const char* key, const char* fallback) {
  return get_string(p, key).value_or(fallback);
}

std::vector<int32_t> as_i32(const std::vector<double>& v) {
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<int32_t>(v[i]);
  return out;
}

}  // namespace

Status host_gemm(const KeyValues& p, const std::vector<double>& a, const std::vector<double>& b,
                 std::vector<double>& c) {
  const int64_t m = iparam(p, "m", 0), n = iparam(p, "n", 0), k = iparam(p, "k", 0);
  const bool ta = bparam(p, "trans_a", false), tb = bparam(p, "trans_b", false);
  const int64_t lda = iparam(p, "lda", 0) ? iparam(p, "lda", 0) : (ta ? k : m);
  const int64_t ldb = iparam(p, "ldb", 0) ? iparam(p, "ldb", 0) : (tb ? n : k);
  const int64_t ldc = iparam(p, "ldc", 0) ? iparam(p, "ldc", 0) : m;
  const int64_t batch = iparam(p, "batch", 1);
  const int64_t sa = iparam(p, "stride_a", 0) ? iparam(p, "stride_a", 0) : lda * (ta ? m : k);
  const int64_t sb = iparam(p, "stride_b", 0) ? iparam(p, "stride_b", 0) : ldb * (tb ? k : n);
  const int64_t sc = iparam(p, "stride_c", 0) ? iparam(p, "stride_c", 0) : ldc * n;
  const int64_t oa = iparam(p, "offset_a", 0), ob = iparam(p, "offset_b", 0), oc = iparam(p, "offset_c", 0);
  const double alpha = dparam(p, "alpha", 1), beta = dparam(p, "beta", 0);
  // Last element each operand touches must lie inside its buffer.
  auto last = [&](int64_t off, int64_t ld, int64_t rows, int64_t cols, int64_t stride) {
    return off + (batch - 1) * stride + (cols - 1) * ld + rows;
  };
  if (last(oa, lda, ta ? k : m, ta ? m : k, sa) > static_cast<int64_t>(a.size()) ||
      last(ob, ldb, tb ? n : k, tb ? k : n, sb) > static_cast<int64_t>(b.size()) ||
      last(oc, ldc, m, n, sc) > static_cast<int64_t>(c.size()))
    return make_error(ErrorCode::kInvalidArgument, "host gemm: an operand runs past its buffer");
  // Each output is alpha · (Σ_l op(A)[i][l]·op(B)[l][j], summed in order l = 0, 1, ...) + beta · C, as
  // a plain triple loop computes it (bit for bit); the loops are arranged for speed only: op(A)'s rows
  // contiguous (A transposed once when it is not), op(B) packed kPanel columns at a time, and two rows
  // of A against the whole panel per pass, so the inner loop runs 2·kPanel independent sums. The lm
  // form's host replay runs GEMMs of tens of GFLOP in FP64 (lm-small), ~10x faster this way.
  constexpr int64_t kPanel = 8;
  std::vector<double> a_rows;  // op(A) row-major per batch, when A is not stored that way already
  if (!ta) {
    a_rows.resize(static_cast<size_t>(batch * m * k));
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, batch * m), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t bi = r.begin(); bi < r.end(); ++bi) {
        const int64_t p_ = bi / m, i = bi % m;
        const double* A = a.data() + oa + p_ * sa;
        double* row = a_rows.data() + bi * k;
        for (int64_t l = 0; l < k; ++l) row[l] = A[i + l * lda];
      }
    });
  }
  auto a_row = [&](int64_t p_, int64_t i) {
    return ta ? a.data() + oa + p_ * sa + i * lda : a_rows.data() + (p_ * m + i) * k;
  };
  const int64_t panels = (n + kPanel - 1) / kPanel;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, batch * panels),
                    [&](const tbb::blocked_range<int64_t>& r) {
                      std::vector<double> panel(static_cast<size_t>(k * kPanel));
                      for (int64_t bj = r.begin(); bj < r.end(); ++bj) {
                        const int64_t p_ = bj / panels, j0 = (bj % panels) * kPanel;
                        const int64_t cols = std::min(kPanel, n - j0);
                        const double* B = b.data() + ob + p_ * sb;
                        double* C = c.data() + oc + p_ * sc;
                        for (int64_t l = 0; l < k; ++l)
                          for (int64_t jj = 0; jj < kPanel; ++jj) {
                            const int64_t j = j0 + jj;
                            panel[static_cast<size_t>(l * kPanel + jj)] =
                                jj < cols ? (tb ? B[j + l * ldb] : B[l + j * ldb]) : 0.0;
                          }
                        auto store = [&](int64_t i, const double* acc) {
                          for (int64_t jj = 0; jj < cols; ++jj) {
                            double& out = C[i + (j0 + jj) * ldc];
                            out = alpha * acc[jj] + (beta != 0 ? beta * out : 0.0);
                          }
                        };
                        int64_t i = 0;
                        for (; i + 1 < m; i += 2) {
                          const double* r0 = a_row(p_, i);
                          const double* r1 = a_row(p_, i + 1);
                          double acc0[kPanel] = {}, acc1[kPanel] = {};
                          for (int64_t l = 0; l < k; ++l) {
                            const double* pl = panel.data() + l * kPanel;
                            const double x0 = r0[l], x1 = r1[l];
                            for (int64_t jj = 0; jj < kPanel; ++jj) {
                              acc0[jj] += x0 * pl[jj];
                              acc1[jj] += x1 * pl[jj];
                            }
                          }
                          store(i, acc0);
                          store(i + 1, acc1);
                        }
                        if (i < m) {
                          const double* r0 = a_row(p_, i);
                          double acc0[kPanel] = {};
                          for (int64_t l = 0; l < k; ++l)
                            for (int64_t jj = 0; jj < kPanel; ++jj)
                              acc0[jj] += r0[l] * panel[static_cast<size_t>(l * kPanel + jj)];
                          store(i, acc0);
                        }
                      }
                    });
  return {};
}

HostGraph::HostGraph(const OpGraph& graph) : graph_(graph) {
  for (const GraphBuffer& b : graph.buffers()) values_.emplace_back(static_cast<size_t>(b.elements), 0.0);
}

void HostGraph::set(int buffer, const std::vector<double>& values) {
  std::vector<double>& v = values_[static_cast<size_t>(buffer)];
  const DType t = graph_.buffers()[static_cast<size_t>(buffer)].dtype;
  for (size_t i = 0; i < v.size() && i < values.size(); ++i)
    v[i] = t == DType::kI32 ? values[i] : round_to(t, values[i]);
}
void HostGraph::set(int buffer, const std::vector<float>& values) {
  set(buffer, std::vector<double>(values.begin(), values.end()));
}

Status HostGraph::run(const std::string& list) {
  for (const GraphCall& c : graph_.list(list)) CMETER_TRY(run_call(c));
  return {};
}

Status HostGraph::run_call(const GraphCall& call) {
  const GraphOp& op = graph_.ops()[static_cast<size_t>(call.op)];
  const KeyValues& p = op.params;
  const std::string& name = op.name;
  std::vector<std::vector<double>*> buf;
  for (int b : call.buffers) buf.push_back(&values_[static_cast<size_t>(b)]);
  auto need = [&](size_t count) -> Status {
    if (buf.size() != count)
      return make_error(ErrorCode::kInvalidArgument,
                        "host graph: {} ({}) takes {} buffers, the call gives {}", name, call.role, count,
                        buf.size());
    return {};
  };
  // Every buffer must hold what the op reads or writes from element 0 (gemm checks its own extents).
  {
    const int64_t r = iparam(p, "rows", 0), d = iparam(p, "dim", 0), n = iparam(p, "n", 0),
                  cols = iparam(p, "cols", 0), vocab = iparam(p, "vocab", 0),
                  hd = iparam(p, "heads", 0) * iparam(p, "head_dim", 0);
    std::vector<int64_t> need_elements;
    if (name == "embedding.v1")
      need_elements = {vocab * d, r, r * d};
    else if (name == "rmsnorm.v1")
      need_elements = {r * d, d, r * d};
    else if (name == "rope.v1" || name == "rope_backward.v1")
      need_elements = {r * hd, r};
    else if (name == "softmax.v1")
      need_elements = {r * cols, r * cols, r};
    else if (name == "softmax_backward.v1")
      need_elements = {r * cols, r * cols, r * cols, r};
    else if (name == "swiglu.v1")
      need_elements = {2 * r * d, r * d};
    else if (name == "swiglu_backward.v1")
      need_elements = {2 * r * d, r * d, 2 * r * d};
    else if (name == "eltwise.v1")
      need_elements = {n, n, n};
    else if (name == "cross_entropy.v1")
      need_elements = {r * vocab, r, r, r * vocab, 1};
    else if (name == "reduce.v1")
      need_elements = {r * cols, sparam(p, "axis", "") == "rows" ? cols : r};
    else if (name == "adamw.v1")
      need_elements = {n, n, n, n, n, 3};
    else if (name == "rmsnorm_backward.v1")
      need_elements = {r * d, d, r * d, r * d, d};
    else if (name == "embedding_backward.v1")
      need_elements = {r * d, r, vocab * d};
    for (size_t i = 0; i < buf.size() && i < need_elements.size(); ++i)
      if (static_cast<int64_t>(buf[i]->size()) < need_elements[i])
        return make_error(ErrorCode::kInvalidArgument,
                          "host graph: {} ({}): buffer {} '{}' holds {} elements, the op needs {}", name,
                          call.role, i, graph_.buffers()[static_cast<size_t>(call.buffers[i])].name,
                          buf[i]->size(), need_elements[i]);
  }
  // Each written buffer is rounded to its dtype afterwards.
  std::vector<int> written;
  auto out = [&](size_t index) {
    written.push_back(call.buffers[index]);
    return buf[index]->data();
  };
  const int64_t rows = iparam(p, "rows", 0), dim = iparam(p, "dim", 0);
  if (name == "gemm.v1") {
    CMETER_TRY(need(3));
    CMETER_TRY(host_gemm(p, *buf[0], *buf[1], *buf[2]));
    written.push_back(call.buffers[2]);
  } else if (name == "embedding.v1") {
    CMETER_TRY(need(3));
    const auto ids = as_i32(*buf[1]);
    ref::embedding(buf[0]->data(), ids.data(), out(2), rows, iparam(p, "vocab", 0), dim);
  } else if (name == "rmsnorm.v1") {
    CMETER_TRY(need(3));
    ref::rmsnorm(buf[0]->data(), buf[1]->data(), out(2), rows, dim, dparam(p, "eps", 1e-5));
  } else if (name == "rope.v1" || name == "rope_backward.v1") {
    CMETER_TRY(need(2));
    const auto pos = as_i32(*buf[1]);
    const bool inter = sparam(p, "layout", "half") == "interleaved";
    auto f = name == "rope.v1" ? ref::rope : ref::rope_backward;
    f(out(0), pos.data(), rows, iparam(p, "heads", 0), iparam(p, "head_dim", 0), inter,
      dparam(p, "theta", 10000));
  } else if (name == "softmax.v1" || name == "softmax_backward.v1") {
    const bool masked = sparam(p, "mask", "none") == "lengths";
    const bool fwd = name == "softmax.v1";
    CMETER_TRY(need((fwd ? 2u : 3u) + (masked ? 1u : 0u)));
    std::vector<int32_t> len;
    if (masked) len = as_i32(*buf.back());
    const int64_t cols = iparam(p, "cols", 0);
    const double scale = dparam(p, "scale", 1);
    if (fwd)
      ref::softmax(buf[0]->data(), out(1), rows, cols, scale, masked ? len.data() : nullptr);
    else
      ref::softmax_backward(buf[0]->data(), buf[1]->data(), out(2), rows, cols, scale,
                            masked ? len.data() : nullptr);
  } else if (name == "swiglu.v1") {
    CMETER_TRY(need(2));
    ref::swiglu(buf[0]->data(), out(1), rows, dim);
  } else if (name == "swiglu_backward.v1") {
    CMETER_TRY(need(3));
    ref::swiglu_backward(buf[0]->data(), buf[1]->data(), out(2), rows, dim);
  } else if (name == "eltwise.v1") {
    const std::string kind = sparam(p, "kind", "");
    const int64_t n = iparam(p, "n", 0);
    if (kind == "add" || kind == "mul") {
      CMETER_TRY(need(3));
      const double *x = buf[0]->data(), *y = buf[1]->data();
      double* z = out(2);
      for (int64_t i = 0; i < n; ++i) z[i] = kind == "add" ? x[i] + y[i] : x[i] * y[i];
    } else if (kind == "scale" || kind == "cast") {
      CMETER_TRY(need(2));
      const double s = kind == "scale" ? dparam(p, "scalar", 1) : 1.0;
      const double* x = buf[0]->data();
      double* z = out(1);
      for (int64_t i = 0; i < n; ++i) z[i] = s * x[i];
    } else {
      return make_error(ErrorCode::kInvalidArgument, "host graph: eltwise kind '{}' ({})", kind, call.role);
    }
  } else if (name == "cross_entropy.v1") {
    const bool backward = bparam(p, "backward", true);
    CMETER_TRY(need(backward ? 5 : 3));
    const auto t = as_i32(*buf[1]);
    const double gscale = backward ? (*buf[4])[0] : 1.0;
    ref::cross_entropy(buf[0]->data(), t.data(), out(2), backward ? out(3) : nullptr, rows,
                       iparam(p, "vocab", 0), gscale);
  } else if (name == "reduce.v1") {
    CMETER_TRY(need(2));
    const int64_t cols = iparam(p, "cols", 0);
    const bool axis_rows = sparam(p, "axis", "") == "rows";
    const size_t outputs = static_cast<size_t>(axis_rows ? cols : rows);
    std::vector<double> y(outputs);
    ref::reduce(buf[0]->data(), y.data(), rows, cols, axis_rows, sparam(p, "kind", "") == "sum_squares",
                dparam(p, "scale", 1));
    double* dst = out(1);
    const bool acc = bparam(p, "accumulate", false);
    for (size_t i = 0; i < outputs; ++i) dst[i] = (acc ? dst[i] : 0.0) + y[i];
  } else if (name == "adamw.v1") {
    CMETER_TRY(need(6));
    const int64_t n = iparam(p, "n", 0);
    const std::vector<double>& h = *buf[5];
    ref::adamw(out(0), buf[1]->data(), out(2), out(3), n, h[0], h[1], h[2], dparam(p, "beta1", 0.9),
               dparam(p, "beta2", 0.999), dparam(p, "eps", 1e-8), dparam(p, "weight_decay", 0));
    // The master rounds to f32 first, and the low-precision copy is that f32 value rounded.
    std::vector<double>& w = *buf[0];
    for (int64_t i = 0; i < n; ++i) w[static_cast<size_t>(i)] = static_cast<float>(w[static_cast<size_t>(i)]);
    double* wo = out(4);
    for (int64_t i = 0; i < n; ++i) wo[i] = w[static_cast<size_t>(i)];
  } else if (name == "rmsnorm_backward.v1") {
    CMETER_TRY(need(5));
    std::vector<double> dw(static_cast<size_t>(dim));
    ref::rmsnorm_backward(buf[0]->data(), buf[1]->data(), buf[2]->data(), out(3), dw.data(), rows, dim,
                          dparam(p, "eps", 1e-5));
    double* dst = out(4);
    const bool acc = bparam(p, "accumulate", false);
    for (int64_t j = 0; j < dim; ++j) dst[j] = (acc ? dst[j] : 0.0) + dw[static_cast<size_t>(j)];
  } else if (name == "embedding_backward.v1") {
    CMETER_TRY(need(3));
    const auto ids = as_i32(*buf[1]);
    const int64_t vocab = iparam(p, "vocab", 0);
    double* dt = out(2);
    if (!bparam(p, "accumulate", false)) std::fill(dt, dt + vocab * dim, 0.0);
    ref::embedding_backward(buf[0]->data(), ids.data(), dt, rows, vocab, dim);
  } else {
    return make_error(ErrorCode::kInvalidArgument, "host graph: no host executor for {} ({})", name,
                      call.role);
  }
  for (int b : written) {
    const DType t = graph_.buffers()[static_cast<size_t>(b)].dtype;
    if (t == DType::kI32 || t == DType::kF64) continue;
    for (double& v : values_[static_cast<size_t>(b)]) v = round_to(t, v);
  }
  return {};
}

}  // namespace cmeter::models
