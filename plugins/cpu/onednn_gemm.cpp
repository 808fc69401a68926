// plugins/cpu/onednn_gemm.cpp - gemm.v1 with bf16 and i8 inputs on oneDNN's matmul (see the header).
//
// The mapping. gemm.v1 is column-major: C (m x n, leading dimension ldc) = alpha op(A) op(B) + beta C.
// A column-major m x n matrix is the row-major n x m matrix Cᵀ with row stride ldc, and
// Cᵀ = op(B)ᵀ op(A)ᵀ, so oneDNN's row-major matmul dst = src · weights runs it with
//   src     = op(B)ᵀ: n x k, strides {ldb, 1} (B as stored) or {1, ldb} (trans_b),
//   weights = op(A)ᵀ: k x m, strides {lda, 1} (A as stored) or {1, lda} (trans_a),
//   dst     = Cᵀ:     n x m, strides {ldc, 1},
// with a leading batch dimension strided by stride_b, stride_a, stride_c. Nothing is copied by the
// plugin; oneDNN reads the caller's layout. alpha is oneDNN's output scale and beta its sum post-op
// (dst = alpha acc + beta dst, f32 arithmetic, one rounding to the output type).
//
// i8 must be exact (the core checks i32 results with zero tolerance), and oneDNN 2.6 is not above
// 2^24: its VNNI kernels (vpdpbusd) take unsigned x signed bytes, so for s8 x s8 it adds 128 to one
// operand and subtracts the compensation 128·sum(other) in f32; output scales and post-ops are f32
// too (measured: s8 x s8 at k = 2001 with values near 127 is off by one). Only u8 x s8 -> s32 with no
// scale, zero point or post-op stores the integer accumulator as it is. So:
//  - k <= 512: s8 x s8 directly; every value oneDNN handles stays below 2^24 (255·128·512 < 2^24),
//    so its f32 compensation is exact;
//  - k > 512: the plugin writes op(B)ᵀ + 128 as u8 (a scratch copy, n·k bytes), runs u8 x s8 -> s32,
//    and subtracts 128·rowsum(op(A)) itself in wrapping 32-bit arithmetic (exact whenever C fits
//    i32, even when the u8 x s8 sums wrap);
//  - alpha != 1 or beta != 0: C = alpha·acc + beta·C in 64-bit integers, saturated to i32.
// The plugin's passes (shift, row sums, C update) are O(n²) next to the O(n³) product and run on
// oneDNN's OpenMP threads (TBB where built without OpenMP); they are part of every timed call.
//
// Which implementation. For each request the candidates are the batched (3-D) primitive and one 2-D
// primitive run per batch matrix; the first for which oneDNN picks its brgemm kernels (tight leading
// dimensions) wins, else the first JIT one (oneDNN's gemm:jit takes any strides); oneDNN's reference
// code ("ref:") is never used. The impl attribute names what oneDNN chose.
//
// Threads: Debian's oneDNN runs on OpenMP (libgomp), with as many threads as the process's CPU
// affinity allows, like the plugin's TBB arena and OpenBLAS; one op runs one pool at a time, so they
// do not oversubscribe the cores (cmeter_cpu_plugin_bench --contention measures the switch).
#include "onednn_gemm.hpp"

#include <cstring>

#if CMETER_CPU_WITH_ONEDNN
#include <dlfcn.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <tuple>
#include <vector>
#endif

namespace cmeter::cpu {

#if !CMETER_CPU_WITH_ONEDNN

LowPrecisionIsa probe_low_precision_isa(const char* /*kernels_isa*/) {
  LowPrecisionIsa isa;
  isa.note = "built without oneDNN (libdnnl-dev): bf16 is converted to f32 for OpenBLAS, no i8 GEMM";
  return isa;
}

OpPlan plan_onednn_gemm(const Runtime& rt, const sdk::GemmParams& /*g*/, bool /*create*/) {
  OpPlan p;
  p.status = OpPlan::kUnsupported;
  p.reason = "gemm.v1 on cpu: " + rt.info.low.note;
  return p;
}

#else  // CMETER_CPU_WITH_ONEDNN

namespace {

using dnnl::memory;
using DType = sdk::DType;
using dt = memory::data_type;

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "unknown";
  }
}

