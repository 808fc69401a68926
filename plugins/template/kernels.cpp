// kernels.cpp - the template device's kernels: plain loops over host memory.
//
// Why this file exists: these are the reference kernels of every op the template offers (the
// catalogue of docs/abi-keys.md: gemm, fma_peak, stream, and the ABI 1.1 inference ops). They are
// written to be read, not to be fast: one thread, one element at a time, arithmetic in double and one
// rounding to the output type at the store (the catalogue asks for f32 or wider). A vendor replaces
// each run_* body with a launch of its own kernel or library call (VENDOR: marks the places) and keeps
// these to compare against; `cmeter plugin check` holds both to the same FP64 references.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.hpp"

namespace tmpl {
namespace {

namespace sdk = cmeter::sdk;
using sdk::DType;

// ---- Element access: load any catalogue type as double, store a double rounded once ----

// Rounds `x` to a binary float with `sig_bits` significand bits (the implicit one included), least
// normal exponent `min_exp` and largest finite value `max_finite`: round to nearest even, subnormals,
// overflow to infinity. Used for f16 (11, -14, 65504) and bf16 (8, -126, 0x1.fep127), straight from
// double so there is one rounding, never two.
double round_binary(double x, int sig_bits, int min_exp, double max_finite) {
  if (!std::isfinite(x) || x == 0) return x;
  const int exp = std::max(std::ilogb(x), min_exp);  // subnormals share the least exponent's spacing
  const double spacing = std::ldexp(1.0, exp - (sig_bits - 1));
  const double r = std::nearbyint(x / spacing) * spacing;  // exact scaling; nearbyint rounds to even
  return std::fabs(r) > max_finite ? std::copysign(INFINITY, x) : r;
}

uint16_t f16_bits(double x) {
  const double r = round_binary(x, 11, -14, 65504.0);
  const uint16_t sign = std::signbit(r) ? 0x8000 : 0;
  const double a = std::fabs(r);
  if (std::isnan(r)) return 0x7e00;
  if (std::isinf(r)) return sign | 0x7c00;
  if (a < 0x1p-14) return sign | static_cast<uint16_t>(a * 0x1p24);  // subnormal (or zero)
  const int e = std::ilogb(a);
  return sign | static_cast<uint16_t>((e + 15) << 10) | static_cast<uint16_t>((std::ldexp(a, -e) - 1) * 1024);
}

double from_f16(uint16_t h) {
  const double sign = (h & 0x8000) ? -1 : 1;
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f) return m ? NAN : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(m, -24);
  return sign * std::ldexp(1024 + m, e - 25);
}

uint16_t bf16_bits(double x) {
  if (std::isnan(x)) return 0x7fc0;
  // Every bf16 value is an f32, so the rounded value converts to float exactly; bf16 is its top half.
  const float f = static_cast<float>(round_binary(x, 8, -126, 0x1.fep127));
  uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);
}

double from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}

double load(DType t, const void* base, int64_t i) {
  switch (t) {
    case DType::kF16:
      return from_f16(static_cast<const uint16_t*>(base)[i]);
    case DType::kBF16:
      return from_bf16(static_cast<const uint16_t*>(base)[i]);
    case DType::kF32:
      return static_cast<const float*>(base)[i];
    case DType::kF64:
      return static_cast<const double*>(base)[i];
    case DType::kI8:
      return static_cast<const int8_t*>(base)[i];
    case DType::kI32:
      return static_cast<const int32_t*>(base)[i];
  }
  return 0;
}

void store(DType t, void* base, int64_t i, double v) {
  switch (t) {
    case DType::kF16:
      static_cast<uint16_t*>(base)[i] = f16_bits(v);
      return;
    case DType::kBF16:
      static_cast<uint16_t*>(base)[i] = bf16_bits(v);
      return;
    case DType::kF32:
      static_cast<float*>(base)[i] = static_cast<float>(v);
      return;
    case DType::kF64:
      static_cast<double*>(base)[i] = v;
      return;
    case DType::kI8:
      static_cast<int8_t*>(base)[i] = static_cast<int8_t>(v);
      return;
    case DType::kI32:
      static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      return;
  }
}

// Rounds a double to what `t` holds (fma_peak's chains stay in their dtype).
double round_to(DType t, double v) {
  if (t == DType::kF16) return round_binary(v, 11, -14, 65504.0);
  if (t == DType::kBF16) return round_binary(v, 8, -126, 0x1.fep127);
  if (t == DType::kF32) return static_cast<float>(v);
  return v;
}

