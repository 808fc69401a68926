// plugins/cpu/inference_ops.cpp - rmsnorm, rope, softmax, swiglu, kv_append, embedding, argmax,
// eltwise and attention on the CPU.
//
// Why this file exists: see inference_ops.hpp. How they run: the parameters come from the SDK's
// parsers (cmeter/plugin_ops.hpp), so malformed requests are INVALID_ARGUMENT exactly as in every
// plugin; each op then works row by row, in parallel over rows (oneTBB, chunks of >= ~32K elements so
// small calls stay on the calling thread), with the f32 row kernels of the dispatched ISA
// (kernels_rows.inc). f16/bf16 rows are converted to f32 in per-chunk scratch with the ISA's
// converters (F16C / AVX-512 where present), computed in f32 and rounded once to the storage type.
// Index values (positions, slots, lengths, ids) are read per call from their i32 buffers and checked
// against the op's static shape before any access: out-of-range rows write zeros or are skipped as
// the catalogue says, never memory outside a buffer.
#include "inference_ops.hpp"

#include "row_ops.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <cmeter/plugin_ops.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

namespace cmeter::cpu {
namespace {

using sdk::DType;

using namespace row_ops;  // NOLINT(google-build-using-namespace): the shared row machinery

// ---- rmsnorm.v1 ----

class RmsNormOp final : public Op {
 public:
  RmsNormOp(const Runtime& rt, const sdk::RmsNormParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype, "rmsnorm: sum of squares, then x*w/rms"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("rmsnorm.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t dim = static_cast<size_t>(p_.dim);
    std::vector<float> w_tmp(p_.dtype == DType::kF32 ? 0 : dim);
    const float* w = s_.in(buffers[1]->data, 0, dim, w_tmp.data());
    const double inv_dim = 1.0 / static_cast<double>(p_.dim);
    parallel_rows(rt_, p_.rows, p_.dim, [&](int64_t first, int64_t last) {
      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : dim);
      for (int64_t r = first; r < last; ++r) {
        const int64_t at = r * p_.dim;
        const float* x = s_.in(buffers[0]->data, at, dim, tmp.data());
        const double ms = static_cast<double>(k.sum_sq(x, dim)) * inv_dim;
        const float inv = static_cast<float>(1.0 / std::sqrt(ms + p_.eps));
        float* y = s_.work(buffers[2]->data, at, tmp.data());
        k.mul_scale(x, w, inv, y, dim);
        s_.out(y, buffers[2]->data, at, dim);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::RmsNormParams p_;
  Storage s_;
};

// ---- rope.v1 ----

class RopeOp final : public Op {
 public:
  // inverse: rope_backward.v1 (ABI 1.2), the rotation by -angle (sin negated).
  RopeOp(const Runtime& rt, const sdk::RopeParams& p, bool inverse = false)
      : rt_(rt), p_(p), s_{rt.kernels, p.dtype}, inverse_(inverse) {
    const int64_t half = p.head_dim / 2;
    inv_freq_.resize(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i)
      inv_freq_[static_cast<size_t>(i)] =
          std::pow(p.theta, -2.0 * static_cast<double>(i) / static_cast<double>(p.head_dim));
    attributes.set("impl", describe(rt, p.dtype,
                                    std::string("rope ") +
                                        (p.layout == sdk::RopeLayout::kHalf ? "half" : "interleaved") +
                                        (inverse ? " inverse" : "") +
                                        ": cos/sin per row in f64 (shared by its heads), rotation in f32"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e =
            check_buffers(inverse_ ? "rope_backward.v1" : "rope.v1", buffers, num_buffers, p_.buffer_needs()))
      return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t half = static_cast<size_t>(p_.head_dim / 2);
    const int64_t row_elems = p_.heads * p_.head_dim;
    parallel_rows(rt_, p_.rows, row_elems + p_.head_dim * 8, [&](int64_t first, int64_t last) {
      std::vector<float> cs(half), sn(half),
          tmp(p_.dtype == DType::kF32 ? 0 : static_cast<size_t>(row_elems));
      std::vector<float> a(half), b(half);
      for (int64_t r = first; r < last; ++r) {
        const int32_t pos = index_at(buffers, 1, r);
        if (pos < 0) continue;  // the catalogue: a negative position leaves its row unchanged
        for (size_t i = 0; i < half; ++i) {
          const double angle = static_cast<double>(pos) * inv_freq_[i];
          cs[i] = static_cast<float>(std::cos(angle));
          sn[i] = static_cast<float>(inverse_ ? -std::sin(angle) : std::sin(angle));
        }
        const int64_t at = r * row_elems;
        // In place: f32 rows are rotated where they are, f16/bf16 rows in tmp and stored back.
        if (p_.dtype != DType::kF32) s_.in(buffers[0]->data, at, static_cast<size_t>(row_elems), tmp.data());
        float* x = s_.work(buffers[0]->data, at, tmp.data());
        for (int64_t h = 0; h < p_.heads; ++h) {
          float* xh = x + h * p_.head_dim;
          if (p_.layout == sdk::RopeLayout::kHalf) {
            k.rotate(xh, xh + half, cs.data(), sn.data(), half);
          } else {
            for (size_t i = 0; i < half; ++i) {
              a[i] = xh[2 * i];
              b[i] = xh[2 * i + 1];
            }
            k.rotate(a.data(), b.data(), cs.data(), sn.data(), half);
            for (size_t i = 0; i < half; ++i) {
              xh[2 * i] = a[i];
              xh[2 * i + 1] = b[i];
            }
          }
        }
        s_.out(x, buffers[0]->data, at, static_cast<size_t>(row_elems));
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::RopeParams p_;
  Storage s_;
  bool inverse_ = false;
  std::vector<double> inv_freq_;  // theta^(-2i/head_dim)
};

// ---- softmax.v1 ----

class SoftmaxOp final : public Op {
 public:
  SoftmaxOp(const Runtime& rt, const sdk::SoftmaxParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype,
                                    std::string("softmax") + (p.lengths ? " over LEN[r] columns" : "") +
                                        ": max, exp(scale*(x-max)) (polynomial) and sum, normalise"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("softmax.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t cols = static_cast<size_t>(p_.cols);
    const float scale = static_cast<float>(p_.scale);
    parallel_rows(rt_, p_.rows, p_.cols, [&](int64_t first, int64_t last) {
      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : cols);
      for (int64_t r = first; r < last; ++r) {
        size_t valid = cols;
        if (p_.lengths) {
          const int32_t len = index_at(buffers, 2, r);
          valid = len <= 0 ? 0 : std::min(cols, static_cast<size_t>(len));
        }
        const int64_t at = r * p_.cols;
        const float* x = s_.in(buffers[0]->data, at, valid, tmp.data());
        float* y = s_.work(buffers[1]->data, at, tmp.data());
        if (valid > 0) {
          // max(scale * x) is at max(x) for scale >= 0, at min(x) otherwise.
          const float m = scale >= 0 ? k.max(x, valid) : k.min(x, valid);
          const float sum = k.exp_shift(x, scale, m, y, valid);
          k.scale(y, 1.0f / sum, y, valid);
        }
        std::fill(y + valid, y + cols, 0.0f);
        s_.out(y, buffers[1]->data, at, cols);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::SoftmaxParams p_;
  Storage s_;
};

// ---- swiglu.v1 ----

class SwigluOp final : public Op {
 public:
  SwigluOp(const Runtime& rt, const sdk::SwigluParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype, "swiglu: g/(1+exp(-g))*u, exp polynomial"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("swiglu.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t dim = static_cast<size_t>(p_.dim);
    parallel_rows(rt_, p_.rows, 3 * p_.dim, [&](int64_t first, int64_t last) {
      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : 3 * dim);
      for (int64_t r = first; r < last; ++r) {
        const float* gu = s_.in(buffers[0]->data, r * 2 * p_.dim, 2 * dim, tmp.data());
        float* y = s_.work(buffers[1]->data, r * p_.dim, tmp.empty() ? nullptr : tmp.data() + 2 * dim);
        k.swiglu(gu, gu + dim, y, dim);
        s_.out(y, buffers[1]->data, r * p_.dim, dim);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::SwigluParams p_;
  Storage s_;
};

// ---- kv_append.v1 ----

class KvAppendOp final : public Op {
 public:
  KvAppendOp(const Runtime& rt, const sdk::KvAppendParams& p) : rt_(rt), p_(p) {
    attributes.set("impl",
                   "kv_append: memcpy of head_dim rows, rows in order per KV head, tbb over KV heads (" +
                       std::to_string(rt.threads) + (rt.threads == 1 ? " core)" : " cores)"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("kv_append.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const size_t size = sdk::dtype_size_bytes(p_.dtype);
    const size_t row_bytes = static_cast<size_t>(p_.head_dim) * size;
    const char* src = data<const char>(buffers, 0);
    char* cache = data<char>(buffers, 1);
    // Each KV head's cache blocks are disjoint, so heads run in parallel; within a head rows go in
    // order (a later row wins when two name the same slot and position).
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{256} << 10) / std::max<int64_t>(1, p_.rows * p_.head_dim));
    parallel_chunks(rt_, p_.kv_heads, grain, [&](int64_t first, int64_t last) {
      for (int64_t h = first; h < last; ++h)
        for (int64_t r = 0; r < p_.rows; ++r) {
          const int32_t slot = index_at(buffers, 2, r), pos = index_at(buffers, 3, r);
          if (slot < 0 || slot >= p_.slots || pos < 0 || pos >= p_.capacity) continue;
          const int64_t dst = ((slot * p_.kv_heads + h) * p_.capacity + pos) * p_.head_dim;
          const int64_t from = (r * p_.kv_heads + h) * p_.head_dim;
          std::memcpy(cache + static_cast<size_t>(dst) * size, src + static_cast<size_t>(from) * size,
                      row_bytes);
        }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::KvAppendParams p_;
};

// ---- embedding.v1 ----

class EmbeddingOp final : public Op {
 public:
  EmbeddingOp(const Runtime& rt, const sdk::EmbeddingParams& p) : rt_(rt), p_(p) {
    attributes.set("impl", "embedding: memcpy of table rows (zeros for ids out of range), tbb over rows (" +
                               std::to_string(rt.threads) + (rt.threads == 1 ? " core)" : " cores)"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("embedding.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const size_t row_bytes = static_cast<size_t>(p_.dim) * sdk::dtype_size_bytes(p_.dtype);
    const char* table = data<const char>(buffers, 0);
    char* y = data<char>(buffers, 2);
    parallel_rows(rt_, p_.rows, p_.dim, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r) {
        const int32_t id = index_at(buffers, 1, r);
        char* dst = y + static_cast<size_t>(r) * row_bytes;
        if (id < 0 || id >= p_.vocab)
          std::memset(dst, 0, row_bytes);
        else
          std::memcpy(dst, table + static_cast<size_t>(id) * row_bytes, row_bytes);
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::EmbeddingParams p_;
};

// ---- argmax.v1 ----

class ArgmaxOp final : public Op {
 public:
  ArgmaxOp(const Runtime& rt, const sdk::ArgmaxParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl", describe(rt, p.dtype, "argmax: vector max (NaN ignored), then first index of it"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("argmax.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t cols = static_cast<size_t>(p_.cols);
    int32_t* out = data<int32_t>(buffers, 1);
    parallel_rows(rt_, p_.rows, p_.cols, [&](int64_t first, int64_t last) {
      std::vector<float> tmp(p_.dtype == DType::kF32 ? 0 : cols);
      for (int64_t r = first; r < last; ++r) {
        const float* x = s_.in(buffers[0]->data, r * p_.cols, cols, tmp.data());
        out[r] = static_cast<int32_t>(k.argmax(x, cols));
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::ArgmaxParams p_;
  Storage s_;
};

// ---- eltwise.v1 ----

class EltwiseOp final : public Op {
 public:
  EltwiseOp(const Runtime& rt, const sdk::EltwiseParams& p)
      : rt_(rt), p_(p), in_{rt.kernels, p.dtype}, out_{rt.kernels, p.dtype_out} {
    attributes.set("impl", describe(rt, p.dtype == DType::kF32 ? p.dtype_out : p.dtype,
                                    "eltwise " + p.kind_name +
                                        (p.kind == sdk::EltwiseKind::kCast
                                             ? std::string(" ") + sdk::dtype_name(p.dtype) + "->" +
                                                   sdk::dtype_name(p.dtype_out)
                                             : std::string()) +
                                        ": blocks of 1024 elements"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("eltwise.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const bool binary = p_.kind == sdk::EltwiseKind::kAdd || p_.kind == sdk::EltwiseKind::kMul;
    void* y = buffers[binary ? 2 : 1]->data;
    const void* a = buffers[0]->data;
    const void* b = binary ? buffers[1]->data : nullptr;
    if (p_.kind == sdk::EltwiseKind::kCast && p_.dtype == p_.dtype_out) {
      // A cast to the same type is a copy (nothing to do in place).
      if (a != y) parallel_copy(rt_, y, a, static_cast<size_t>(p_.in_bytes));
      return nullptr;
    }
    constexpr int64_t kBlock = 1024;
    const int64_t blocks = (p_.n + kBlock - 1) / kBlock;
    const float scalar = static_cast<float>(p_.scalar);
    // A cast in place between types of different sizes moves data across blocks: narrowing runs
    // blocks in order (each block's writes only cover input already read), widening in reverse.
    const bool in_place_resize = a == y && in_.size() != out_.size();
    const bool reverse = in_place_resize && out_.size() > in_.size();
    auto body = [&](int64_t first, int64_t last) {
      float ta[kBlock], tb[kBlock], ty[kBlock];
      for (int64_t i = first; i < last; ++i) {
        const int64_t blk = reverse ? blocks - 1 - i : i;
        const int64_t at = blk * kBlock;
        const size_t n = static_cast<size_t>(std::min(kBlock, p_.n - at));
        const float* va = in_.in(a, at, n, ta);
        const float* vb = binary ? in_.in(b, at, n, tb) : nullptr;
        float* vy = out_.work(y, at, ty);
        switch (p_.kind) {
          case sdk::EltwiseKind::kAdd:
            k.add(va, vb, vy, n);
            break;
          case sdk::EltwiseKind::kMul:
            k.mul(va, vb, vy, n);
            break;
          case sdk::EltwiseKind::kScale:
            k.scale(va, scalar, vy, n);
            break;
          case sdk::EltwiseKind::kCast:
            if (vy != va) std::memmove(vy, va, n * sizeof(float));
            break;
        }
        out_.out(vy, y, at, n);
      }
    };
    if (in_place_resize)
      body(0, blocks);
    else
      parallel_chunks(rt_, blocks, 16, body);
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::EltwiseParams p_;
  Storage in_, out_;
};

// ---- attention.v1 ----

class AttentionOp final : public Op {
 public:
  static constexpr int64_t kBlock = 64;  // cache positions per step of the online softmax

  AttentionOp(const Runtime& rt, const sdk::AttentionParams& p) : rt_(rt), p_(p), s_{rt.kernels, p.dtype} {
    attributes.set("impl",
                   describe(rt, p.dtype,
                            "fused attention: per row and KV head group, online softmax over blocks of " +
                                std::to_string(kBlock) +
                                " cached positions (each block loaded once per group); tbb over tasks"));
  }
  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = check_buffers("attention.v1", buffers, num_buffers, p_.buffer_needs())) return e;
    const RowKernels& k = *rt_.kernels->rows;
    const size_t hd = static_cast<size_t>(p_.head_dim);
    const int64_t group = p_.heads / p_.kv_heads;
    const float scale = static_cast<float>(p_.scale);
    // Work of one (row, head): about (POS + 1) * head_dim * 2 elements; small calls stay on this thread.
    int64_t work = 0;
    for (int64_t r = 0; r < p_.rows; ++r) {
      const int32_t pos = index_at(buffers, 4, r);
      if (pos >= 0 && pos < p_.capacity) work += (int64_t{pos} + 1) * p_.heads * p_.head_dim * 2;
    }
    // A task is one row and a run of query heads sharing one KV head (all `group` of them when there
    // are enough tasks for the cores: each K/V block is then loaded and converted once for the group).
    const int64_t per_task = p_.rows * p_.kv_heads >= 2 * int64_t{rt_.threads} ? group : 1;
    const int64_t tasks = p_.rows * (p_.heads / per_task);
    parallel_chunks(rt_, tasks, work < (int64_t{64} << 10) ? tasks : 1, [&](int64_t first, int64_t last) {
      const size_t g_n = static_cast<size_t>(per_task);
      std::vector<float> q(g_n * hd), o(g_n * hd), kb(static_cast<size_t>(kBlock) * hd),
          vb(static_cast<size_t>(kBlock) * hd), sc(g_n * static_cast<size_t>(kBlock)), tmp(hd), m(g_n),
          l(g_n);
      for (int64_t t = first; t < last; ++t) {
        const int64_t r = t / (p_.heads / per_task), h0 = t % (p_.heads / per_task) * per_task;
        const int32_t slot = index_at(buffers, 3, r), pos = index_at(buffers, 4, r);
        std::fill(o.begin(), o.end(), 0.0f);
        if (slot < 0 || slot >= p_.slots || pos < 0 || pos >= p_.capacity) {
          for (int64_t g = 0; g < per_task; ++g)  // zeros (a copy from o for f32 too)
            s_.out(o.data(), buffers[5]->data, (r * p_.heads + h0 + g) * p_.head_dim, hd);
          continue;
        }
        for (int64_t g = 0; g < per_task; ++g) {
          const int64_t q_at = (r * p_.heads + h0 + g) * p_.head_dim;
          k.scale(s_.in(buffers[0]->data, q_at, hd, tmp.data()), scale, q.data() + g * p_.head_dim, hd);
        }
        std::fill(m.begin(), m.end(), -INFINITY);
        std::fill(l.begin(), l.end(), 0.0f);
        const int64_t base =
            (static_cast<int64_t>(slot) * p_.kv_heads + h0 / group) * p_.capacity * p_.head_dim;
        for (int64_t p0 = 0; p0 <= pos; p0 += kBlock) {
          const int64_t nb = std::min<int64_t>(kBlock, pos + 1 - p0);
          const size_t block_elems = static_cast<size_t>(nb) * hd;
          const float* kp = s_.in(buffers[1]->data, base + p0 * p_.head_dim, block_elems, kb.data());
          const float* vp = s_.in(buffers[2]->data, base + p0 * p_.head_dim, block_elems, vb.data());
          for (size_t g = 0; g < g_n; ++g) {
            float* sg = sc.data() + g * static_cast<size_t>(kBlock);
            float* og = o.data() + g * hd;
            const float* qg = q.data() + g * hd;
            for (int64_t j = 0; j < nb; ++j) sg[j] = k.dot(qg, kp + j * p_.head_dim, hd);
            const float m_new = std::max(m[g], k.max(sg, static_cast<size_t>(nb)));
            const float corr = m[g] == -INFINITY ? 0.0f : std::exp(m[g] - m_new);
            l[g] = l[g] * corr + k.exp_shift(sg, 1.0f, m_new, sg, static_cast<size_t>(nb));
            if (corr != 1.0f) k.scale(og, corr, og, hd);
            for (int64_t j = 0; j < nb; ++j) k.scale_add(og, 1.0f, sg[j], vp + j * p_.head_dim, hd);
            m[g] = m_new;
          }
        }
        for (int64_t g = 0; g < per_task; ++g) {
          float* og = o.data() + g * p_.head_dim;
          k.scale(og, 1.0f / l[static_cast<size_t>(g)], og, hd);
          s_.out(og, buffers[5]->data, (r * p_.heads + h0 + g) * p_.head_dim, hd);
        }
      }
    });
    return nullptr;
  }

 private:
  const Runtime& rt_;
  sdk::AttentionParams p_;
  Storage s_;
};

// ---- Planning ----

template <class OpT, class P>
OpPlan plan_parsed(const Runtime& rt, const char* name, const sdk::Parsed<P>& parsed, bool create,
                   std::initializer_list<DType> dtypes) {
  if (!parsed.ok()) return answer(OpPlan::kInvalid, parsed.invalid_reason);
  for (DType t : dtypes)
    if (!sdk::is_inference_dtype(t))
      return answer(OpPlan::kUnsupported, std::string(name) + " on cpu: dtype " + sdk::dtype_name(t) +
                                              " is not offered (f16, bf16, f32)");
  OpPlan plan = answer(OpPlan::kSupported);
  if (create) plan.op = std::make_unique<OpT>(rt, parsed.value);
  return plan;
}

}  // namespace

std::unique_ptr<Op> make_rope_op(const Runtime& rt, const sdk::RopeParams& p, bool inverse) {
  return std::make_unique<RopeOp>(rt, p, inverse);
}

OpPlan plan_inference_op(const Runtime& rt, std::string_view name, const CMTR_KeyValue* params,
                         size_t num_params, bool create) {
  if (name == "rmsnorm.v1") {
    auto p = sdk::parse_rmsnorm(params, num_params);
    return plan_parsed<RmsNormOp>(rt, "rmsnorm.v1", p, create, {p.value.dtype});
  }
  if (name == "rope.v1") {
    auto p = sdk::parse_rope(params, num_params);
    return plan_parsed<RopeOp>(rt, "rope.v1", p, create, {p.value.dtype});
  }
  if (name == "softmax.v1") {
    auto p = sdk::parse_softmax(params, num_params);
    return plan_parsed<SoftmaxOp>(rt, "softmax.v1", p, create, {p.value.dtype});
  }
  if (name == "swiglu.v1") {
    auto p = sdk::parse_swiglu(params, num_params);
    return plan_parsed<SwigluOp>(rt, "swiglu.v1", p, create, {p.value.dtype});
  }
  if (name == "kv_append.v1") {
    auto p = sdk::parse_kv_append(params, num_params);
    return plan_parsed<KvAppendOp>(rt, "kv_append.v1", p, create, {p.value.dtype});
  }
  if (name == "embedding.v1") {
    auto p = sdk::parse_embedding(params, num_params);
    return plan_parsed<EmbeddingOp>(rt, "embedding.v1", p, create, {p.value.dtype});
  }
  if (name == "argmax.v1") {
    auto p = sdk::parse_argmax(params, num_params);
    return plan_parsed<ArgmaxOp>(rt, "argmax.v1", p, create, {p.value.dtype});
  }
  if (name == "eltwise.v1") {
    auto p = sdk::parse_eltwise(params, num_params);
    return plan_parsed<EltwiseOp>(rt, "eltwise.v1", p, create, {p.value.dtype, p.value.dtype_out});
  }
  if (name == "attention.v1") {
    auto p = sdk::parse_attention(params, num_params);
    return plan_parsed<AttentionOp>(rt, "attention.v1", p, create, {p.value.dtype});
  }
  return answer(OpPlan::kUnknownOp, "unknown op '" + std::string(name) + "'");
}

}  // namespace cmeter::cpu