// The ISA bits oneDNN's enum encodes (each level includes the bits of those below it).
bool isa_has(dnnl::cpu_isa isa, dnnl::cpu_isa level) {
  const auto have = static_cast<unsigned>(isa), want = static_cast<unsigned>(level);
  return (have & want) == want;
}

// OpenMP threads oneDNN will use: asked of the libgomp that libdnnl loaded (the plugin itself is not
// compiled with OpenMP); 0 when it cannot be asked.
int openmp_threads() {
  void* gomp = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (gomp == nullptr) return 0;
  int threads = 0;
  if (void* f = dlsym(gomp, "omp_get_max_threads")) threads = reinterpret_cast<int (*)()>(f)();
  dlclose(gomp);
  return threads;
}

const dnnl::engine& cpu_engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);  // never destroyed
  return *engine;
}

dt onednn_type(DType t) {
  switch (t) {
    case DType::kBF16:
      return dt::bf16;
    case DType::kI8:
      return dt::s8;
    case DType::kI32:
      return dt::s32;
    case DType::kF32:
      return dt::f32;
    default:
      return dt::undef;
  }
}

// One way to run the request: a primitive and how many times it runs (1 batched, or batch 2-D runs).
struct Candidate {
  memory::desc src, wei, dst;
  dnnl::matmul::primitive_desc pd;
  bool batched = false;
  std::string impl;  // oneDNN's impl_info_str
};

