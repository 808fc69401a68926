// cmeter/plugin_ops.hpp - the parameter contracts of the op catalogue v1 (docs/abi-keys.md), parsed
// once for every plugin.
//
// Why this file exists: the catalogue says what each op's parameters mean, their defaults and which
// requests are malformed. Every plugin used to copy that parsing and the copies drifted (an unknown
// dtype was `unsupported` in one plugin and `invalid` in the others). Here it is written once, with
// the rule of docs/abi-keys.md ("Contract rules"):
//   - malformed (INVALID_ARGUMENT from op_query and op_create): an unknown or duplicate key, a wrong
//     type, a missing required key, a value outside the catalogue (a dtype or kind it does not name,
//     m < 1, a leading dimension below the stored rows, overlapping C matrices, sizes that overflow
//     64-bit byte counts, a non-finite alpha),
//   - well-formed but not offered by this device (op_query supported=0 with a reason, op_create
//     UNIMPLEMENTED): everything else a plugin cannot run (f64 without fp64 units, integer GEMM,
//     a size above what its library takes). That part stays in the plugin.
// A parse_* function returns the values with every default resolved, or `ok() == false` and the
// reason ("gemm.v1: unknown dtype_a 'f8'"). Header-only, C++17.
#ifndef CMETER_PLUGIN_OPS_HPP_
#define CMETER_PLUGIN_OPS_HPP_

#include <cmeter/plugin_sdk.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cmeter::sdk {

// ---- Element types ----

enum class DType { kF16, kBF16, kF32, kF64, kI8, kI32 };

inline std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f16") return DType::kF16;
  if (s == "bf16") return DType::kBF16;
  if (s == "f32") return DType::kF32;
  if (s == "f64") return DType::kF64;
  if (s == "i8") return DType::kI8;
  if (s == "i32") return DType::kI32;
  return std::nullopt;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF16:
      return "f16";
    case DType::kBF16:
      return "bf16";
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kI8:
      return "i8";
    case DType::kI32:
      return "i32";
  }
  return "?";
}

inline size_t dtype_size_bytes(DType t) {
  switch (t) {
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI8:
      return 1;
  }
  return 1;
}

inline bool is_compute_type(std::string_view s) {
  return s == "f16" || s == "f32" || s == "f64" || s == "i32" || s == "tf32";
}

// The outcome of parsing an op's parameters: the values, or why the request is malformed.
template <class T>
struct Parsed {
  T value{};
  std::string invalid_reason;  // empty when well-formed
  bool ok() const { return invalid_reason.empty(); }
};

// Bytes spanned by `batch` matrices of rows x cols (leading dimension ld, `stride` elements apart);
// false when the count overflows or reaches 2^62 (no device holds that).
inline bool matrix_span_bytes(int64_t batch, int64_t stride, int64_t ld, int64_t rows, int64_t cols,
                              size_t elem_bytes, uint64_t* out) {
  uint64_t a = 0, b = 0, total = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(stride), static_cast<uint64_t>(batch - 1), &a))
    return false;
  if (__builtin_mul_overflow(static_cast<uint64_t>(ld), static_cast<uint64_t>(cols - 1), &b)) return false;
  if (__builtin_add_overflow(a, b, &total) ||
      __builtin_add_overflow(total, static_cast<uint64_t>(rows), &total))
    return false;
  if (__builtin_mul_overflow(total, static_cast<uint64_t>(elem_bytes), out)) return false;
  return *out < (uint64_t{1} << 62);
}

// ---- gemm.v1 ----

struct GemmParams {
  int64_t m = 0, n = 0, k = 0;
  DType a = DType::kF32, b = DType::kF32, c = DType::kF32;
  std::string a_name, b_name, c_name;  // as given (for messages)
  std::string compute;                 // f16, f32, f64, i32 or tf32 (default per dtype_a)
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;  // resolved: never 0
  int64_t batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // resolved: never 0
  double alpha = 1, beta = 0;
  // Stored shapes: A is rows_a x cols_a (k x m when trans_a), B rows_b x cols_b.
  int64_t rows_a = 0, cols_a = 0, rows_b = 0, cols_b = 0;
  // Bytes each buffer must hold, batch included (and the offsets, ABI 1.1).
  uint64_t a_bytes = 0, b_bytes = 0, c_bytes = 0;
  // ABI 1.1: elements before the first matrix of A, B and C in their buffers (0 when not given).
  int64_t offset_a = 0, offset_b = 0, offset_c = 0;
};

