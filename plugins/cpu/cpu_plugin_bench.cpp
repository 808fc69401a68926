// plugins/cpu/cpu_plugin_bench.cpp - cmeter_cpu_plugin_bench: the CPU plugin's headline figures.
//
// Why this file exists: so anyone can re-check, in a minute, what the CPU plugin reaches on a
// machine and how that compares with its declared peak and with calling OpenBLAS directly: plugin
// init cost, effective clock, fma_peak f32/f64 vs the computed peak, sgemm at n=2048/4096 through
// the plugin vs a direct cblas_sgemm (same OpenBLAS build and kernels, linked into this program the
// same way), f16/bf16-input GEMM vs f32, STREAM triad/copy, and noop launch time. Each figure is the
// median of `reps` samples (default 7); a sample is enough back-to-back calls to last >= 0.1 s.
// The ABI 1.1 inference ops (Llama-8B-like shapes, f32 and bf16) report GB/s as the catalogue counts
// bytes, to compare with STREAM (--inference: only those).
// --gemm-dtypes: CPU GEMM per dtype (bf16 -> f32, i8 -> i32, f32) at n = 2048 and 4096 through the
// plugin next to direct oneDNN matmul and OpenBLAS calls in this process, interleaved round by round
// (one sample of each per round), medians (docs/results/inference-cpu.md). --contention: a oneDNN
// GEMM (OpenMP pool) alternating with a TBB op vs each alone, so the pools' hand-over is visible.
// Not a test: it asserts nothing.
// Usage: cmeter_cpu_plugin_bench [reps] [--quick] [--stream-sweep] [--inference] [--gemm-dtypes [--cpu-time]]
//        [--contention]
#include <cblas.h>
#include <cmeter/plugin_client.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "openblas_select.hpp"

#if CMETER_CPU_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;

using cmeter::client::Params;

cmeter::client::Plugin* plugin = nullptr;  // the SDK's client (cmeter/plugin_client.hpp)
const CMTR_Api* api = nullptr;
CMTR_Device* device = nullptr;
CMTR_Stream* stream = nullptr;

void die(const char* what, CMTR_Error* e) {
  if (e == nullptr) return;
  std::fprintf(stderr, "%s: %s\n", what, plugin->take(e).describe().c_str());
  std::exit(1);
}

CMTR_Buffer* make_buffer(uint64_t size_bytes, uint8_t fill_byte) {
  CMTR_Buffer_Create_Args a{};
  a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
  a.device = device;
  a.size_bytes = size_bytes;
  die("buffer_create", api->buffer_create(&a));
  CMTR_Buffer_Host_Pointer_Args hp{};
  hp.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
  hp.buffer = a.buffer;
  die("buffer_host_pointer", api->buffer_host_pointer(&hp));
  std::memset(hp.host_pointer, fill_byte, size_bytes);  // small finite values for every dtype
  return a.buffer;
}

void free_buffer(CMTR_Buffer* b) {
  CMTR_Buffer_Destroy_Args a{};
  a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
  a.buffer = b;
  die("buffer_destroy", api->buffer_destroy(&a));
}

struct Op {
  CMTR_Op* handle = nullptr;
  std::string impl;
  Op(const std::string& name, const Params& p) {
    CMTR_Op_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Create_Args, op);
    a.device = device;
    a.name = {name.data(), name.size()};
    a.params = p.kv.data();
    a.num_params = p.kv.size();
    die(name.c_str(), api->op_create(&a));
    handle = a.op;
    CMTR_Op_Attributes_Args at{};
    at.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Attributes_Args, num_attributes);
    at.op = handle;
    die("op_attributes", api->op_attributes(&at));
    for (size_t i = 0; i < at.num_attributes; ++i)
      if (std::string(at.attributes[i].key.data, at.attributes[i].key.size) == "impl")
        impl.assign(at.attributes[i].string_value.data, at.attributes[i].string_value.size);
  }
  ~Op() {
    CMTR_Op_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Destroy_Args, op);
    a.op = handle;
    api->op_destroy(&a);
  }
  void enqueue(std::vector<CMTR_Buffer*>& buffers) const {
    CMTR_Op_Enqueue_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
    a.op = handle;
    a.stream = stream;
    a.buffers = buffers.data();
    a.num_buffers = buffers.size();
    die("op_enqueue", api->op_enqueue(&a));
  }
};