// Builds the descriptors of one candidate; nullopt when oneDNN cannot express the layout (batch
// matrices of A or B that overlap) or has no implementation for it.
// With `shift_src` (i8, k > 512) the src is the plugin's tight u8 copy of op(B)ᵀ + 128.
std::optional<Candidate> make_candidate(const sdk::GemmParams& g, bool batched, bool dst_scratch,
                                        bool shift_src, const dnnl::primitive_attr& attr) {
  const dt in = onednn_type(g.a), out = onednn_type(g.c);
  const memory::dim m = g.m, n = g.n, k = g.k;
  memory::dims src_strides = shift_src   ? memory::dims{k, 1}
                             : g.trans_b ? memory::dims{1, g.ldb}
                                         : memory::dims{g.ldb, 1};
  memory::dims wei_strides = g.trans_a ? memory::dims{1, g.lda} : memory::dims{g.lda, 1};
  memory::dims dst_strides = dst_scratch ? memory::dims{m, 1} : memory::dims{g.ldc, 1};
  memory::dims src_dims{n, k}, wei_dims{k, m}, dst_dims{n, m};
  if (batched) {
    src_dims.insert(src_dims.begin(), g.batch);
    wei_dims.insert(wei_dims.begin(), g.batch);
    dst_dims.insert(dst_dims.begin(), g.batch);
    src_strides.insert(src_strides.begin(), g.stride_b);
    wei_strides.insert(wei_strides.begin(), g.stride_a);
    dst_strides.insert(dst_strides.begin(), g.stride_c);
  }
  try {
    Candidate c;
    c.src = memory::desc(src_dims, shift_src ? dt::u8 : in, src_strides);
    c.wei = memory::desc(wei_dims, in, wei_strides);
    c.dst = memory::desc(dst_dims, out, dst_strides);
    c.pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(c.src, c.wei, c.dst), attr, cpu_engine());
    c.batched = batched;
    c.impl = c.pd.impl_info_str();
    return c;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The request as oneDNN runs it: the chosen candidate and the i8 epilogue, if any.
struct Choice {
  Candidate cand;
  bool shift_src = false;       // i8 with k > 512: u8 copy of op(B)ᵀ + 128, compensation by the plugin
  bool exact_epilogue = false;  // i8 with shift_src, alpha != 1 or beta != 0: the plugin's pass over C
  bool dst_scratch = false;     // i8 with beta != 0: products go to a scratch matrix first
};

// k up to which oneDNN's s8 x s8 (f32 compensation) is exact: 255·128·k < 2^24.
constexpr int64_t kS8ExactMaxK = 512;

OpPlan answer(OpPlan::Status status, std::string reason) {
  OpPlan p;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

// The exact-i8 passes' inner loops: restrict-qualified so they vectorise without alias checks, and
// under GCC compiled for x86-64-v4 (AVX-512) and v3 (AVX2) too, picked at load time (ifunc); the file
// is built with -O3 so that GCC vectorises loops of unknown length.
#if defined(__GNUC__) && !defined(__clang__)
#define CMETER_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CMETER_CPU_CLONES
#endif

// out[q] = in[q] + 128 as u8 (flipping the sign bit).
CMETER_CPU_CLONES void shift_to_u8(const int8_t* __restrict in, uint8_t* __restrict out, int64_t n) {
  for (int64_t q = 0; q < n; ++q) out[q] = static_cast<uint8_t>(static_cast<uint8_t>(in[q]) ^ 0x80u);
}

// acc[i] += in[i].
CMETER_CPU_CLONES void add_i8(const int8_t* __restrict in, int32_t* __restrict acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += in[i];
}

CMETER_CPU_CLONES int32_t sum_i8(const int8_t* __restrict in, int64_t n) {
  int32_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += in[i];
  return sum;
}

// c[i] -= comp[i], wrapping modulo 2^32.
CMETER_CPU_CLONES void subtract_wrapping(int32_t* __restrict c, const uint32_t* __restrict comp, int64_t n) {
  for (int64_t i = 0; i < n; ++i) c[i] = static_cast<int32_t>(static_cast<uint32_t>(c[i]) - comp[i]);
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

class OneDnnGemmOp final : public Op {
 public:
  OneDnnGemmOp(const Runtime& rt, const sdk::GemmParams& g, Choice choice)
      : rt_(rt), g_(g), choice_(std::move(choice)), prim_(choice_.cand.pd), stream_(cpu_engine()) {
    src_ = memory(choice_.cand.src, cpu_engine(), DNNL_MEMORY_NONE);
    wei_ = memory(choice_.cand.wei, cpu_engine(), DNNL_MEMORY_NONE);
    dst_ = memory(choice_.cand.dst, cpu_engine(), DNNL_MEMORY_NONE);
    auto alloc = [](uint64_t bytes) {
      void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      if (p == nullptr) throw std::bad_alloc();
      return p;
    };
    const auto m = static_cast<uint64_t>(g.m), n = static_cast<uint64_t>(g.n), k = static_cast<uint64_t>(g.k);
    if (choice_.dst_scratch) scratch_.reset(static_cast<int32_t*>(alloc(m * n * 4)));
    if (choice_.shift_src) {
      src_u8_.reset(static_cast<uint8_t*>(alloc(n * k)));
      comp_.reset(static_cast<uint32_t*>(alloc(m * 4)));
    }
    const LowPrecisionIsa& low = rt.info.low;
    std::string impl = std::string("onednn.matmul ") + (g.a == DType::kI8 ? "s8xs8->s32" : "bf16") + " (" +
                       low.isa + ", " + choice_.cand.impl + ", ";
    impl += choice_.cand.batched ? "one batched primitive"
            : g.batch > 1        ? std::to_string(g.batch) + " runs of one primitive"
                                 : "one primitive";
    if (g.a == DType::kI8) {
      if (choice_.shift_src)
        impl += "; k > 512: u8 copy of B + 128, u8xs8, 128*rowsum(A) subtracted in int32 (exact)";
      if (g.alpha != 1 || g.beta != 0) impl += "; C = alpha*acc + beta*C in int64";
      if (choice_.exact_epilogue || choice_.shift_src)
#ifdef _OPENMP
        impl += "; plugin passes on oneDNN's OpenMP threads";
#else
        impl += "; plugin passes on tbb over " + std::to_string(rt.threads) + " cores";
#endif
    } else {
      if (g.alpha != 1) impl += "; alpha as output scale";
      if (g.beta != 0) impl += "; beta as sum post-op";
      if (g.c == DType::kBF16) impl += "; f32 accumulation, rounded once to bf16";
    }
    impl += ") [" + low.library + "]";
    attributes.set("impl", impl);
    attributes.set("onednn.impl", choice_.cand.impl);
  }

  CMTR_Error* run(CMTR_Buffer* const* buffers, size_t num_buffers) override {
    if (CMTR_Error* e = sdk::check_buffer_count("gemm.v1", buffers, num_buffers,
                                                {{"A", g_.a_bytes}, {"B", g_.b_bytes}, {"C", g_.c_bytes}}))
      return e;
    const sdk::BufferNeed needs[3] = {{"A", g_.a_bytes}, {"B", g_.b_bytes}, {"C", g_.c_bytes}};
    for (size_t i = 0; i < 3; ++i) {
      const std::string role = "buffer " + std::to_string(i) + " (" + needs[i].role + ")";
      if (CMTR_Error* e =
              sdk::check_handle(buffers[i], kBufferMagic, "gemm.v1", role.c_str(), "cpu", "buffer"))
        return e;
      if (CMTR_Error* e = sdk::check_buffer_size("gemm.v1", i, needs[i], buffers[i]->size_bytes)) return e;
    }
    const int64_t in_bytes = static_cast<int64_t>(sdk::dtype_size_bytes(g_.a));
    const int64_t out_bytes = static_cast<int64_t>(sdk::dtype_size_bytes(g_.c));
    // The first matrices start at the offsets (ABI 1.1; parse_gemm counted them in the sizes).
    auto* a = static_cast<char*>(buffers[0]->data) + g_.offset_a * in_bytes;
    auto* b = static_cast<char*>(buffers[1]->data) + g_.offset_b * in_bytes;
    auto* c = static_cast<char*>(buffers[2]->data) + g_.offset_c * out_bytes;
    const int64_t runs = choice_.cand.batched ? 1 : g_.batch;
    for (int64_t i = 0; i < runs; ++i) {
      char* ci = c + i * g_.stride_c * out_bytes;
      if (choice_.shift_src) {
        const Job shift = shift_b(reinterpret_cast<const int8_t*>(b + i * g_.stride_b));
        const Job sums = row_sums(reinterpret_cast<const int8_t*>(a + i * g_.stride_a));
        run_jobs({&shift, &sums});
        src_.set_data_handle(src_u8_.get());
      } else {
        src_.set_data_handle(b + i * g_.stride_b * in_bytes);
      }
      wei_.set_data_handle(a + i * g_.stride_a * in_bytes);
      dst_.set_data_handle(choice_.dst_scratch ? static_cast<void*>(scratch_.get()) : static_cast<void*>(ci));
      prim_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, wei_}, {DNNL_ARG_DST, dst_}});
      stream_.wait();
      if (choice_.exact_epilogue && !choice_.cand.batched) epilogue(reinterpret_cast<int32_t*>(ci));
    }
    if (choice_.exact_epilogue && choice_.cand.batched)
      for (int64_t i = 0; i < g_.batch; ++i) epilogue(reinterpret_cast<int32_t*>(c + i * g_.stride_c * 4));
    return nullptr;
  }

 private:
  // alpha x + beta y in int64 (each product is below 2^62 in size), saturated to i32.
  static int32_t combine(int64_t alpha, int64_t x, int64_t beta, int64_t y) {
    int64_t v = 0;
    const int64_t p = alpha * x, q = beta * y;
    if (__builtin_add_overflow(p, q, &v))
      v = p < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    return static_cast<int32_t>(
        std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }

  // A pass over [0, count) items, run as body(first, last) on chunks of `grain` items.
  struct Job {
    int64_t count = 0, grain = 1;
    std::function<void(int64_t, int64_t)> body;
  };
  // Chunks of >= ~32K elements for items of `item_work` elements.
  static int64_t grain_for(int64_t item_work) {
    return std::max<int64_t>(1, (int64_t{32} << 10) / std::max<int64_t>(1, item_work));
  }

  // Runs the jobs' chunks in one parallel region: on oneDNN's own OpenMP threads where this file is
  // built with OpenMP (GCC: the libgomp libdnnl uses), so the passes next to a matmul do not hand the
  // cores over to another pool; else on the plugin's TBB arena.
  void run_jobs(std::initializer_list<const Job*> jobs) const {
    std::vector<std::tuple<const Job*, int64_t, int64_t> > chunks;
    for (const Job* j : jobs)
      for (int64_t first = 0; first < j->count; first += j->grain)
        chunks.emplace_back(j, first, std::min(j->count, first + j->grain));
    const auto n = static_cast<int64_t>(chunks.size());
    auto one = [&](int64_t c) {
      const auto& [j, first, last] = chunks[static_cast<size_t>(c)];
      j->body(first, last);
    };
    if (rt_.threads == 1 || n <= 1) {
      for (int64_t c = 0; c < n; ++c) one(c);
      return;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n; ++c) one(c);
#else
    rt_.arena->execute([&] {
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1), [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t c = r.begin(); c != r.end(); ++c) one(c);
      });
    });