inline Parsed<GemmParams> parse_gemm(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<GemmParams> out;
  GemmParams& g = out.value;
  auto fail = [&](const std::string& why) {
    out.invalid_reason = "gemm.v1: " + why;
    return out;
  };
  Params p(params, num_params,
           {"m",       "n",        "k",        "dtype_a",  "dtype_b",  "dtype_c",  "compute",
            "trans_a", "trans_b",  "lda",      "ldb",      "ldc",      "alpha",    "beta",
            "batch",   "stride_a", "stride_b", "stride_c", "offset_a", "offset_b", "offset_c"});
  g.m = p.require_int("m");
  g.n = p.require_int("n");
  g.k = p.require_int("k");
  g.a_name = p.require_string("dtype_a");
  g.b_name = p.string_or("dtype_b", g.a_name);
  g.c_name = p.string_or("dtype_c", g.a_name);
  g.compute = p.string_or("compute", g.a_name == "f64" ? "f64" : g.a_name == "i8" ? "i32" : "f32");
  g.trans_a = p.bool_or("trans_a", false);
  g.trans_b = p.bool_or("trans_b", false);
  g.lda = p.int_or("lda", 0);
  g.ldb = p.int_or("ldb", 0);
  g.ldc = p.int_or("ldc", 0);
  g.alpha = p.double_or("alpha", 1.0);
  g.beta = p.double_or("beta", 0.0);
  g.batch = p.int_or("batch", 1);
  g.stride_a = p.int_or("stride_a", 0);
  g.stride_b = p.int_or("stride_b", 0);
  g.stride_c = p.int_or("stride_c", 0);
  g.offset_a = p.int_or("offset_a", 0);
  g.offset_b = p.int_or("offset_b", 0);
  g.offset_c = p.int_or("offset_c", 0);
  if (!p.ok()) return fail(p.error());
  const auto a = parse_dtype(g.a_name), b = parse_dtype(g.b_name), c = parse_dtype(g.c_name);
  if (!a) return fail("unknown dtype_a '" + g.a_name + "'");
  if (!b) return fail("unknown dtype_b '" + g.b_name + "'");
  if (!c) return fail("unknown dtype_c '" + g.c_name + "'");
  if (!is_compute_type(g.compute)) return fail("unknown compute type '" + g.compute + "'");
  g.a = *a;
  g.b = *b;
  g.c = *c;
  if (g.m < 1 || g.n < 1 || g.k < 1 || g.batch < 1)
    return fail("m, n, k and batch must be >= 1 (m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) +
                " k=" + std::to_string(g.k) + " batch=" + std::to_string(g.batch) + ")");
  if (!std::isfinite(g.alpha) || !std::isfinite(g.beta)) return fail("alpha and beta must be finite");
  g.rows_a = g.trans_a ? g.k : g.m;
  g.cols_a = g.trans_a ? g.m : g.k;
  g.rows_b = g.trans_b ? g.n : g.k;
  g.cols_b = g.trans_b ? g.k : g.n;
  if (g.lda == 0) g.lda = g.rows_a;
  if (g.ldb == 0) g.ldb = g.rows_b;
  if (g.ldc == 0) g.ldc = g.m;
  if (g.lda < g.rows_a || g.ldb < g.rows_b || g.ldc < g.m)
    return fail("leading dimensions must be >= the stored rows (lda " + std::to_string(g.lda) + " vs " +
                std::to_string(g.rows_a) + ", ldb " + std::to_string(g.ldb) + " vs " +
                std::to_string(g.rows_b) + ", ldc " + std::to_string(g.ldc) + " vs " + std::to_string(g.m) +
                ")");
  if (g.stride_a < 0 || g.stride_b < 0 || g.stride_c < 0) return fail("batch strides must be >= 0");
  int64_t tight_a = 0, tight_b = 0, tight_c = 0;
  if (__builtin_mul_overflow(g.lda, g.cols_a, &tight_a) ||
      __builtin_mul_overflow(g.ldb, g.cols_b, &tight_b) || __builtin_mul_overflow(g.ldc, g.n, &tight_c))
    return fail("the matrices' sizes overflow 64-bit byte counts");
  if (g.stride_a == 0) g.stride_a = tight_a;
  if (g.stride_b == 0) g.stride_b = tight_b;
  if (g.stride_c == 0) g.stride_c = tight_c;
  // A and B are only read: their batch matrices may overlap. C is written: its may not.
  if (g.batch > 1 && g.stride_c < tight_c)
    return fail("stride_c " + std::to_string(g.stride_c) +
                " makes the batch's C matrices overlap (needs >= ldc*n = " + std::to_string(tight_c) + ")");
  const size_t in_bytes = dtype_size_bytes(g.a), b_bytes = dtype_size_bytes(g.b),
               out_bytes = dtype_size_bytes(g.c);
  if (!matrix_span_bytes(g.batch, g.stride_a, g.lda, g.rows_a, g.cols_a, in_bytes, &g.a_bytes) ||
      !matrix_span_bytes(g.batch, g.stride_b, g.ldb, g.rows_b, g.cols_b, b_bytes, &g.b_bytes) ||
      !matrix_span_bytes(g.batch, g.stride_c, g.ldc, g.m, g.n, out_bytes, &g.c_bytes))
    return fail("the matrices' sizes overflow 64-bit byte counts");
  if (g.offset_a < 0 || g.offset_b < 0 || g.offset_c < 0) return fail("offsets must be >= 0");
  auto add_offset = [](int64_t offset, size_t elem_bytes, uint64_t* span_bytes) {
    uint64_t off_bytes = 0;
    return !__builtin_mul_overflow(static_cast<uint64_t>(offset), static_cast<uint64_t>(elem_bytes),
                                   &off_bytes) &&
           !__builtin_add_overflow(*span_bytes, off_bytes, span_bytes) && *span_bytes < (uint64_t{1} << 62);
  };
  if (!add_offset(g.offset_a, in_bytes, &g.a_bytes) || !add_offset(g.offset_b, b_bytes, &g.b_bytes) ||
      !add_offset(g.offset_c, out_bytes, &g.c_bytes))
    return fail("the offsets and matrices' sizes overflow 64-bit byte counts");
  return out;
}

// ---- fma_peak.v1 ----

struct FmaPeakParams {
  std::string dtype;  // f16, bf16, f32 or f64
  int64_t items = 0, iters = 0, lanes = 8;
  double a = 1, b = 0, x0 = 1, dx = 1.0 / 64;  // b resolved to the dtype's default when not given
  // ABI 1.3: lane l of item i starts at x0 + l·dx + (i mod item_period)·item_dx (rounded to dtype), so
  // items differ and no item's answer is another's. The core sends only values whose every term and
  // sum are exact in f32 (in f64 for dtype f64), so a plugin may evaluate the start in that type.
  double item_dx = 0;
  int64_t item_period = 1;
  // Item i's offset from the lane's start, (i mod item_period)·item_dx, in the evaluation type T.
  template <class T>
  T item_offset(int64_t item) const {
    return static_cast<T>(item % item_period) * static_cast<T>(item_dx);
  }
};

// The default b per dtype, as the core uses: small enough that the chains stay exact.
inline double fma_peak_default_b(std::string_view dtype) {
  return dtype == "f16" ? 0x1p-10 : dtype == "bf16" ? 0x1p-7 : 0x1p-12;
}

inline Parsed<FmaPeakParams> parse_fma_peak(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<FmaPeakParams> out;
  FmaPeakParams& f = out.value;
  auto fail = [&](const std::string& why) {
    out.invalid_reason = "fma_peak.v1: " + why;
    return out;
  };
  Params p(params, num_params,
           {"dtype", "items", "iters", "lanes", "a", "b", "x0", "dx", "item_dx", "item_period"});
  f.dtype = p.require_string("dtype");
  f.items = p.require_int("items");
  f.iters = p.require_int("iters");
  f.lanes = p.int_or("lanes", 8);
  f.a = p.double_or("a", 1.0);
  f.b = p.double_or("b", fma_peak_default_b(f.dtype));
  f.x0 = p.double_or("x0", 1.0);
  f.dx = p.double_or("dx", 1.0 / 64);
  f.item_dx = p.double_or("item_dx", 0.0);
  f.item_period = p.int_or("item_period", 1);
  if (!p.ok()) return fail(p.error());
  if (f.dtype != "f16" && f.dtype != "bf16" && f.dtype != "f32" && f.dtype != "f64")
    return fail("dtype must be f16, bf16, f32 or f64, got '" + f.dtype + "'");
  if (f.items < 1 || f.iters < 1) return fail("items and iters must be >= 1");
  if (f.lanes < 1 || f.lanes > 32) return fail("lanes must be in 1..32, got " + std::to_string(f.lanes));
  if (f.items > (int64_t{1} << 40)) return fail("items is absurdly large (above 2^40)");
  if (!std::isfinite(f.a) || !std::isfinite(f.b) || !std::isfinite(f.x0) || !std::isfinite(f.dx) ||
      !std::isfinite(f.item_dx))
    return fail("a, b, x0, dx and item_dx must be finite");
  if (f.item_period < 1 || f.item_period > (int64_t{1} << 24))
    return fail("item_period must be in 1..2^24 (exact in f32), got " + std::to_string(f.item_period));
  return out;
}

// ---- stream.v1 ----