int g_reps = 7;

// Median seconds per call: a warmup, then `g_reps` samples of >= 0.1 s of back-to-back calls.
struct Timing {
  double median_s, min_s, max_s;
};
Timing time_calls(const std::function<void()>& call) {
  for (int i = 0; i < 2; ++i) call();
  int batch = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (int i = 0; i < batch; ++i) call();
    if (std::chrono::duration<double>(Clock::now() - t0).count() >= 0.1) break;
    batch *= 2;
  }
  std::vector<double> samples;
  for (int r = 0; r < g_reps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < batch; ++i) call();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / batch);
  }
  std::sort(samples.begin(), samples.end());
  const size_t m = samples.size() / 2;
  const double median = samples.size() % 2 ? samples[m] : 0.5 * (samples[m - 1] + samples[m]);
  return {median, samples.front(), samples.back()};
}

void report(const char* what, double per_call_work, const Timing& t, const char* unit, double scale,
            double reference = 0, const char* reference_name = "") {
  std::printf("  %-42s %9.1f %s  (min..max %.1f..%.1f)", what, per_call_work / t.median_s / scale, unit,
              per_call_work / t.max_s / scale, per_call_work / t.min_s / scale);
  if (reference > 0) std::printf("  = %.2fx %s", per_call_work / t.median_s / reference, reference_name);
  std::printf("\n");
}

// A buffer of i32 values (positions, slots, ids, lengths).
CMTR_Buffer* make_i32_buffer(const std::vector<int32_t>& v) {
  CMTR_Buffer* b = make_buffer(v.size() * 4, 0);
  CMTR_Buffer_Host_Pointer_Args hp{};
  hp.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
  hp.buffer = b;
  die("buffer_host_pointer", api->buffer_host_pointer(&hp));
  std::memcpy(hp.host_pointer, v.data(), v.size() * 4);
  return b;
}

