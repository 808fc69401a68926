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
  // Bytes each buffer must hold, batch included.
  uint64_t a_bytes = 0, b_bytes = 0, c_bytes = 0;
};

inline Parsed<GemmParams> parse_gemm(const CMTR_KeyValue* params, size_t num_params) {
  Parsed<GemmParams> out;
  GemmParams& g = out.value;
  auto fail = [&](const std::string& why) {
    out.invalid_reason = "gemm.v1: " + why;
    return out;
  };
  Params p(params, num_params,
           {"m", "n", "k", "dtype_a", "dtype_b", "dtype_c", "compute", "trans_a", "trans_b", "lda", "ldb",
            "ldc", "alpha", "beta", "batch", "stride_a", "stride_b", "stride_c"});
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
  return out;
}

// ---- fma_peak.v1 ----

struct FmaPeakParams {
  std::string dtype;  // f16, bf16, f32 or f64
  int64_t items = 0, iters = 0, lanes = 8;
  double a = 1, b = 0, x0 = 1, dx = 1.0 / 64;  // b resolved to the dtype's default when not given
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
  Params p(params, num_params, {"dtype", "items", "iters", "lanes", "a", "b", "x0", "dx"});
  f.dtype = p.require_string("dtype");
  f.items = p.require_int("items");
  f.iters = p.require_int("iters");
  f.lanes = p.int_or("lanes", 8);
  f.a = p.double_or("a", 1.0);
  f.b = p.double_or("b", fma_peak_default_b(f.dtype));
  f.x0 = p.double_or("x0", 1.0);
  f.dx = p.double_or("dx", 1.0 / 64);
  if (!p.ok()) return fail(p.error());
  if (f.dtype != "f16" && f.dtype != "bf16" && f.dtype != "f32" && f.dtype != "f64")
    return fail("dtype must be f16, bf16, f32 or f64, got '" + f.dtype + "'");
  if (f.items < 1 || f.iters < 1) return fail("items and iters must be >= 1");
  if (f.lanes < 1 || f.lanes > 32) return fail("lanes must be in 1..32, got " + std::to_string(f.lanes));
  if (f.items > (int64_t{1} << 40)) return fail("items is absurdly large (above 2^40)");
  if (!std::isfinite(f.a) || !std::isfinite(f.b) || !std::isfinite(f.x0) || !std::isfinite(f.dx))
    return fail("a, b, x0 and dx must be finite");
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

// ---- Buffers of an enqueue ----

struct BufferNeed {
  const char* role;     // "A", "OUT", ...
  uint64_t size_bytes;  // the least the buffer must hold
};

// The common checks of an op_enqueue's buffer list: the count the op takes and no NULL list. The
// plugin then checks each buffer (live handle, device, memory kind, size) with its own handle type.
inline CMTR_Error* check_buffer_count(const char* op, CMTR_Buffer* const* buffers, size_t num_buffers,
                                      std::initializer_list<BufferNeed> needs) {
  if (num_buffers != needs.size()) {
    std::string list;
    for (const auto& n : needs) list += (list.empty() ? "" : ", ") + std::string(n.role);
    return invalid(std::string(op) + " takes " + std::to_string(needs.size()) + " buffers [" + list +
                   "], got " + std::to_string(num_buffers));
  }
  if (num_buffers > 0 && buffers == nullptr) return invalid(std::string(op) + ": buffers is NULL");
  return nullptr;
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