enum class StreamKind { kCopy, kScale, kAdd, kTriad };

struct StreamParams {
  StreamKind kind = StreamKind::kCopy;
  std::string kind_name;
  std::string dtype = "f64";  // a catalogue dtype; the catalogue's stream.v1 offers f32 and f64
  int64_t n = 0;
  double scalar = 3;
};

inline Parsed<StreamParams> parse_stream(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<StreamParams> out;
  StreamParams& s = out.value;
  auto fail = [&](const std::string& why) {
    out.invalid_reason = "stream.v1: " + why;
    return out;
  };
  Params p(params, num_params, {"kind", "dtype", "n", "scalar"});
  s.kind_name = p.require_string("kind");
  s.dtype = p.string_or("dtype", "f64");
  s.n = p.require_int("n");
  s.scalar = p.double_or("scalar", 3.0);
  if (!p.ok()) return fail(p.error());
  if (s.kind_name == "copy")
    s.kind = StreamKind::kCopy;
  else if (s.kind_name == "scale")
    s.kind = StreamKind::kScale;
  else if (s.kind_name == "add")
    s.kind = StreamKind::kAdd;
  else if (s.kind_name == "triad")
    s.kind = StreamKind::kTriad;
  else
    return fail("kind must be copy, scale, add or triad, got '" + s.kind_name + "'");
  if (!parse_dtype(s.dtype)) return fail("unknown dtype '" + s.dtype + "'");
  if (s.n < 1 || s.n > (int64_t{1} << 58)) return fail("n must be >= 1 and sane");
  return out;
}

// ---- copy.v1 ----

struct CopyParams {
  int64_t size_bytes = 0;
  std::string engine;  // "" (the plugin's choice), "kernel" or "copy_engine"
};

// `knows_engine`: whether this plugin implements the `engine` key (plugins that do not reject it as
// an unknown key, as the catalogue says).
inline Parsed<CopyParams> parse_copy(const CMTR_KeyValue* params, size_t num_params, bool knows_engine) {
  Parsed<CopyParams> out;
  CopyParams& c = out.value;
  auto fail = [&](const std::string& why) {
    out.invalid_reason = "copy.v1: " + why;
    return out;
  };
  Params p =
      knows_engine ? Params(params, num_params, {"bytes", "engine"}) : Params(params, num_params, {"bytes"});
  c.size_bytes = p.require_int("bytes");
  if (knows_engine) c.engine = p.string_or("engine", "");
  if (!p.ok()) return fail(p.error());
  if (c.size_bytes < 1) return fail("bytes must be >= 1");
  if (!c.engine.empty() && c.engine != "kernel" && c.engine != "copy_engine")
    return fail("engine must be kernel or copy_engine, got '" + c.engine + "'");
  return out;
}

// ---- noop.v1 ----

inline Parsed<int> parse_noop(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<int> out;
  Params p(params, num_params, {});
  if (!p.ok()) out.invalid_reason = "noop.v1: " + p.error();
  return out;
}

// ---- Op catalogue 1.1: the inference op set ----
//
// One parse_* per op, as above: values with defaults resolved, or the invalid reason. Every struct
// has buffer_needs(): the buffers op_enqueue takes, in order, with the bytes each must hold, so a
// plugin rejects a too-small buffer with check_buffer_count/check_buffer_size (INVALID_ARGUMENT).
// The `dtype` is any catalogue dtype: the ops are defined for f16, bf16 and f32
// (is_inference_dtype); another catalogue dtype is well-formed, and a plugin answers it unsupported.

struct BufferNeed {
  const char* role;     // "A", "OUT", ...
  uint64_t size_bytes;  // the least the buffer must hold
};

// The dtypes the inference ops are defined for (others are unsupported, not malformed).
inline bool is_inference_dtype(DType t) {
  return t == DType::kF16 || t == DType::kBF16 || t == DType::kF32;
}

// Bytes of a dense tensor: the product of `dims` times elem_bytes; false when it overflows or reaches
// 2^62 (as matrix_span_bytes).
inline bool tensor_bytes(std::initializer_list<int64_t> dims, size_t elem_bytes, uint64_t* out) {
  uint64_t total = elem_bytes;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total)) return false;
  *out = total;
  return total < (uint64_t{1} << 62);
}

namespace detail {

// Shared steps of the inference parsers: the op's name prefix on the reason, and the dtype.
struct InferenceParse {
  const char* op;
  std::string* reason;
  bool fail(const std::string& why) {
    if (reason->empty()) *reason = std::string(op) + ": " + why;
    return false;
  }
  // Sizes given must be >= 1.
  bool positive(std::initializer_list<std::pair<const char*, int64_t>> sizes) {
    for (const auto& [key, v] : sizes)
      if (v < 1) return fail(std::string(key) + " must be >= 1, got " + std::to_string(v));
    return true;
  }
  bool dtype(const std::string& name, const char* key, DType* out) {
    auto t = parse_dtype(name);
    if (!t) return fail("unknown " + std::string(key) + " '" + name + "'");
    *out = *t;
    return true;
  }
  bool bytes(std::initializer_list<int64_t> dims, size_t elem_bytes, uint64_t* out) {
    if (!tensor_bytes(dims, elem_bytes, out)) return fail("the tensors' sizes overflow 64-bit byte counts");
    return true;
  }
};

}  // namespace detail

// rmsnorm.v1: Y = X / sqrt(mean(X^2) + eps) * W per row. Buffers [X, W, Y]; in place allowed.
struct RmsNormParams {
  int64_t rows = 0, dim = 0;
  DType dtype = DType::kF32;
  double eps = 1e-5;
  uint64_t x_bytes = 0, w_bytes = 0;  // Y as X
  std::vector<BufferNeed> buffer_needs() const { return {{"X", x_bytes}, {"W", w_bytes}, {"Y", x_bytes}}; }
};

inline Parsed<RmsNormParams> parse_rmsnorm(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<RmsNormParams> out;
  RmsNormParams& r = out.value;
  detail::InferenceParse c{"rmsnorm.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "dim", "dtype", "eps"});
  r.rows = p.require_int("rows");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  r.eps = p.double_or("eps", 1e-5);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"dim", r.dim}})) return out;
  if (!std::isfinite(r.eps) || r.eps < 0) return c.fail("eps must be finite and >= 0"), out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.dim}, e, &r.x_bytes) && c.bytes({r.dim}, e, &r.w_bytes);
  return out;
}

// rope.v1: rotary position embedding in place. Buffers [X, POS].
enum class RopeLayout { kHalf, kInterleaved };

struct RopeParams {
  int64_t rows = 0, heads = 0, head_dim = 0;
  DType dtype = DType::kF32;
  RopeLayout layout = RopeLayout::kHalf;
  double theta = 10000;
  uint64_t x_bytes = 0, pos_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const { return {{"X", x_bytes}, {"POS", pos_bytes}}; }
};