// One line per inference op and dtype: GB/s of the catalogue's byte count (docs/abi-keys.md).
void bench_inference() {
  std::printf("\ninference ops (GB/s as the catalogue counts bytes; shapes of a Llama-8B-like layer):\n");
  for (const char* dtype : {"f32", "bf16"}) {
    const double size = std::string(dtype) == "f32" ? 4 : 2;
    auto run = [&](const char* label, const char* op_name, Params p, std::vector<CMTR_Buffer*> bufs,
                   double bytes) {
      p.s("dtype", dtype);
      Op op(op_name, p);
      const Timing t = time_calls([&] { op.enqueue(bufs); });
      const std::string what = std::string(label) + " " + dtype;
      report(what.c_str(), bytes, t, "GB/s", 1e9);
      std::printf("      impl: %s\n", op.impl.c_str());
      for (auto* b : bufs) free_buffer(b);
    };
    auto buf = [&](double elems) { return make_buffer(static_cast<uint64_t>(elems * size), 0x3f); };
    {
      const int64_t rows = 512, dim = 4096;
      Params p;
      p.i("rows", rows).i("dim", dim);
      run("rmsnorm 512x4096", "rmsnorm.v1", std::move(p), {buf(rows * dim), buf(dim), buf(rows * dim)},
          (2.0 * rows * dim + dim) * size);
    }
    {
      const int64_t rows = 512, heads = 32, hd = 128;
      std::vector<int32_t> pos(rows);
      for (int64_t r = 0; r < rows; ++r) pos[static_cast<size_t>(r)] = static_cast<int32_t>(r);
      Params p;
      p.i("rows", rows).i("heads", heads).i("head_dim", hd);
      run("rope 512x32x128", "rope.v1", std::move(p), {buf(rows * heads * hd), make_i32_buffer(pos)},
          2.0 * rows * heads * hd * size + 4.0 * rows);
    }
    {
      const int64_t rows = 512, cols = 4096;
      Params p;
      p.i("rows", rows).i("cols", cols);
      run("softmax 512x4096", "softmax.v1", std::move(p), {buf(rows * cols), buf(rows * cols)},
          2.0 * rows * cols * size);
    }
    {
      const int64_t rows = 512, dim = 14336;
      Params p;
      p.i("rows", rows).i("dim", dim);
      run("swiglu 512x14336", "swiglu.v1", std::move(p), {buf(2.0 * rows * dim), buf(rows * dim)},
          3.0 * rows * dim * size);
    }
    {
      const int64_t rows = 512, kvh = 8, hd = 128, slots = 1, cap = 4096;
      std::vector<int32_t> slot(rows, 0), pos(rows);
      for (int64_t r = 0; r < rows; ++r) pos[static_cast<size_t>(r)] = static_cast<int32_t>(r);
      Params p;
      p.i("rows", rows).i("kv_heads", kvh).i("head_dim", hd).i("slots", slots).i("capacity", cap);
      run("kv_append 512x8x128", "kv_append.v1", std::move(p),
          {buf(rows * kvh * hd), buf(slots * kvh * cap * hd), make_i32_buffer(slot), make_i32_buffer(pos)},
          2.0 * rows * kvh * hd * size + 8.0 * rows);
    }
    {
      const int64_t rows = 512, vocab = 8192, dim = 4096;
      std::vector<int32_t> ids(rows);
      for (int64_t r = 0; r < rows; ++r)
        ids[static_cast<size_t>(r)] = static_cast<int32_t>((r * 2654435761u) % vocab);
      Params p;
      p.i("rows", rows).i("vocab", vocab).i("dim", dim);
      run("embedding 512x4096", "embedding.v1", std::move(p),
          {buf(vocab * dim), make_i32_buffer(ids), buf(rows * dim)}, 2.0 * rows * dim * size + 4.0 * rows);
    }
    {
      const int64_t rows = 64, cols = 128256;
      Params p;
      p.i("rows", rows).i("cols", cols);
      run("argmax 64x128256", "argmax.v1", std::move(p), {buf(rows * cols), make_buffer(rows * 4, 0)},
          1.0 * rows * cols * size + 4.0 * rows);
    }
    {
      const int64_t n = int64_t{1} << 24;
      Params p;
      p.s("kind", "add").i("n", n);
      run("eltwise add 2^24", "eltwise.v1", std::move(p), {buf(n), buf(n), buf(n)}, 3.0 * n * size);
    }
    {
      // Decode: 16 sequences at position 2047 each (GQA 32/8 heads, head_dim 128).
      const int64_t rows = 16, heads = 32, kvh = 8, hd = 128, slots = 16, cap = 2048;
      std::vector<int32_t> slot(rows), pos(rows, static_cast<int32_t>(cap - 1));
      for (int64_t r = 0; r < rows; ++r) slot[static_cast<size_t>(r)] = static_cast<int32_t>(r);
      Params p;
      p.i("rows", rows)
          .i("heads", heads)
          .i("kv_heads", kvh)
          .i("head_dim", hd)
          .i("slots", slots)
          .i("capacity", cap);
      const double cache = static_cast<double>(slots * kvh * cap * hd);
      run("attention decode 16 seq x 2048", "attention.v1", std::move(p),
          {buf(rows * heads * hd), buf(cache), buf(cache), make_i32_buffer(slot), make_i32_buffer(pos),
           buf(rows * heads * hd)},
          2.0 * rows * heads * hd * size + 2.0 * kvh * hd * size * static_cast<double>(rows * cap));
    }
  }
}

double attribute_double(const std::vector<CMTR_KeyValue>& kv, const char* key) {
  for (const auto& e : kv)
    if (std::string(e.key.data, e.key.size) == key)
      return e.type == CMTR_VALUE_DOUBLE ? e.double_value : static_cast<double>(e.int_value);
  return 0;
}

