// plugins/cpu/training_ops.cpp - rmsnorm/swiglu/softmax/rope backward, cross_entropy,
// embedding_backward, reduce and adamw on the CPU.
//
// Why this file exists: see training_ops.hpp. How they run: parameters from the SDK's parsers (so
// malformed requests are INVALID_ARGUMENT as in every plugin), rows in parallel on the plugin's TBB
// arena with the dispatched ISA's f32 row kernels, f16/bf16 converted per row. Reductions across rows
// (rmsnorm's DW, reduce over rows) use a fixed partition of the rows with one f32 partial per part,
// summed in double afterwards, so results do not depend on the thread schedule. The embedding
// gradient sorts the call's rows by id (stable) and adds each id's rows in row order, one id per
// task: a deterministic scatter-add without atomics. Per-call values (GSCALE, HYPER, ids, lengths,
// positions) are read at enqueue from their buffers; out-of-range values are handled as the catalogue
// says and never address memory outside a buffer.
#include "training_ops.hpp"

#include <cmeter/plugin_ops.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "inference_ops.hpp"
#include "row_ops.hpp"

namespace cmeter::cpu {
namespace {

using sdk::DType;

using namespace row_ops;  // NOLINT(google-build-using-namespace): the shared row machinery

// A fixed partition of `count` items into at most the arena's threads parts of >= `grain` items.
int64_t parts_for(const Runtime& rt, int64_t count, int64_t grain) {
  const int64_t by_grain = count / std::max<int64_t>(1, grain);
  return std::clamp<int64_t>(by_grain, 1, std::max<int64_t>(1, rt.threads));
}
int64_t part_begin(int64_t count, int64_t parts, int64_t part) {
  return count * part / parts;
}

// ---- rmsnorm_backward.v1 ----

class RmsNormBackwardOp final : public Op {
 public:
  RmsNormBackwardOp(const Runtime& rt, const sdk::RmsNormBackwardParams& p)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype,
                                    "rmsnorm backward: per row rms and dot(dy*w, x), dx = axpby; DW from "
                                    "per-part f32 partials summed in f64"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("rmsnorm_backward.v1", buffers, num_buffers, p_.buffer_needs()))
      return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t dim = static_cast<size_t>(p_.dim);
    std::vector<float> w_tmp(p_.dtype == DType::kF32 ? 0 : dim);
    const float* w = s_.in(buffers[1]->data, 0, dim, w_tmp.data());
    const double inv_dim = 1.0 / static_cast<double>(p_.dim);
    const int64_t parts = parts_for(rt_, p_.rows, std::max<int64_t>(1, (int64_t{16} << 10) / p_.dim));
    std::vector<float> partial(static_cast<size_t>(parts) * dim, 0.0f);
    parallel_chunks(rt_, parts, 1, [&](int64_t first_part, int64_t last_part) {
      const bool narrow = p_.dtype != DType::kF32;
      std::vector<float> tx(narrow ? dim : 0), tdy(narrow ? dim : 0), t(dim);
      for (int64_t part = first_part; part < last_part; ++part) {
        float* dw = partial.data() + static_cast<size_t>(part) * dim;
        for (int64_t r = part_begin(p_.rows, parts, part); r < part_begin(p_.rows, parts, part + 1); ++r) {
          const int64_t at = r * p_.dim;
          const float* x = s_.in(buffers[0]->data, at, dim, tx.data());
          const float* dy = s_.in(buffers[2]->data, at, dim, tdy.data());
          const double ms = static_cast<double>(k.sum_sq(x, dim)) * inv_dim;
          const double inv = 1.0 / std::sqrt(ms + p_.eps);
          k.mul(dy, w, t.data(), dim);                         // t = dy * w
          k.mul_acc(dw, static_cast<float>(inv), dy, x, dim);  // DW += inv * dy * x (before DX = DY)
          const double dot = static_cast<double>(k.dot(t.data(), x, dim));
          const float c = static_cast<float>(-inv * inv * inv * dot * inv_dim);
          float* dx = narrow ? t.data() : s_.work(buffers[3]->data, at, nullptr);
          k.axpby(t.data(), static_cast<float>(inv), x, c, dx, dim);  // dx = inv * t - inv^3 dot/dim * x
          s_.out(dx, buffers[3]->data, at, dim);
        }
      }
    });
    float* dw_out = data<float>(buffers, 4);
    parallel_chunks(rt_, p_.dim, 4096, [&](int64_t first, int64_t last) {
      for (int64_t j = first; j < last; ++j) {
        double sum = p_.accumulate ? static_cast<double>(dw_out[j]) : 0.0;
        for (int64_t part = 0; part < parts; ++part)
          sum += static_cast<double>(partial[static_cast<size_t>(part) * dim + static_cast<size_t>(j)]);
        dw_out[j] = static_cast<float>(sum);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::RmsNormBackwardParams p_;
  Storage s_;
};

// ---- swiglu_backward.v1 ----

class SwigluBackwardOp final : public Op {
 public:
  SwigluBackwardOp(const Runtime& rt, const sdk::SwigluBackwardParams& p)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl",
                   describe(rt, p.dtype, "swiglu backward: sigmoid by exp polynomial, dG and dU per row"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("swiglu_backward.v1", buffers, num_buffers, p_.buffer_needs()))
      return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t dim = static_cast<size_t>(p_.dim);
    parallel_rows(rt_, p_.rows, 5 * p_.dim, [&](int64_t first, int64_t last) {
      const bool narrow = p_.dtype != DType::kF32;
      std::vector<float> tgu(narrow ? 2 * dim : 0), tdy(narrow ? dim : 0), tout(narrow ? 2 * dim : 0);
      for (int64_t r = first; r < last; ++r) {
        const float* gu = s_.in(buffers[0]->data, r * 2 * p_.dim, 2 * dim, tgu.data());
        const float* dy = s_.in(buffers[1]->data, r * p_.dim, dim, tdy.data());
        float* out = s_.work(buffers[2]->data, r * 2 * p_.dim, tout.data());
        k.swiglu_bwd(gu, gu + dim, dy, out, out + dim, dim);
        s_.out(out, buffers[2]->data, r * 2 * p_.dim, 2 * dim);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::SwigluBackwardParams p_;
  Storage s_;
};

// ---- softmax_backward.v1 ----

class SoftmaxBackwardOp final : public Op {
 public:
  SoftmaxBackwardOp(const Runtime& rt, const sdk::SoftmaxBackwardParams& p)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl",
                   describe(rt, p.dtype,
                            std::string("softmax backward") + (p.lengths ? " over LEN[r] columns" : "") +
                                ": dot(dy, y), then scale*y*(dy-dot)"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("softmax_backward.v1", buffers, num_buffers, p_.buffer_needs()))
      return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t cols = static_cast<size_t>(p_.cols);
    const float scale = static_cast<float>(p_.scale);
    parallel_rows(rt_, p_.rows, 3 * p_.cols, [&](int64_t first, int64_t last) {
      const bool narrow = p_.dtype != DType::kF32;
      std::vector<float> ty(narrow ? cols : 0), tdy(narrow ? cols : 0);
      for (int64_t r = first; r < last; ++r) {
        size_t valid = cols;
        if (p_.lengths) {
          const int32_t len = index_at(buffers, 3, r);
          valid = len <= 0 ? 0 : std::min(cols, static_cast<size_t>(len));
        }
        const int64_t at = r * p_.cols;
        const float* y = s_.in(buffers[0]->data, at, valid, ty.data());
        const float* dy = s_.in(buffers[1]->data, at, valid, tdy.data());
        float* dx = s_.work(buffers[2]->data, at, tdy.data());
        const float dot = k.dot(dy, y, valid);
        k.softmax_bwd(y, dy, dot, scale, dx, valid);
        std::fill(dx + valid, dx + cols, 0.0f);
        s_.out(dx, buffers[2]->data, at, cols);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::SoftmaxBackwardParams p_;
  Storage s_;
};

// ---- cross_entropy.v1 ----

class CrossEntropyOp final : public Op {
 public:
  CrossEntropyOp(const Runtime& rt, const sdk::CrossEntropyParams& p)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype,
                                    std::string("cross entropy: max, exp(x-max) and sum per row, loss = "
                                                "log(sum)+max-x[t]") +
                                        (p.backward ? ", dx = (e/sum - onehot)*GSCALE" : "")));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("cross_entropy.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t vocab = static_cast<size_t>(p_.vocab);
    const float gscale = p_.backward ? data<const float>(buffers, 4)[0] : 0.0f;
    float* loss = data<float>(buffers, 2);
    parallel_rows(rt_, p_.rows, 2 * p_.vocab, [&](int64_t first, int64_t last) {
      const bool narrow = p_.dtype != DType::kF32;
      std::vector<float> tx(narrow ? vocab : 0), te(narrow || !p_.backward ? vocab : 0);
      for (int64_t r = first; r < last; ++r) {
        const int64_t at = r * p_.vocab;
        const int32_t t = index_at(buffers, 1, r);
        if (t < 0 || t >= p_.vocab) {  // padding: no loss, no gradient
          loss[r] = 0.0f;
          if (p_.backward) {
            float* dx = s_.work(buffers[3]->data, at, te.data());
            std::fill(dx, dx + vocab, 0.0f);
            s_.out(dx, buffers[3]->data, at, vocab);
          }
          continue;
        }
        const float* x = s_.in(buffers[0]->data, at, vocab, tx.data());
        const float target = x[t];
        const float m = k.max(x, vocab);
        // e = exp(x - max): into DX's memory (f32 with backward; in place is fine, x[t] is kept) or scratch.
        float* e = p_.backward ? s_.work(buffers[3]->data, at, te.data()) : te.data();
        const float sum = k.exp_shift(x, 1.0f, m, e, vocab);
        loss[r] = static_cast<float>(std::log(static_cast<double>(sum)) + static_cast<double>(m) -
                                     static_cast<double>(target));
        if (!p_.backward) continue;
        k.scale(e, gscale / sum, e, vocab);
        e[t] -= gscale;
        s_.out(e, buffers[3]->data, at, vocab);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::CrossEntropyParams p_;
  Storage s_;
};

// ---- embedding_backward.v1 ----

class EmbeddingBackwardOp final : public Op {
 public:
  EmbeddingBackwardOp(const Runtime& rt, const sdk::EmbeddingBackwardParams& p)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype,
                                    "embedding backward: rows sorted by id (stable), each id's rows added in "
                                    "row order into its f32 table row, tbb over ids (no atomics)"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("embedding_backward.v1", buffers, num_buffers, p_.buffer_needs()))
      return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t dim = static_cast<size_t>(p_.dim);
    const int32_t* ids = data<const int32_t>(buffers, 1);
    float* table = data<float>(buffers, 2);
    if (!p_.accumulate) parallel_zero(rt_, table, static_cast<size_t>(p_.table_bytes));
    // The rows with a valid id, sorted by id (ties in row order), and where each id's run starts.
    std::vector<int32_t> order;
    order.reserve(static_cast<size_t>(p_.rows));
    for (int64_t r = 0; r < p_.rows; ++r)
      if (ids[r] >= 0 && ids[r] < p_.vocab) order.push_back(static_cast<int32_t>(r));
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return ids[a] < ids[b]; });
    std::vector<size_t> starts;
    for (size_t i = 0; i < order.size(); ++i)
      if (i == 0 || ids[order[i]] != ids[order[i - 1]]) starts.push_back(i);
    starts.push_back(order.size());
    const int64_t runs = static_cast<int64_t>(starts.size()) - 1;
    const int64_t rows_per_run =
        std::max<int64_t>(1, static_cast<int64_t>(order.size()) / std::max<int64_t>(1, runs));
    parallel_chunks(
        rt_, runs, std::max<int64_t>(1, (int64_t{32} << 10) / (p_.dim * rows_per_run)),
        [&](int64_t first, int64_t last) {
          std::vector<float> tdy(p_.dtype == DType::kF32 ? 0 : dim);
          for (int64_t run = first; run < last; ++run) {
            const size_t b = starts[static_cast<size_t>(run)], e = starts[static_cast<size_t>(run) + 1];
            float* dst = table + static_cast<size_t>(ids[order[b]]) * dim;
            for (size_t i = b; i < e; ++i) {
              const float* dy = s_.in(buffers[0]->data, int64_t{order[i]} * p_.dim, dim, tdy.data());
              k.add(dst, dy, dst, dim);
            }
          }
        });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::EmbeddingBackwardParams p_;
  Storage s_;
};

// ---- reduce.v1 ----

class ReduceOp final : public Op {
 public:
  static constexpr int64_t kBlock = 16 << 10;  // elements per task along a row

  ReduceOp(const Runtime& rt, const sdk::ReduceParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set(
        "impl", describe(rt, p.dtype,
                         std::string("reduce ") + (p.kind == sdk::ReduceKind::kSum ? "sum" : "sum_squares") +
                             " over " + (p.axis == sdk::ReduceAxis::kRows ? "rows" : "cols") +
                             ": f32 vector partials per block, combined in f64"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("reduce.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    float* y = data<float>(buffers, 1);
    // A column (cols = 1) reduced over its rows is one contiguous row.
    if (p_.axis == sdk::ReduceAxis::kCols || p_.cols == 1)
      reduce_rows_each(buffers[0]->data, p_.axis == sdk::ReduceAxis::kCols ? p_.rows : 1,
                       p_.axis == sdk::ReduceAxis::kCols ? p_.cols : p_.rows, y);
    else
      reduce_over_rows(buffers[0]->data, y);
    return nullptr;
  }

 private:
  bool squares() const { return p_.kind == sdk::ReduceKind::kSumSquares; }

  void store(float* y, int64_t i, double sum) const {
    const double v = p_.scale * sum;
    y[i] = static_cast<float>(p_.accumulate ? static_cast<double>(y[i]) + v : v);
  }

  // y[r] = scale * sum over row r of `rows` rows of `cols` elements: tasks of kBlock elements of one row.
  void reduce_rows_each(const void* x, int64_t rows, int64_t cols, float* y) const {
    const RowKernels& k = *rt_.kernels->rows;
    const int64_t blocks = (cols + kBlock - 1) / kBlock;
    std::vector<double> partial(static_cast<size_t>(rows * blocks));
    parallel_chunks(rt_, rows * blocks, std::max<int64_t>(1, (int64_t{64} << 10) / std::min(cols, kBlock)),
                    [&](int64_t first, int64_t last) {
                      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : static_cast<size_t>(kBlock));
                      for (int64_t task = first; task < last; ++task) {
                        const int64_t r = task / blocks, b = task % blocks;
                        const int64_t c0 = b * kBlock;
                        const size_t n = static_cast<size_t>(std::min(kBlock, cols - c0));
                        const float* v = s_.in(x, r * cols + c0, n, tmp.data());
                        partial[static_cast<size_t>(task)] = squares() ? k.sum_sq(v, n) : k.sum(v, n);
                      }
                    });
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (int64_t b = 0; b < blocks; ++b) sum += partial[static_cast<size_t>(r * blocks + b)];
      store(y, r, sum);
    }
  }

  // y[c] = scale * sum over the rows of column c: a fixed partition of the rows, f32 partial rows.
  void reduce_over_rows(const void* x, float* y) const {
    const RowKernels& k = *rt_.kernels->rows;
    const size_t cols = static_cast<size_t>(p_.cols);
    const int64_t parts = parts_for(rt_, p_.rows, std::max<int64_t>(1, (int64_t{32} << 10) / p_.cols));
    std::vector<float> partial(static_cast<size_t>(parts) * cols, 0.0f);
    parallel_chunks(rt_, parts, 1, [&](int64_t first, int64_t last) {
      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : cols);
      for (int64_t part = first; part < last; ++part) {
        float* acc = partial.data() + static_cast<size_t>(part) * cols;
        for (int64_t r = part_begin(p_.rows, parts, part); r < part_begin(p_.rows, parts, part + 1); ++r) {
          const float* v = s_.in(x, r * p_.cols, cols, tmp.data());
          if (squares())
            k.mul_acc(acc, 1.0f, v, v, cols);
          else
            k.add(acc, v, acc, cols);
        }
      }
    });
    parallel_chunks(rt_, p_.cols, 4096, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c) {
        double sum = 0;
        for (int64_t part = 0; part < parts; ++part)
          sum += static_cast<double>(partial[static_cast<size_t>(part) * cols + static_cast<size_t>(c)]);
        store(y, c, sum);
      }
    });
  }

  const Runtime& rt_;
  sdk::ReduceParams p_;
  Storage s_;
};

// ---- adamw.v1 ----

class AdamwOp final : public Op {
 public:
  static constexpr int64_t kBlock = 4096;

  AdamwOp(const Runtime& rt, const sdk::AdamwParams& p)
      : rt_(rt), p_(p), g_{rt.kernels, p.dtype_grad}, out_{rt.kernels, p.dtype_out} {
    attributes.set("impl",
                   describe(rt, p.dtype_out == DType::kF32 ? p.dtype_grad : p.dtype_out,
                            std::string("adamw: f32 master weights and moments, blocks of ") +
                                std::to_string(kBlock) + ", copy out to " + sdk::dtype_name(p.dtype_out)));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("adamw.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const float* hyper = data<const float>(buffers, 5);
    const double lr = hyper[0], step = hyper[1], grad_scale = hyper[2];
    if (!(step >= 1) || !std::isfinite(lr) || !std::isfinite(grad_scale)) return nullptr;  // the skip
    const double bc1 = 1.0 - std::pow(p_.beta1, step), bc2 = 1.0 - std::pow(p_.beta2, step);
    AdamwConsts c{};
    c.grad_scale = static_cast<float>(grad_scale);
    c.b1 = static_cast<float>(p_.beta1);
    c.c1 = static_cast<float>(1.0 - p_.beta1);
    c.b2 = static_cast<float>(p_.beta2);
    c.c2 = static_cast<float>(1.0 - p_.beta2);
    c.decay = static_cast<float>(1.0 - lr * p_.weight_decay);
    c.step_size = static_cast<float>(lr / bc1);
    c.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
    c.eps = static_cast<float>(p_.eps);
    const RowKernels& k = *rt_.kernels->rows;
    float* w = data<float>(buffers, 0);
    float* m = data<float>(buffers, 2);
    float* v = data<float>(buffers, 3);
    void* w_out = buffers[4]->data;
    const int64_t blocks = (p_.n + kBlock - 1) / kBlock;
    parallel_chunks(rt_, blocks, 16, [&](int64_t first, int64_t last) {
      float tg[kBlock];
      for (int64_t b = first; b < last; ++b) {
        const int64_t at = b * kBlock;
        const size_t n = static_cast<size_t>(std::min(kBlock, p_.n - at));
        const float* g = g_.in(buffers[1]->data, at, n, tg);
        k.adamw(w + at, g, m + at, v + at, n, &c);
        out_.out(w + at, w_out, at, n);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::AdamwParams p_;
  Storage g_, out_;
};

// ---- Planning ----

template <class P>
OpPlan check_dtypes(const char* name, const sdk::Parsed<P>& parsed, std::initializer_list<DType> dtypes) {
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  for (DType t : dtypes)
    if (!sdk::is_inference_dtype(t))
      return answer(OpPlan::kUnsupported, std::string(name) + " on cpu: dtype " + sdk::dtype_name(t) +
                                              " is not offered (f16, bf16, f32)");
  return answer(OpPlan::kSupported);
}

template <class OpT, class P>
OpPlan plan_parsed(const Runtime& rt, const char* name, const sdk::Parsed<P>& parsed, bool create,
                   std::initializer_list<DType> dtypes) {
  OpPlan plan = check_dtypes(name, parsed, dtypes);
  if (plan.status == OpPlan::kSupported && create) plan.op = std::make_unique<OpT>(rt, parsed.value);
  return plan;
}

}  // namespace

OpPlan plan_training_op(const Runtime& rt, std::string_view name, const CMTR_KeyValue* params,
                        size_t num_params, bool create) {
  if (name == "rmsnorm_backward.v1") {
    auto p = sdk::parse_rmsnorm_backward(params, num_params);
    return plan_parsed<RmsNormBackwardOp>(rt, "rmsnorm_backward.v1", p, create, {p.value.dtype});
  }
  if (name == "swiglu_backward.v1") {
    auto p = sdk::parse_swiglu_backward(params, num_params);
    return plan_parsed<SwigluBackwardOp>(rt, "swiglu_backward.v1", p, create, {p.value.dtype});
  }
  if (name == "softmax_backward.v1") {
    auto p = sdk::parse_softmax_backward(params, num_params);
    return plan_parsed<SoftmaxBackwardOp>(rt, "softmax_backward.v1", p, create, {p.value.dtype});
  }
  if (name == "rope_backward.v1") {
    auto p = sdk::parse_rope_backward(params, num_params);
    OpPlan plan = check_dtypes("rope_backward.v1", p, {p.value.dtype});
    if (plan.status == OpPlan::kSupported && create) plan.op = make_rope_op(rt, p.value, /*inverse=*/true);
    return plan;
  }
  if (name == "cross_entropy.v1") {
    auto p = sdk::parse_cross_entropy(params, num_params);
    return plan_parsed<CrossEntropyOp>(rt, "cross_entropy.v1", p, create, {p.value.dtype});
  }
  if (name == "embedding_backward.v1") {
    auto p = sdk::parse_embedding_backward(params, num_params);
    return plan_parsed<EmbeddingBackwardOp>(rt, "embedding_backward.v1", p, create, {p.value.dtype});
  }
  if (name == "reduce.v1") {
    auto p = sdk::parse_reduce(params, num_params);
    return plan_parsed<ReduceOp>(rt, "reduce.v1", p, create, {p.value.dtype});
  }
  if (name == "adamw.v1") {
    auto p = sdk::parse_adamw(params, num_params);
    return plan_parsed<AdamwOp>(rt, "adamw.v1", p, create, {p.value.dtype_grad, p.value.dtype_out});
  }
  return answer(OpPlan::kUnknownOp, "unknown op '" + std::string(name) + "'");
}

}  // namespace cmeter::cpu