namespace detail {
// rope.v1 and rope_backward.v1 (ABI 1.2) take the same parameters.
template <class R>
inline Parsed<R> parse_rope_as(const char* op, const CMTR_KeyValue* params, size_t num_params) {
  Parsed<R> out;
  RopeParams& r = out.value;
  detail::InferenceParse c{op, &out.invalid_reason};
  Params p(params, num_params, {"rows", "heads", "head_dim", "dtype", "layout", "theta"});
  r.rows = p.require_int("rows");
  r.heads = p.require_int("heads");
  r.head_dim = p.require_int("head_dim");
  const std::string dtype = p.require_string("dtype");
  const std::string layout = p.string_or("layout", "half");
  r.theta = p.double_or("theta", 10000.0);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) ||
      !c.positive({{"rows", r.rows}, {"heads", r.heads}, {"head_dim", r.head_dim}}))
    return out;
  if (r.head_dim % 2 != 0) return c.fail("head_dim must be even, got " + std::to_string(r.head_dim)), out;
  if (layout == "half")
    r.layout = RopeLayout::kHalf;
  else if (layout == "interleaved")
    r.layout = RopeLayout::kInterleaved;
  else
    return c.fail("layout must be half or interleaved, got '" + layout + "'"), out;
  if (!std::isfinite(r.theta) || !(r.theta > 1)) return c.fail("theta must be finite and > 1"), out;
  c.bytes({r.rows, r.heads, r.head_dim}, dtype_size_bytes(r.dtype), &r.x_bytes) &&
      c.bytes({r.rows}, 4, &r.pos_bytes);
  return out;
}
}  // namespace detail

inline Parsed<RopeParams> parse_rope(const CMTR_KeyValue* params, size_t num_params) {
  return detail::parse_rope_as<RopeParams>("rope.v1", params, num_params);
}

// softmax.v1: Y = softmax(scale * X) per row (over LEN[r] columns with mask = lengths). Buffers
// [X, Y] or [X, Y, LEN]; in place allowed.
struct SoftmaxParams {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::kF32;
  double scale = 1;
  bool lengths = false;  // mask = lengths
  uint64_t x_bytes = 0, len_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const {
    if (lengths) return {{"X", x_bytes}, {"Y", x_bytes}, {"LEN", len_bytes}};
    return {{"X", x_bytes}, {"Y", x_bytes}};
  }
};

namespace detail {
// softmax.v1 and softmax_backward.v1 (ABI 1.2) take the same parameters.
template <class R>
inline Parsed<R> parse_softmax_as(const char* op, const CMTR_KeyValue* params, size_t num_params) {
  Parsed<R> out;
  SoftmaxParams& r = out.value;
  detail::InferenceParse c{op, &out.invalid_reason};
  Params p(params, num_params, {"rows", "cols", "dtype", "scale", "mask"});
  r.rows = p.require_int("rows");
  r.cols = p.require_int("cols");
  const std::string dtype = p.require_string("dtype");
  r.scale = p.double_or("scale", 1.0);
  const std::string mask = p.string_or("mask", "none");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"cols", r.cols}})) return out;
  if (!std::isfinite(r.scale)) return c.fail("scale must be finite"), out;
  if (mask == "lengths")
    r.lengths = true;
  else if (mask != "none")
    return c.fail("mask must be none or lengths, got '" + mask + "'"), out;
  c.bytes({r.rows, r.cols}, dtype_size_bytes(r.dtype), &r.x_bytes) && c.bytes({r.rows}, 4, &r.len_bytes);
  return out;
}
}  // namespace detail

inline Parsed<SoftmaxParams> parse_softmax(const CMTR_KeyValue* params, size_t num_params) {
  return detail::parse_softmax_as<SoftmaxParams>("softmax.v1", params, num_params);
}

// swiglu.v1: Y = silu(G) * U, GU rows x (2 dim) (gate then up per row). Buffers [GU, Y].
struct SwigluParams {
  int64_t rows = 0, dim = 0;
  DType dtype = DType::kF32;
  uint64_t gu_bytes = 0, y_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const { return {{"GU", gu_bytes}, {"Y", y_bytes}}; }
};

inline Parsed<SwigluParams> parse_swiglu(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<SwigluParams> out;
  SwigluParams& r = out.value;
  detail::InferenceParse c{"swiglu.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "dim", "dtype"});
  r.rows = p.require_int("rows");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"dim", r.dim}})) return out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.dim, 2}, e, &r.gu_bytes) && c.bytes({r.rows, r.dim}, e, &r.y_bytes);
  return out;
}

// kv_append.v1: CACHE[SLOT[r]][h][POS[r]] = SRC[r][h]. Buffers [SRC, CACHE, SLOT, POS].
struct KvAppendParams {
  int64_t rows = 0, kv_heads = 0, head_dim = 0, slots = 0, capacity = 0;
  DType dtype = DType::kF32;
  uint64_t src_bytes = 0, cache_bytes = 0, index_bytes = 0;  // index: SLOT and POS each
  std::vector<BufferNeed> buffer_needs() const {
    return {{"SRC", src_bytes}, {"CACHE", cache_bytes}, {"SLOT", index_bytes}, {"POS", index_bytes}};
  }
};

inline Parsed<KvAppendParams> parse_kv_append(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<KvAppendParams> out;
  KvAppendParams& r = out.value;
  detail::InferenceParse c{"kv_append.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "kv_heads", "head_dim", "slots", "capacity", "dtype"});
  r.rows = p.require_int("rows");
  r.kv_heads = p.require_int("kv_heads");
  r.head_dim = p.require_int("head_dim");
  r.slots = p.require_int("slots");
  r.capacity = p.require_int("capacity");
  const std::string dtype = p.require_string("dtype");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows},
                                                         {"kv_heads", r.kv_heads},
                                                         {"head_dim", r.head_dim},
                                                         {"slots", r.slots},
                                                         {"capacity", r.capacity}}))
    return out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.kv_heads, r.head_dim}, e, &r.src_bytes) &&
      c.bytes({r.slots, r.kv_heads, r.capacity, r.head_dim}, e, &r.cache_bytes) &&
      c.bytes({r.rows}, 4, &r.index_bytes);
  return out;
}

// embedding.v1: Y[r] = TABLE[IDS[r]] (zeros for an id outside [0, vocab)). Buffers [TABLE, IDS, Y].
struct EmbeddingParams {
  int64_t rows = 0, vocab = 0, dim = 0;
  DType dtype = DType::kF32;
  uint64_t table_bytes = 0, ids_bytes = 0, y_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const {
    return {{"TABLE", table_bytes}, {"IDS", ids_bytes}, {"Y", y_bytes}};
  }
};