#endif
  }

  // src_u8_ (n x k, row-major) = op(B)ᵀ + 128: row j is column j of op(B).
  Job shift_b(const int8_t* b) const {
    const int64_t k = g_.k, ldb = g_.ldb;
    uint8_t* out = src_u8_.get();
    const bool trans_b = g_.trans_b;
    return {g_.n, grain_for(k), [=](int64_t first, int64_t last) {
              for (int64_t j = first; j < last; ++j) {
                uint8_t* row = out + j * k;
                if (!trans_b) {  // op(B)[q][j] = B[q + j ldb]: contiguous
                  const int8_t* col = b + j * ldb;
                  shift_to_u8(col, row, k);
                } else {  // op(B)[q][j] = B[j + q ldb]
                  for (int64_t q = 0; q < k; ++q)
                    row[q] = static_cast<uint8_t>(static_cast<uint8_t>(b[j + q * ldb]) ^ 0x80u);
                }
              }
            }};
  }

  // comp_[i] = 128 · sum over q of op(A)[i][q], modulo 2^32 (|sum| <= 128 k fits int32 for any k a
  // buffer can hold with this op's 32-bit sums).
  Job row_sums(const int8_t* a) const {
    const int64_t m = g_.m, k = g_.k, lda = g_.lda;
    uint32_t* comp = comp_.get();
    if (g_.trans_a) {  // op(A)[i][q] = A[q + i lda]: contiguous per i
      return {m, grain_for(k), [=](int64_t first, int64_t last) {
                for (int64_t i = first; i < last; ++i) {
                  int32_t sum = 0;
                  sum = sum_i8(a + i * lda, k);
                  comp[i] = static_cast<uint32_t>(sum) * 128u;
                }
              }};
    }
    // op(A)[i][q] = A[i + q lda]: add column q to a block of rows (1024 rows per chunk)
    return {m, 1024, [=](int64_t first, int64_t last) {
              std::vector<int32_t> sum(static_cast<size_t>(last - first), 0);
              for (int64_t q = 0; q < k; ++q) {
                const int8_t* col = a + q * lda + first;
                add_i8(col, sum.data(), last - first);
              }
              for (int64_t i = first; i < last; ++i)
                comp[i] = static_cast<uint32_t>(sum[static_cast<size_t>(i - first)]) * 128u;
            }};
  }

  // One batch matrix of C: the products (in the scratch when beta != 0, else already in C), less the
  // shift's compensation, times alpha, plus beta C.
  void epilogue(int32_t* c) {
    const auto alpha = static_cast<int64_t>(g_.alpha), beta = static_cast<int64_t>(g_.beta);
    const int32_t* acc = scratch_.get();
    const uint32_t* comp = comp_.get();
    const int64_t m = g_.m, ldc = g_.ldc;
    const Job job{g_.n, grain_for(m), [&](int64_t first, int64_t last) {
                    for (int64_t j = first; j < last; ++j) {
                      int32_t* col = c + j * ldc;
                      const int32_t* from = acc != nullptr ? acc + j * m : col;
                      if (comp != nullptr && alpha == 1 && beta == 0) {  // the common case, vectorised
                        // Wrapping: exact modulo 2^32, so exact whenever the true product fits i32.
                        subtract_wrapping(col, comp, m);  // from == col: beta == 0
                        continue;
                      }
                      for (int64_t i = 0; i < m; ++i) {
                        int32_t x = from[i];
                        if (comp != nullptr) x = static_cast<int32_t>(static_cast<uint32_t>(x) - comp[i]);
                        col[i] = combine(alpha, x, acc != nullptr ? beta : 0, col[i]);
                      }
                    }
                  }};
    run_jobs({&job});
  }

  const Runtime& rt_;
  sdk::GemmParams g_;
  Choice choice_;
  dnnl::matmul prim_;
  dnnl::stream stream_;
  memory src_, wei_, dst_;
  std::unique_ptr<int32_t, AlignedFree> scratch_;
  std::unique_ptr<uint8_t, AlignedFree> src_u8_;
  std::unique_ptr<uint32_t, AlignedFree> comp_;
};

}  // namespace

