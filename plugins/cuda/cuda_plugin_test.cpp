// plugins/cuda/cuda_plugin_test.cpp - tests of libcmeter-cuda.so through the C ABI only, plus the
// plugin's pure-C++ parts (declared-peak table, NVML reason names).
//
// Why this file exists: the CUDA plugin is built on machines without a GPU (CI) and must first run on
// a GPU machine that nobody watches, so the tests are in two groups. Without a device (ctest
// `cmeter_cuda_plugin_tests`, run as --no-gpu): the plugin loads, reports zero devices with the
// reason, rejects bad arguments with errors. With one (ctest `cmeter_cuda_plugin_gpu_tests`, label
// `gpu`, run as --gpu-only, exit code 77 = skipped when there is no device): every op against an exact
// host reference on odd shapes (inputs are chosen so that the f32/f64/i32 results are exact and f16/bf16
// outputs are off by one rounding at most), memory round trips, the stream hold (a held batch runs
// back to back; nothing deadlocks), and NVML telemetry.
#define DOCTEST_CONFIG_IMPLEMENT
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <cmeter/plugin_client.hpp>
#include <cstdlib>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/validate/op_reference.h"
#include "nvml.hpp"
#include "sku_peaks.hpp"

#ifndef CMETER_CUDA_PLUGIN_PATH
#error "CMETER_CUDA_PLUGIN_PATH must name the built plugin"
#endif

namespace {

using Value = std::variant<std::string, int64_t, double, bool>;
using Params = std::map<std::string, Value>;

// Owns the CMTR_KeyValue form of a Params map for the duration of a call.
struct KvList {
  std::vector<std::string> keys, strings;
  std::vector<CMTR_KeyValue> items;
  explicit KvList(const Params& p) {
    keys.reserve(p.size());
    strings.reserve(p.size());
    for (const auto& [k, v] : p) {
      keys.push_back(k);
      CMTR_KeyValue kv{};
      kv.key = CMTR_String{keys.back().data(), keys.back().size()};
      if (auto* s = std::get_if<std::string>(&v)) {
        strings.push_back(*s);
        kv.type = CMTR_VALUE_STRING;
        kv.string_value = CMTR_String{strings.back().data(), strings.back().size()};
      } else if (auto* i = std::get_if<int64_t>(&v)) {
        kv.type = CMTR_VALUE_INT64;
        kv.int_value = *i;
      } else if (auto* d = std::get_if<double>(&v)) {
        kv.type = CMTR_VALUE_DOUBLE;
        kv.double_value = *d;
      } else {
        kv.type = CMTR_VALUE_BOOL;
        kv.int_value = std::get<bool>(v) ? 1 : 0;
      }
      items.push_back(kv);
    }
  }
};

std::string str(CMTR_String s) {
  return s.data ? std::string(s.data, s.size) : std::string();
}

std::map<std::string, Value> to_map(const CMTR_KeyValue* kv, size_t n) {
  std::map<std::string, Value> out;
  for (size_t i = 0; i < n; ++i) {
    const std::string k = str(kv[i].key);
    switch (kv[i].type) {
      case CMTR_VALUE_STRING:
        out[k] = str(kv[i].string_value);
        break;
      case CMTR_VALUE_INT64:
        out[k] = kv[i].int_value;
        break;
      case CMTR_VALUE_DOUBLE:
        out[k] = kv[i].double_value;
        break;
      default:
        out[k] = kv[i].int_value != 0;
    }
  }
  return out;
}

// The plugin, through the SDK's client (cmeter/plugin_client.hpp).
struct Plugin {
  std::unique_ptr<cmeter::client::Plugin> client;
  void* library = nullptr;
  const CMTR_Api* api = nullptr;
  std::map<std::string, Value> attributes;
  std::vector<CMTR_Device*> devices;

  static Plugin& get() {
    static Plugin p = load();
    return p;
  }
  static Plugin load() {
    Plugin p;
    // CMETER_CUDA_PLUGIN_FILE overrides the build-tree path (a build packed for another machine).
    const char* file = std::getenv("CMETER_CUDA_PLUGIN_FILE");
    if (file == nullptr || *file == 0) file = CMETER_CUDA_PLUGIN_PATH;
    p.client = std::make_unique<cmeter::client::Plugin>(file, /*initialize=*/false);
    p.library = p.client->library();
    if (p.client->api() == nullptr) {
      std::fprintf(stderr, "cannot load %s: %s\n", file, p.client->error.c_str());
      return p;
    }
    p.api = p.client->api();
    if (cmeter::client::Outcome o = p.client->init(); !o.ok()) {
      std::fprintf(stderr, "plugin_initialize or plugin_devices failed: %s\n", o.message.c_str());
      p.client->error.clear();
      return p;
    }
    p.attributes = to_map(p.client->plugin_attributes.data(), p.client->plugin_attributes.size());
    p.devices = p.client->devices;
    return p;
  }

