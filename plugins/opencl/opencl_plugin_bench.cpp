// plugins/opencl/opencl_plugin_bench.cpp - cmeter_opencl_plugin_bench: the OpenCL plugin's figures,
// and direct CLBlast SGEMM on the same device for comparison.
//
// Why this file exists: so anyone can re-check, in a minute, what the OpenCL plugin reaches on a
// device (fma_peak, STREAM, copy, GEMM, launch latency) and how its GEMM compares with calling
// CLBlast directly, and so the plugin's tuning knobs (hint.* params) can be tried without a profile.
// Each figure is the median of `reps` samples (default 7; min and max shown too); a sample is enough
// back-to-back calls to last >= 0.1 s, timed with the plugin's device events (round-trip latency:
// host clock around one enqueue + synchronize). Not a test: it asserts nothing.
// Usage: cmeter_opencl_plugin_bench [--device N] [--reps R] MODE [ARGS] [key=value ...]
//   fma DTYPE | stream KIND MIB | copy MIB | gemm N DTYPE | clblast N | latency | all
//   key=value pairs are added to the op's params (e.g. hint.opencl.gemm_impl=clblast, lanes=16).
#include <clblast.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>

#include <cmeter/plugin_client.hpp>

namespace {

using cmeter::client::Outcome;
using cmeter::client::Params;
using cmeter::client::Plugin;
using Clock = std::chrono::steady_clock;

Plugin* plugin = nullptr;
CMTR_Device* device = nullptr;
CMTR_Stream* stream = nullptr;
int reps = 7;
std::vector<std::pair<std::string, std::string>> extra;  // key=value from the command line

void check(const char* what, const Outcome& o) {
  if (o.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, o.message.c_str());
  std::exit(1);
}

void add_extra(Params& p) {
  for (const auto& [k, v] : extra) {
    char* end = nullptr;
    const long long i = std::strtoll(v.c_str(), &end, 10);
    if (end != v.c_str() && *end == '\0')
      p.i(k, i);
    else
      p.s(k, v);
  }
}

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  return s;
}

// Seconds per call: median of `reps` device-timed batches of >= 0.1 s.
Stats time_calls(const std::function<Outcome()>& call) {
  check("warmup", call());
  check("sync", plugin->sync(stream));
  auto t0 = Clock::now();
  check("call", call());
  check("sync", plugin->sync(stream));
  const double one = std::chrono::duration<double>(Clock::now() - t0).count();
  const int batch = std::max(1, static_cast<int>(0.1 / std::max(one, 1e-7)));
  std::vector<double> per_call;
  for (int r = 0; r < reps; ++r) {
    CMTR_Event *start = nullptr, *stop = nullptr;
    check("record", plugin->record(stream, &start));
    for (int i = 0; i < batch; ++i) check("call", call());
    check("record", plugin->record(stream, &stop));
    check("sync", plugin->sync(stream));
    double s = 0;
    check("elapsed", plugin->elapsed(start, stop, &s));
    plugin->destroy(start);
    plugin->destroy(stop);
    per_call.push_back(s / batch);
  }
  return stats(per_call);
}

CMTR_Buffer* buffer(uint64_t size_bytes) {
  CMTR_Buffer* b = nullptr;
  check("buffer_create", plugin->buffer(device, size_bytes, &b));
  return b;
}

CMTR_Op* create(const std::string& name, Params& p) {
  add_extra(p);
  CMTR_Op* op = nullptr;
  auto t0 = Clock::now();
  check("op_create", plugin->create(device, name, p, &op));
  std::printf("  op_create %.3f s; impl: %s\n", std::chrono::duration<double>(Clock::now() - t0).count(),
              plugin->op_attribute(op, "impl").c_str());
  return op;
}

void report(const char* what, const Stats& per_call_s, double work, const char* unit, double scale) {
  std::printf("%-34s median %8.2f %s  (min %.2f, max %.2f over %d samples)\n", what,
              work / per_call_s.median / scale, unit, work / per_call_s.max / scale,
              work / per_call_s.min / scale, reps);
}