namespace {

int isa_rank(const std::string& kernels_isa) {
  return kernels_isa == "avx512" ? 2 : kernels_isa == "avx2" ? 1 : 0;
}

// What oneDNN runs, capped once per process at `kernels_isa` (oneDNN fixes its ISA at first use).
LowPrecisionIsa probe_once(const char* kernels_isa) {
  LowPrecisionIsa r;
  r.onednn = true;
  std::string cap;
  if (std::strcmp(kernels_isa, "avx2") == 0) {
    dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2_vnni);
    cap = " (capped at avx2_vnni like the plugin's kernels)";
  } else if (std::strcmp(kernels_isa, "sse2") == 0) {
    dnnl::set_max_cpu_isa(dnnl::cpu_isa::sse41);
    cap = " (capped at sse41 like the plugin's kernels)";
  }
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  r.isa = isa_name(isa);
  const dnnl_version_t* v = dnnl::version();
  const int threads = openmp_threads();
  r.library = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
              std::to_string(v->patch) + " (" +
              (v->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP"
               : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
               : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                                                    : "other runtime") +
              (threads > 0 ? ", " + std::to_string(threads) + " threads" : std::string()) + ")";
  r.amx = isa_has(isa, dnnl::cpu_isa::avx512_core_amx);
  r.bf16_dot = isa_has(isa, dnnl::cpu_isa::avx512_core_bf16);
  // AVX2-VNNI is left out: oneDNN 2.6's int8 matmul paths there are not verified on a machine.
  r.i8_dot = isa_has(isa, dnnl::cpu_isa::avx512_core_vnni);
  std::string missing;
  if (!r.bf16_dot) missing += "no AVX512-BF16 or AMX: bf16 is converted to f32 for OpenBLAS";
  if (!r.i8_dot) missing += std::string(missing.empty() ? "" : "; ") + "no AVX512-VNNI or AMX: no i8 GEMM";
  r.note = "oneDNN ISA " + r.isa + cap + (missing.empty() ? "" : ": " + missing);
  return r;
}

}  // namespace