  // The error's message (and frees it); "" for success.
  std::string message(CMTR_Error* e, int32_t* code = nullptr) const {
    if (e == nullptr) return {};
    const cmeter::client::Outcome o = client->take(e);
    if (code) *code = o.code;
    return o.message.empty() ? "(error with empty message)" : o.message;
  }
  int32_t code(CMTR_Error* e) const {
    int32_t c = 0;
    message(e, &c);
    return c;
  }
  std::string status() const {
    auto it = attributes.find("plugin.status");
    return it == attributes.end() ? std::string() : std::get<std::string>(it->second);
  }
};

#define CHECK_OK(expr)                            \
  do {                                            \
    std::string _m = Plugin::get().message(expr); \
    CHECK_MESSAGE(_m.empty(), _m);                \
  } while (0)
#define REQUIRE_OK(expr)                          \
  do {                                            \
    std::string _m = Plugin::get().message(expr); \
    REQUIRE_MESSAGE(_m.empty(), _m);              \
  } while (0)

template <class Args>
Args args_of(size_t size) {
  Args a{};
  a.struct_size = size;
  return a;
}
#define ARGS(type, last) args_of<type>(CMTR_STRUCT_SIZE(type, last))

// ---- thin RAII helpers over the ABI (GPU tests) ----

struct Buffer {
  CMTR_Buffer* handle = nullptr;
  uint64_t bytes = 0;
  Buffer(CMTR_Device* d, uint64_t size, int32_t kind = CMTR_MEMORY_DEVICE) : bytes(size) {
    auto a = ARGS(CMTR_Buffer_Create_Args, buffer);
    a.device = d;
    a.size_bytes = size;
    a.memory_kind = kind;
    REQUIRE_OK(Plugin::get().api->buffer_create(&a));
    handle = a.buffer;
  }
  ~Buffer() {
    auto a = ARGS(CMTR_Buffer_Destroy_Args, buffer);
    a.buffer = handle;
    CHECK_OK(Plugin::get().api->buffer_destroy(&a));
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

struct Stream {
  CMTR_Stream* handle = nullptr;
  explicit Stream(CMTR_Device* d) {
    auto a = ARGS(CMTR_Stream_Create_Args, stream);
    a.device = d;
    REQUIRE_OK(Plugin::get().api->stream_create(&a));
    handle = a.stream;
  }
  ~Stream() {
    auto a = ARGS(CMTR_Stream_Destroy_Args, stream);
    a.stream = handle;
    CHECK_OK(Plugin::get().api->stream_destroy(&a));
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  CMTR_Error* write(Buffer& b, const void* host, uint64_t bytes, uint64_t offset = 0) {
    auto a = ARGS(CMTR_Buffer_Write_Args, size_bytes);
    a.stream = handle;
    a.buffer = b.handle;
    a.offset_bytes = offset;
    a.host_pointer = host;
    a.size_bytes = bytes;
    return Plugin::get().api->buffer_write(&a);
  }
  CMTR_Error* read(Buffer& b, void* host, uint64_t bytes, uint64_t offset = 0) {
    auto a = ARGS(CMTR_Buffer_Read_Args, size_bytes);
    a.stream = handle;
    a.buffer = b.handle;
    a.offset_bytes = offset;
    a.host_pointer = host;
    a.size_bytes = bytes;
    return Plugin::get().api->buffer_read(&a);
  }
  CMTR_Error* sync() {
    auto a = ARGS(CMTR_Stream_Synchronize_Args, stream);
    a.stream = handle;
    return Plugin::get().api->stream_synchronize(&a);
  }
  CMTR_Event* record() {
    auto a = ARGS(CMTR_Event_Record_Args, event);
    a.stream = handle;
    REQUIRE_OK(Plugin::get().api->event_record(&a));
    return a.event;
  }
};

double elapsed_s(CMTR_Event* start, CMTR_Event* stop) {
  auto a = ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
  a.start = start;
  a.stop = stop;
  REQUIRE_OK(Plugin::get().api->event_elapsed(&a));
  for (CMTR_Event* e : {start, stop}) {
    auto d = ARGS(CMTR_Event_Destroy_Args, event);
    d.event = e;
    CHECK_OK(Plugin::get().api->event_destroy(&d));
  }
  return a.elapsed_s;
}

struct QueryAnswer {
  bool supported = false;
  std::string reason;
  std::string error;
};

QueryAnswer query(CMTR_Device* d, const std::string& name, const Params& params) {
  KvList kv(params);
  char reason[1024];
  auto a = ARGS(CMTR_Op_Query_Args, reason_size);
  a.device = d;
  a.name = CMTR_String{name.data(), name.size()};
  a.params = kv.items.data();
  a.num_params = kv.items.size();
  a.reason_buffer = reason;
  a.reason_buffer_size = sizeof reason;
  QueryAnswer q;
  q.error = Plugin::get().message(Plugin::get().api->op_query(&a));
  q.supported = a.supported != 0;
  q.reason.assign(reason, std::min(a.reason_size, sizeof reason));
  return q;
}

struct Op {
  CMTR_Op* handle = nullptr;
  std::map<std::string, Value> attributes;
  Op(CMTR_Device* d, const std::string& name, const Params& params) {
    KvList kv(params);
    auto a = ARGS(CMTR_Op_Create_Args, op);
    a.device = d;
    a.name = CMTR_String{name.data(), name.size()};
    a.params = kv.items.data();
    a.num_params = kv.items.size();
    REQUIRE_OK(Plugin::get().api->op_create(&a));
    handle = a.op;
    auto at = ARGS(CMTR_Op_Attributes_Args, num_attributes);
    at.op = handle;
    REQUIRE_OK(Plugin::get().api->op_attributes(&at));
    attributes = to_map(at.attributes, at.num_attributes);
  }
  ~Op() {
    auto a = ARGS(CMTR_Op_Destroy_Args, op);
    a.op = handle;
    CHECK_OK(Plugin::get().api->op_destroy(&a));
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;
  CMTR_Error* enqueue(Stream& s, std::vector<Buffer*> buffers) {
    std::vector<CMTR_Buffer*> h;
    for (Buffer* b : buffers) h.push_back(b->handle);
    auto a = ARGS(CMTR_Op_Enqueue_Args, num_buffers);
    a.op = handle;
    a.stream = s.handle;
    a.buffers = h.data();
    a.num_buffers = h.size();
    return Plugin::get().api->op_enqueue(&a);
  }
  std::string impl() const {
    auto it = attributes.find("impl");
    return it == attributes.end() ? std::string() : std::get<std::string>(it->second);
  }
};

CMTR_Device* gpu() {
  return Plugin::get().devices.at(0);
}

// ---- host-side numbers ----

// Round to p significant bits, minimum normal exponent emin, nearest even (f16: 11, -14; bf16: 8, -126).
double round_bits(double v, int p, int emin) {
  if (v == 0 || !std::isfinite(v)) return v;
  int e = 0;
  std::frexp(v, &e);
  const double q = std::ldexp(1.0, std::max(e - 1, emin) - (p - 1));
  return std::nearbyint(v / q) * q;
}

uint16_t f16_bits(double v) {  // v exactly representable in f16, normal or zero
  if (v == 0) return std::signbit(v) ? 0x8000 : 0;
  const uint16_t sign = v < 0 ? 0x8000 : 0;
  v = std::fabs(v);
  int e = 0;
  const double m = std::frexp(v, &e);  // v = m * 2^e, m in [0.5, 1)
  int exp = e - 1 + 15;
  if (exp <= 0) return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::ldexp(v, 24)));  // subnormal
  const auto frac = static_cast<uint16_t>((m * 2 - 1) * 1024);
  return static_cast<uint16_t>(sign | (exp << 10) | frac);
}

double f16_value(uint16_t b) {
  const int exp = (b >> 10) & 0x1f, frac = b & 0x3ff;
  double v = exp == 0 ? std::ldexp(frac, -24) : std::ldexp(1024 + frac, exp - 25);
  return (b & 0x8000) ? -v : v;
}

uint16_t bf16_bits(double v) {  // exact in bf16
  const float f = static_cast<float>(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);
}

double bf16_value(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Element storage for a dtype name.
struct Elements {
  std::string type;
  std::vector<uint8_t> bytes;
  size_t size() const { return bytes.size() / width(type); }
  static size_t width(const std::string& t) {
    return t == "f16" || t == "bf16" ? 2 : t == "f64" ? 8 : t == "i8" ? 1 : 4;
  }
  Elements(std::string t, size_t n) : type(std::move(t)), bytes(n * width(type)) {}
  void set(size_t i, double v) {
    if (type == "f16") {
      const uint16_t b = f16_bits(v);
      std::memcpy(&bytes[2 * i], &b, 2);
    } else if (type == "bf16") {
      const uint16_t b = bf16_bits(v);
      std::memcpy(&bytes[2 * i], &b, 2);
    } else if (type == "f32") {
      const float f = static_cast<float>(v);
      std::memcpy(&bytes[4 * i], &f, 4);
    } else if (type == "f64") {
      std::memcpy(&bytes[8 * i], &v, 8);
    } else if (type == "i8") {
      bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
    } else {
      const auto x = static_cast<int32_t>(v);
      std::memcpy(&bytes[4 * i], &x, 4);
    }
  }
  double get(size_t i) const {
    if (type == "f16" || type == "bf16") {
      uint16_t b;
      std::memcpy(&b, &bytes[2 * i], 2);
      return type == "f16" ? f16_value(b) : bf16_value(b);
    }
    if (type == "f32") {
      float f;
      std::memcpy(&f, &bytes[4 * i], 4);
      return f;
    }
    if (type == "f64") {
      double d;
      std::memcpy(&d, &bytes[8 * i], 8);
      return d;
    }
    if (type == "i8") return static_cast<int8_t>(bytes[i]);
    int32_t x;
    std::memcpy(&x, &bytes[4 * i], 4);
    return x;
  }
};

uint64_t lcg(uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return s >> 33;
}

}  // namespace

// ======================= tests that need no GPU =======================

TEST_CASE("the plugin loads and its function table is complete") {
  Plugin& p = Plugin::get();
  REQUIRE(p.library != nullptr);
  REQUIRE(p.api != nullptr);
  CHECK(p.api->abi_major == CMTR_ABI_MAJOR);
  CHECK(p.api->struct_size >= CMTR_API_STRUCT_SIZE_1_0);
  const void* slots[] = {(void*)p.api->error_info,         (void*)p.api->error_destroy,
                         (void*)p.api->plugin_initialize,  (void*)p.api->plugin_shutdown,
                         (void*)p.api->plugin_devices,     (void*)p.api->device_attributes,
                         (void*)p.api->device_telemetry,   (void*)p.api->buffer_create,
                         (void*)p.api->buffer_destroy,     (void*)p.api->buffer_host_pointer,
                         (void*)p.api->buffer_write,       (void*)p.api->buffer_read,
                         (void*)p.api->stream_create,      (void*)p.api->stream_destroy,
                         (void*)p.api->stream_synchronize, (void*)p.api->event_record,
                         (void*)p.api->event_elapsed,      (void*)p.api->event_destroy,
                         (void*)p.api->op_query,           (void*)p.api->op_create,
                         (void*)p.api->op_attributes,      (void*)p.api->op_enqueue,
                         (void*)p.api->op_destroy};
  for (const void* s : slots) CHECK(s != nullptr);
  // Only the entry point is exported.
  CHECK(dlsym(p.library, "cudaMalloc") == nullptr);
  CHECK(dlsym(p.library, "_ZN6cmeter4cuda7releaseEP11CMTR_Stream") == nullptr);
}

TEST_CASE("plugin attributes; zero devices always come with the reason") {
  Plugin& p = Plugin::get();
  REQUIRE(p.api != nullptr);
  CHECK(std::get<std::string>(p.attributes.at("plugin.name")) == "cuda");
  CHECK(!std::get<std::string>(p.attributes.at("plugin.version")).empty());
  CHECK(std::get<std::string>(p.attributes.at("plugin.vendor")) == "cmeter");
  if (p.devices.empty()) {
    CHECK_MESSAGE(!p.status().empty(), "zero devices but no plugin.status");
    void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (driver == nullptr) {
      CHECK(p.status().find("libcuda.so.1") != std::string::npos);
      CHECK(p.status().find("no CUDA driver") != std::string::npos);
    } else {
      dlclose(driver);
      CHECK(p.status().find("cuda") != std::string::npos);  // cudaGetDeviceCount: ... / the CUDA driver shows
    }
  }
  MESSAGE("devices: " << p.devices.size() << "; plugin.status: " << p.status());
}

TEST_CASE("bad arguments are errors, never crashes") {
  Plugin& p = Plugin::get();
  REQUIRE(p.api != nullptr);
  CHECK(p.code(p.api->plugin_devices(nullptr)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto small = args_of<CMTR_Plugin_Devices_Args>(sizeof(size_t));
  CHECK(p.code(p.api->plugin_devices(&small)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto attrs = ARGS(CMTR_Device_Attributes_Args, num_attributes);
  CHECK(p.code(p.api->device_attributes(&attrs)) == CMTR_ERROR_INVALID_ARGUMENT);  // NULL device
  int not_a_device = 0;
  attrs.device = reinterpret_cast<CMTR_Device*>(&not_a_device);
  CHECK(p.code(p.api->device_attributes(&attrs)) == CMTR_ERROR_INVALID_ARGUMENT);  // foreign pointer
  auto tel = ARGS(CMTR_Device_Telemetry_Args, num_readings);
  CHECK(p.code(p.api->device_telemetry(&tel)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto bc = ARGS(CMTR_Buffer_Create_Args, buffer);
  bc.size_bytes = 16;
  CHECK(p.code(p.api->buffer_create(&bc)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto bd = ARGS(CMTR_Buffer_Destroy_Args, buffer);
  CHECK(p.code(p.api->buffer_destroy(&bd)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto bh = ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer);
  CHECK(p.code(p.api->buffer_host_pointer(&bh)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto bw = ARGS(CMTR_Buffer_Write_Args, size_bytes);
  CHECK(p.code(p.api->buffer_write(&bw)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto br = ARGS(CMTR_Buffer_Read_Args, size_bytes);
  CHECK(p.code(p.api->buffer_read(&br)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto sc = ARGS(CMTR_Stream_Create_Args, stream);
  CHECK(p.code(p.api->stream_create(&sc)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto ss = ARGS(CMTR_Stream_Synchronize_Args, stream);
  CHECK(p.code(p.api->stream_synchronize(&ss)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto sd = ARGS(CMTR_Stream_Destroy_Args, stream);
  CHECK(p.code(p.api->stream_destroy(&sd)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto er = ARGS(CMTR_Event_Record_Args, event);
  CHECK(p.code(p.api->event_record(&er)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto ee = ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
  CHECK(p.code(p.api->event_elapsed(&ee)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto ed = ARGS(CMTR_Event_Destroy_Args, event);
  CHECK(p.code(p.api->event_destroy(&ed)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto oq = ARGS(CMTR_Op_Query_Args, reason_size);
  CHECK(p.code(p.api->op_query(&oq)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto oc = ARGS(CMTR_Op_Create_Args, op);
  CHECK(p.code(p.api->op_create(&oc)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto oa = ARGS(CMTR_Op_Attributes_Args, num_attributes);
  CHECK(p.code(p.api->op_attributes(&oa)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto oe = ARGS(CMTR_Op_Enqueue_Args, num_buffers);
  CHECK(p.code(p.api->op_enqueue(&oe)) == CMTR_ERROR_INVALID_ARGUMENT);
  auto od = ARGS(CMTR_Op_Destroy_Args, op);
  CHECK(p.code(p.api->op_destroy(&od)) == CMTR_ERROR_INVALID_ARGUMENT);
  // A host speaking another major version is refused.
  auto init = ARGS(CMTR_Plugin_Initialize_Args, num_attributes);
  init.host_abi_major = CMTR_ABI_MAJOR + 1;
  CHECK(p.code(p.api->plugin_initialize(&init)) == CMTR_ERROR_UNIMPLEMENTED);
}

TEST_CASE("declared peaks: known SKUs from their datasheets, unknown ones from the driver's figures") {
  using cmeter::cuda::declared_peaks;
  using cmeter::cuda::DeviceFacts;
  auto value = [](const cmeter::cuda::DeclaredPeaks& p, const std::string& key) {
    for (const auto& [k, v] : p.values)
      if (k == key) return v;
    return -1.0;
  };
  DeviceFacts h100{"NVIDIA H100 80GB HBM3", 9, 0, 132, 1980, 2619, 5120, 80ull << 30};
  auto p = declared_peaks(h100);
  CHECK(p.sku == "NVIDIA H100 SXM5");
  CHECK(value(p, "flops.f16") == doctest::Approx(989.4e12));
  CHECK(value(p, "flops.bf16") == doctest::Approx(989.4e12));
  CHECK(value(p, "flops.tf32") == doctest::Approx(494.7e12));
  CHECK(value(p, "flops.f64") == doctest::Approx(66.9e12));
  CHECK(value(p, "flops.f64.vector") == doctest::Approx(33.5e12));
  CHECK(value(p, "flops.f32") == doctest::Approx(66.9e12));
  CHECK(value(p, "flops.i8") == doctest::Approx(1978.9e12));
  CHECK(value(p, "mem.bytes_per_s") == doctest::Approx(3.35e12));
  CHECK(p.source.find("datasheet") != std::string::npos);
  DeviceFacts pcie{"NVIDIA H100 PCIe", 9, 0, 114, 1755, 1593, 5120, 80ull << 30};
  CHECK(declared_peaks(pcie).sku == "NVIDIA H100 PCIe");
  CHECK(value(declared_peaks(pcie), "flops.f16") == doctest::Approx(756.5e12));
  DeviceFacts h200{"NVIDIA H200", 9, 0, 132, 1980, 3201, 6144, 141ull << 30};
  CHECK(declared_peaks(h200).sku == "NVIDIA H200 SXM");
  CHECK(value(declared_peaks(h200), "mem.bytes_per_s") == doctest::Approx(4.8e12));
  DeviceFacts nvl{"NVIDIA H200 NVL", 9, 0, 132, 1785, 3201, 6144, 141ull << 30};
  CHECK(declared_peaks(nvl).sku == "NVIDIA H200 NVL");
  DeviceFacts a100{"NVIDIA A100-SXM4-80GB", 8, 0, 108, 1410, 1593, 5120, 80ull << 30};
  CHECK(value(declared_peaks(a100), "flops.f16") == doctest::Approx(312e12));
  CHECK(value(declared_peaks(a100), "mem.bytes_per_s") == doctest::Approx(2.039e12));
  // Every table SKU that declares a tensor f16/bf16 peak also declares the vector one, so fma_peak is
  // never gated against the tensor-core peak (the H200 run of 2026-12-04 showed f16 FMA "7.6% of peak").
  CHECK(value(declared_peaks(h200), "flops.f16.vector") == doctest::Approx(133.8e12));
  for (const auto& facts : {h100, pcie, h200, nvl, a100}) {
    auto d = declared_peaks(facts);
    for (const char* t : {"f16", "bf16"}) {
      INFO(d.sku << " " << t);
      CHECK(value(d, std::string("flops.") + t) > 0);
      CHECK(value(d, std::string("flops.") + t + ".vector") > 0);
      CHECK(value(d, std::string("flops.") + t + ".vector") < value(d, std::string("flops.") + t));
    }
  }
  // An RTX 4090 is not in the table: f32 vector 2 x 128 x 128 x 2520 MHz = 82.6 TFLOP/s (its spec),
  // memory 2 x 10501 MHz x 384 bits / 8 = 1008 GB/s (its spec), and no tensor peaks.
  DeviceFacts rtx{"NVIDIA GeForce RTX 4090", 8, 9, 128, 2520, 10501, 384, 24ull << 30};
  auto q = declared_peaks(rtx);
  CHECK(value(q, "flops.f32.vector") == doctest::Approx(82.58e12).epsilon(0.001));
  CHECK(value(q, "mem.bytes_per_s") == doctest::Approx(1008e9).epsilon(0.001));
  CHECK(value(q, "flops.f16") < 0);
  CHECK(q.source.find("not a datasheet") != std::string::npos);
  // A part of an unknown architecture gets nothing it cannot back.
  DeviceFacts odd{"Some GPU", 7, 5, 40, 1500, 0, 0, 16ull << 30};
  CHECK(declared_peaks(odd).values.empty());
}

TEST_CASE("NVML: reason names; a machine without NVML loses only telemetry") {
  using cmeter::cuda::Nvml;
  CHECK(Nvml::describe_throttle_reasons(0) == "none");
  CHECK(Nvml::describe_throttle_reasons(0x4 | 0x40) == "sw_power_cap,hw_thermal_slowdown");
  CHECK(Nvml::describe_throttle_reasons(0x1000) == "other:0x1000");
  Nvml nvml;
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    CHECK_FALSE(nvml.available());
    CHECK(nvml.status().find("libnvidia-ml.so.1") != std::string::npos);
    CHECK(nvml.find_device("GPU-00000000-0000-0000-0000-000000000000", "0000:01:00.0") == nullptr);
    cmeter::sdk::KeyValueList readings;
    nvml.read(nullptr, readings);
    CHECK(readings.size() == 0);
  } else {
    MESSAGE("NVML present: " << nvml.status());
  }
}

// ======================= tests that need a GPU =======================

TEST_SUITE("gpu") {
  TEST_CASE("gpu: device attributes") {
    Plugin& p = Plugin::get();
    REQUIRE(!p.devices.empty());
    auto a = ARGS(CMTR_Device_Attributes_Args, num_attributes);
    a.device = gpu();
    REQUIRE_OK(p.api->device_attributes(&a));
    auto m = to_map(a.attributes, a.num_attributes);
    for (const char* k : {"name", "vendor", "kind", "driver.version", "runtime.version", "uuid", "pci.bus_id",
                          "peak.source", "timer.kind", "cuda.compute_capability"})
      CHECK_MESSAGE(m.count(k) == 1, k);
    CHECK(std::get<std::string>(m.at("kind")) == "gpu");
    CHECK(std::get<std::string>(m.at("uuid")).rfind("GPU-", 0) == 0);
    CHECK(std::get<std::string>(m.at("pci.bus_id")).size() == 12);  // dddd:bb:dd.f
    CHECK(std::get<int64_t>(m.at("compute_units")) > 0);
    CHECK(std::get<int64_t>(m.at("mem.bytes")) > 0);
    CHECK(std::get<int64_t>(m.at("cache.llc.bytes")) > 0);
    for (const auto& [k, v] : m)
      MESSAGE(k << " = "
                << (std::holds_alternative<std::string>(v) ? std::get<std::string>(v)
                    : std::holds_alternative<int64_t>(v)   ? std::to_string(std::get<int64_t>(v))
                    : std::holds_alternative<double>(v)    ? std::to_string(std::get<double>(v))
                                                           : std::string("bool")));
  }

  TEST_CASE("gpu: memory round trips, pinned and pageable, with offsets; range errors") {
    Plugin& p = Plugin::get();
    Stream s(gpu());
    const uint64_t n = 3 * 1000003;
    Buffer dev(gpu(), n), pinned(gpu(), n, CMTR_MEMORY_HOST_PINNED);
    auto hp = ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    hp.buffer = pinned.handle;
    REQUIRE_OK(p.api->buffer_host_pointer(&hp));
    auto* pin = static_cast<uint8_t*>(hp.host_pointer);
    hp.buffer = dev.handle;
    CHECK(p.code(p.api->buffer_host_pointer(&hp)) == CMTR_ERROR_UNIMPLEMENTED);
    std::vector<uint8_t> src(n), back(n, 0);
    uint64_t seed = 7;
    for (auto& b : src) b = static_cast<uint8_t>(lcg(seed));
    std::memcpy(pin, src.data(), n);
    CHECK_OK(s.write(dev, pin, n));         // pinned h2d
    CHECK_OK(s.read(dev, back.data(), n));  // pageable d2h
    CHECK_OK(s.sync());
    CHECK(back == src);
    std::memset(pin, 0, n);
    CHECK_OK(s.write(dev, src.data() + 5, 1000, 17));  // pageable h2d at an offset
    CHECK_OK(s.read(dev, pin, n));                     // pinned d2h
    CHECK_OK(s.sync());
    CHECK(std::memcmp(pin + 17, src.data() + 5, 1000) == 0);
    CHECK(std::memcmp(pin + 1017, src.data() + 1017, n - 1017) == 0);
    CHECK(p.code(s.write(dev, src.data(), n, 1)) == CMTR_ERROR_INVALID_ARGUMENT);  // past the end
    CHECK(p.code(s.write(dev, src.data(), 0)) == CMTR_ERROR_INVALID_ARGUMENT);
    CHECK(p.code(s.write(dev, nullptr, 8)) == CMTR_ERROR_INVALID_ARGUMENT);
    auto bc = ARGS(CMTR_Buffer_Create_Args, buffer);
    bc.device = gpu();
    bc.size_bytes = 0;
    CHECK(p.code(p.api->buffer_create(&bc)) == CMTR_ERROR_INVALID_ARGUMENT);
    bc.size_bytes = 1ull << 62;
    CHECK(p.code(p.api->buffer_create(&bc)) == CMTR_ERROR_RESOURCE_EXHAUSTED);
  }

  TEST_CASE("gpu: the hold makes a timed batch run back to back, and never deadlocks") {
    Stream s(gpu());
    Op noop(gpu(), "noop.v1", {});
    CHECK_OK(noop.enqueue(s, {}));  // first launch (module load) outside any hold
    CHECK_OK(s.sync());
    // Two launches 50 ms apart on the host: held, they run together once released.
    CMTR_Event* start = s.record();
    CHECK_OK(noop.enqueue(s, {}));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_OK(noop.enqueue(s, {}));
    CMTR_Event* stop = s.record();
    CHECK_OK(s.sync());
    const double held_s = elapsed_s(start, stop);
    MESSAGE("two noops enqueued 50 ms apart, device time between the events: " << held_s * 1e6 << " us");
    CHECK(held_s >= 0);
    CHECK(held_s < 0.005);
    // Far more launches than a hold allows: released on the way, finishes promptly.
    auto t0 = std::chrono::steady_clock::now();
    start = s.record();
    for (int i = 0; i < 5000; ++i) REQUIRE_OK(noop.enqueue(s, {}));
    stop = s.record();
    CHECK_OK(s.sync());
    const double batch_s = elapsed_s(start, stop);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("5000 noops: " << batch_s / 5000 * 1e6 << " us per launch on the device, wall " << wall_s
                           << " s");
    CHECK(wall_s < 0.9);  // the spin timeout (1 s) was never needed
    CHECK(batch_s / 5000 < 20e-6);
    // A pageable copy and a synchronize inside a held batch release it.
    std::vector<uint8_t> page(1 << 20, 1);
    Buffer b(gpu(), page.size());
    t0 = std::chrono::steady_clock::now();
    start = s.record();
    CHECK_OK(s.write(b, page.data(), page.size()));
    CHECK_OK(s.sync());
    stop = s.record();   // opens a new batch (the sync closed the last one) ...
    CHECK_OK(s.sync());  // ... which the sync releases
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.9);
    (void)elapsed_s(start, stop);
  }

  TEST_CASE("gpu: gemm.v1 for every dtype, odd shapes, transposes, alpha/beta, batches") {
    Plugin& p = Plugin::get();
    struct Combo {
      std::string a, c, compute;
      double out_eps;
    };
    const Combo combos[] = {
        {"f16", "f16", "f32", 0x1p-11}, {"f16", "f32", "f32", 0}, {"bf16", "bf16", "f32", 0x1p-8},
        {"bf16", "f32", "f32", 0},      {"f32", "f32", "f32", 0}, {"f32", "f32", "tf32", 0},
        {"f64", "f64", "f64", 0},       {"i8", "i32", "i32", 0},  {"f16", "f16", "f16", 0x1p-11}};
    Stream s(gpu());
    for (const Combo& cb : combos) {
      for (int variant = 0; variant < 3; ++variant) {
        const bool is_int = cb.a == "i8";
        // i8 kernels want TN and multiples of 4; the others get odd sizes and every transpose.
        const int64_t m = is_int ? 68 : 67, n = is_int ? 36 : 33, k = is_int ? 132 : 129;
        const bool ta = is_int ? true : variant == 1, tb = is_int ? false : variant == 2;
        const int64_t batch = variant == 0 ? 1 : 2;
        const double alpha = is_int ? 2.0 : 0.5, beta = variant == 0 ? 0.0 : (is_int ? 1.0 : 0.25);
        Params params{{"m", m},          {"n", n},          {"k", k},
                      {"dtype_a", cb.a}, {"dtype_c", cb.c}, {"compute", cb.compute},
                      {"trans_a", ta},   {"trans_b", tb},   {"alpha", alpha},
                      {"beta", beta},    {"batch", batch}};
        CAPTURE(cb.a);
        CAPTURE(cb.c);
        CAPTURE(cb.compute);
        CAPTURE(variant);
        QueryAnswer q = query(gpu(), "gemm.v1", params);
        REQUIRE_MESSAGE(q.error.empty(), q.error);
        // f16 compute is not required to exist everywhere; the rest are.
        if (!q.supported && cb.compute == "f16") {
          MESSAGE("f16 compute unsupported: " << q.reason);
          continue;
        }
        REQUIRE_MESSAGE(q.supported, q.reason);
        Op op(gpu(), "gemm.v1", params);
        CHECK(op.impl().find("cublasLt algo") != std::string::npos);
        // Inputs j/64 with |j| <= 64 (f16/bf16/f32/f64: exact everywhere, products and f32 sums too;
        // f16 compute: k small enough that sums of multiples of 2^-12 below 64 stay exact) or small ints.
        const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
        Elements A(cb.a, static_cast<size_t>(a_rows * a_cols * batch)),
            B(cb.a, static_cast<size_t>(b_rows * b_cols * batch)),
            C(cb.c, static_cast<size_t>(m * n * batch));
        uint64_t seed = 12345 + static_cast<uint64_t>(variant);
        auto draw = [&] {
          const int64_t j = static_cast<int64_t>(lcg(seed) % 129) - 64;
          return is_int ? static_cast<double>(j % 9) : static_cast<double>(j) / 64.0;
        };
        for (size_t i = 0; i < A.size(); ++i) A.set(i, draw());
        for (size_t i = 0; i < B.size(); ++i) B.set(i, draw());
        for (size_t i = 0; i < C.size(); ++i)
          C.set(i, is_int ? static_cast<double>(lcg(seed) % 7) - 3 : draw());
        Buffer da(gpu(), A.bytes.size()), db(gpu(), B.bytes.size()), dc(gpu(), C.bytes.size());
        CHECK_OK(s.write(da, A.bytes.data(), A.bytes.size()));
        CHECK_OK(s.write(db, B.bytes.data(), B.bytes.size()));
        CHECK_OK(s.write(dc, C.bytes.data(), C.bytes.size()));
        CHECK_OK(op.enqueue(s, {&da, &db, &dc}));
        Elements out(cb.c, C.size());
        CHECK_OK(s.read(dc, out.bytes.data(), out.bytes.size()));
        CHECK_OK(s.sync());
        int bad = 0;
        double worst = 0;
        for (int64_t bi = 0; bi < batch; ++bi)
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < m; ++i) {
              double acc = 0;
              for (int64_t q2 = 0; q2 < k; ++q2) {
                const double av = A.get(static_cast<size_t>(bi * m * k + (ta ? q2 + i * k : i + q2 * m)));
                const double bv = B.get(static_cast<size_t>(bi * k * n + (tb ? j + q2 * n : q2 + j * k)));
                acc += av * bv;
              }
              const size_t ci = static_cast<size_t>(bi * m * n + i + j * m);
              const double ref = alpha * acc + beta * C.get(ci);
              // tf32 and f16 compute round partial results; the others are exact before storing.
              const double slack = cb.compute == "tf32"  ? 1e-5 * k
                                   : cb.compute == "f16" ? 0x1p-11 * k * 8
                                                         : 1e-9;
              const double tol = cb.out_eps * std::fabs(ref) * 1.0001 + slack;
              const double err = std::fabs(out.get(ci) - ref);
              worst = std::max(worst, err);
              if (!(err <= tol) && bad++ < 3)
                MESSAGE("C[" << i << "," << j << "] batch " << bi << ": got " << out.get(ci) << ", expected "
                             << ref);
            }
        CHECK_MESSAGE(bad == 0, bad << " wrong elements; worst error " << worst);
        // Buffers that are too small are refused before cuBLASLt sees them.
        Buffer tiny(gpu(), 64);
        CHECK(p.code(op.enqueue(s, {&da, &db, &tiny})) == CMTR_ERROR_INVALID_ARGUMENT);
        CHECK(p.code(op.enqueue(s, {&da, &db})) == CMTR_ERROR_INVALID_ARGUMENT);
      }
    }
    // Unsupported answers carry a reason; unknown keys are errors.
    QueryAnswer q = query(gpu(), "gemm.v1",
                          {{"m", int64_t{8}},
                           {"n", int64_t{8}},
                           {"k", int64_t{8}},
                           {"dtype_a", std::string("f16")},
                           {"dtype_c", std::string("i32")}});
    CHECK_FALSE(q.supported);
    CHECK(!q.reason.empty());
    q = query(gpu(), "gemm.v1",
              {{"m", int64_t{8}},
               {"n", int64_t{8}},
               {"k", int64_t{8}},
               {"dtype_a", std::string("f16")},
               {"bogus", int64_t{1}}});
    CHECK(!q.error.empty());
    q = query(gpu(), "gemm.v1",
              {{"m", int64_t{8}},
               {"n", int64_t{8}},
               {"k", int64_t{8}},
               {"dtype_a", std::string("f16")},
               {"hint.tile", int64_t{1}}});
    CHECK(q.supported);
  }

  TEST_CASE("gpu: fma_peak.v1 output equals the host simulation") {
    Stream s(gpu());
    for (const std::string dtype : {"f32", "f64", "f16", "bf16"}) {
      for (int64_t lanes : {8, 5, 16, 32, 1}) {
        const int64_t items = 1000, iters = 300;
        const double a = 1.0,
                     b = dtype == "f16"    ? 0x1p-10
                         : dtype == "bf16" ? 0x1p-7
                                           : 0x1p-12,
                     x0 = 1.0, dx = 1.0 / 64;
        CAPTURE(dtype);
        CAPTURE(lanes);
        Op op(gpu(), "fma_peak.v1",
              {{"dtype", dtype},
               {"items", items},
               {"iters", iters},
               {"lanes", lanes},
               {"a", a},
               {"b", b},
               {"x0", x0},
               {"dx", dx}});
        Buffer out(gpu(), items * 4);
        std::vector<float> poison(items, NAN), got(items);
        CHECK_OK(s.write(out, poison.data(), items * 4));
        CHECK_OK(op.enqueue(s, {&out}));
        CHECK_OK(s.read(out, got.data(), items * 4));
        CHECK_OK(s.sync());
        auto rnd = [&](double v) {
          return dtype == "f16"    ? round_bits(v, 11, -14)
                 : dtype == "bf16" ? round_bits(v, 8, -126)
                 : dtype == "f32"  ? static_cast<double>(static_cast<float>(v))
                                   : v;
        };
        double expected = 0;
        for (int64_t l = 0; l < lanes; ++l) {
          double x = rnd(x0 + static_cast<double>(l) * dx);
          for (int64_t t = 0; t < iters; ++t)
            x = dtype == "f32" ? static_cast<double>(std::fmaf(static_cast<float>(x), static_cast<float>(a),
                                                               static_cast<float>(b)))
                               : rnd(std::fma(x, rnd(a), rnd(b)));
          expected += x;
        }
        const double tol = (static_cast<double>(lanes) + 1) * 0x1p-24 * std::fabs(expected);
        int bad = 0;
        for (int64_t i = 0; i < items; ++i)
          if (!(std::fabs(got[i] - expected) <= tol) && bad++ < 3)
            MESSAGE("OUT[" << i << "] = " << got[i] << ", expected " << expected);
        CHECK(bad == 0);
      }
    }
  }

  TEST_CASE("gpu: stream.v1 kernels and copy.v1 engines") {
    Stream s(gpu());
    const int64_t n = 1000003;
    for (const std::string dtype : {"f32", "f64"}) {
      const size_t w = dtype == "f64" ? 8 : 4;
      Elements h[3] = {Elements(dtype, n), Elements(dtype, n), Elements(dtype, n)};
      uint64_t seed = 99;
      for (auto& e : h)
        for (size_t i = 0; i < static_cast<size_t>(n); ++i)
          e.set(i, 0.5 + static_cast<double>(lcg(seed) % 1024) / 512.0);
      for (const std::string kind : {"copy", "scale", "add", "triad"}) {
        CAPTURE(dtype);
        CAPTURE(kind);
        Buffer d[3] = {Buffer(gpu(), n * w), Buffer(gpu(), n * w), Buffer(gpu(), n * w)};
        for (int i = 0; i < 3; ++i) CHECK_OK(s.write(d[i], h[i].bytes.data(), n * w));
        Op op(gpu(), "stream.v1", {{"kind", kind}, {"dtype", dtype}, {"n", n}, {"scalar", 3.0}});
        CHECK_OK(op.enqueue(s, {&d[0], &d[1], &d[2]}));
        const int out_index = kind == "copy" ? 2 : kind == "scale" ? 1 : kind == "add" ? 2 : 0;
        Elements got(dtype, n);
        CHECK_OK(s.read(d[out_index], got.bytes.data(), n * w));
        CHECK_OK(s.sync());
        int bad = 0;
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          const double a = h[0].get(i), b = h[1].get(i), c = h[2].get(i);
          const double expected = kind == "copy"    ? a
                                  : kind == "scale" ? 3 * c
                                  : kind == "add"   ? a + b
                                                    : b + 3 * c;
          const double tol =
              kind == "copy" ? 0 : 4 * (dtype == "f64" ? 0x1p-53 : 0x1p-24) * (std::fabs(expected) + 3 * c);
          if (!(std::fabs(got.get(i) - expected) <= tol) && bad++ < 3)
            MESSAGE("[" << i << "] " << got.get(i) << " vs " << expected);
        }
        CHECK(bad == 0);
      }
    }
    for (const std::string engine : {"kernel", "copy_engine"}) {
      CAPTURE(engine);
      const uint64_t bytes = 1000003;
      Buffer src(gpu(), bytes), dst(gpu(), bytes);
      std::vector<uint8_t> pat(bytes), got(bytes, 0);
      uint64_t seed = 5;
      for (auto& b : pat) b = static_cast<uint8_t>(lcg(seed));
      CHECK_OK(s.write(src, pat.data(), bytes));
      CHECK_OK(s.write(dst, got.data(), bytes));
      Op op(gpu(), "copy.v1", {{"bytes", static_cast<int64_t>(bytes)}, {"engine", engine}});
      CHECK(std::get<std::string>(op.attributes.at("engine")) == engine);
      CHECK_OK(op.enqueue(s, {&src, &dst}));
      CHECK_OK(s.read(dst, got.data(), bytes));
      CHECK_OK(s.sync());
      CHECK(got == pat);
      CHECK(Plugin::get().code(op.enqueue(s, {&src, &src})) == CMTR_ERROR_INVALID_ARGUMENT);
    }
    QueryAnswer q = query(gpu(), "copy.v1", {{"bytes", int64_t{64}}, {"engine", std::string("warp")}});
    CHECK(!q.error.empty());
    q = query(gpu(), "nosuch.v1", {});
    CHECK_FALSE(q.supported);
  }

  TEST_CASE("gpu: telemetry through NVML") {
    Plugin& p = Plugin::get();
    auto t = ARGS(CMTR_Device_Telemetry_Args, num_readings);
    t.device = gpu();
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      CHECK(p.code(p.api->device_telemetry(&t)) == CMTR_ERROR_UNAVAILABLE);
      return;
    }
    REQUIRE_OK(p.api->device_telemetry(&t));
    auto r1 = to_map(t.readings, t.num_readings);
    for (const auto& [k, v] : r1)
      MESSAGE(k << " = "
                << (std::holds_alternative<double>(v) ? std::to_string(std::get<double>(v))
                                                      : std::get<std::string>(v)));
    REQUIRE(r1.count("power.w") == 1);
    CHECK(std::get<double>(r1.at("power.w")) > 1);
    CHECK(r1.count("temp.c") == 1);
    CHECK(r1.count("clock.core.mhz") == 1);
    CHECK(r1.count("throttle.reasons") == 1);
    if (r1.count("energy.j")) {
      // Half a second of fma work costs energy.
      Stream s(gpu());
      Op op(gpu(), "fma_peak.v1",
            {{"dtype", std::string("f32")}, {"items", int64_t{1} << 20}, {"iters", int64_t{4096}}});
      Buffer out(gpu(), 4 << 20);
      auto t0 = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500)) {
        CHECK_OK(op.enqueue(s, {&out}));
        CHECK_OK(s.sync());
      }
      REQUIRE_OK(p.api->device_telemetry(&t));
      auto r2 = to_map(t.readings, t.num_readings);
      const double joules = std::get<double>(r2.at("energy.j")) - std::get<double>(r1.at("energy.j"));
      MESSAGE("energy over ~0.5 s of fma_peak: " << joules << " J");
      CHECK(joules > 1);
    }
  }
}

// ======================= inference ops (ABI 1.1), on a GPU =======================

namespace {

namespace ref = cmeter::validate::ref;

// `v` rounded to the storage type, as the device holds it.
std::vector<double> stored_as(const std::string& t, std::vector<double> v) {
  for (double& x : v)
    x = t == "f16" ? round_bits(x, 11, -14) : t == "bf16" ? round_bits(x, 8, -126) : static_cast<float>(x);
  return v;
}
Elements elements_of(const std::string& t, const std::vector<double>& v) {
  Elements e(t, v.size());
  for (size_t i = 0; i < v.size(); ++i) e.set(i, v[i]);
  return e;
}
std::vector<double> values_of(const Elements& e) {
  std::vector<double> v(e.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = e.get(i);
  return v;
}
std::vector<double> uniform(size_t n, double lo, double hi, uint64_t seed) {
  std::vector<double> v(n);
  for (double& x : v) x = lo + (hi - lo) * static_cast<double>(lcg(seed) % 1000003) / 1000003.0;
  return v;
}
// A device buffer holding `bytes` (uploaded and synchronised).
std::unique_ptr<Buffer> upload(Stream& s, const void* data, size_t bytes) {
  auto b = std::make_unique<Buffer>(gpu(), bytes);
  REQUIRE_OK(s.write(*b, data, bytes));
  REQUIRE_OK(s.sync());
  return b;
}
std::unique_ptr<Buffer> upload(Stream& s, const Elements& e) {
  return upload(s, e.bytes.data(), e.bytes.size());
}
std::unique_ptr<Buffer> upload(Stream& s, const std::vector<int32_t>& v) {
  return upload(s, v.data(), v.size() * 4);
}
Elements download(Stream& s, Buffer& b, const std::string& t, size_t n) {
  Elements e(t, n);
  REQUIRE_OK(s.read(b, e.bytes.data(), e.bytes.size()));
  REQUIRE_OK(s.sync());
  return e;
}
// Output rounding plus f32 arithmetic, with margin (see plugins/opencl/infer_ops_test.cpp).
void check_nmse(const std::vector<double>& got, const std::vector<double>& want, const std::string& t) {
  const double limit = t == "f32" ? 1e-11 : t == "f16" ? 1e-6 : 2e-5;
  const double e = ref::nmse(got.data(), want.data(), got.size());
  CAPTURE(t);
  CHECK_MESSAGE(e <= limit, "nmse " << e << " (limit " << limit << ")");
}

const char* const kInferDtypes[] = {"f32", "f16", "bf16"};

}  // namespace

TEST_SUITE("gpu") {
  TEST_CASE("gpu: rmsnorm.v1, softmax.v1 (lengths, in place) and swiglu.v1 against the FP64 references") {
    for (const char* t : kInferDtypes) {
      CAPTURE(t);
      Stream s(gpu());
      const int64_t rows = 5, dim = 333;
      {
        const auto x = stored_as(t, uniform(rows * dim, -3, 3, 1));
        const auto w = stored_as(t, uniform(dim, 0.5, 1.5, 2));
        std::vector<double> want(x.size());
        ref::rmsnorm(x.data(), w.data(), want.data(), rows, dim, 1e-5);
        Op op(gpu(), "rmsnorm.v1", {{"rows", rows}, {"dim", dim}, {"dtype", std::string(t)}});
        CHECK(!op.impl().empty());
        auto bx = upload(s, elements_of(t, x));
        auto bw = upload(s, elements_of(t, w));
        REQUIRE_OK(op.enqueue(s, {bx.get(), bw.get(), bx.get()}));  // in place
        check_nmse(values_of(download(s, *bx, t, x.size())), stored_as(t, want), t);
      }
      {
        const std::vector<int32_t> len = {333, 1, 0, 1000, -3};
        auto xv = uniform(rows * dim, -4, 4, 3);
        xv[5] = 150;  // exp(150) overflows f32 unless the maximum is subtracted
        const auto x = stored_as(t, xv);
        std::vector<double> want(x.size());
        ref::softmax(x.data(), want.data(), rows, dim, 0.9, len.data());
        Op op(gpu(), "softmax.v1",
              {{"rows", rows},
               {"cols", dim},
               {"dtype", std::string(t)},
               {"scale", 0.9},
               {"mask", std::string("lengths")}});
        auto bx = upload(s, elements_of(t, x));
        auto bl = upload(s, len);
        REQUIRE_OK(op.enqueue(s, {bx.get(), bx.get(), bl.get()}));
        check_nmse(values_of(download(s, *bx, t, x.size())), stored_as(t, want), t);
      }
      {
        const auto gu = stored_as(t, uniform(rows * 2 * dim, -6, 6, 4));
        std::vector<double> want(static_cast<size_t>(rows * dim));
        ref::swiglu(gu.data(), want.data(), rows, dim);
        Op op(gpu(), "swiglu.v1", {{"rows", rows}, {"dim", dim}, {"dtype", std::string(t)}});
        auto bg = upload(s, elements_of(t, gu));
        Buffer by(gpu(), want.size() * Elements::width(t));
        REQUIRE_OK(op.enqueue(s, {bg.get(), &by}));
        check_nmse(values_of(download(s, by, t, want.size())), stored_as(t, want), t);
        Buffer small(gpu(), want.size() * Elements::width(t) - 1);
        CHECK(Plugin::get().code(op.enqueue(s, {bg.get(), &small})) == CMTR_ERROR_INVALID_ARGUMENT);
      }
    }
  }

  TEST_CASE("gpu: rope.v1 (both layouts, negative and large positions), kv_append.v1, embedding.v1") {
    for (const char* t : kInferDtypes) {
      CAPTURE(t);
      Stream s(gpu());
      for (const char* layout : {"half", "interleaved"}) {
        const int64_t rows = 4, heads = 3, head_dim = 18;
        const std::vector<int32_t> pos = {0, 9, -1, 7000};
        const auto x = stored_as(t, uniform(rows * heads * head_dim, -2, 2, 5));
        std::vector<double> want = x;
        ref::rope(want.data(), pos.data(), rows, heads, head_dim, std::string(layout) == "interleaved",
                  10000.0);
        Op op(gpu(), "rope.v1",
              {{"rows", rows},
               {"heads", heads},
               {"head_dim", head_dim},
               {"dtype", std::string(t)},
               {"layout", std::string(layout)}});
        auto bx = upload(s, elements_of(t, x));
        auto bp = upload(s, pos);
        REQUIRE_OK(op.enqueue(s, {bx.get(), bp.get()}));
        check_nmse(values_of(download(s, *bx, t, x.size())), stored_as(t, want), t);
      }
      {
        const int64_t rows = 5, kv_heads = 2, head_dim = 13, slots = 3, capacity = 4;
        const std::vector<int32_t> slot = {0, 2, -1, 1, 3}, pos = {3, 0, 1, 4, 0};
        const auto src = stored_as(t, uniform(rows * kv_heads * head_dim, -1, 1, 6));
        const auto cache = stored_as(t, uniform(slots * kv_heads * capacity * head_dim, 5, 6, 7));
        std::vector<double> want = cache;
        ref::kv_append(src.data(), want.data(), slot.data(), pos.data(), rows, kv_heads, head_dim, slots,
                       capacity);
        Op op(gpu(), "kv_append.v1",
              {{"rows", rows},
               {"kv_heads", kv_heads},
               {"head_dim", head_dim},
               {"slots", slots},
               {"capacity", capacity},
               {"dtype", std::string(t)}});
        auto bs = upload(s, elements_of(t, src));
        auto bc = upload(s, elements_of(t, cache));
        auto bsl = upload(s, slot);
        auto bp = upload(s, pos);
        REQUIRE_OK(op.enqueue(s, {bs.get(), bc.get(), bsl.get(), bp.get()}));
        CHECK(values_of(download(s, *bc, t, cache.size())) == want);
      }
      {
        const int64_t rows = 6, vocab = 7, dim = 19;
        const std::vector<int32_t> ids = {3, 0, -1, 6, 7, 3};
        const auto table = stored_as(t, uniform(vocab * dim, -1, 1, 8));
        std::vector<double> want(static_cast<size_t>(rows * dim));
        ref::embedding(table.data(), ids.data(), want.data(), rows, vocab, dim);
        Op op(gpu(), "embedding.v1",
              {{"rows", rows}, {"vocab", vocab}, {"dim", dim}, {"dtype", std::string(t)}});
        auto bt = upload(s, elements_of(t, table));
        auto bi = upload(s, ids);
        auto by = upload(s, elements_of(t, std::vector<double>(want.size(), 9.0)));
        REQUIRE_OK(op.enqueue(s, {bt.get(), bi.get(), by.get()}));
        CHECK(values_of(download(s, *by, t, want.size())) == want);
      }
    }
  }

  TEST_CASE("gpu: argmax.v1 over several chunks (ties lowest, NaN never wins) and eltwise.v1") {
    for (const char* t : kInferDtypes) {
      CAPTURE(t);
      Stream s(gpu());
      for (int64_t cols : {int64_t{7}, int64_t{20001}}) {
        const int64_t rows = 4;
        auto x = uniform(rows * cols, -10, 10, 9);
        const double nan = std::nan("");
        x[cols - 1] = 50;  // row 0: a tie, the lower index wins
        x[1] = 50;
        x[cols] = nan;  // row 1: NaN first and last, the maximum between
        x[cols + cols / 2] = 40;
        x[2 * cols - 1] = nan;
        for (int64_t c = 0; c < cols; ++c) x[2 * cols + c] = nan;  // row 2: all NaN -> 0
        x[4 * cols - 1] = 30;                                      // row 3: the maximum last
        x = stored_as(t, x);
        std::vector<int32_t> want(rows);
        ref::argmax(x.data(), want.data(), rows, cols);
        Op op(gpu(), "argmax.v1", {{"rows", rows}, {"cols", cols}, {"dtype", std::string(t)}});
        auto bx = upload(s, elements_of(t, x));
        auto out = upload(s, std::vector<int32_t>(rows, -7));
        REQUIRE_OK(op.enqueue(s, {bx.get(), out.get()}));
        std::vector<int32_t> got(rows);
        REQUIRE_OK(s.read(*out, got.data(), got.size() * 4));
        REQUIRE_OK(s.sync());
        CHECK(got == want);
      }
      const int64_t n = 1001;
      const auto a = stored_as(t, uniform(n, -3, 3, 10)), b = stored_as(t, uniform(n, -3, 3, 11));
      for (const char* kind : {"add", "mul", "scale"}) {
        CAPTURE(kind);
        const std::string k = kind;
        std::vector<double> want(a.size());
        for (size_t i = 0; i < a.size(); ++i)
          want[i] = static_cast<float>(k == "add" ? a[i] + b[i] : k == "mul" ? a[i] * b[i] : 1.75 * a[i]);
        Params p = {{"kind", k}, {"n", n}, {"dtype", std::string(t)}};
        if (k == "scale") p["scalar"] = 1.75;
        Op op(gpu(), "eltwise.v1", p);
        auto ba = upload(s, elements_of(t, a));
        auto bb = upload(s, elements_of(t, b));
        if (k == "scale")
          REQUIRE_OK(op.enqueue(s, {ba.get(), ba.get()}));
        else
          REQUIRE_OK(op.enqueue(s, {ba.get(), bb.get(), ba.get()}));
        CHECK(values_of(download(s, *ba, t, a.size())) == stored_as(t, want));  // one f32 op, one rounding
      }
      for (const char* to : kInferDtypes) {
        CAPTURE(to);
        Op op(gpu(), "eltwise.v1",
              {{"kind", std::string("cast")},
               {"n", n},
               {"dtype", std::string(t)},
               {"dtype_out", std::string(to)}});
        auto ba = upload(s, elements_of(t, a));
        Buffer by(gpu(), static_cast<uint64_t>(n) * Elements::width(to));
        REQUIRE_OK(op.enqueue(s, {ba.get(), &by}));
        CHECK(values_of(download(s, by, to, a.size())) == stored_as(to, a));
      }
    }
  }
}

int main(int argc, char** argv) {
  bool gpu_only = false, no_gpu = false;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gpu-only") == 0)
      gpu_only = true;
    else if (std::strcmp(argv[i], "--no-gpu") == 0)
      no_gpu = true;
    else
      rest.push_back(argv[i]);
  }
  doctest::Context context(static_cast<int>(rest.size()), rest.data());
  Plugin& p = Plugin::get();
  if (gpu_only) {
    if (p.api == nullptr || p.devices.empty()) {
      std::printf("SKIP: no CUDA device (%s)\n", p.api == nullptr ? "plugin not loaded" : p.status().c_str());
      return 77;
    }
    context.addFilter("test-suite", "gpu");
  } else if (no_gpu) {
    context.addFilter("test-suite-exclude", "gpu");
  } else if (p.devices.empty()) {
    std::printf("no CUDA device: the gpu test suite is skipped (%s)\n", p.status().c_str());
    context.addFilter("test-suite-exclude", "gpu");
  }
  return context.run();
}