void bench_fma(const std::string& dtype) {
  Params p;
  const int64_t items = 65536, iters = 2048, lanes = 8;
  p.s("dtype", dtype).i("items", items).i("iters", iters).i("lanes", lanes);
  CMTR_Op* op = create("fma_peak.v1", p);
  CMTR_Buffer* out = buffer(items * 4);
  Stats s = time_calls([&] { return plugin->enqueue(op, stream, {out}); });
  report(("fma_peak " + dtype).c_str(), s, 2.0 * items * iters * lanes, "GFLOP/s", 1e9);
  plugin->destroy(op);
  plugin->destroy(out);
}

void bench_stream(const std::string& kind, int64_t mib) {
  const int64_t n = mib * (1 << 20) / 4;
  Params p;
  p.s("kind", kind).s("dtype", "f32").i("n", n);
  CMTR_Op* op = create("stream.v1", p);
  CMTR_Buffer *a = buffer(n * 4), *b = buffer(n * 4), *c = buffer(n * 4);
  Stats s = time_calls([&] { return plugin->enqueue(op, stream, {a, b, c}); });
  const double bytes = (kind == "copy" || kind == "scale" ? 2.0 : 3.0) * n * 4;
  report(("stream " + kind + " f32 " + std::to_string(mib) + " MiB").c_str(), s, bytes, "GB/s", 1e9);
  plugin->destroy(op);
  for (auto* x : {a, b, c}) plugin->destroy(x);
}

void bench_copy(int64_t mib) {
  const int64_t bytes = mib << 20;
  Params p;
  p.i("bytes", bytes);
  CMTR_Op* op = create("copy.v1", p);
  CMTR_Buffer *a = buffer(bytes), *b = buffer(bytes);
  Stats s = time_calls([&] { return plugin->enqueue(op, stream, {a, b}); });
  report(("copy " + std::to_string(mib) + " MiB").c_str(), s, 2.0 * bytes, "GB/s", 1e9);
  plugin->destroy(op);
  plugin->destroy(a);
  plugin->destroy(b);
}

size_t elem_size(const std::string& dtype) {
  return dtype == "f64" ? 8 : dtype == "f32" ? 4 : 2;
}

void bench_gemm(int64_t n, const std::string& dtype) {
  Params p;
  p.i("m", n).i("n", n).i("k", n).s("dtype_a", dtype);
  CMTR_Op* op = create("gemm.v1", p);
  const uint64_t bytes = static_cast<uint64_t>(n * n) * elem_size(dtype);
  CMTR_Buffer *a = buffer(bytes), *b = buffer(bytes), *c = buffer(bytes);
  Stats s = time_calls([&] { return plugin->enqueue(op, stream, {a, b, c}); });
  report(("gemm " + dtype + " n=" + std::to_string(n) + " (plugin)").c_str(), s, 2.0 * n * n * n, "GFLOP/s",
         1e9);
  plugin->destroy(op);
  for (auto* x : {a, b, c}) plugin->destroy(x);
}

// Direct CLBlast SGEMM on the first device of the first platform (PoCL here), event-timed.
void bench_clblast(int64_t n) {
  cl_platform_id platform = nullptr;
  cl_device_id dev = nullptr;
  if (clGetPlatformIDs(1, &platform, nullptr) != CL_SUCCESS ||
      clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &dev, nullptr) != CL_SUCCESS) {
    std::fprintf(stderr, "no OpenCL device\n");
    std::exit(1);
  }
  cl_int err = CL_SUCCESS;
  cl_context ctx = clCreateContext(nullptr, 1, &dev, nullptr, nullptr, &err);
  const cl_queue_properties props[] = {CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0};
  cl_command_queue q = clCreateCommandQueueWithProperties(ctx, dev, props, &err);
  const size_t bytes = static_cast<size_t>(n * n) * 4;
  std::vector<float> host(static_cast<size_t>(n * n), 0.5f);
  cl_mem a = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host.data(), &err);
  cl_mem b = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host.data(), &err);
  cl_mem c = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host.data(), &err);
  auto call = [&](cl_event* ev) {
    const auto st =
        clblast::Gemm<float>(clblast::Layout::kColMajor, clblast::Transpose::kNo, clblast::Transpose::kNo, n,
                             n, n, 1.0f, a, 0, n, b, 0, n, 0.0f, c, 0, n, &q, ev);
    if (st != clblast::StatusCode::kSuccess) {
      std::fprintf(stderr, "clblast::Gemm failed: %d\n", static_cast<int>(st));
      std::exit(1);
    }
  };
  auto t0 = Clock::now();
  call(nullptr);
  clFinish(q);
  std::printf("  first CLBlast call (compiles its kernels) %.3f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  std::vector<double> per_call;
  for (int r = 0; r < reps; ++r) {
    // Host clock around one call + clFinish (CLBlast may run several kernels; its event is the last).
    auto s0 = Clock::now();
    call(nullptr);
    clFinish(q);
    per_call.push_back(std::chrono::duration<double>(Clock::now() - s0).count());
  }
  report(("gemm f32 n=" + std::to_string(n) + " (direct CLBlast)").c_str(), stats(per_call), 2.0 * n * n * n,
         "GFLOP/s", 1e9);
  for (cl_mem m : {a, b, c}) clReleaseMemObject(m);
  clReleaseCommandQueue(q);
  clReleaseContext(ctx);
}

