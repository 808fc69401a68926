// Op-local checks of the decoder graph against the FP64 op references (see inference_check.h).
#include "core/workloads/inference_check.h"

#include <cmath>
#include <cstring>

#include "core/validate/fp64_matmul.h"
#include "core/validate/half.h"
#include "core/validate/host_data.h"
#include "core/validate/op_reference.h"

namespace cmeter::workloads {
namespace {

int64_t param_int(const KeyValues& p, const char* key, int64_t fallback = 0) {
  return get_int(p, key).value_or(fallback);
}
double param_double(const KeyValues& p, const char* key, double fallback) {
  return get_number(p, key).value_or(fallback);
}

// The elements of a buffer as read back, widened exactly (bf16, f16 and f32 all fit a float).
template <typename T>
void widen_into(DType t, const std::vector<uint8_t>& bytes, T* out) {
  const size_t count = bytes.size() / size_bytes(t);
  const uint8_t* p = bytes.data();
  if (t == DType::kBF16 || t == DType::kF16) {
    const bool bf = t == DType::kBF16;
    for (size_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, p + 2 * i, 2);
      out[i] = static_cast<T>(bf ? bf16_bits_to_f32(bits) : f16_bits_to_f32(bits));
    }
  } else if (t == DType::kF32) {
    for (size_t i = 0; i < count; ++i) {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      out[i] = static_cast<T>(v);
    }
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<T>(validate::element_as_double(t, p, i));
  }
}
std::vector<double> as_doubles(DType t, const std::vector<uint8_t>& bytes) {
  std::vector<double> out(bytes.size() / size_bytes(t));
  widen_into(t, bytes, out.data());
  return out;
}
std::vector<int32_t> as_ints(const std::vector<uint8_t>& bytes) {
  std::vector<int32_t> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// Which buffer an op writes.
size_t output_index(const std::string& op) {
  if (op == "rope.v1") return 0;
  if (op == "kv_append.v1" || op == "softmax.v1" || op == "swiglu.v1" || op == "argmax.v1") return 1;
  if (op == "attention.v1") return 5;
  return 2;  // gemm, rmsnorm, embedding
}

// C = alpha op(A) op(B) + beta C over the batch, column-major with gemm.v1's leading dimensions,
// strides and offsets; the products and sums in FP64 (validate::fp64_dot_products: each C element is
// the dot product of row i of op(A) and column j of op(B)). op(A) = Aᵀ (a decode or prefill projection,
// A the weights) and op(B) = B have those rows and columns contiguous and are used in place; the other
// layouts are gathered first.
void gemm_reference(const KeyValues& p, DType t, const std::vector<uint8_t>& a_bytes,
                    const std::vector<uint8_t>& b_bytes, ScratchBuffer<float>& a_scratch,
                    std::vector<double>& c) {
  const int64_t m = param_int(p, "m"), n = param_int(p, "n"), k = param_int(p, "k");
  const bool ta = get_bool(p, "trans_a").value_or(false), tb = get_bool(p, "trans_b").value_or(false);
  const int64_t rows_a = ta ? k : m, cols_a = ta ? m : k, rows_b = tb ? n : k, cols_b = tb ? k : n;
  const int64_t lda = param_int(p, "lda") ? param_int(p, "lda") : rows_a;
  const int64_t ldb = param_int(p, "ldb") ? param_int(p, "ldb") : rows_b;
  const int64_t ldc = param_int(p, "ldc") ? param_int(p, "ldc") : m;
  const int64_t sa = param_int(p, "stride_a") ? param_int(p, "stride_a") : lda * cols_a;
  const int64_t sb = param_int(p, "stride_b") ? param_int(p, "stride_b") : ldb * cols_b;
  const int64_t sc = param_int(p, "stride_c") ? param_int(p, "stride_c") : ldc * n;
  const int64_t oa = param_int(p, "offset_a"), ob = param_int(p, "offset_b"), oc = param_int(p, "offset_c");
  const double alpha = param_double(p, "alpha", 1), beta = param_double(p, "beta", 0);
  const int64_t batch = param_int(p, "batch", 1);
  float* a = a_scratch.get(a_bytes.size() / size_bytes(t));
  widen_into(t, a_bytes, a);  // exact: the model dtypes are bf16, f16, f32
  const std::vector<double> b = as_doubles(t, b_bytes);
  std::vector<float> a_rows;
  std::vector<double> b_cols, dots(static_cast<size_t>(m * n));
  for (int64_t bi = 0; bi < batch; ++bi) {
    const float* ap = a + oa + bi * sa;
    const double* bp = b.data() + ob + bi * sb;
    int64_t a_ld = lda, b_ld = ldb;
    if (!ta) {  // A is m x k: gather its rows
      a_rows.resize(static_cast<size_t>(m * k));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t l = 0; l < k; ++l) a_rows[static_cast<size_t>(i * k + l)] = ap[l * lda + i];
      ap = a_rows.data();
      a_ld = k;
    }
    if (tb) {  // B is n x k: gather its columns of Bᵀ
      b_cols.resize(static_cast<size_t>(n * k));
      for (int64_t j = 0; j < n; ++j)
        for (int64_t l = 0; l < k; ++l) b_cols[static_cast<size_t>(j * k + l)] = bp[l * ldb + j];
      bp = b_cols.data();
      b_ld = k;
    }
    validate::fp64_dot_products(ap, a_ld, bp, b_ld, dots.data(), m, m, n, k, false);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; ++i) {
        double& cv = c[static_cast<size_t>(oc + bi * sc + j * ldc + i)];
        cv = alpha * dots[static_cast<size_t>(j * m + i)] + (beta == 0 ? 0.0 : beta * cv);
      }
  }
}

}  // namespace