int32_t index_at(const void* buffer, int64_t i) {
  return static_cast<const int32_t*>(buffer)[i];
}

// ---- ABI 1.1 inference ops (docs/abi-keys.md, "Op catalogue 1.1") ----

void rmsnorm(const sdk::RmsNormParams& p, const void* x, const void* w, void* y) {
  for (int64_t r = 0; r < p.rows; ++r) {
    double sum_sq = 0;
    for (int64_t i = 0; i < p.dim; ++i)
      sum_sq += load(p.dtype, x, r * p.dim + i) * load(p.dtype, x, r * p.dim + i);
    const double inv = 1.0 / std::sqrt(sum_sq / static_cast<double>(p.dim) + p.eps);
    // Y may be X: each element is read before it is written.
    for (int64_t i = 0; i < p.dim; ++i)
      store(p.dtype, y, r * p.dim + i, load(p.dtype, x, r * p.dim + i) * inv * load(p.dtype, w, i));
  }
}

void rope(const sdk::RopeParams& p, void* x, const void* pos) {
  const int64_t half = p.head_dim / 2;
  for (int64_t r = 0; r < p.rows; ++r) {
    const int32_t position = index_at(pos, r);
    if (position < 0) continue;  // a negative position leaves its row unchanged
    for (int64_t h = 0; h < p.heads; ++h) {
      const int64_t base = (r * p.heads + h) * p.head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double angle =
            position * std::pow(p.theta, -2.0 * static_cast<double>(i) / static_cast<double>(p.head_dim));
        const int64_t ia = p.layout == sdk::RopeLayout::kHalf ? base + i : base + 2 * i;
        const int64_t ib = p.layout == sdk::RopeLayout::kHalf ? base + i + half : base + 2 * i + 1;
        const double a = load(p.dtype, x, ia), b = load(p.dtype, x, ib);
        store(p.dtype, x, ia, a * std::cos(angle) - b * std::sin(angle));
        store(p.dtype, x, ib, a * std::sin(angle) + b * std::cos(angle));
      }
    }
  }
}

void softmax(const sdk::SoftmaxParams& p, const void* x, void* y, const void* len) {
  std::vector<double> row(static_cast<size_t>(p.cols));
  for (int64_t r = 0; r < p.rows; ++r) {
    int64_t valid = p.cols;
    if (p.lengths) valid = std::min<int64_t>(std::max<int32_t>(index_at(len, r), 0), p.cols);
    double max = -INFINITY, sum = 0;
    for (int64_t c = 0; c < valid; ++c) {
      row[c] = p.scale * load(p.dtype, x, r * p.cols + c);  // read the whole row first: Y may be X
      max = std::max(max, row[c]);
    }
    for (int64_t c = 0; c < valid; ++c) sum += row[c] = std::exp(row[c] - max);  // max subtracted first
    for (int64_t c = 0; c < p.cols; ++c) store(p.dtype, y, r * p.cols + c, c < valid ? row[c] / sum : 0.0);
  }
}

void swiglu(const sdk::SwigluParams& p, const void* gu, void* y) {
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t i = 0; i < p.dim; ++i) {
      const double g = load(p.dtype, gu, r * 2 * p.dim + i), u = load(p.dtype, gu, r * 2 * p.dim + p.dim + i);
      store(p.dtype, y, r * p.dim + i, g / (1 + std::exp(-g)) * u);
    }
}

void kv_append(const sdk::KvAppendParams& p, const void* src, void* cache, const void* slot,
               const void* pos) {
  const size_t row_bytes = static_cast<size_t>(p.head_dim) * sdk::dtype_size_bytes(p.dtype);
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t s = index_at(slot, r), position = index_at(pos, r);
    if (s < 0 || s >= p.slots || position < 0 || position >= p.capacity) continue;  // skipped
    for (int64_t h = 0; h < p.kv_heads; ++h)
      std::memcpy(static_cast<uint8_t*>(cache) + ((s * p.kv_heads + h) * p.capacity + position) * row_bytes,
                  static_cast<const uint8_t*>(src) + (r * p.kv_heads + h) * row_bytes, row_bytes);
  }
}

