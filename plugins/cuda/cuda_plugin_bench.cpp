// plugins/cuda/cuda_plugin_bench.cpp - the CUDA plugin against direct library calls, timed the same way in
// one process: f16 GEMM (f32 compute) through gemm.v1 vs a direct cublasLtMatmul with the heuristic's
// first algorithm, and pinned host<->device copies through buffer_write/buffer_read vs plain
// cudaMemcpyAsync (plus pageable, for reference).
//
// Why this file exists: the targets are ratios (plugin >= 0.97x direct cuBLASLt, pinned >= 0.9x
// cudaMemcpyAsync alone). Both sides use CUDA events around a batch of calls long enough (>= 20 ms)
// to make launch cost irrelevant, both hold the stream with the same spin kernel while the batch is
// enqueued, GEMM rotates two input sets, and plugin and direct samples alternate so clock and thermal
// drift hit both alike. Prints medians and ratios; --json FILE writes them too. Exit 77: no device.
#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <cmeter/plugin_client.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels.hpp"

#ifndef CMETER_CUDA_PLUGIN_PATH
#error "CMETER_CUDA_PLUGIN_PATH must name the built plugin"
#endif

namespace {

cmeter::client::Plugin* g_plugin = nullptr;  // the SDK's client (cmeter/plugin_client.hpp)
const CMTR_Api* g_api = nullptr;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "cmeter_cuda_plugin_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(CMTR_Error* e, const char* what) {
  if (e == nullptr) return;
  die(std::string(what) + ": " + g_plugin->take(e).describe());
}

void cuda_check(cudaError_t st, const char* what) {
  if (st != cudaSuccess) die(std::string(what) + ": " + cudaGetErrorString(st));
}

void lt_check(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    die(std::string(what) + ": cublas status " + std::to_string(static_cast<int>(st)));
}

template <class Args>
Args args_of(size_t size) {
  Args a{};
  a.struct_size = size;
  return a;
}
#define ARGS(type, last) args_of<type>(CMTR_STRUCT_SIZE(type, last))

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- the plugin side ----

struct PluginSide {
  CMTR_Device* device = nullptr;
  CMTR_Stream* stream = nullptr;

  CMTR_Buffer* buffer(uint64_t bytes, int32_t kind = CMTR_MEMORY_DEVICE) {
    auto a = ARGS(CMTR_Buffer_Create_Args, buffer);
    a.device = device;
    a.size_bytes = bytes;
    a.memory_kind = kind;
    check(g_api->buffer_create(&a), "buffer_create");
    return a.buffer;
  }
  void* host_pointer(CMTR_Buffer* b) {
    auto a = ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    a.buffer = b;
    check(g_api->buffer_host_pointer(&a), "buffer_host_pointer");
    return a.host_pointer;
  }
  void write(CMTR_Buffer* b, const void* host, uint64_t bytes) {
    auto a = ARGS(CMTR_Buffer_Write_Args, size_bytes);
    a.stream = stream;
    a.buffer = b;
    a.host_pointer = host;
    a.size_bytes = bytes;
    check(g_api->buffer_write(&a), "buffer_write");
  }
  void read(CMTR_Buffer* b, void* host, uint64_t bytes) {
    auto a = ARGS(CMTR_Buffer_Read_Args, size_bytes);
    a.stream = stream;
    a.buffer = b;
    a.host_pointer = host;
    a.size_bytes = bytes;
    check(g_api->buffer_read(&a), "buffer_read");
  }
  void sync() {
    auto a = ARGS(CMTR_Stream_Synchronize_Args, stream);
    a.stream = stream;
    check(g_api->stream_synchronize(&a), "stream_synchronize");
  }
  CMTR_Event* record() {
    auto a = ARGS(CMTR_Event_Record_Args, event);
    a.stream = stream;
    check(g_api->event_record(&a), "event_record");
    return a.event;
  }
  // Exactly what the core's measurement loop does for one sample.
  double time_batch(int64_t batch, const std::function<void(int64_t)>& enqueue) {
    CMTR_Event* start = record();
    for (int64_t i = 0; i < batch; ++i) enqueue(i);
    CMTR_Event* stop = record();
    sync();
    auto a = ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
    a.start = start;
    a.stop = stop;
    check(g_api->event_elapsed(&a), "event_elapsed");
    for (CMTR_Event* e : {start, stop}) {
      auto d = ARGS(CMTR_Event_Destroy_Args, event);
      d.event = e;
      check(g_api->event_destroy(&d), "event_destroy");
    }
    return a.elapsed_s;
  }
};