inline Parsed<EmbeddingParams> parse_embedding(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<EmbeddingParams> out;
  EmbeddingParams& r = out.value;
  detail::InferenceParse c{"embedding.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "vocab", "dim", "dtype"});
  r.rows = p.require_int("rows");
  r.vocab = p.require_int("vocab");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) ||
      !c.positive({{"rows", r.rows}, {"vocab", r.vocab}, {"dim", r.dim}}))
    return out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.vocab, r.dim}, e, &r.table_bytes) && c.bytes({r.rows}, 4, &r.ids_bytes) &&
      c.bytes({r.rows, r.dim}, e, &r.y_bytes);
  return out;
}

// argmax.v1: OUT[r] = index of row r's largest value (lowest on ties, NaN never wins). Buffers
// [X, OUT].
struct ArgmaxParams {
  int64_t rows = 0, cols = 0;
  DType dtype = DType::kF32;
  uint64_t x_bytes = 0, out_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const { return {{"X", x_bytes}, {"OUT", out_bytes}}; }
};

inline Parsed<ArgmaxParams> parse_argmax(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<ArgmaxParams> out;
  ArgmaxParams& r = out.value;
  detail::InferenceParse c{"argmax.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "cols", "dtype"});
  r.rows = p.require_int("rows");
  r.cols = p.require_int("cols");
  const std::string dtype = p.require_string("dtype");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"cols", r.cols}})) return out;
  if (r.cols > (int64_t{1} << 31) - 1) return c.fail("cols must fit an i32 index"), out;
  c.bytes({r.rows, r.cols}, dtype_size_bytes(r.dtype), &r.x_bytes) && c.bytes({r.rows}, 4, &r.out_bytes);
  return out;
}

// eltwise.v1: add, mul, scale, cast. Buffers [A, B, Y] (add, mul) or [A, Y] (scale, cast).
enum class EltwiseKind { kAdd, kMul, kScale, kCast };

struct EltwiseParams {
  EltwiseKind kind = EltwiseKind::kAdd;
  std::string kind_name;
  int64_t n = 0;
  DType dtype = DType::kF32, dtype_out = DType::kF32;
  double scalar = 1;
  uint64_t in_bytes = 0, out_bytes = 0;
  std::vector<BufferNeed> buffer_needs() const {
    if (kind == EltwiseKind::kAdd || kind == EltwiseKind::kMul)
      return {{"A", in_bytes}, {"B", in_bytes}, {"Y", out_bytes}};
    return {{"A", in_bytes}, {"Y", out_bytes}};
  }
};

inline Parsed<EltwiseParams> parse_eltwise(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<EltwiseParams> out;
  EltwiseParams& r = out.value;
  detail::InferenceParse c{"eltwise.v1", &out.invalid_reason};
  Params p(params, num_params, {"kind", "n", "dtype", "dtype_out", "scalar"});
  r.kind_name = p.require_string("kind");
  r.n = p.require_int("n");
  const std::string dtype = p.require_string("dtype");
  const std::optional<std::string> dtype_out = p.get_string("dtype_out");
  const std::optional<double> scalar = p.get_double("scalar");
  if (!p.ok()) return c.fail(p.error()), out;
  if (r.kind_name == "add")
    r.kind = EltwiseKind::kAdd;
  else if (r.kind_name == "mul")
    r.kind = EltwiseKind::kMul;
  else if (r.kind_name == "scale")
    r.kind = EltwiseKind::kScale;
  else if (r.kind_name == "cast")
    r.kind = EltwiseKind::kCast;
  else
    return c.fail("kind must be add, mul, scale or cast, got '" + r.kind_name + "'"), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.dtype(dtype_out.value_or(dtype), "dtype_out", &r.dtype_out) ||
      !c.positive({{"n", r.n}}))
    return out;
  if (r.kind != EltwiseKind::kCast && r.dtype_out != r.dtype)
    return c.fail("dtype_out may differ from dtype only for kind=cast"), out;
  if (scalar && r.kind != EltwiseKind::kScale) return c.fail("scalar is a parameter of kind=scale only"), out;
  r.scalar = scalar.value_or(1.0);
  if (!std::isfinite(r.scalar)) return c.fail("scalar must be finite"), out;
  c.bytes({r.n}, dtype_size_bytes(r.dtype), &r.in_bytes) &&
      c.bytes({r.n}, dtype_size_bytes(r.dtype_out), &r.out_bytes);
  return out;
}

// attention.v1 (optional): causal grouped-query attention over the KV caches. Buffers
// [Q, K_CACHE, V_CACHE, SLOT, POS, O].
struct AttentionParams {
  int64_t rows = 0, heads = 0, kv_heads = 0, head_dim = 0, slots = 0, capacity = 0;
  DType dtype = DType::kF32;
  double scale = 0;                                        // resolved: 1/sqrt(head_dim) when not given
  uint64_t q_bytes = 0, cache_bytes = 0, index_bytes = 0;  // O as Q; SLOT and POS each index_bytes
  std::vector<BufferNeed> buffer_needs() const {
    return {{"Q", q_bytes},        {"K_CACHE", cache_bytes}, {"V_CACHE", cache_bytes},
            {"SLOT", index_bytes}, {"POS", index_bytes},     {"O", q_bytes}};
  }
};

inline Parsed<AttentionParams> parse_attention(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<AttentionParams> out;
  AttentionParams& r = out.value;
  detail::InferenceParse c{"attention.v1", &out.invalid_reason};
  Params p(params, num_params,
           {"rows", "heads", "kv_heads", "head_dim", "slots", "capacity", "dtype", "scale"});
  r.rows = p.require_int("rows");
  r.heads = p.require_int("heads");
  r.kv_heads = p.require_int("kv_heads");
  r.head_dim = p.require_int("head_dim");
  r.slots = p.require_int("slots");
  r.capacity = p.require_int("capacity");
  const std::string dtype = p.require_string("dtype");
  const std::optional<double> scale = p.get_double("scale");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows},
                                                         {"heads", r.heads},
                                                         {"kv_heads", r.kv_heads},
                                                         {"head_dim", r.head_dim},
                                                         {"slots", r.slots},
                                                         {"capacity", r.capacity}}))
    return out;
  if (r.heads % r.kv_heads != 0)
    return c.fail("heads (" + std::to_string(r.heads) + ") must be a multiple of kv_heads (" +
                  std::to_string(r.kv_heads) + ")"),
           out;
  r.scale = scale.value_or(1.0 / std::sqrt(static_cast<double>(r.head_dim)));
  if (!std::isfinite(r.scale)) return c.fail("scale must be finite"), out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.heads, r.head_dim}, e, &r.q_bytes) &&
      c.bytes({r.slots, r.kv_heads, r.capacity, r.head_dim}, e, &r.cache_bytes) &&
      c.bytes({r.rows}, 4, &r.index_bytes);
  return out;
}

// The names of the 1.1 inference ops, in catalogue order.
inline constexpr const char* kInferenceOps[] = {"rmsnorm.v1", "rope.v1",      "softmax.v1",
                                                "swiglu.v1",  "kv_append.v1", "embedding.v1",
                                                "argmax.v1",  "eltwise.v1",   "attention.v1"};

