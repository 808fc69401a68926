// plugins/opencl/kernels.cpp - generators of the OpenCL C programs (see kernels.hpp).
//
// Conventions of the generated code: `VT` is the vector type of `vw` elements (the scalar type when
// vw == 1), `ACC` the accumulation type, and every loop over lanes, tile rows or tile columns is
// unrolled here, in C++, so the device compiler gets one named variable per accumulator.
#include "kernels.hpp"

#include <string>
#include <vector>

namespace cmeter::opencl {
namespace {

std::string S(int v) {
  return std::to_string(v);
}

const char* scalar_name(Elem t) {
  switch (t) {
    case Elem::kF16:
      return "half";
    case Elem::kF64:
      return "double";
    default:
      return "float";
  }
}

std::string vec(const std::string& scalar, int vw) {
  return vw == 1 ? scalar : scalar + S(vw);
}

std::string pragmas(bool f64, bool f16) {
  std::string s;
  if (f64) s += "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n";
  if (f16) s += "#pragma OPENCL EXTENSION cl_khr_fp16 : enable\n";
  return s;
}

}  // namespace

std::string fma_peak_source(Elem type, int vw, int lanes) {
  const std::string t = scalar_name(type);
  const std::string s = type == Elem::kF64 ? "double" : "float";  // argument and summation type
  const std::string vt = vec(t, vw), vs = vec(s, vw);
  std::string src = pragmas(type == Elem::kF64, type == Elem::kF16);
  src += "// fma_peak.v1: " + S(lanes) + " independent chains x = fma(x, a, b) per item, " + S(vw) +
         " items per work item (one per vector lane).\n";
  src += "__kernel void cmeter_fma_peak(__global float* out, const ulong items, const int iters, const " + s +
         " a_in, const " + s + " b_in, const " + s + " item_dx, const ulong item_period, __constant " + s +
         "* init) {\n";
  src += "  const ulong first = (ulong)get_global_id(0) * " + S(vw) + ";\n";
  src += "  if (first >= items) return;\n";
  src += "  const " + vt + " a = (" + vt + ")((" + t + ")a_in);\n";
  src += "  const " + vt + " b = (" + vt + ")((" + t + ")b_in);\n";
  // Item i's lanes start at init[l] + (i mod item_period)·item_dx (ABI 1.3), every term and the sum
  // exact in the argument type, then converted to the dtype.
  if (vw == 1) {
    src += "  const " + s + " off = (" + s + ")(first % item_period) * item_dx;\n";
    for (int l = 0; l < lanes; ++l)
      src += "  " + t + " x" + S(l) + " = (" + t + ")(init[" + S(l) + "] + off);\n";
  } else {
    std::string iota;
    for (int v = 0; v < vw; ++v) iota += (v ? ", " : "") + S(v);
    src += "  const ulong" + S(vw) + " idx = (ulong" + S(vw) + ")(first) + (ulong" + S(vw) + ")(" + iota +
           ");\n";
    src += "  const " + vs + " off = convert_" + vs + "(idx % item_period) * (" + vs + ")(item_dx);\n";
    for (int l = 0; l < lanes; ++l)
      src += "  " + vt + " x" + S(l) + " = convert_" + vt + "((" + vs + ")(init[" + S(l) + "]) + off);\n";
  }
  src += "  for (int t = 0; t < iters; ++t) {\n";
  for (int l = 0; l < lanes; ++l) src += "    x" + S(l) + " = fma(x" + S(l) + ", a, b);\n";
  src += "  }\n";
  const std::string conv = vw == 1 ? "(" + s + ")" : "convert_" + vs;
  src += "  const " + vs + " sum = ";
  for (int l = 0; l < lanes; ++l) src += (l ? " + " : "") + conv + "(x" + S(l) + ")";
  src += ";\n";
  if (vw == 1) {
    src += "  out[first] = (float)sum;\n";
  } else {
    const std::string to_f = "convert_float" + S(vw) + "(sum)";
    src += "  if (first + " + S(vw) + " <= items) {\n";
    src += "    vstore" + S(vw) + "(" + to_f + ", 0, out + first);\n";
    src += "  } else {\n";
    src += "    float tmp[" + S(vw) + "];\n";
    src += "    vstore" + S(vw) + "(" + to_f + ", 0, tmp);\n";
    src += "    for (int v = 0; first + v < items; ++v) out[first + v] = tmp[v];\n";
    src += "  }\n";
  }
  src += "}\n";
  return src;
}

std::string stream_source(Elem type, int vw, bool nontemporal) {
  const std::string t = scalar_name(type);
  const std::string vt = vec(t, vw);
  std::string src = pragmas(type == Elem::kF64, false);
  src +=
      "// stream.v1: one " + vt + " per work item; the work item after the last full vector does the tail.\n";
  if (nontemporal)
    src += "#define STORE(p, v) __builtin_nontemporal_store((v), (p))\n";
  else
    src += "#define STORE(p, v) (*(p) = (v))\n";
  struct Kind {
    const char* name;
    const char* dst;
    const char* expr;  // in terms of a, b, c, s
  };
  const Kind kinds[] = {
      {"copy", "c", "A"}, {"scale", "b", "s * C"}, {"add", "c", "A + B"}, {"triad", "a", "B + s * C"}};
  for (const Kind& k : kinds) {
    std::string expr_v, expr_s;
    for (const char* p = k.expr; *p != '\0'; ++p) {
      if (*p == 'A' || *p == 'B' || *p == 'C') {
        const char lower = static_cast<char>(*p - 'A' + 'a');
        expr_v += std::string("((__global const ") + vt + "*)" + lower + ")[v]";
        expr_s += std::string(1, lower) + "[i]";
      } else if (*p == 's') {
        expr_v += "sv";
        expr_s += "scalar";
      } else {
        expr_v += *p;
        expr_s += *p;
      }
    }
    src += std::string("__kernel void cmeter_stream_") + k.name + "(__global " + t + "* a, __global " + t +
           "* b, __global " + t + "* c, const " + t + " scalar, const ulong n) {\n";
    src += "  const ulong v = get_global_id(0);\n";
    src += "  const ulong nvec = n / " + S(vw) + ";\n";
    src += "  const " + vt + " sv = (" + vt + ")(scalar);\n";
    src += "  (void)sv;\n";
    src += "  if (v < nvec) {\n";
    src += std::string("    STORE(((__global ") + vt + "*)" + k.dst + ") + v, " + expr_v + ");\n";
    src += "  } else if (v == nvec) {\n";
    src += "    for (ulong i = nvec * " + S(vw) + "; i < n; ++i) " + k.dst + "[i] = " + expr_s + ";\n";
    src += "  }\n";
    src += "}\n";
  }
  return src;
}

std::string copy_source() {
  return "// copy.v1: one 64-byte vector per work item; the work item after the last does the byte tail.\n"
         "__kernel void cmeter_copy(__global const uchar* src, __global uchar* dst, const ulong bytes) {\n"
         "  const ulong v = get_global_id(0);\n"
         "  const ulong nvec = bytes / 64;\n"
         "  if (v < nvec) {\n"
         "    ((__global uint16*)dst)[v] = ((__global const uint16*)src)[v];\n"
         "  } else if (v == nvec) {\n"
         "    for (ulong i = nvec * 64; i < bytes; ++i) dst[i] = src[i];\n"
         "  }\n"
         "}\n";
}

std::string noop_source() {
  return "// noop.v1: the smallest kernel there is.\n__kernel void cmeter_noop(void) {}\n";
}

namespace {

bool g_half_by_bits = false;  // set by gemm_source for the duration of one generation

// Scalar load of element `idx` (an expression) of a matrix stored as `e`, as the accumulation type.
std::string load_scalar(Elem e, const std::string& ptr, const std::string& idx) {
  switch (e) {
    case Elem::kF16:
      if (g_half_by_bits) return "cmeter_h2f(((__global const ushort*)" + ptr + ")[" + idx + "])";
      return "vload_half(" + idx + ", " + ptr + ")";
    case Elem::kBF16:
      return "as_float((uint)" + ptr + "[" + idx + "] << 16)";
    default:
      return ptr + "[" + idx + "]";
  }
}

// Load of `vw` consecutive elements starting at element `idx`.
std::string load_vector(Elem e, int vw, const std::string& ptr, const std::string& idx) {
  if (vw == 1) return load_scalar(e, ptr, idx);
  switch (e) {
    case Elem::kF16:
      if (g_half_by_bits)
        return "cmeter_h2f_" + S(vw) + "(vload" + S(vw) + "(0, (__global const ushort*)" + ptr + " + " + idx +
               "))";
      return "vload_half" + S(vw) + "(0, " + ptr + " + " + idx + ")";
    case Elem::kBF16:
      return "as_float" + S(vw) + "(convert_uint" + S(vw) + "(vload" + S(vw) + "(0, " + ptr + " + " + idx +
             ")) << 16)";
    default:
      return "vload" + S(vw) + "(0, " + ptr + " + " + idx + ")";
  }
}

std::string store_scalar(Elem e, const std::string& ptr, const std::string& idx, const std::string& value) {
  switch (e) {
    case Elem::kF16:
      return "vstore_half_rte(" + value + ", " + idx + ", " + ptr + ")";
    case Elem::kBF16:
      return ptr + "[" + idx + "] = cmeter_to_bf16(" + value + ")";
    default:
      return ptr + "[" + idx + "] = " + value;
  }
}

std::string store_vector(Elem e, int vw, const std::string& ptr, const std::string& idx,
                         const std::string& value) {
  if (vw == 1) return store_scalar(e, ptr, idx, value);
  switch (e) {
    case Elem::kF16:
      return "vstore_half" + S(vw) + "_rte(" + value + ", 0, " + ptr + " + " + idx + ")";
    case Elem::kBF16:
      return "vstore" + S(vw) + "(cmeter_to_bf16_" + S(vw) + "(" + value + "), 0, " + ptr + " + " + idx + ")";
    default:
      return "vstore" + S(vw) + "(" + value + ", 0, " + ptr + " + " + idx + ")";
  }
}

const char* storage_type(Elem e) {
  switch (e) {
    case Elem::kF16:
      return "half";
    case Elem::kBF16:
      return "ushort";
    case Elem::kF64:
      return "double";
    default:
      return "float";
  }
}

}  // namespace

std::string gemm_source(const GemmKernelConfig& c) {
  const bool f64 = c.in == Elem::kF64;
  const std::string acc = f64 ? "double" : "float";
  const std::string accv = vec(acc, c.vw);
  const int tm = c.tile_rows();
  std::string src = pragmas(f64, false);
  src += "// gemm.v1: column-major C = alpha*op(A)*op(B) + beta*C, a " + S(tm) + "x" + S(c.tn) +
         " register tile of C per work item (" + S(c.mv) + " x " + accv +
         " per column), trans_a=" + S(c.trans_a) + " trans_b=" + S(c.trans_b) + ".\n";
  if (c.out == Elem::kBF16) {
    // Round to nearest even (finite values; NaN payloads are not preserved).
    src +=
        "ushort cmeter_to_bf16(float x) { uint u = as_uint(x); return (ushort)((u + 0x7FFFu + ((u >> 16) & "
        "1u)) >> 16); }\n";
    if (c.vw > 1)
      src += "ushort" + S(c.vw) + " cmeter_to_bf16_" + S(c.vw) + "(float" + S(c.vw) + " x) { uint" + S(c.vw) +
             " u = as_uint" + S(c.vw) + "(x); return convert_ushort" + S(c.vw) +
             "((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16); }\n";
  }
  g_half_by_bits = c.half_by_bits && c.in == Elem::kF16;
  if (g_half_by_bits) {
    // binary16 -> binary32 exactly: exponent and mantissa moved into place and rescaled by 2^112
    // (also right for subnormals, which become normal f32), Inf/NaN given the f32 all-ones exponent.
    src +=
        "float cmeter_h2f(ushort h) { uint u = h; uint em = (u & 0x7fffu) << 13; float f = as_float(em) * "
        "0x1p112f; "
        "f = em >= 0x0f800000u ? as_float(em | 0x7f800000u) : f; return as_float(as_uint(f) | ((u & 0x8000u) "
        "<< 16)); }\n";
    std::vector<int> widths{c.vw};  // tile vectors of A, and the unrolled loads of B
    if (c.vw != 8) widths.push_back(8);
    for (int width : widths) {
      if (width == 1) continue;
      const std::string w = S(width);
      src += "float" + w + " cmeter_h2f_" + w + "(ushort" + w + " h) { uint" + w + " u = convert_uint" + w +
             "(h); uint" + w + " em = (u & 0x7fffu) << 13; float" + w + " f = as_float" + w +
             "(em) * 0x1p112f; f = select(f, as_float" + w +
             "(em | 0x7f800000u), em >= 0x0f800000u); return as_float" + w + "(as_uint" + w +
             "(f) | ((u & 0x8000u) << 16)); }\n";
    }
  }
  const std::string tin = storage_type(c.in), tout = storage_type(c.out);
  // Element (row i, column p) of op(A), and (row p, column j) of op(B), as indices.
  auto a_idx = [&](const std::string& i, const std::string& p) {
    return c.trans_a ? "(" + p + ") + (ulong)(" + i + ") * lda" : "(" + i + ") + (ulong)(" + p + ") * lda";
  };
  auto b_idx = [&](const std::string& p, const std::string& j) {
    return c.trans_b ? "(" + j + ") + (ulong)(" + p + ") * ldb" : "(" + p + ") + (ulong)(" + j + ") * ldb";
  };
  auto c_idx = [&](const std::string& i, const std::string& j) {
    return "(" + i + ") + (ulong)(" + j + ") * ldc";
  };

  src += "__kernel void cmeter_gemm(const int m, const int n, const int k, const " + acc + " alpha, const " +
         acc + " beta,\n    __global const " + tin +
         "* A, const ulong lda, const ulong stride_a, const ulong offset_a,\n    __global const " + tin +
         "* B, const ulong ldb, const ulong stride_b, const ulong offset_b,\n    __global " + tout +
         "* C, const ulong ldc, const ulong stride_c, const ulong offset_c) {\n";
  src += "  const int j0 = (int)get_global_id(0) * " + S(c.tn) + ";\n";
  src += "  const int i0 = (int)get_global_id(1) * " + S(tm) + ";\n";
  src += "  if (i0 >= m || j0 >= n) return;\n";
  src += "  const ulong batch = get_global_id(2);\n";
  src +=
      "  A += offset_a + batch * stride_a;\n  B += offset_b + batch * stride_b;\n  C += offset_c + batch * "
      "stride_c;\n";
  // Fast path: the whole tile inside C.
  src += "  if (i0 + " + S(tm) + " <= m && j0 + " + S(c.tn) + " <= n) {\n";
  for (int r = 0; r < c.mv; ++r)
    for (int j = 0; j < c.tn; ++j)
      src += "    " + accv + " c" + S(r) + "_" + S(j) + " = (" + accv + ")(0);\n";
  // Without trans_b, B's column j is contiguous in p: load kUnroll of them as one vector (converted
  // once, for f16/bf16), then run kUnroll rounds from its elements.
  constexpr int kUnroll = 8;
  src += "    int p = 0;\n";
  if (!c.trans_b) {
    src += "    for (; p + " + S(kUnroll) + " <= k; p += " + S(kUnroll) + ") {\n";
    for (int j = 0; j < c.tn; ++j)
      src += "      const " + acc + S(kUnroll) + " bv" + S(j) + " = " +
             load_vector(c.in, kUnroll, "B", b_idx("p", "j0 + " + S(j))) + ";\n";
    for (int u = 0; u < kUnroll; ++u) {
      for (int r = 0; r < c.mv; ++r) {
        std::string value;
        const std::string row = "i0 + " + S(r * c.vw);
        const std::string col = "p + " + S(u);
        if (c.trans_a && c.vw > 1) {
          value = "(" + accv + ")(";
          for (int v = 0; v < c.vw; ++v)
            value += (v ? ", " : "") + load_scalar(c.in, "A", a_idx(row + " + " + S(v), col));
          value += ")";
        } else {
          value = load_vector(c.in, c.vw, "A", a_idx(row, col));
        }
        src += "      const " + accv + " a" + S(r) + "_" + S(u) + " = " + value + ";\n";
      }
      for (int j = 0; j < c.tn; ++j)
        for (int r = 0; r < c.mv; ++r) {
          // Appended, not `"c" + S(r) + ...`: GCC 12 at -O3 reports a bogus -Wrestrict overlap in
          // operator+(const char*, std::string&&) (GCC bug 105651).
          std::string name = "c";
          name += S(r) + "_" + S(j);
          src += "      " + name + " = fma(a" + S(r) + "_" + S(u) + ", (" + accv + ")(bv" + S(j) + ".s" +
                 S(u) + "), " + name + ");\n";
        }
    }
    src += "    }\n";
  }
  src += "    for (; p < k; ++p) {\n";
  for (int r = 0; r < c.mv; ++r) {
    std::string value;
    const std::string row = "i0 + " + S(r * c.vw);
    if (c.trans_a && c.vw > 1) {
      value = "(" + accv + ")(";
      for (int v = 0; v < c.vw; ++v)
        value += (v ? ", " : "") + load_scalar(c.in, "A", a_idx(row + " + " + S(v), "p"));
      value += ")";
    } else {
      value = load_vector(c.in, c.vw, "A", a_idx(row, "p"));
    }
    src += "      const " + accv + " a" + S(r) + " = " + value + ";\n";
  }
  for (int j = 0; j < c.tn; ++j)
    src += "      const " + accv + " b" + S(j) + " = (" + accv + ")(" +
           load_scalar(c.in, "B", b_idx("p", "j0 + " + S(j))) + ");\n";
  for (int j = 0; j < c.tn; ++j)
    for (int r = 0; r < c.mv; ++r) {
      const std::string name = "c" + S(r) + "_" + S(j);
      src += "      " + name + " = fma(a" + S(r) + ", b" + S(j) + ", " + name + ");\n";
    }
  src += "    }\n";
  for (int j = 0; j < c.tn; ++j)
    for (int r = 0; r < c.mv; ++r) {
      const std::string name = "c" + S(r) + "_" + S(j);
      const std::string idx = c_idx("i0 + " + S(r * c.vw), "j0 + " + S(j));
      src += "    {\n      " + accv + " r = alpha * " + name + ";\n";
      src += "      if (beta != (" + acc + ")0) r += beta * " + load_vector(c.out, c.vw, "C", idx) + ";\n";
      src += "      " + store_vector(c.out, c.vw, "C", idx, "r") + ";\n    }\n";
    }
  src += "    return;\n  }\n";
  // Edge tiles: one element at a time, bounds-checked.
  src += "  for (int j = j0; j < min(j0 + " + S(c.tn) + ", n); ++j) {\n";
  src += "    for (int i = i0; i < min(i0 + " + S(tm) + ", m); ++i) {\n";
  src += "      " + acc + " s = (" + acc + ")0;\n";
  src += "      for (int p = 0; p < k; ++p) s = fma((" + acc + ")" + load_scalar(c.in, "A", a_idx("i", "p")) +
         ", (" + acc + ")" + load_scalar(c.in, "B", b_idx("p", "j")) + ", s);\n";
  src += "      " + acc + " r = alpha * s;\n";
  src += "      if (beta != (" + acc + ")0) r += beta * (" + acc + ")" +
         load_scalar(c.out, "C", c_idx("i", "j")) + ";\n";
  src += "      " + store_scalar(c.out, "C", c_idx("i", "j"), "r") + ";\n";
  src += "    }\n  }\n}\n";
  return src;
}

}  // namespace cmeter::opencl