void bench_latency() {
  Params p;
  CMTR_Op* op = create("noop.v1", p);
  Stats s = time_calls([&] { return plugin->enqueue(op, stream, {}); });
  std::printf("%-34s median %8.2f us  (min %.2f, max %.2f)\n", "noop back to back (device timer)",
              s.median * 1e6, s.min * 1e6, s.max * 1e6);
  std::vector<double> trips;
  for (int r = 0; r < reps; ++r) {
    // One sample = median of 200 round trips (host clock around enqueue + synchronize).
    std::vector<double> one;
    for (int i = 0; i < 200; ++i) {
      auto t0 = Clock::now();
      check("enqueue", plugin->enqueue(op, stream, {}));
      check("sync", plugin->sync(stream));
      one.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    trips.push_back(stats(one).median);
  }
  Stats t = stats(trips);
  std::printf("%-34s median %8.2f us  (min %.2f, max %.2f)\n", "noop round trip (host clock)", t.median * 1e6,
              t.min * 1e6, t.max * 1e6);
  plugin->destroy(op);
}

}  // namespace

int main(int argc, char** argv) {
  int device_index = 0;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) {
      device_index = std::atoi(argv[++i]);
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a.find('=') != std::string::npos) {
      extra.emplace_back(a.substr(0, a.find('=')), a.substr(a.find('=') + 1));
    } else {
      args.push_back(a);
    }
  }
  const std::string mode = args.empty() ? "all" : args[0];
  auto arg = [&](size_t i, const char* fallback) {
    return args.size() > i ? args[i] : std::string(fallback);
  };
  if (mode == "clblast") {
    bench_clblast(std::atoll(arg(1, "1024").c_str()));
    return 0;
  }
  auto t0 = Clock::now();
  Plugin p(CMETER_OPENCL_PLUGIN_PATH);
  if (!p.ready()) {
    std::fprintf(stderr, "cannot load the plugin: %s\n", p.error.c_str());
    return 1;
  }
  plugin = &p;
  if (device_index < 0 || static_cast<size_t>(device_index) >= p.devices.size()) {
    std::fprintf(stderr, "no device opencl:%d (%zu devices)\n", device_index, p.devices.size());
    return 1;
  }
  device = p.devices[static_cast<size_t>(device_index)];
  check("stream_create", p.stream(device, &stream));
  const auto attrs = p.attributes(device);
  const auto* name = cmeter::client::find(attrs, "name");
  std::printf("opencl:%d %.*s; plugin init + first stream %.3f s; %d samples per figure\n", device_index,
              name != nullptr ? static_cast<int>(name->string_value.size) : 0,
              name != nullptr ? name->string_value.data : "",
              std::chrono::duration<double>(Clock::now() - t0).count(), reps);
  if (mode == "fma") bench_fma(arg(1, "f32"));
  if (mode == "stream") bench_stream(arg(1, "triad"), std::atoll(arg(2, "128").c_str()));
  if (mode == "copy") bench_copy(std::atoll(arg(1, "128").c_str()));
  if (mode == "gemm") bench_gemm(std::atoll(arg(1, "1024").c_str()), arg(2, "f32"));
  if (mode == "latency") bench_latency();
  if (mode == "all") {
    bench_fma("f32");
    bench_fma("f64");
    for (const char* k : {"copy", "scale", "add", "triad"}) bench_stream(k, 128);
    bench_copy(128);
    bench_gemm(1024, "f32");
    bench_gemm(1024, "f16");
    bench_gemm(1024, "f64");
    bench_latency();
    bench_clblast(1024);
  }
  p.destroy(stream);
  return 0;
}