inline bool is_inference_op(std::string_view name) {
  for (const char* n : kInferenceOps)
    if (name == n) return true;
  return false;
}

// Any inference op's parsed parameters.
using InferenceOpParams = std::variant<RmsNormParams, RopeParams, SoftmaxParams, SwigluParams, KvAppendParams,
                                       EmbeddingParams, ArgmaxParams, EltwiseParams, AttentionParams>;

// Parses any inference op by name (is_inference_op(name) must hold; another name is invalid).
inline Parsed<InferenceOpParams> parse_inference_op(std::string_view name, const CMTR_KeyValue* params,
                                                    size_t num_params) {
  Parsed<InferenceOpParams> out;
  auto take = [&](auto parsed) {
    if (parsed.ok())
      out.value = std::move(parsed.value);
    else
      out.invalid_reason = std::move(parsed.invalid_reason);
    return out;
  };
  if (name == "rmsnorm.v1") return take(parse_rmsnorm(params, num_params));
  if (name == "rope.v1") return take(parse_rope(params, num_params));
  if (name == "softmax.v1") return take(parse_softmax(params, num_params));
  if (name == "swiglu.v1") return take(parse_swiglu(params, num_params));
  if (name == "kv_append.v1") return take(parse_kv_append(params, num_params));
  if (name == "embedding.v1") return take(parse_embedding(params, num_params));
  if (name == "argmax.v1") return take(parse_argmax(params, num_params));
  if (name == "eltwise.v1") return take(parse_eltwise(params, num_params));
  if (name == "attention.v1") return take(parse_attention(params, num_params));
  ((out.invalid_reason = "'") += name) +=
      "' is not an inference op";  // not "lit" + temporary: GCC bug 105651
  return out;
}

// The buffers (roles and least sizes) of any parsed inference op.
inline std::vector<BufferNeed> buffer_needs(const InferenceOpParams& op) {
  return std::visit([](const auto& p) { return p.buffer_needs(); }, op);
}

// The answer of a plugin that does not implement inference op `name` (is_inference_op(name)): invalid
// when malformed (as every plugin answers), else unsupported (op_query supported = 0, op_create
// UNIMPLEMENTED) naming the plugin.
inline std::pair<OpStatus, std::string> inference_op_not_implemented(std::string_view name,
                                                                     const CMTR_KeyValue* params,
                                                                     size_t num_params,
                                                                     std::string_view plugin) {
  auto parsed = parse_inference_op(name, params, num_params);
  if (!parsed.ok()) return {OpStatus::kInvalid, parsed.invalid_reason};
  return {OpStatus::kUnsupported,
          std::string(name) + " is not implemented by the " + std::string(plugin) + " plugin"};
}

// ---- Op catalogue 1.2: the training op set ----
//
// As the 1.1 ops: one parse_* per op (values with defaults resolved, or the invalid reason) and
// buffer_needs() (the buffers op_enqueue takes, in order, with the least bytes each must hold).
// Activations and their gradients are stored in `dtype` (f16, bf16, f32: is_inference_dtype; another
// catalogue dtype is unsupported); weight gradients, losses, reductions and optimiser state are f32.

// rmsnorm_backward.v1: DX and DW of Y = X / rms(X) * W. Buffers [X, W, DY, DX, DW]; DX may be DY.
struct RmsNormBackwardParams {
  int64_t rows = 0, dim = 0;
  DType dtype = DType::kF32;
  double eps = 1e-5;
  bool accumulate = false;            // DW += (true) or DW = (false)
  uint64_t x_bytes = 0, w_bytes = 0;  // DY, DX as X
  uint64_t dw_bytes = 0;              // f32, dim
  std::vector<BufferNeed> buffer_needs() const {
    return {{"X", x_bytes}, {"W", w_bytes}, {"DY", x_bytes}, {"DX", x_bytes}, {"DW", dw_bytes}};
  }
};

inline Parsed<RmsNormBackwardParams> parse_rmsnorm_backward(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<RmsNormBackwardParams> out;
  RmsNormBackwardParams& r = out.value;
  detail::InferenceParse c{"rmsnorm_backward.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "dim", "dtype", "eps", "accumulate"});
  r.rows = p.require_int("rows");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  r.eps = p.double_or("eps", 1e-5);
  r.accumulate = p.bool_or("accumulate", false);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"dim", r.dim}})) return out;
  if (!std::isfinite(r.eps) || r.eps < 0) return c.fail("eps must be finite and >= 0"), out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.dim}, e, &r.x_bytes) && c.bytes({r.dim}, e, &r.w_bytes) &&
      c.bytes({r.dim}, 4, &r.dw_bytes);
  return out;
}

// swiglu_backward.v1: DGU of Y = silu(G) * U. Buffers [GU, DY, DGU]; DGU may be GU.
struct SwigluBackwardParams {
  int64_t rows = 0, dim = 0;
  DType dtype = DType::kF32;
  uint64_t gu_bytes = 0, dy_bytes = 0;  // DGU as GU
  std::vector<BufferNeed> buffer_needs() const {
    return {{"GU", gu_bytes}, {"DY", dy_bytes}, {"DGU", gu_bytes}};
  }
};

inline Parsed<SwigluBackwardParams> parse_swiglu_backward(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<SwigluBackwardParams> out;
  SwigluBackwardParams& r = out.value;
  detail::InferenceParse c{"swiglu_backward.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "dim", "dtype"});
  r.rows = p.require_int("rows");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"dim", r.dim}})) return out;
  const size_t e = dtype_size_bytes(r.dtype);
  c.bytes({r.rows, r.dim, 2}, e, &r.gu_bytes) && c.bytes({r.rows, r.dim}, e, &r.dy_bytes);
  return out;
}

// softmax_backward.v1: DX = scale * Y * (DY - sum(DY * Y)) over each row's valid prefix (0 beyond).
// Buffers [Y, DY, DX] or [Y, DY, DX, LEN] (mask = lengths); DX may be DY. Parameters as softmax.v1.
struct SoftmaxBackwardParams : SoftmaxParams {
  std::vector<BufferNeed> buffer_needs() const {
    if (lengths) return {{"Y", x_bytes}, {"DY", x_bytes}, {"DX", x_bytes}, {"LEN", len_bytes}};
    return {{"Y", x_bytes}, {"DY", x_bytes}, {"DX", x_bytes}};
  }
};

inline Parsed<SoftmaxBackwardParams> parse_softmax_backward(const CMTR_KeyValue* params, size_t num_params) {
  return detail::parse_softmax_as<SoftmaxBackwardParams>("softmax_backward.v1", params, num_params);
}

// rope_backward.v1: the inverse rotation of rope.v1, in place on the gradient. Buffers [DX, POS];
// parameters as rope.v1.
struct RopeBackwardParams : RopeParams {
  std::vector<BufferNeed> buffer_needs() const { return {{"DX", x_bytes}, {"POS", pos_bytes}}; }
};