double gemm_plugin(int64_t n, const char* dtype, const char* dtype_c, double reference,
                   const char* reference_name) {
  const size_t in_bytes = std::string(dtype) == "f32" ? 4 : 2,
               out_bytes = std::string(dtype_c) == "f32" ? 4 : 2;
  const uint64_t nn = static_cast<uint64_t>(n * n);
  std::vector<CMTR_Buffer*> bufs = {make_buffer(nn * in_bytes, 0x3c), make_buffer(nn * in_bytes, 0x3c),
                                    make_buffer(nn * out_bytes, 0)};
  Params p;
  p.i("m", n).i("n", n).i("k", n).s("dtype_a", dtype).s("dtype_c", dtype_c);
  Op op("gemm.v1", p);
  const Timing t = time_calls([&] { op.enqueue(bufs); });
  const std::string label =
      std::string("gemm ") + dtype + "->" + dtype_c + " n=" + std::to_string(n) + " (plugin)";
  report(label.c_str(), 2.0 * n * n * n, t, "GFLOP/s", 1e9, reference, reference_name);
  std::printf("      impl: %s\n", op.impl.c_str());
  for (auto* b : bufs) free_buffer(b);
  return 2.0 * n * n * n / t.median_s;
}

double gemm_direct(int64_t n) {
  const size_t nn = static_cast<size_t>(n * n);
  std::vector<float> a(nn, 0.01f), b(nn, 0.02f), c(nn, 0.0f);
  const auto nb = static_cast<blasint>(n);
  const Timing t = time_calls([&] {
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nb, nb, nb, 1.0f, a.data(), nb, b.data(), nb, 0.0f,
                c.data(), nb);
  });
  const std::string label = "sgemm n=" + std::to_string(n) + " (direct cblas_sgemm)";
  report(label.c_str(), 2.0 * n * n * n, t, "GFLOP/s", 1e9);
  return 2.0 * n * n * n / t.median_s;
}

// --cpu-time: samples of --gemm-dtypes timed by the process's CPU time instead of the wall clock.
// Run pinned to one core (taskset -c 0: the plugin, oneDNN and OpenBLAS then use one thread), CPU
// time is the work itself, not the time other processes took the core: figures that hold on a
// machine other builds share.
bool g_cpu_time = false;