void embedding(const sdk::EmbeddingParams& p, const void* table, const void* ids, void* y) {
  const size_t row_bytes = static_cast<size_t>(p.dim) * sdk::dtype_size_bytes(p.dtype);
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t id = index_at(ids, r);
    uint8_t* out = static_cast<uint8_t*>(y) + r * row_bytes;
    if (id < 0 || id >= p.vocab)
      std::memset(out, 0, row_bytes);  // an id outside [0, vocab) writes zeros
    else
      std::memcpy(out, static_cast<const uint8_t*>(table) + id * row_bytes, row_bytes);
  }
}

void argmax(const sdk::ArgmaxParams& p, const void* x, void* out) {
  for (int64_t r = 0; r < p.rows; ++r) {
    int64_t best = -1;
    double best_value = 0;
    for (int64_t c = 0; c < p.cols; ++c) {
      const double v = load(p.dtype, x, r * p.cols + c);
      if (std::isnan(v)) continue;                               // NaN never wins
      if (best < 0 || v > best_value) best = c, best_value = v;  // strict: ties keep the lowest index
    }
    static_cast<int32_t*>(out)[r] = static_cast<int32_t>(best < 0 ? 0 : best);
  }
}

void eltwise(const sdk::EltwiseParams& p, void* const* buffers) {
  const void* a = buffers[0];
  const bool binary = p.kind == sdk::EltwiseKind::kAdd || p.kind == sdk::EltwiseKind::kMul;
  const void* b = binary ? buffers[1] : nullptr;
  void* y = binary ? buffers[2] : buffers[1];
  for (int64_t i = 0; i < p.n; ++i) {
    const double va = load(p.dtype, a, i);
    switch (p.kind) {
      case sdk::EltwiseKind::kAdd:
        store(p.dtype, y, i, va + load(p.dtype, b, i));
        break;
      case sdk::EltwiseKind::kMul:
        store(p.dtype, y, i, va * load(p.dtype, b, i));
        break;
      case sdk::EltwiseKind::kScale:
        store(p.dtype, y, i, p.scalar * va);
        break;
      case sdk::EltwiseKind::kCast:
        store(p.dtype_out, y, i, va);
        break;
    }
  }
}

void attention(const sdk::AttentionParams& p, void* const* buffers) {
  const void *q = buffers[0], *k_cache = buffers[1], *v_cache = buffers[2], *slot = buffers[3],
             *pos = buffers[4];
  void* o = buffers[5];
  const int64_t group = p.heads / p.kv_heads, d = p.head_dim;
  std::vector<double> prob(static_cast<size_t>(p.capacity));
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t s = index_at(slot, r), last = index_at(pos, r);
    const bool in_range = s >= 0 && s < p.slots && last >= 0 && last < p.capacity;
    for (int64_t h = 0; h < p.heads; ++h) {
      const int64_t q_base = (r * p.heads + h) * d;
      if (!in_range) {  // a row with SLOT or POS out of range writes zeros
        for (int64_t i = 0; i < d; ++i) store(p.dtype, o, q_base + i, 0.0);
        continue;
      }
      const int64_t kv_base = (s * p.kv_heads + h / group) * p.capacity * d;  // this (slot, KV head) block
      double max = -INFINITY, sum = 0;
      for (int64_t t = 0; t <= last; ++t) {
        double dot = 0;
        for (int64_t i = 0; i < d; ++i)
          dot += load(p.dtype, q, q_base + i) * load(p.dtype, k_cache, kv_base + t * d + i);
        prob[t] = p.scale * dot;
        max = std::max(max, prob[t]);
      }
      for (int64_t t = 0; t <= last; ++t) sum += prob[t] = std::exp(prob[t] - max);
      for (int64_t i = 0; i < d; ++i) {
        double acc = 0;
        for (int64_t t = 0; t <= last; ++t) acc += prob[t] * load(p.dtype, v_cache, kv_base + t * d + i);
        store(p.dtype, o, q_base + i, acc / sum);
      }
    }
  }
}

}  // namespace

// ---- The v1 catalogue ----