inline Parsed<RopeBackwardParams> parse_rope_backward(const CMTR_KeyValue* params, size_t num_params) {
  return detail::parse_rope_as<RopeBackwardParams>("rope_backward.v1", params, num_params);
}

// cross_entropy.v1: LOSS[r] = logsumexp(X[r]) - X[r][T[r]] (f32), and with backward
// DX[r] = (softmax(X[r]) - onehot(T[r])) * GSCALE[0]. A target outside [0, vocab) gives LOSS 0 and a
// zero DX row. Buffers [X, T, LOSS] or [X, T, LOSS, DX, GSCALE] (backward); DX may be X.
struct CrossEntropyParams {
  int64_t rows = 0, vocab = 0;
  DType dtype = DType::kF32;
  bool backward = true;
  uint64_t x_bytes = 0, index_bytes = 0;  // index: T and LOSS (4 bytes per row each); DX as X
  std::vector<BufferNeed> buffer_needs() const {
    if (!backward) return {{"X", x_bytes}, {"T", index_bytes}, {"LOSS", index_bytes}};
    return {{"X", x_bytes}, {"T", index_bytes}, {"LOSS", index_bytes}, {"DX", x_bytes}, {"GSCALE", 4}};
  }
};

inline Parsed<CrossEntropyParams> parse_cross_entropy(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<CrossEntropyParams> out;
  CrossEntropyParams& r = out.value;
  detail::InferenceParse c{"cross_entropy.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "vocab", "dtype", "backward"});
  r.rows = p.require_int("rows");
  r.vocab = p.require_int("vocab");
  const std::string dtype = p.require_string("dtype");
  r.backward = p.bool_or("backward", true);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"vocab", r.vocab}})) return out;
  if (r.vocab > (int64_t{1} << 31) - 1) return c.fail("vocab must fit an i32 index"), out;
  c.bytes({r.rows, r.vocab}, dtype_size_bytes(r.dtype), &r.x_bytes) && c.bytes({r.rows}, 4, &r.index_bytes);
  return out;
}

// embedding_backward.v1: DTABLE[IDS[r]] += DY[r] (f32 scatter-add; ids outside [0, vocab) skipped).
// Without `accumulate` DTABLE is zeroed first. Buffers [DY, IDS, DTABLE].
struct EmbeddingBackwardParams {
  int64_t rows = 0, vocab = 0, dim = 0;
  DType dtype = DType::kF32;  // DY
  bool accumulate = false;
  uint64_t dy_bytes = 0, ids_bytes = 0, table_bytes = 0;  // DTABLE f32 vocab x dim
  std::vector<BufferNeed> buffer_needs() const {
    return {{"DY", dy_bytes}, {"IDS", ids_bytes}, {"DTABLE", table_bytes}};
  }
};

inline Parsed<EmbeddingBackwardParams> parse_embedding_backward(const CMTR_KeyValue* params,
                                                                size_t num_params) {
  Parsed<EmbeddingBackwardParams> out;
  EmbeddingBackwardParams& r = out.value;
  detail::InferenceParse c{"embedding_backward.v1", &out.invalid_reason};
  Params p(params, num_params, {"rows", "vocab", "dim", "dtype", "accumulate"});
  r.rows = p.require_int("rows");
  r.vocab = p.require_int("vocab");
  r.dim = p.require_int("dim");
  const std::string dtype = p.require_string("dtype");
  r.accumulate = p.bool_or("accumulate", false);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) ||
      !c.positive({{"rows", r.rows}, {"vocab", r.vocab}, {"dim", r.dim}}))
    return out;
  c.bytes({r.rows, r.dim}, dtype_size_bytes(r.dtype), &r.dy_bytes) && c.bytes({r.rows}, 4, &r.ids_bytes) &&
      c.bytes({r.vocab, r.dim}, 4, &r.table_bytes);
  return out;
}

// reduce.v1: Y = scale * (sum or sum of squares) of X over one axis, f32. Buffers [X, Y].
enum class ReduceKind { kSum, kSumSquares };
enum class ReduceAxis { kRows, kCols };  // kRows: Y[c] = sum_r X[r][c]; kCols: Y[r] = sum_c X[r][c]

struct ReduceParams {
  ReduceKind kind = ReduceKind::kSum;
  ReduceAxis axis = ReduceAxis::kCols;
  int64_t rows = 0, cols = 0;
  DType dtype = DType::kF32;  // X
  double scale = 1;
  bool accumulate = false;  // Y += (true) or Y = (false)
  uint64_t x_bytes = 0, y_bytes = 0;
  int64_t outputs() const { return axis == ReduceAxis::kRows ? cols : rows; }
  std::vector<BufferNeed> buffer_needs() const { return {{"X", x_bytes}, {"Y", y_bytes}}; }
};

inline Parsed<ReduceParams> parse_reduce(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<ReduceParams> out;
  ReduceParams& r = out.value;
  detail::InferenceParse c{"reduce.v1", &out.invalid_reason};
  Params p(params, num_params, {"kind", "axis", "rows", "cols", "dtype", "scale", "accumulate"});
  const std::string kind = p.require_string("kind");
  const std::string axis = p.require_string("axis");
  r.rows = p.require_int("rows");
  r.cols = p.require_int("cols");
  const std::string dtype = p.require_string("dtype");
  r.scale = p.double_or("scale", 1.0);
  r.accumulate = p.bool_or("accumulate", false);
  if (!p.ok()) return c.fail(p.error()), out;
  if (kind == "sum")
    r.kind = ReduceKind::kSum;
  else if (kind == "sum_squares")
    r.kind = ReduceKind::kSumSquares;
  else
    return c.fail("kind must be sum or sum_squares, got '" + kind + "'"), out;
  if (axis == "rows")
    r.axis = ReduceAxis::kRows;
  else if (axis == "cols")
    r.axis = ReduceAxis::kCols;
  else
    return c.fail("axis must be rows or cols, got '" + axis + "'"), out;
  if (!c.dtype(dtype, "dtype", &r.dtype) || !c.positive({{"rows", r.rows}, {"cols", r.cols}})) return out;
  if (!std::isfinite(r.scale)) return c.fail("scale must be finite"), out;
  c.bytes({r.rows, r.cols}, dtype_size_bytes(r.dtype), &r.x_bytes) && c.bytes({r.outputs()}, 4, &r.y_bytes);
  return out;
}