double now_s() {
  if (!g_cpu_time) return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Calls per sample so one sample lasts >= 0.1 s (after two warm-up calls).
int calibrate(const std::function<void()>& call) {
  for (int i = 0; i < 2; ++i) call();
  int batch = 1;
  for (;;) {
    const double t0 = now_s();
    for (int i = 0; i < batch; ++i) call();
    if (now_s() - t0 >= 0.1) return batch;
    batch *= 2;
  }
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

struct Contender {
  std::string label;
  std::function<void()> call;
  int batch = 1;
  std::vector<double> samples_s;  // seconds per call
};

// One sample of each contender per round, `g_reps` rounds: load changes hit all of them alike.
void interleave(std::vector<Contender>& cs) {
  for (auto& c : cs) c.batch = calibrate(c.call);
  for (int r = 0; r < g_reps; ++r)
    for (auto& c : cs) {
      const double t0 = now_s();
      for (int i = 0; i < c.batch; ++i) c.call();
      c.samples_s.push_back((now_s() - t0) / c.batch);
    }
}

#if CMETER_CPU_WITH_ONEDNN
// A direct oneDNN matmul of row-major n x n operands (what the plugin maps gemm.v1 onto).
struct DirectMatmul {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul prim;
  dnnl::memory a, b, c;
  std::string impl;
  std::vector<char> ha, hb, hc;
  DirectMatmul(int64_t n, dnnl::memory::data_type src, dnnl::memory::data_type wei,
               dnnl::memory::data_type dst, size_t in_bytes, size_t out_bytes, uint8_t fill) {
    using dnnl::memory;
    const memory::desc sd({n, n}, src, memory::dims{n, 1}), wd({n, n}, wei, memory::dims{n, 1}),
        dd({n, n}, dst, memory::dims{n, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(sd, wd, dd), eng);
    impl = pd.impl_info_str();
    prim = dnnl::matmul(pd);
    const auto nn = static_cast<size_t>(n * n);
    ha.assign(nn * in_bytes, static_cast<char>(fill));
    hb.assign(nn * in_bytes, static_cast<char>(fill));
    hc.assign(nn * out_bytes, 0);
    a = memory(sd, eng, ha.data());
    b = memory(wd, eng, hb.data());
    c = memory(dd, eng, hc.data());
  }
  void run() {
    prim.execute(strm, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    strm.wait();
  }
};
#endif

struct PluginGemm {
  std::vector<CMTR_Buffer*> bufs;
  std::unique_ptr<Op> op;
  PluginGemm(int64_t n, const char* dtype, const char* dtype_c, size_t in_bytes, size_t out_bytes,
             uint8_t fill) {
    const auto nn = static_cast<uint64_t>(n * n);
    bufs = {make_buffer(nn * in_bytes, fill), make_buffer(nn * in_bytes, fill),
            make_buffer(nn * out_bytes, 0)};
    Params p;
    p.i("m", n).i("n", n).i("k", n).s("dtype_a", dtype).s("dtype_c", dtype_c);
    op = std::make_unique<Op>("gemm.v1", p);
  }
  ~PluginGemm() {
    op.reset();
    for (auto* b : bufs) free_buffer(b);
  }
  void run() { op->enqueue(bufs); }
};

// CPU GEMM per dtype at n = 2048 and 4096: plugin vs direct oneDNN vs direct OpenBLAS, interleaved.
void gemm_dtypes(bool quick) {
  std::printf(
      "\nCPU GEMM per dtype (n x n x n, %d interleaved rounds, one sample of >= 0.1 s per contender "
      "per round, medians; timed by %s):\n",
      g_reps, g_cpu_time ? "process CPU time" : "the wall clock");
  for (int64_t n : {int64_t{2048}, int64_t{4096}}) {
    if (quick && n > 2048) break;
    const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    std::vector<std::unique_ptr<PluginGemm>> plugin_ops;
    std::vector<Contender> cs;
    struct Row {
      const char* dtype;
      std::vector<size_t> plugin, onednn, openblas;  // indices into cs
    };
    std::vector<Row> rows = {{"bf16 -> f32", {}, {}, {}}, {"i8 -> i32", {}, {}, {}}, {"f32", {}, {}, {}}};
    auto add_plugin = [&](Row& row, const char* dtype, const char* dtype_c, size_t in_b, size_t out_b,
                          uint8_t fill) {
      plugin_ops.push_back(std::make_unique<PluginGemm>(n, dtype, dtype_c, in_b, out_b, fill));
      PluginGemm* g = plugin_ops.back().get();
      row.plugin.push_back(cs.size());
      cs.push_back({"plugin gemm.v1 [" + g->op->impl + "]", [g] { g->run(); }, 1, {}});
    };
    add_plugin(rows[0], "bf16", "f32", 2, 4, 0x3c);
    add_plugin(rows[1], "i8", "i32", 1, 4, 0x3c);
    add_plugin(rows[2], "f32", "f32", 4, 4, 0x3c);
#if CMETER_CPU_WITH_ONEDNN
    using dt = dnnl::memory::data_type;
    std::vector<std::unique_ptr<DirectMatmul>> direct;
    auto add_direct = [&](Row& row, const char* what, dt s, dt w, dt d, size_t in_b, size_t out_b) {
      direct.push_back(std::make_unique<DirectMatmul>(n, s, w, d, in_b, out_b, 0x3c));
      DirectMatmul* m = direct.back().get();
      row.onednn.push_back(cs.size());
      cs.push_back(
          {std::string("direct oneDNN matmul ") + what + " [" + m->impl + "]", [m] { m->run(); }, 1, {}});
    };
    add_direct(rows[0], "bf16xbf16->f32", dt::bf16, dt::bf16, dt::f32, 2, 4);
    add_direct(rows[1], "s8xs8->s32", dt::s8, dt::s8, dt::s32, 1, 4);
    add_direct(rows[1], "u8xs8->s32", dt::u8, dt::s8, dt::s32, 1, 4);
    add_direct(rows[2], "f32", dt::f32, dt::f32, dt::f32, 4, 4);
#endif
    const auto nn = static_cast<size_t>(n * n);
    std::vector<float> fa(nn, 0.01f), fb(nn, 0.02f), fc(nn, 0.0f);
    const auto nb = static_cast<blasint>(n);
    auto sgemm = [&] {
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nb, nb, nb, 1.0f, fa.data(), nb, fb.data(), nb,
                  0.0f, fc.data(), nb);
    };
    for (size_t r : {size_t{0}, size_t{2}}) {
      rows[r].openblas.push_back(cs.size());
      cs.push_back({r == 0
                        ? "direct OpenBLAS sgemm on f32 data (bound of convert-to-f32; no bf16 GEMM in this "
                          "OpenBLAS)"
                        : "direct OpenBLAS sgemm",
                    sgemm,
                    1,
                    {}});
    }
    interleave(cs);
    std::printf(" n=%lld\n", static_cast<long long>(n));
    for (const Row& row : rows) {
      std::printf("  %s\n", row.dtype);
      double best_direct = 0, plugin_rate = 0;
      // role: 0 the plugin, 1 a direct call of this dtype, 2 a reference shown only (sgemm for bf16).
      auto show = [&](size_t i, int role) {
        const Contender& c = cs[i];
        const double rate = flop / median_of(c.samples_s);
        const auto [lo, hi] = std::minmax_element(c.samples_s.begin(), c.samples_s.end());
        std::printf("    %9.1f G/s (min..max %.1f..%.1f)  %s\n", rate / 1e9, flop / *hi / 1e9,
                    flop / *lo / 1e9, c.label.c_str());
        if (role == 0) plugin_rate = rate;
        if (role == 1) best_direct = std::max(best_direct, rate);
      };
      for (size_t i : row.plugin) show(i, 0);
      for (size_t i : row.onednn) show(i, 1);
      for (size_t i : row.openblas) show(i, std::string(row.dtype) == "f32" ? 1 : 2);
      if (best_direct > 0)
        std::printf("    plugin / faster direct call of this dtype = %.3f\n", plugin_rate / best_direct);
    }
  }
}

// A oneDNN GEMM (OpenMP threads) and a TBB op (stream triad) alone and alternating: if the pools got
// in each other's way, the alternation would cost more than the sum of the parts.
void contention() {
  const int64_t n = 1024, stream_n = int64_t{1} << 22;
  PluginGemm g(n, "bf16", "f32", 2, 4, 0x3c);
  Params p;
  p.s("kind", "triad").s("dtype", "f64").i("n", stream_n);
  Op triad("stream.v1", p);
  const uint64_t bytes = static_cast<uint64_t>(stream_n) * 8;
  std::vector<CMTR_Buffer*> sb = {make_buffer(bytes, 0x3f), make_buffer(bytes, 0x3f),
                                  make_buffer(bytes, 0x3f)};
  std::vector<Contender> cs = {{"bf16 gemm n=1024 alone (oneDNN, OpenMP)", [&] { g.run(); }, 1, {}},
                               {"stream triad 2^22 f64 alone (TBB)", [&] { triad.enqueue(sb); }, 1, {}},
                               {"gemm then triad, alternating",
                                [&] {
                                  g.run();
                                  triad.enqueue(sb);
                                },
                                1,
                                {}}};
  interleave(cs);
  std::printf("\nOpenMP (oneDNN) vs TBB hand-over, %d interleaved rounds, median time per call:\n", g_reps);
  double sum = 0;
  for (size_t i = 0; i < cs.size(); ++i) {
    const double t = median_of(cs[i].samples_s);
    if (i < 2) sum += t;
    std::printf("  %-44s %8.3f ms\n", cs[i].label.c_str(), t * 1e3);
  }
  std::printf("  alternating / (gemm alone + triad alone) = %.3f\n", median_of(cs[2].samples_s) / sum);
  for (auto* b : sb) free_buffer(b);
}
}  // namespace

int main(int argc, char** argv) {
  bool quick = false, sweep = false, inference_only = false, dtypes = false, contend = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick")
      quick = true;
    else if (std::string(argv[i]) == "--stream-sweep")
      sweep = true;
    else if (std::string(argv[i]) == "--inference")
      inference_only = true;
    else if (std::string(argv[i]) == "--gemm-dtypes")
      dtypes = true;
    else if (std::string(argv[i]) == "--contention")
      contend = true;
    else if (std::string(argv[i]) == "--cpu-time")
      g_cpu_time = true;
    else
      g_reps = std::max(1, std::atoi(argv[i]));
  }
  cmeter::cpu::openblas_restore_environment();  // let the plugin see the environment as it was
  std::printf("cmeter_cpu_plugin_bench: %d samples per figure (median shown)\n", g_reps);
  static cmeter::client::Plugin loaded(CMETER_CPU_PLUGIN_PATH, /*initialize=*/false);
  plugin = &loaded;
  api = loaded.api();
  if (api == nullptr) {
    std::fprintf(stderr, "cannot load %s: %s\n", CMETER_CPU_PLUGIN_PATH, loaded.error.c_str());
    return 1;
  }
  const auto t_init = Clock::now();
  if (cmeter::client::Outcome o = loaded.init(); !o.ok()) {
    std::fprintf(stderr, "plugin_initialize/plugin_devices: %s\n", o.describe().c_str());
    return 1;
  }
  const double init_s = std::chrono::duration<double>(Clock::now() - t_init).count();
  device = loaded.devices[0];
  CMTR_Device_Attributes_Args da{};
  da.struct_size = CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes);
  da.device = device;
  die("device_attributes", api->device_attributes(&da));
  const std::vector<CMTR_KeyValue> attrs(da.attributes, da.attributes + da.num_attributes);
  CMTR_Stream_Create_Args sc{};
  sc.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream);
  sc.device = device;
  die("stream_create", api->stream_create(&sc));
  stream = sc.stream;

  std::printf("plugin_initialize: %.3f s\n", init_s);
  for (const auto& e : attrs) {
    const std::string key(e.key.data, e.key.size);
    if (e.type == CMTR_VALUE_STRING)
      std::printf("  %-18s %.*s\n", key.c_str(), static_cast<int>(e.string_value.size), e.string_value.data);
    else if (e.type == CMTR_VALUE_DOUBLE)
      std::printf("  %-18s %.6g\n", key.c_str(), e.double_value);
    else
      std::printf("  %-18s %lld\n", key.c_str(), static_cast<long long>(e.int_value));
  }
  const double peak_f32 = attribute_double(attrs, "peak.flops.f32"),
               peak_f64 = attribute_double(attrs, "peak.flops.f64");
  std::printf("direct OpenBLAS in this program: %s\n", cmeter::cpu::openblas_description().c_str());

  if (dtypes || contend) {
    if (dtypes) gemm_dtypes(quick);
    if (contend) contention();
    return 0;
  }

  if (sweep) {
    std::printf("\nstream.v1 triad f64, regular vs non-temporal stores by array size:\n");
    for (int log2n = 14; log2n <= 26; log2n += 1) {
      const int64_t n = int64_t{1} << log2n;
      const uint64_t bytes = static_cast<uint64_t>(n) * 8;
      std::vector<CMTR_Buffer*> bufs = {make_buffer(bytes, 0x3f), make_buffer(bytes, 0x3f),
                                        make_buffer(bytes, 0x3f)};
      std::printf("  n=2^%d (%.1f MiB total):", log2n, 3.0 * static_cast<double>(bytes) / (1 << 20));
      for (bool nt : {false, true}) {
        Params p;
        p.s("kind", "triad").s("dtype", "f64").i("n", n).b("hint.nontemporal", nt);
        Op op("stream.v1", p);
        const Timing t = time_calls([&] { op.enqueue(bufs); });
        std::printf("  %s %.1f GB/s", nt ? "nt" : "regular",
                    3.0 * static_cast<double>(bytes) / t.median_s / 1e9);
      }
      std::printf("\n");
      for (auto* b : bufs) free_buffer(b);
    }
    return 0;
  }

  if (inference_only) {
    bench_inference();
    return 0;
  }

  std::printf("\nfma_peak.v1 (items 65536, iters 2048):\n");
  for (const char* dtype : {"f32", "f64"})
    for (int lanes : {8, 16, 32}) {
      const int64_t items = 65536, iters = 2048;
      Params p;
      p.s("dtype", dtype).i("items", items).i("iters", iters).i("lanes", lanes);
      Op op("fma_peak.v1", p);
      std::vector<CMTR_Buffer*> bufs = {make_buffer(static_cast<uint64_t>(items) * 4, 0)};
      const Timing t = time_calls([&] { op.enqueue(bufs); });
      const std::string label = std::string("fma_peak ") + dtype + " lanes=" + std::to_string(lanes);
      report(label.c_str(), 2.0 * items * iters * lanes, t, "GFLOP/s", 1e9,
             std::string(dtype) == "f32" ? peak_f32 : peak_f64, "computed peak");
      if (lanes == 8) std::printf("      impl: %s\n", op.impl.c_str());
      free_buffer(bufs[0]);
    }

  std::printf("\ngemm.v1 vs direct OpenBLAS:\n");
  for (int64_t n : {int64_t{2048}, int64_t{4096}}) {
    if (quick && n > 2048) break;
    const double direct = gemm_direct(n);
    const double f32 = gemm_plugin(n, "f32", "f32", direct, "direct");
    if (n == 2048) {
      gemm_plugin(n, "f16", "f32", f32, "plugin f32");
      gemm_plugin(n, "f16", "f16", f32, "plugin f32");
      gemm_plugin(n, "bf16", "f32", f32, "plugin f32");
      gemm_plugin(n, "bf16", "bf16", f32, "plugin f32");
    }
  }

  std::printf("\nstream.v1 (f64, 3 arrays of n elements):\n");
  const int64_t stream_n = quick ? (int64_t{1} << 24) : (int64_t{1} << 26);
  for (const char* kind : {"triad", "copy"})
    for (bool nt : {true, false}) {
      Params p;
      p.s("kind", kind).s("dtype", "f64").i("n", stream_n).b("hint.nontemporal", nt);
      Op op("stream.v1", p);
      const uint64_t bytes = static_cast<uint64_t>(stream_n) * 8;
      std::vector<CMTR_Buffer*> bufs = {make_buffer(bytes, 0x3f), make_buffer(bytes, 0x3f),
                                        make_buffer(bytes, 0x3f)};
      const Timing t = time_calls([&] { op.enqueue(bufs); });
      const double counted = (std::string(kind) == "triad" ? 3.0 : 2.0) * static_cast<double>(bytes);
      const std::string label = std::string(kind) + " n=2^" + std::to_string(quick ? 24 : 26) +
                                (nt ? " non-temporal" : " regular stores");
      report(label.c_str(), counted, t, "GB/s", 1e9);
      for (auto* b : bufs) free_buffer(b);
    }

  bench_inference();

  std::printf("\nnoop.v1:\n");
  {
    Op op("noop.v1", Params());
    std::vector<CMTR_Buffer*> none;
    const Timing t = time_calls([&] { op.enqueue(none); });
    std::printf("  %-42s %9.1f ns per enqueue\n", "noop back-to-back", t.median_s * 1e9);
  }
  return 0;
}