double op_nmse_limit(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return 1e-4;  // one rounding: NMSE ~ 2^-16/3 = 5e-6 at worst
    case DType::kF16:
      return 1e-5;
    default:
      return 1e-7;  // f32 (rope's f32 angles at large positions stay well inside)
  }
}

StepObserver StepChecker::observer() {
  return StepObserver{[this](const GraphStep& s) { return before(s); },
                      [this](const GraphStep& s) { return after(s); }};
}

Status StepChecker::before(const GraphStep& step) {
  if (first_) return {};
  // Kept between steps (a vector shrinks without freeing): a fresh multi-GB allocation per step of
  // llm-1b cost more in page faults and zero-filling than its reference did.
  inputs_.resize(step.buffers.size());
  for (size_t i = 0; i < step.buffers.size(); ++i) {
    inputs_[i].resize(step.buffers[i]->size_bytes());
    if (auto st = stream_.read(*step.buffers[i], 0, inputs_[i].data(), inputs_[i].size()); !st) return st;
  }
  return stream_.synchronize();
}

Status StepChecker::after(const GraphStep& step) {
  if (first_) return {};
  const size_t out_i = output_index(step.op);
  std::vector<uint8_t> got_bytes(step.buffers[out_i]->size_bytes());
  if (auto st = stream_.read(*step.buffers[out_i], 0, got_bytes.data(), got_bytes.size()); !st) return st;
  if (auto st = stream_.synchronize(); !st) return st;
  const KeyValues& p = *step.params;
  const DType t = dtype_;
  const bool int_out = step.op == "argmax.v1";
  const std::vector<double> before_out =
      int_out ? [&] { auto v = as_ints(inputs_[out_i]); return std::vector<double>(v.begin(), v.end()); }()
              : as_doubles(t, inputs_[out_i]);
  const std::vector<double> got =
      int_out ? [&] { auto v = as_ints(got_bytes); return std::vector<double>(v.begin(), v.end()); }()
              : as_doubles(t, got_bytes);
  std::vector<double> want = before_out;
  const int64_t rows = param_int(p, "rows");
  auto in = [&](size_t i) { return as_doubles(t, inputs_[i]); };
  if (step.op == "gemm.v1") {
    gemm_reference(p, t, inputs_[0], inputs_[1], weights_, want);
  } else if (step.op == "rmsnorm.v1") {
    const auto x = in(0), w = in(1);
    validate::ref::rmsnorm(x.data(), w.data(), want.data(), rows, param_int(p, "dim"),
                           param_double(p, "eps", 1e-5));
  } else if (step.op == "rope.v1") {
    const auto pos = as_ints(inputs_[1]);
    validate::ref::rope(want.data(), pos.data(), rows, param_int(p, "heads"), param_int(p, "head_dim"),
                        get_string(p, "layout").value_or("half") == "interleaved",
                        param_double(p, "theta", 10000));
  } else if (step.op == "softmax.v1") {
    const auto x = in(0);
    const std::vector<int32_t> len = step.buffers.size() > 2 ? as_ints(inputs_[2]) : std::vector<int32_t>{};
    validate::ref::softmax(x.data(), want.data(), rows, param_int(p, "cols"), param_double(p, "scale", 1),
                           len.empty() ? nullptr : len.data());
  } else if (step.op == "swiglu.v1") {
    const auto gu = in(0);
    validate::ref::swiglu(gu.data(), want.data(), rows, param_int(p, "dim"));
  } else if (step.op == "kv_append.v1") {
    const auto src = in(0);
    const auto slot = as_ints(inputs_[2]), pos = as_ints(inputs_[3]);
    validate::ref::kv_append(src.data(), want.data(), slot.data(), pos.data(), rows, param_int(p, "kv_heads"),
                             param_int(p, "head_dim"), param_int(p, "slots"), param_int(p, "capacity"));
  } else if (step.op == "embedding.v1") {
    // Only the rows the ids select are widened (the table is the model's largest tensor: widening all
    // of llm-1b's took ~9 s a step): row r of `picked` is table row ids[r], and picked_ids[r] = r, or
    // -1 where ids[r] is out of range, so the reference still answers zeros there.
    const int64_t vocab = param_int(p, "vocab"), dim = param_int(p, "dim");
    const auto ids = as_ints(inputs_[1]);
    const size_t esize = size_bytes(t);
    std::vector<uint8_t> picked_bytes(static_cast<size_t>(rows * dim) * esize);
    std::vector<int32_t> picked_ids(static_cast<size_t>(rows), -1);
    for (int64_t r = 0; r < rows && r < static_cast<int64_t>(ids.size()); ++r) {
      const int32_t id = ids[static_cast<size_t>(r)];
      if (id < 0 || id >= vocab || static_cast<size_t>((id + 1) * dim) * esize > inputs_[0].size()) continue;
      std::memcpy(picked_bytes.data() + static_cast<size_t>(r * dim) * esize,
                  inputs_[0].data() + static_cast<size_t>(id * dim) * esize,
                  static_cast<size_t>(dim) * esize);
      picked_ids[static_cast<size_t>(r)] = static_cast<int32_t>(r);
    }
    const auto picked = as_doubles(t, picked_bytes);
    validate::ref::embedding(picked.data(), picked_ids.data(), want.data(), rows, rows, dim);
  } else if (step.op == "attention.v1") {
    const auto q = in(0), kc = in(1), vc = in(2);
    const auto slot = as_ints(inputs_[3]), pos = as_ints(inputs_[4]);
    validate::ref::attention(q.data(), kc.data(), vc.data(), slot.data(), pos.data(), want.data(), rows,
                             param_int(p, "heads"), param_int(p, "kv_heads"), param_int(p, "head_dim"),
                             param_int(p, "slots"), param_int(p, "capacity"), param_double(p, "scale", 1));
  } else if (step.op == "argmax.v1") {
    const auto x = in(0);
    std::vector<int32_t> out(static_cast<size_t>(rows));
    validate::ref::argmax(x.data(), out.data(), rows, param_int(p, "cols"));
    for (size_t i = 0; i < out.size(); ++i) want[i] = out[i];
  } else {
    return make_error(ErrorCode::kInternal, "no host check for {}", step.op);
  }
  // NMSE over the elements the op touched (either side changed them).
  std::vector<double> g, w;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i)
    if (want[i] != before_out[i] || got[i] != before_out[i]) {
      g.push_back(got[i]);
      w.push_back(want[i]);
    }
  double nmse = g.empty() ? 0.0 : validate::ref::nmse(g.data(), w.data(), g.size());
  if (int_out) {
    int64_t wrong = 0;
    for (size_t i = 0; i < g.size(); ++i) wrong += g[i] != w[i];
    nmse = wrong > 0 ? 1.0 : 0.0;
  }
  ++steps_;
  if (!std::isnan(nmse)) worst_ = std::max(worst_, nmse);
  const double limit = int_out ? 0.0 : op_nmse_limit(t);
  if (!(nmse <= limit)) {
    const std::string where =
        step.layer >= 0 ? fmt::format("layer {} {}", step.layer, step.label) : step.label;
    first_ = fmt::format("{} ({}): NMSE {:.3g} against the FP64 reference of its own inputs, limit {:.3g}",
                         where, step.op, nmse, limit);
  }
  return {};
}

}  // namespace cmeter::workloads