LowPrecisionIsa probe_low_precision_isa(const char* kernels_isa) {
  static std::mutex mutex;
  static std::optional<LowPrecisionIsa> first;
  static std::string first_kernels;
  std::lock_guard<std::mutex> lock(mutex);
  if (!first) {
    first = probe_once(kernels_isa);
    first_kernels = kernels_isa;
  }
  // Re-initialised with lower kernels (CMETER_CPU_ISA) in the same process: oneDNN cannot follow, so
  // it is not used rather than run above the ISA the peaks are computed for.
  if (isa_rank(kernels_isa) < isa_rank(first_kernels)) {
    LowPrecisionIsa off;
    off.note = "oneDNN's ISA was fixed at " + first->isa +
               " by an earlier initialisation in this process, above the " + kernels_isa +
               " kernels: not used (bf16 converted to f32, no i8 GEMM)";
    return off;
  }
  return *first;
}

OpPlan plan_onednn_gemm(const Runtime& rt, const sdk::GemmParams& g, bool create) {
  const LowPrecisionIsa& low = rt.info.low;
  const bool i8 = g.a == DType::kI8;
  if (i8) {
    if (g.b != DType::kI8 || g.compute != "i32" || g.c != DType::kI32)
      return answer(OpPlan::kUnsupported,
                    "gemm.v1 on cpu: i8 GEMM takes dtype_b i8, compute i32 and dtype_c i32 (got " + g.b_name +
                        ", " + g.compute + ", " + g.c_name + ")");
    if (g.alpha != std::floor(g.alpha) || g.beta != std::floor(g.beta) || std::fabs(g.alpha) > 0x1p31 ||
        std::fabs(g.beta) > 0x1p31)
      return answer(OpPlan::kUnsupported, "gemm.v1 on cpu: i32 compute takes integer alpha and beta");
    if (!low.i8_dot) return answer(OpPlan::kUnsupported, "gemm.v1 on cpu: " + low.note);
  } else if (g.a == DType::kBF16) {
    if (g.b != DType::kBF16 || g.compute != "f32" || (g.c != DType::kF32 && g.c != DType::kBF16))
      return answer(OpPlan::kUnsupported,
                    "gemm.v1 on cpu: oneDNN runs bf16 with compute f32, dtype_c f32 or bf16");
    if (!low.bf16_dot) return answer(OpPlan::kUnsupported, "gemm.v1 on cpu: " + low.note);
  } else {
    return answer(OpPlan::kUnsupported, "gemm.v1 on cpu: oneDNN is used for bf16 and i8 inputs only");
  }

  Choice choice;
  dnnl::primitive_attr attr;
  if (i8) {
    choice.shift_src = g.k > kS8ExactMaxK;
    choice.exact_epilogue = choice.shift_src || g.alpha != 1 || g.beta != 0;
    choice.dst_scratch = g.beta != 0;
  } else {
    if (g.alpha != 1) attr.set_output_scales(0, {static_cast<float>(g.alpha)});
    if (g.beta != 0) {
      dnnl::post_ops po;
      po.append_sum(static_cast<float>(g.beta));
      attr.set_post_ops(po);
    }
  }
  // Candidates in order of preference: batched, then per matrix (the scratch holds one matrix).
  std::vector<Candidate> found;
  for (bool batched : {true, false}) {
    if (batched && (g.batch == 1 || choice.dst_scratch || choice.shift_src)) continue;
    if (auto c = make_candidate(g, batched, choice.dst_scratch, choice.shift_src, attr))
      found.push_back(std::move(*c));
  }
  const Candidate* pick = nullptr;
  for (const auto& c : found)
    if (pick == nullptr && starts_with(c.impl, "brg")) pick = &c;
  for (const auto& c : found)
    if (pick == nullptr && !starts_with(c.impl, "ref")) pick = &c;
  if (pick == nullptr) {
    std::string seen;
    for (const auto& c : found) seen += (seen.empty() ? "" : ", ") + c.impl;
    return answer(OpPlan::kUnsupported, "gemm.v1 on cpu: oneDNN has no JIT matmul for this layout (" +
                                            (seen.empty() ? std::string("none") : seen) + ")");
  }
  OpPlan plan = answer(OpPlan::kSupported, {});
  if (create) {
    choice.cand = *pick;
    plan.op = std::make_unique<OneDnnGemmOp>(rt, g, std::move(choice));
  }
  return plan;
}

#endif  // CMETER_CPU_WITH_ONEDNN

}  // namespace cmeter::cpu