// ---- the direct side: same stream hold, same events ----

struct DirectSide {
  cudaStream_t stream = nullptr;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  volatile uint32_t* flag_host = nullptr;
  volatile uint32_t* flag_device = nullptr;
  uint32_t generation = 0;
  bool hold = true;
  bool warmed = false;  // the first batch of each comparison runs without the hold (module loading)

  void init(int ordinal) {
    cuda_check(cudaSetDevice(ordinal), "cudaSetDevice");
    cuda_check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    cuda_check(cudaEventCreate(&e0), "cudaEventCreate");
    cuda_check(cudaEventCreate(&e1), "cudaEventCreate");
    void* host = nullptr;
    void* dev = nullptr;
    cuda_check(cudaHostAlloc(&host, 8, cudaHostAllocMapped | cudaHostAllocPortable), "cudaHostAlloc(flag)");
    std::memset(host, 0, 8);
    cuda_check(cudaHostGetDevicePointer(&dev, host, 0), "cudaHostGetDevicePointer");
    flag_host = static_cast<volatile uint32_t*>(host);
    flag_device = static_cast<volatile uint32_t*>(dev);
    cuda_check(cmeter::cuda::launch_spin(stream, flag_device, 0, 1'000'000'000), "spin warm-up");
    cuda_check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    const char* no_hold = std::getenv("CMETER_CUDA_NO_HOLD");
    hold = !(no_hold && *no_hold && std::strcmp(no_hold, "0") != 0);
  }
  double time_batch(int64_t batch, const std::function<void(int64_t)>& enqueue) {
    const uint32_t gen = generation + 1;
    const bool use_hold = hold && warmed;
    warmed = true;
    if (use_hold) {
      cuda_check(cmeter::cuda::launch_spin(stream, flag_device, gen, 1'000'000'000), "spin");
      generation = gen;
    }
    cuda_check(cudaEventRecord(e0, stream), "cudaEventRecord");
    for (int64_t i = 0; i < batch; ++i) enqueue(i);
    cuda_check(cudaEventRecord(e1, stream), "cudaEventRecord");
    if (use_hold) __atomic_store_n(const_cast<uint32_t*>(&flag_host[0]), gen, __ATOMIC_SEQ_CST);
    cuda_check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, e0, e1), "cudaEventElapsedTime");
    return ms * 1e-3;
  }
};

struct Row {
  std::string name, unit;
  double plugin = 0, direct = 0;  // medians of the rate
  int64_t batch = 0;
  int samples = 0;
  std::string note;
};

// Alternating samples; rates = work / (sample time / batch).
Row compare(const std::string& name, const std::string& unit, double work, int samples,
            const std::function<double(int64_t)>& plugin_batch,
            const std::function<double(int64_t)>& direct_batch) {
  // Calibrate: a batch lasts >= 20 ms.
  double t1 = plugin_batch(1);
  t1 = plugin_batch(1);
  (void)direct_batch(1);
  const int64_t batch = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(0.02 / std::max(t1, 1e-7))));
  std::vector<double> p, d;
  for (int i = 0; i < samples; ++i) {
    p.push_back(work * static_cast<double>(batch) / plugin_batch(batch));
    d.push_back(work * static_cast<double>(batch) / direct_batch(batch));
  }
  Row r{name, unit, median(p), median(d), batch, samples, ""};
  std::printf("%-34s plugin %10.4g %-8s direct %10.4g %-8s ratio %.4f  (batch %lld, %d samples each)\n",
              name.c_str(), r.plugin, unit.c_str(), r.direct, unit.c_str(), r.plugin / r.direct,
              static_cast<long long>(batch), samples);
  std::fflush(stdout);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 8192;
  uint64_t transfer_bytes = 256ull << 20;
  int samples = 20;
  std::string json_path;
  bool skip_gemm = false, skip_transfer = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--n")
      n = std::stoll(next());
    else if (a == "--transfer-bytes")
      transfer_bytes = std::stoull(next());
    else if (a == "--samples")
      samples = std::stoi(next());
    else if (a == "--json")
      json_path = next();
    else if (a == "--no-gemm")
      skip_gemm = true;
    else if (a == "--no-transfer")
      skip_transfer = true;
    else
      die("usage: cmeter_cuda_plugin_bench [--n 8192] [--transfer-bytes 268435456] [--samples 20] [--json "
          "FILE] "
          "[--no-gemm] [--no-transfer]");
  }

  // CMETER_CUDA_PLUGIN_FILE overrides the build-tree path (a build packed for another machine).
  const char* plugin_file = std::getenv("CMETER_CUDA_PLUGIN_FILE");
  if (plugin_file == nullptr || *plugin_file == 0) plugin_file = CMETER_CUDA_PLUGIN_PATH;
  static cmeter::client::Plugin plugin(plugin_file, /*initialize=*/false);
  g_plugin = &plugin;
  if ((g_api = plugin.api()) == nullptr) die("cannot load the plugin: " + plugin.error);
  if (cmeter::client::Outcome o = plugin.init(); !o.ok())
    die("plugin_initialize/plugin_devices: " + o.describe());
  if (plugin.devices.empty()) {
    const CMTR_KeyValue* kv = cmeter::client::find(plugin.plugin_attributes, "plugin.status");
    const std::string status = kv != nullptr ? std::string(kv->string_value.data, kv->string_value.size) : "";
    std::printf("SKIP: no CUDA device (%s)\n", status.c_str());
    return 77;
  }
  PluginSide plug;
  plug.device = plugin.devices[0];
  std::string device_name;
  {
    auto a = ARGS(CMTR_Device_Attributes_Args, num_attributes);
    a.device = plug.device;
    check(g_api->device_attributes(&a), "device_attributes");
    for (size_t i = 0; i < a.num_attributes; ++i) {
      const std::string k(a.attributes[i].key.data, a.attributes[i].key.size);
      if (k == "name")
        device_name.assign(a.attributes[i].string_value.data, a.attributes[i].string_value.size);
    }
  }
  std::printf("device: %s (cuda:0), plugin %s\n", device_name.c_str(), plugin_file);
  auto sc = ARGS(CMTR_Stream_Create_Args, stream);
  sc.device = plug.device;
  check(g_api->stream_create(&sc), "stream_create");
  plug.stream = sc.stream;
  DirectSide direct;
  direct.init(0);
  std::vector<Row> rows;

  if (!skip_gemm) {
    // Two input sets (as the core rotates them), uniform [-1, 1] f16, shared by both sides.
    const uint64_t elems = static_cast<uint64_t>(n) * static_cast<uint64_t>(n);
    const uint64_t bytes = elems * 2;
    std::vector<__half> host(elems);
    uint64_t state = 42;
    for (auto& h : host) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      h = __float2half(static_cast<float>(static_cast<double>(state >> 11) * 0x1p-53 * 2 - 1));
    }
    CMTR_Buffer* pb[2][3];
    void* db[2][3];
    for (int s = 0; s < 2; ++s)
      for (int m = 0; m < 3; ++m) {
        pb[s][m] = plug.buffer(bytes);
        plug.write(pb[s][m], host.data(), bytes);
        cuda_check(cudaMalloc(&db[s][m], bytes), "cudaMalloc");
        cuda_check(cudaMemcpy(db[s][m], host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
      }
    plug.sync();
    // The plugin's op.
    const std::string f16 = "f16", f32 = "f32";
    std::vector<CMTR_KeyValue> kv;
    auto add_int = [&](const char* k, int64_t v) {
      CMTR_KeyValue x{};
      x.key = CMTR_String{k, std::strlen(k)};
      x.type = CMTR_VALUE_INT64;
      x.int_value = v;
      kv.push_back(x);
    };
    auto add_str = [&](const char* k, const std::string& v) {
      CMTR_KeyValue x{};
      x.key = CMTR_String{k, std::strlen(k)};
      x.type = CMTR_VALUE_STRING;
      x.string_value = CMTR_String{v.data(), v.size()};
      kv.push_back(x);
    };
    add_int("m", n);
    add_int("n", n);
    add_int("k", n);
    add_str("dtype_a", f16);
    add_str("dtype_c", f16);
    add_str("compute", f32);
    auto oc = ARGS(CMTR_Op_Create_Args, op);
    oc.device = plug.device;
    oc.name = CMTR_String{"gemm.v1", 7};
    oc.params = kv.data();
    oc.num_params = kv.size();
    check(g_api->op_create(&oc), "op_create(gemm.v1)");
    auto oa = ARGS(CMTR_Op_Attributes_Args, num_attributes);
    oa.op = oc.op;
    check(g_api->op_attributes(&oa), "op_attributes");
    for (size_t i = 0; i < oa.num_attributes; ++i)
      if (std::string(oa.attributes[i].key.data, oa.attributes[i].key.size) == "impl")
        std::printf("plugin gemm impl: %.*s\n", static_cast<int>(oa.attributes[i].string_value.size),
                    oa.attributes[i].string_value.data);
    // The direct call: same descriptors, the heuristic's first algorithm, 32 MiB workspace.
    cublasLtHandle_t lt;
    lt_check(cublasLtCreate(&lt), "cublasLtCreate");
    cublasLtMatmulDesc_t desc;
    lt_check(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc");
    cublasLtMatrixLayout_t la, lb, lc;
    lt_check(cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, n, n, n), "layout");
    lt_check(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, n, n, n), "layout");
    lt_check(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, n, n, n), "layout");
    cublasLtMatmulPreference_t pref;
    lt_check(cublasLtMatmulPreferenceCreate(&pref), "pref");
    const uint64_t ws_bytes = 32ull << 20;
    lt_check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes,
                                                  sizeof ws_bytes),
             "pref ws");
    cublasLtMatmulHeuristicResult_t heur{};
    int returned = 0;
    lt_check(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 1, &heur, &returned),
             "heuristic");
    if (returned < 1) die("cuBLASLt heuristic returned nothing for f16 GEMM");
    void* ws = nullptr;
    cuda_check(cudaMalloc(&ws, ws_bytes), "cudaMalloc(workspace)");
    const float alpha = 1.0f, beta = 0.0f;
    auto pe = ARGS(CMTR_Op_Enqueue_Args, num_buffers);
    pe.op = oc.op;
    pe.stream = plug.stream;
    pe.num_buffers = 3;
    const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    direct.warmed = false;
    rows.push_back(compare(
        "gemm f16 " + std::to_string(n) + "^3 (f32 compute)", "FLOP/s", flop, samples,
        [&](int64_t batch) {
          return plug.time_batch(batch, [&](int64_t i) {
            pe.buffers = pb[i % 2];
            check(g_api->op_enqueue(&pe), "op_enqueue(gemm.v1)");
          });
        },
        [&](int64_t batch) {
          return direct.time_batch(batch, [&](int64_t i) {
            void** m = db[i % 2];
            lt_check(cublasLtMatmul(lt, desc, &alpha, m[0], la, m[1], lb, &beta, m[2], lc, m[2], lc,
                                    &heur.algo, ws, ws_bytes, direct.stream),
                     "cublasLtMatmul");
          });
        }));
    rows.back().note = "direct = cublasLtMatmul with the heuristic's first algorithm";
    auto od = ARGS(CMTR_Op_Destroy_Args, op);
    od.op = oc.op;
    check(g_api->op_destroy(&od), "op_destroy");
    for (int s = 0; s < 2; ++s)
      for (int m = 0; m < 3; ++m) {
        auto bd = ARGS(CMTR_Buffer_Destroy_Args, buffer);
        bd.buffer = pb[s][m];
        check(g_api->buffer_destroy(&bd), "buffer_destroy");
        cudaFree(db[s][m]);
      }
    cudaFree(ws);
  }

  if (!skip_transfer) {
    const uint64_t bytes = transfer_bytes;
    CMTR_Buffer* pin = plug.buffer(bytes, CMTR_MEMORY_HOST_PINNED);
    CMTR_Buffer* dev = plug.buffer(bytes);
    void* pin_host = plug.host_pointer(pin);
    std::memset(pin_host, 0x5a, bytes);
    void* dpin = nullptr;
    void* ddev = nullptr;
    cuda_check(cudaHostAlloc(&dpin, bytes, cudaHostAllocPortable), "cudaHostAlloc");
    std::memset(dpin, 0x5a, bytes);
    cuda_check(cudaMalloc(&ddev, bytes), "cudaMalloc");
    std::vector<uint8_t> pageable(bytes, 0x5a), dpageable(bytes, 0x5a);
    const double b = static_cast<double>(bytes);
    const std::string size = std::to_string(bytes >> 20) + " MiB";
    direct.warmed = false;
    rows.push_back(compare(
        "h2d pinned " + size, "B/s", b, samples,
        [&](int64_t batch) {
          return plug.time_batch(batch, [&](int64_t) { plug.write(dev, pin_host, bytes); });
        },
        [&](int64_t batch) {
          return direct.time_batch(batch, [&](int64_t) {
            cuda_check(cudaMemcpyAsync(ddev, dpin, bytes, cudaMemcpyHostToDevice, direct.stream),
                       "cudaMemcpyAsync");
          });
        }));
    direct.warmed = false;
    rows.push_back(compare(
        "d2h pinned " + size, "B/s", b, samples,
        [&](int64_t batch) {
          return plug.time_batch(batch, [&](int64_t) { plug.read(dev, pin_host, bytes); });
        },
        [&](int64_t batch) {
          return direct.time_batch(batch, [&](int64_t) {
            cuda_check(cudaMemcpyAsync(dpin, ddev, bytes, cudaMemcpyDeviceToHost, direct.stream),
                       "cudaMemcpyAsync");
          });
        }));
    const bool held = direct.hold;
    direct.hold = false;  // a pageable copy may wait for the stream: never behind a hold
    direct.warmed = false;
    rows.push_back(compare(
        "h2d pageable " + size, "B/s", b, std::max(3, samples / 4),
        [&](int64_t batch) {
          return plug.time_batch(batch, [&](int64_t) { plug.write(dev, pageable.data(), bytes); });
        },
        [&](int64_t batch) {
          return direct.time_batch(batch, [&](int64_t) {
            cuda_check(cudaMemcpyAsync(ddev, dpageable.data(), bytes, cudaMemcpyHostToDevice, direct.stream),
                       "cudaMemcpyAsync");
          });
        }));
    rows.back().note = "pageable: both sides stage through the driver; the hold is released for them";
    direct.hold = held;
    for (CMTR_Buffer* x : {pin, dev}) {
      auto bd = ARGS(CMTR_Buffer_Destroy_Args, buffer);
      bd.buffer = x;
      check(g_api->buffer_destroy(&bd), "buffer_destroy");
    }
    cudaFreeHost(dpin);
    cudaFree(ddev);
  }

  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (f == nullptr) die("cannot write " + json_path);
    std::fprintf(f, "{\"device\": \"%s\", \"hold\": %s, \"rows\": [\n", device_name.c_str(),
                 direct.hold ? "true" : "false");
    for (size_t i = 0; i < rows.size(); ++i)
      std::fprintf(f,
                   "  {\"name\": \"%s\", \"unit\": \"%s\", \"plugin_median\": %.6g, \"direct_median\": %.6g, "
                   "\"ratio\": %.5f, \"batch\": %lld, \"samples\": %d, \"note\": \"%s\"}%s\n",
                   rows[i].name.c_str(), rows[i].unit.c_str(), rows[i].plugin, rows[i].direct,
                   rows[i].plugin / rows[i].direct, static_cast<long long>(rows[i].batch), rows[i].samples,
                   rows[i].note.c_str(), i + 1 < rows.size() ? "," : "");
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}