// C = alpha * op(A) * op(B) + beta * C, column-major, for each batch matrix (offsets from ABI 1.1).
// VENDOR: your GEMM library (hipblasLtMatmul, aclnnMatmul, ...) or your tiled kernel.
void run_gemm(const sdk::GemmParams& p, const void* a, const void* b, void* c) {
  for (int64_t bi = 0; bi < p.batch; ++bi) {
    const int64_t a0 = p.offset_a + bi * p.stride_a, b0 = p.offset_b + bi * p.stride_b,
                  c0 = p.offset_c + bi * p.stride_c;
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t i = 0; i < p.m; ++i) {
        double acc = 0;  // exact for i8 (|sum| < 2^53); wider than the f32 the catalogue asks for floats
        for (int64_t l = 0; l < p.k; ++l) {
          const int64_t ia = p.trans_a ? l + i * p.lda : i + l * p.lda;  // op(A)[i][l]
          const int64_t ib = p.trans_b ? j + l * p.ldb : l + j * p.ldb;  // op(B)[l][j]
          acc += load(p.a, a, a0 + ia) * load(p.b, b, b0 + ib);
        }
        const int64_t ic = c0 + i + j * p.ldc;
        // beta = 0 never reads C (it may hold NaN).
        store(p.c, c, ic, p.alpha * acc + (p.beta == 0 ? 0.0 : p.beta * load(p.c, c, ic)));
      }
  }
}

// Every item runs `lanes` chains of x = fma(x, a, b), `iters` rounds, in the op's dtype, and writes the
// sum of its lanes as f32. Every round is done: the host simulates the chain and compares each item.
// VENDOR: your kernel keeps the lanes in registers, one item per thread.
void run_fma_peak(const sdk::FmaPeakParams& p, void* out) {
  const DType t = *sdk::parse_dtype(p.dtype);
  const double a = round_to(t, p.a), b = round_to(t, p.b);
  std::vector<double> x(static_cast<size_t>(p.lanes));
  for (int64_t item = 0; item < p.items; ++item) {
    // Items start apart (ABI 1.3): item i's lanes at x0 + l·dx + (i mod item_period)·item_dx.
    const double offset = p.item_offset<double>(item);
    for (int64_t l = 0; l < p.lanes; ++l) x[l] = round_to(t, p.x0 + static_cast<double>(l) * p.dx + offset);
    for (int64_t it = 0; it < p.iters; ++it)
      for (int64_t l = 0; l < p.lanes; ++l) {
        if (t == DType::kF32)
          x[l] = std::fmaf(static_cast<float>(x[l]), static_cast<float>(a), static_cast<float>(b));
        else
          x[l] = round_to(t, std::fma(x[l], a, b));  // exact in double for f64; one rounding for f16/bf16
      }
    double sum = 0;
    for (int64_t l = 0; l < p.lanes; ++l) sum += x[l];
    static_cast<float*>(out)[item] = static_cast<float>(sum);
  }
}

// STREAM's four kernels over f32 or f64 arrays of n elements.
void run_stream(const sdk::StreamParams& p, void* a, void* b, void* c) {
  const DType t = *sdk::parse_dtype(p.dtype);
  for (int64_t i = 0; i < p.n; ++i) switch (p.kind) {
      case sdk::StreamKind::kCopy:  // C = A
        store(t, c, i, load(t, a, i));
        break;
      case sdk::StreamKind::kScale:  // B = s * C
        store(t, b, i, p.scalar * load(t, c, i));
        break;
      case sdk::StreamKind::kAdd:  // C = A + B
        store(t, c, i, load(t, a, i) + load(t, b, i));
        break;
      case sdk::StreamKind::kTriad:  // A = B + s * C
        store(t, a, i, load(t, b, i) + p.scalar * load(t, c, i));
        break;
    }
}

void run_inference_op(const sdk::InferenceOpParams& op, void* const* buf) {
  if (auto* p = std::get_if<sdk::RmsNormParams>(&op)) return rmsnorm(*p, buf[0], buf[1], buf[2]);
  if (auto* p = std::get_if<sdk::RopeParams>(&op)) return rope(*p, buf[0], buf[1]);
  if (auto* p = std::get_if<sdk::SoftmaxParams>(&op))
    return softmax(*p, buf[0], buf[1], p->lengths ? buf[2] : nullptr);
  if (auto* p = std::get_if<sdk::SwigluParams>(&op)) return swiglu(*p, buf[0], buf[1]);
  if (auto* p = std::get_if<sdk::KvAppendParams>(&op)) return kv_append(*p, buf[0], buf[1], buf[2], buf[3]);
  if (auto* p = std::get_if<sdk::EmbeddingParams>(&op)) return embedding(*p, buf[0], buf[1], buf[2]);
  if (auto* p = std::get_if<sdk::ArgmaxParams>(&op)) return argmax(*p, buf[0], buf[1]);
  if (auto* p = std::get_if<sdk::EltwiseParams>(&op)) return eltwise(*p, buf);
  if (auto* p = std::get_if<sdk::AttentionParams>(&op)) return attention(*p, buf);
}

}  // namespace tmpl