// adamw.v1: one AdamW step on n parameters (f32 master W, moments M and V), writing the rounded copy
// W_OUT; lr, step and the gradient's scale come per call from HYPER (3 f32). Buffers
// [W, G, M, V, W_OUT, HYPER].
struct AdamwParams {
  int64_t n = 0;
  DType dtype_grad = DType::kF32, dtype_out = DType::kBF16;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  uint64_t state_bytes = 0, grad_bytes = 0, out_bytes = 0;  // state: W, M, V (f32, n each)
  static constexpr uint64_t kHyperBytes = 12;               // lr, step, grad_scale (f32)
  std::vector<BufferNeed> buffer_needs() const {
    return {{"W", state_bytes}, {"G", grad_bytes},    {"M", state_bytes},
            {"V", state_bytes}, {"W_OUT", out_bytes}, {"HYPER", kHyperBytes}};
  }
};

inline Parsed<AdamwParams> parse_adamw(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<AdamwParams> out;
  AdamwParams& r = out.value;
  detail::InferenceParse c{"adamw.v1", &out.invalid_reason};
  Params p(params, num_params, {"n", "dtype_grad", "dtype_out", "beta1", "beta2", "eps", "weight_decay"});
  r.n = p.require_int("n");
  const std::string grad = p.string_or("dtype_grad", "f32");
  const std::string wout = p.require_string("dtype_out");
  r.beta1 = p.double_or("beta1", 0.9);
  r.beta2 = p.double_or("beta2", 0.999);
  r.eps = p.double_or("eps", 1e-8);
  r.weight_decay = p.double_or("weight_decay", 0.0);
  if (!p.ok()) return c.fail(p.error()), out;
  if (!c.dtype(grad, "dtype_grad", &r.dtype_grad) || !c.dtype(wout, "dtype_out", &r.dtype_out) ||
      !c.positive({{"n", r.n}}))
    return out;
  auto in_unit = [](double b) { return std::isfinite(b) && b >= 0 && b < 1; };
  if (!in_unit(r.beta1) || !in_unit(r.beta2)) return c.fail("beta1 and beta2 must be in [0, 1)"), out;
  if (!std::isfinite(r.eps) || !(r.eps > 0)) return c.fail("eps must be finite and > 0"), out;
  if (!std::isfinite(r.weight_decay) || r.weight_decay < 0)
    return c.fail("weight_decay must be finite and >= 0"), out;
  c.bytes({r.n}, 4, &r.state_bytes) && c.bytes({r.n}, dtype_size_bytes(r.dtype_grad), &r.grad_bytes) &&
      c.bytes({r.n}, dtype_size_bytes(r.dtype_out), &r.out_bytes);
  return out;
}

// The names of the 1.2 training ops, in catalogue order.
inline constexpr const char* kTrainingOps[] = {
    "rmsnorm_backward.v1", "swiglu_backward.v1",    "softmax_backward.v1", "rope_backward.v1",
    "cross_entropy.v1",    "embedding_backward.v1", "reduce.v1",           "adamw.v1"};

inline bool is_training_op(std::string_view name) {
  for (const char* n : kTrainingOps)
    if (name == n) return true;
  return false;
}

// Any training op's parsed parameters.
using TrainingOpParams =
    std::variant<RmsNormBackwardParams, SwigluBackwardParams, SoftmaxBackwardParams, RopeBackwardParams,
                 CrossEntropyParams, EmbeddingBackwardParams, ReduceParams, AdamwParams>;

// Parses any training op by name (is_training_op(name) must hold; another name is invalid).
inline Parsed<TrainingOpParams> parse_training_op(std::string_view name, const CMTR_KeyValue* params,
                                                  size_t num_params) {
  Parsed<TrainingOpParams> out;
  auto take = [&](auto parsed) {
    if (parsed.ok())
      out.value = std::move(parsed.value);
    else
      out.invalid_reason = std::move(parsed.invalid_reason);
    return out;
  };
  if (name == "rmsnorm_backward.v1") return take(parse_rmsnorm_backward(params, num_params));
  if (name == "swiglu_backward.v1") return take(parse_swiglu_backward(params, num_params));
  if (name == "softmax_backward.v1") return take(parse_softmax_backward(params, num_params));
  if (name == "rope_backward.v1") return take(parse_rope_backward(params, num_params));
  if (name == "cross_entropy.v1") return take(parse_cross_entropy(params, num_params));
  if (name == "embedding_backward.v1") return take(parse_embedding_backward(params, num_params));
  if (name == "reduce.v1") return take(parse_reduce(params, num_params));
  if (name == "adamw.v1") return take(parse_adamw(params, num_params));
  ((out.invalid_reason = "'") += name) += "' is not a training op";
  return out;
}

// The buffers (roles and least sizes) of any parsed training op.
inline std::vector<BufferNeed> buffer_needs(const TrainingOpParams& op) {
  return std::visit([](const auto& p) { return p.buffer_needs(); }, op);
}

// The answer of a plugin that does not implement training op `name` (is_training_op(name)): invalid
// when malformed, else unsupported naming the plugin (as inference_op_not_implemented).
inline std::pair<OpStatus, std::string> training_op_not_implemented(std::string_view name,
                                                                    const CMTR_KeyValue* params,
                                                                    size_t num_params,
                                                                    std::string_view plugin) {
  auto parsed = parse_training_op(name, params, num_params);
  if (!parsed.ok()) return {OpStatus::kInvalid, parsed.invalid_reason};
  return {OpStatus::kUnsupported,
          std::string(name) + " is not implemented by the " + std::string(plugin) + " plugin"};
}

// ---- Buffers of an enqueue ----

// The common checks of an op_enqueue's buffer list: the count the op takes and no NULL list. The
// plugin then checks each buffer (live handle, device, memory kind, size) with its own handle type.
template <class Needs>
inline CMTR_Error* check_buffer_count(const char* op, CMTR_Buffer* const* buffers, size_t num_buffers,
                                      const Needs& needs) {
  if (num_buffers != needs.size()) {
    std::string list;
    for (const auto& n : needs) list += (list.empty() ? "" : ", ") + std::string(n.role);
    return invalid(std::string(op) + " takes " + std::to_string(needs.size()) + " buffers [" + list +
                   "], got " + std::to_string(num_buffers));
  }
  if (num_buffers > 0 && buffers == nullptr) return invalid(std::string(op) + ": buffers is NULL");
  return nullptr;
}
inline CMTR_Error* check_buffer_count(const char* op, CMTR_Buffer* const* buffers, size_t num_buffers,
                                      std::initializer_list<BufferNeed> needs) {
  return check_buffer_count<std::initializer_list<BufferNeed>>(op, buffers, num_buffers, needs);
}

// "<op>: buffer <i> (<role>) holds N bytes; these params need M", or NULL when it is large enough.
inline CMTR_Error* check_buffer_size(const char* op, size_t index, const BufferNeed& need,
                                     uint64_t size_bytes) {
  if (size_bytes >= need.size_bytes) return nullptr;
  return invalid(std::string(op) + ": buffer " + std::to_string(index) + " (" + need.role + ") holds " +
                 std::to_string(size_bytes) + " bytes; these params need " + std::to_string(need.size_bytes));
}

}  // namespace cmeter::sdk

#endif  // CMETER_PLUGIN_OPS_HPP_
