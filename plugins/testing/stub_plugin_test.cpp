// Sanity tests of the test plugins themselves, driven through dlopen and the raw C ABI.
//
// Why this file exists: the host's loader and conformance tests trust the stub to be a correct
// plugin and each variant to fail in exactly one way. These tests pin that down without the host:
// the stub's every op against a host reference and its error paths, the wrong-GEMM and too-fast
// faults, and what dlopen/dlsym/the table say for each broken variant.
#include <cmeter/plugin_abi.h>
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Loaded {
  void* handle = nullptr;
  const CMTR_Api* api = nullptr;
  std::string error;  // dlerror text, when handle or symbol is missing
};

Loaded load(const char* path) {
  Loaded l;
  dlerror();
  l.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (l.handle == nullptr) {
    const char* e = dlerror();
    l.error = e ? e : "";
    return l;
  }
  void* sym = dlsym(l.handle, CMTR_GET_API_SYMBOL);
  if (sym == nullptr) {
    const char* e = dlerror();
    l.error = e ? e : "";
    return l;
  }
  l.api = reinterpret_cast<CMTR_GetApiFn*>(sym)();
  return l;
}

CMTR_String str(const char* s) {
  return CMTR_String{s, std::strlen(s)};
}
std::string to_string(CMTR_String s) {
  return s.data ? std::string(s.data, s.size) : std::string();
}

CMTR_KeyValue kv_int(const char* k, int64_t v) {
  CMTR_KeyValue kv{};
  kv.key = str(k);
  kv.type = CMTR_VALUE_INT64;
  kv.int_value = v;
  return kv;
}
CMTR_KeyValue kv_double(const char* k, double v) {
  CMTR_KeyValue kv{};
  kv.key = str(k);
  kv.type = CMTR_VALUE_DOUBLE;
  kv.double_value = v;
  return kv;
}
CMTR_KeyValue kv_bool(const char* k, bool v) {
  CMTR_KeyValue kv{};
  kv.key = str(k);
  kv.type = CMTR_VALUE_BOOL;
  kv.int_value = v ? 1 : 0;
  return kv;
}
CMTR_KeyValue kv_string(const char* k, const char* v) {
  CMTR_KeyValue kv{};
  kv.key = str(k);
  kv.type = CMTR_VALUE_STRING;
  kv.string_value = str(v);
  return kv;
}

struct ErrorInfo {
  bool ok = true;
  int code = 0;
  std::string message;
};

// Takes ownership of `error`: reads it and destroys it.
ErrorInfo take(const CMTR_Api* api, CMTR_Error* error) {
  ErrorInfo info;
  if (error == nullptr) return info;
  CMTR_Error_Info_Args ia{};
  ia.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message);
  ia.error = error;
  api->error_info(&ia);
  info.ok = false;
  info.code = ia.code;
  info.message = to_string(ia.message);
  CMTR_Error_Destroy_Args da{};
  da.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error);
  da.error = error;
  api->error_destroy(&da);
  return info;
}

#define REQUIRE_OK(api, expr)              \
  do {                                     \
    ErrorInfo info_ = take((api), (expr)); \
    INFO("error: ", info_.message);        \
    REQUIRE(info_.ok);                     \
  } while (0)

const CMTR_KeyValue* find(const CMTR_KeyValue* kvs, size_t n, const char* key) {
  for (size_t i = 0; i < n; ++i)
    if (to_string(kvs[i].key) == key) return &kvs[i];
  return nullptr;
}

// One initialised plugin with its device and a stream.
struct Session {
  Loaded lib;
  const CMTR_Api* api = nullptr;
  CMTR_Device* device = nullptr;
  CMTR_Stream* stream = nullptr;
  std::string plugin_name;

  explicit Session(const char* path) : lib(load(path)) {
    INFO("dlerror: ", lib.error);
    REQUIRE(lib.api != nullptr);
    api = lib.api;
    CMTR_Plugin_Initialize_Args ia{};
    ia.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
    ia.host_abi_major = CMTR_ABI_MAJOR;
    ia.host_abi_minor = CMTR_ABI_MINOR;
    REQUIRE_OK(api, api->plugin_initialize(&ia));
    const CMTR_KeyValue* name = find(ia.attributes, ia.num_attributes, "plugin.name");
    REQUIRE(name != nullptr);
    plugin_name = to_string(name->string_value);
    CMTR_Plugin_Devices_Args da{};
    da.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Devices_Args, num_devices);
    REQUIRE_OK(api, api->plugin_devices(&da));
    REQUIRE(da.num_devices == 1);
    device = da.devices[0];
    CMTR_Stream_Create_Args sa{};
    sa.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream);
    sa.device = device;
    REQUIRE_OK(api, api->stream_create(&sa));
    stream = sa.stream;
  }
  ~Session() {
    if (stream) {
      CMTR_Stream_Destroy_Args a{};
      a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Destroy_Args, stream);
      a.stream = stream;
      take(api, api->stream_destroy(&a));
    }
    if (api) {
      CMTR_Plugin_Shutdown_Args a{};
      a.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Shutdown_Args, extension);
      take(api, api->plugin_shutdown(&a));
    }
    if (lib.handle) dlclose(lib.handle);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  CMTR_Buffer* buffer(size_t bytes, int kind = CMTR_MEMORY_DEVICE) {
    CMTR_Buffer_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
    a.device = device;
    a.size_bytes = bytes;
    a.memory_kind = kind;
    REQUIRE_OK(api, api->buffer_create(&a));
    return a.buffer;
  }
  template <class T>
  CMTR_Buffer* upload(const std::vector<T>& data) {
    CMTR_Buffer* b = buffer(data.size() * sizeof(T));
    CMTR_Buffer_Write_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Write_Args, size_bytes);
    a.stream = stream;
    a.buffer = b;
    a.host_pointer = data.data();
    a.size_bytes = data.size() * sizeof(T);
    REQUIRE_OK(api, api->buffer_write(&a));
    return b;
  }
  template <class T>
  std::vector<T> download(CMTR_Buffer* b, size_t count) {
    std::vector<T> out(count);
    CMTR_Buffer_Read_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Read_Args, size_bytes);
    a.stream = stream;
    a.buffer = b;
    a.host_pointer = out.data();
    a.size_bytes = count * sizeof(T);
    REQUIRE_OK(api, api->buffer_read(&a));
    sync();
    return out;
  }
  void free_buffer(CMTR_Buffer* b) {
    CMTR_Buffer_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
    a.buffer = b;
    REQUIRE_OK(api, api->buffer_destroy(&a));
  }
  void sync() {
    CMTR_Stream_Synchronize_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
    a.stream = stream;
    REQUIRE_OK(api, api->stream_synchronize(&a));
  }
  struct Query {
    ErrorInfo error;
    bool supported = false;
    std::string reason;
  };
  Query query(const char* name, const std::vector<CMTR_KeyValue>& params) {
    char reason[256];
    CMTR_Op_Query_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_size);
    a.device = device;
    a.name = str(name);
    a.params = params.data();
    a.num_params = params.size();
    a.reason_buffer = reason;
    a.reason_buffer_size = sizeof(reason);
    Query q;
    q.error = take(api, api->op_query(&a));
    if (q.error.ok) {
      q.supported = a.supported == 1;
      q.reason.assign(reason, a.reason_size);
    }
    return q;
  }
  CMTR_Op* create(const char* name, const std::vector<CMTR_KeyValue>& params) {
    CMTR_Op_Create_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Create_Args, op);
    a.device = device;
    a.name = str(name);
    a.params = params.data();
    a.num_params = params.size();
    REQUIRE_OK(api, api->op_create(&a));
    return a.op;
  }
  ErrorInfo enqueue(CMTR_Op* op, const std::vector<CMTR_Buffer*>& buffers) {
    CMTR_Op_Enqueue_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
    a.op = op;
    a.stream = stream;
    a.buffers = buffers.data();
    a.num_buffers = buffers.size();
    return take(api, api->op_enqueue(&a));
  }
  void destroy(CMTR_Op* op) {
    CMTR_Op_Destroy_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Destroy_Args, op);
    a.op = op;
    REQUIRE_OK(api, api->op_destroy(&a));
  }
  CMTR_Event* record() {
    CMTR_Event_Record_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Record_Args, event);
    a.stream = stream;
    REQUIRE_OK(api, api->event_record(&a));
    return a.event;
  }
  double elapsed(CMTR_Event* start, CMTR_Event* stop) {
    CMTR_Event_Elapsed_Args a{};
    a.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
    a.start = start;
    a.stop = stop;
    REQUIRE_OK(api, api->event_elapsed(&a));
    for (CMTR_Event* e : {start, stop}) {
      CMTR_Event_Destroy_Args d{};
      d.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Destroy_Args, event);
      d.event = e;
      REQUIRE_OK(api, api->event_destroy(&d));
    }
    return a.elapsed_s;
  }
};

// ---- Host references ----

struct GemmCase {
  int64_t m, n, k;
  bool ta, tb;
  int64_t lda, ldb, ldc, batch, sa, sb, sc;
  double alpha, beta;
};

template <class T>
std::vector<T> pattern(size_t n, int seed) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = T(((i * 37 + seed * 11) % 19) / 8.0 - 1.0);
  return v;
}

template <class T>
void gemm_reference(const GemmCase& g, const std::vector<T>& A, const std::vector<T>& B,
                    std::vector<double>& C) {
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t j = 0; j < g.n; ++j)
      for (int64_t i = 0; i < g.m; ++i) {
        double acc = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          double av = g.ta ? A[b * g.sa + p + i * g.lda] : A[b * g.sa + i + p * g.lda];
          double bv = g.tb ? B[b * g.sb + j + p * g.ldb] : B[b * g.sb + p + j * g.ldb];
          acc += av * bv;
        }
        double& c = C[b * g.sc + i + j * g.ldc];
        c = g.alpha * acc + g.beta * c;
      }
}

// Runs one gemm on the session and returns C; `params_out` gets the params used.
template <class T>
std::vector<T> run_gemm(Session& s, const GemmCase& g, const char* dtype, const std::vector<T>& A,
                        const std::vector<T>& B, const std::vector<T>& C0) {
  std::vector<CMTR_KeyValue> params = {kv_int("m", g.m),          kv_int("n", g.n),
                                       kv_int("k", g.k),          kv_string("dtype_a", dtype),
                                       kv_bool("trans_a", g.ta),  kv_bool("trans_b", g.tb),
                                       kv_int("lda", g.lda),      kv_int("ldb", g.ldb),
                                       kv_int("ldc", g.ldc),      kv_double("alpha", g.alpha),
                                       kv_double("beta", g.beta), kv_int("batch", g.batch),
                                       kv_int("stride_a", g.sa),  kv_int("stride_b", g.sb),
                                       kv_int("stride_c", g.sc),  kv_string("hint.tile", "ignored")};
  auto q = s.query("gemm.v1", params);
  REQUIRE(q.error.ok);
  REQUIRE(q.supported);
  CMTR_Op* op = s.create("gemm.v1", params);
  CMTR_Buffer* a = s.upload(A);
  CMTR_Buffer* b = s.upload(B);
  CMTR_Buffer* c = s.upload(C0);
  ErrorInfo e = s.enqueue(op, {a, b, c});
  INFO(e.message);
  REQUIRE(e.ok);
  std::vector<T> out = s.download<T>(c, C0.size());
  s.free_buffer(a);
  s.free_buffer(b);
  s.free_buffer(c);
  s.destroy(op);
  return out;
}

template <class T>
void check_gemm(Session& s, const GemmCase& g, const char* dtype, double tol) {
  const int64_t rows_a = g.ta ? g.k : g.m, cols_a = g.ta ? g.m : g.k;
  const int64_t rows_b = g.tb ? g.n : g.k, cols_b = g.tb ? g.k : g.n;
  (void)rows_a;
  (void)rows_b;
  std::vector<T> A = pattern<T>(size_t((g.batch - 1) * g.sa + g.lda * cols_a), 1);
  std::vector<T> B = pattern<T>(size_t((g.batch - 1) * g.sb + g.ldb * cols_b), 2);
  std::vector<T> C0 = pattern<T>(size_t((g.batch - 1) * g.sc + g.ldc * g.n), 3);
  std::vector<T> got = run_gemm<T>(s, g, dtype, A, B, C0);
  std::vector<double> ref(C0.begin(), C0.end());
  gemm_reference(g, A, B, ref);
  for (size_t i = 0; i < ref.size(); ++i) {
    INFO("element ", i);
    CHECK(std::fabs(double(got[i]) - ref[i]) <= tol * (1.0 + std::fabs(ref[i])));
  }
}

template <class T>
float fma_reference(int64_t iters, int64_t lanes, double a, double b, double x0, double dx) {
  T x[32];
  for (int64_t l = 0; l < lanes; ++l) x[l] = T(x0 + double(l) * dx);
  for (int64_t it = 0; it < iters; ++it)
    for (int64_t l = 0; l < lanes; ++l) x[l] = std::fma(x[l], T(a), T(b));
  float sum = 0;
  for (int64_t l = 0; l < lanes; ++l) sum += float(x[l]);
  return sum;
}

const GemmCase kGemmCases[] = {
    {3, 4, 5, false, false, 3, 5, 3, 1, 15, 20, 12, 1.0, 0.0},
    {5, 3, 7, true, false, 9, 8, 6, 1, 45, 24, 18, 0.5, 0.0},
    {4, 6, 3, false, true, 5, 7, 4, 3, 20, 21, 30, 1.5, -0.75},
    {7, 5, 4, true, true, 4, 5, 7, 2, 40, 30, 35, -1.0, 2.0},
};

}  // namespace

TEST_CASE("stub: table size, version and slots") {
  Loaded l = load(CMETER_TEST_PLUGIN_STUB);
  INFO(l.error);
  REQUIRE(l.api != nullptr);
  CHECK(l.api->struct_size == CMTR_API_STRUCT_SIZE_1_0);
  CHECK(l.api->abi_major == CMTR_ABI_MAJOR);
  CHECK(l.api->abi_minor == CMTR_ABI_MINOR);
  CHECK_FALSE(bool(l.api->device_telemetry));
  CHECK(bool(l.api->op_destroy));
  CHECK(bool(l.api->event_elapsed));
  dlclose(l.handle);
}

TEST_CASE("stub: plugin and device attributes") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  CHECK(s.plugin_name == "stub");
  CMTR_Device_Attributes_Args a{};
  a.struct_size = CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes);
  a.device = s.device;
  REQUIRE_OK(s.api, s.api->device_attributes(&a));
  auto get = [&](const char* k) { return find(a.attributes, a.num_attributes, k); };
  REQUIRE(get("name") != nullptr);
  CHECK(to_string(get("name")->string_value) == "cmeter stub device");
  CHECK(to_string(get("kind")->string_value) == "other");
  CHECK(get("mem.bytes")->int_value == (int64_t(1) << 30));
  CHECK(get("cache.llc.bytes")->int_value == (int64_t(1) << 20));
  CHECK(get("peak.flops.f32")->double_value == 1e12);
  CHECK(get("peak.flops.f64")->double_value == 5e11);
  CHECK(get("peak.mem.bytes_per_s")->double_value == 1e12);
  CHECK(to_string(get("peak.source")->string_value) == "stub: declared");
  CHECK(to_string(get("timer.kind")->string_value) == "host.steady_clock in stream order");
}

TEST_CASE("stub: buffers round-trip, both memory kinds, host pointer") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  for (int kind : {CMTR_MEMORY_DEVICE, CMTR_MEMORY_HOST_PINNED}) {
    std::vector<uint8_t> data(100);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 3);
    CMTR_Buffer* b = s.buffer(data.size(), kind);
    CMTR_Buffer_Write_Args w{};
    w.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Write_Args, size_bytes);
    w.stream = s.stream;
    w.buffer = b;
    w.host_pointer = data.data();
    w.size_bytes = data.size();
    REQUIRE_OK(s.api, s.api->buffer_write(&w));
    CHECK(s.download<uint8_t>(b, 100) == data);
    CMTR_Buffer_Host_Pointer_Args h{};
    h.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Host_Pointer_Args, host_pointer);
    h.buffer = b;
    REQUIRE_OK(s.api, s.api->buffer_host_pointer(&h));
    REQUIRE(h.host_pointer != nullptr);
    CHECK(std::memcmp(h.host_pointer, data.data(), data.size()) == 0);
    // Out of range.
    w.offset_bytes = 50;
    w.size_bytes = 51;
    ErrorInfo e = take(s.api, s.api->buffer_write(&w));
    CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
    CHECK(e.message.find("outside") != std::string::npos);
    s.free_buffer(b);
  }
}

TEST_CASE("stub: gemm.v1 f32 and f64 against a host reference") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  for (const GemmCase& g : kGemmCases) {
    CAPTURE(g.m);
    CAPTURE(g.ta);
    CAPTURE(g.tb);
    CAPTURE(g.batch);
    check_gemm<float>(s, g, "f32", 1e-5);
    check_gemm<double>(s, g, "f64", 1e-12);
  }
}

TEST_CASE("stub: gemm.v1 defaults (tight ld and strides, alpha 1, beta 0)") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  std::vector<float> A = {1, 2, 3, 4}, B = {5, 6, 7, 8}, C = {100, 100, 100, 100};
  std::vector<CMTR_KeyValue> params = {kv_int("m", 2), kv_int("n", 2), kv_int("k", 2),
                                       kv_string("dtype_a", "f32")};
  CMTR_Op* op = s.create("gemm.v1", params);
  CMTR_Buffer* a = s.upload(A);
  CMTR_Buffer* b = s.upload(B);
  CMTR_Buffer* c = s.upload(C);
  REQUIRE(s.enqueue(op, {a, b, c}).ok);
  // Column-major: A = [1 3; 2 4], B = [5 7; 6 8], A*B = [23 31; 34 46].
  CHECK(s.download<float>(c, 4) == std::vector<float>{23, 34, 31, 46});
  CMTR_Op_Attributes_Args at{};
  at.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Attributes_Args, num_attributes);
  at.op = op;
  REQUIRE_OK(s.api, s.api->op_attributes(&at));
  REQUIRE(find(at.attributes, at.num_attributes, "impl") != nullptr);
  // Too-small C buffer.
  CMTR_Buffer* small = s.buffer(8);
  ErrorInfo e = s.enqueue(op, {a, b, small});
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("buffer C") != std::string::npos);
  // Wrong buffer count.
  e = s.enqueue(op, {a, b});
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  // A NULL buffer.
  e = s.enqueue(op, {a, nullptr, c});
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  for (CMTR_Buffer* x : {a, b, c, small}) s.free_buffer(x);
  s.destroy(op);
}

TEST_CASE("stub: fma_peak.v1 matches the catalogue's simulation exactly") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  struct Case {
    const char* dtype;
    int64_t items, iters, lanes;
    double a, b;
  };
  for (const Case& c : {Case{"f32", 5, 100, 8, 1.0, 1.0 / 1024}, Case{"f32", 3, 37, 3, 0.999, 0.25},
                        Case{"f64", 4, 100, 32, 1.0, 1.0 / 4096}, Case{"f64", 2, 50, 1, 1.0001, -0.5}}) {
    CAPTURE(c.dtype);
    CAPTURE(c.lanes);
    std::vector<CMTR_KeyValue> params = {kv_string("dtype", c.dtype), kv_int("items", c.items),
                                         kv_int("iters", c.iters),    kv_int("lanes", c.lanes),
                                         kv_double("a", c.a),         kv_double("b", c.b)};
    CMTR_Op* op = s.create("fma_peak.v1", params);
    CMTR_Buffer* out = s.buffer(size_t(c.items) * 4);
    REQUIRE(s.enqueue(op, {out}).ok);
    std::vector<float> got = s.download<float>(out, size_t(c.items));
    float ref = std::string(c.dtype) == "f32"
                    ? fma_reference<float>(c.iters, c.lanes, c.a, c.b, 1.0, 1.0 / 64)
                    : fma_reference<double>(c.iters, c.lanes, c.a, c.b, 1.0, 1.0 / 64);
    for (float v : got) CHECK(v == ref);
    s.free_buffer(out);
    s.destroy(op);
  }
  // Defaults: lanes 8, a 1, x0 1, dx 1/64.
  std::vector<CMTR_KeyValue> params = {kv_string("dtype", "f32"), kv_int("items", 2), kv_int("iters", 0)};
  CMTR_Op* op = s.create("fma_peak.v1", params);
  CMTR_Buffer* out = s.buffer(8);
  REQUIRE(s.enqueue(op, {out}).ok);
  CHECK(s.download<float>(out, 2)[1] == 8.0f + 28.0f / 64.0f);
  s.free_buffer(out);
  s.destroy(op);
  // lanes out of range; f16 unsupported with a reason.
  auto q = s.query("fma_peak.v1",
                   {kv_string("dtype", "f32"), kv_int("items", 1), kv_int("iters", 1), kv_int("lanes", 33)});
  CHECK(q.error.code == CMTR_ERROR_INVALID_ARGUMENT);
  q = s.query("fma_peak.v1", {kv_string("dtype", "f16"), kv_int("items", 1), kv_int("iters", 1)});
  CHECK(q.error.ok);
  CHECK_FALSE(q.supported);
  CHECK(q.reason.find("f16") != std::string::npos);
}

TEST_CASE("stub: stream.v1 all kinds, f32 and f64") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  const int64_t n = 17;
  const double scalar = 2.5;
  for (const char* kind : {"copy", "scale", "add", "triad"}) {
    for (const char* dtype : {"f32", "f64"}) {
      CAPTURE(kind);
      CAPTURE(dtype);
      std::vector<double> A(n), B(n), C(n);
      for (int64_t i = 0; i < n; ++i) A[i] = 1.0 + i, B[i] = 2.0 * i, C[i] = 0.5 * i - 3;
      std::vector<double> eA = A, eB = B, eC = C;
      std::string k = kind;
      for (int64_t i = 0; i < n; ++i) {
        if (k == "copy") eC[i] = A[i];
        if (k == "scale") eB[i] = scalar * C[i];
        if (k == "add") eC[i] = A[i] + B[i];
        if (k == "triad") eA[i] = B[i] + scalar * C[i];
      }
      std::vector<CMTR_KeyValue> params = {kv_string("kind", kind), kv_string("dtype", dtype), kv_int("n", n),
                                           kv_double("scalar", scalar)};
      CMTR_Op* op = s.create("stream.v1", params);
      auto check = [&](auto zero) {
        using T = decltype(zero);
        CMTR_Buffer* a = s.upload(std::vector<T>(A.begin(), A.end()));
        CMTR_Buffer* b = s.upload(std::vector<T>(B.begin(), B.end()));
        CMTR_Buffer* c = s.upload(std::vector<T>(C.begin(), C.end()));
        REQUIRE(s.enqueue(op, {a, b, c}).ok);
        CHECK(s.download<T>(a, n) == std::vector<T>(eA.begin(), eA.end()));
        CHECK(s.download<T>(b, n) == std::vector<T>(eB.begin(), eB.end()));
        CHECK(s.download<T>(c, n) == std::vector<T>(eC.begin(), eC.end()));
        for (CMTR_Buffer* x : {a, b, c}) s.free_buffer(x);
      };
      if (std::string(dtype) == "f32")
        check(float{});
      else
        check(double{});
      s.destroy(op);
    }
  }
  auto q = s.query("stream.v1", {kv_string("kind", "copy"), kv_int("n", 4), kv_string("dtype", "f16")});
  CHECK(q.error.ok);
  CHECK_FALSE(q.supported);
  q = s.query("stream.v1", {kv_string("kind", "saxpy"), kv_int("n", 4)});
  CHECK(q.error.code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("stub: copy.v1, noop.v1 and events") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  std::vector<uint8_t> src(64), dst(64, 0);
  for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(255 - i);
  CMTR_Op* copy = s.create("copy.v1", {kv_int("bytes", 40)});
  CMTR_Buffer* a = s.upload(src);
  CMTR_Buffer* b = s.upload(dst);
  CMTR_Event* start = s.record();
  REQUIRE(s.enqueue(copy, {a, b}).ok);
  CMTR_Event* stop = s.record();
  s.sync();
  CHECK(s.elapsed(start, stop) >= 0.0);
  std::vector<uint8_t> expect = src;
  std::fill(expect.begin() + 40, expect.end(), 0);
  CHECK(s.download<uint8_t>(b, 64) == expect);
  s.free_buffer(a);
  s.free_buffer(b);
  s.destroy(copy);

  CMTR_Op* noop = s.create("noop.v1", {});
  CHECK(s.enqueue(noop, {}).ok);
  s.destroy(noop);
  auto q = s.query("noop.v1", {kv_int("x", 1)});
  CHECK(q.error.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(q.error.message.find("'x'") != std::string::npos);
}

TEST_CASE("stub: op_query answers and argument errors") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  std::vector<CMTR_KeyValue> base = {kv_int("m", 4), kv_int("n", 4), kv_int("k", 4),
                                     kv_string("dtype_a", "f32")};
  CHECK(s.query("gemm.v1", base).supported);

  auto p = base;
  p.push_back(kv_int("bogus_key", 1));
  auto q = s.query("gemm.v1", p);
  CHECK(q.error.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(q.error.message.find("bogus_key") != std::string::npos);

  p = base;
  p.push_back(kv_int("hint.anything", 1));
  CHECK(s.query("gemm.v1", p).supported);

  p = base;
  p[3] = kv_string("dtype_a", "f16");
  q = s.query("gemm.v1", p);
  CHECK(q.error.ok);
  CHECK_FALSE(q.supported);
  CHECK(q.reason.find("f16") != std::string::npos);

  p = base;
  p[3] = kv_string("dtype_a", "f17");
  CHECK(s.query("gemm.v1", p).error.code == CMTR_ERROR_INVALID_ARGUMENT);

  p = base;
  p[0] = kv_string("m", "4");  // wrong type
  CHECK(s.query("gemm.v1", p).error.code == CMTR_ERROR_INVALID_ARGUMENT);

  p = {kv_int("n", 4), kv_int("k", 4), kv_string("dtype_a", "f32")};  // m missing
  q = s.query("gemm.v1", p);
  CHECK(q.error.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(q.error.message.find("'m'") != std::string::npos);

  q = s.query("softmax.v1", {});
  CHECK(q.error.ok);
  CHECK_FALSE(q.supported);
  CHECK_FALSE(q.reason.empty());

  // op_create of an unsupported op is an error carrying the reason.
  CMTR_Op_Create_Args c{};
  c.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Create_Args, op);
  c.device = s.device;
  c.name = str("softmax.v1");
  ErrorInfo e = take(s.api, s.api->op_create(&c));
  CHECK(e.code == CMTR_ERROR_NOT_FOUND);
}

TEST_CASE("stub: NULL args, short struct_size and NULL handles are errors") {
  Session s(CMETER_TEST_PLUGIN_STUB);
  const CMTR_Api* api = s.api;
  ErrorInfo e = take(api, api->buffer_create(nullptr));
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("NULL") != std::string::npos);

  CMTR_Buffer_Create_Args bc{};
  bc.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, memory_kind);  // one field short
  bc.device = s.device;
  bc.size_bytes = 16;
  e = take(api, api->buffer_create(&bc));
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("struct_size") != std::string::npos);

  bc.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
  bc.device = nullptr;
  e = take(api, api->buffer_create(&bc));
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("device is NULL") != std::string::npos);

  bc.device = s.device;
  bc.size_bytes = 0;
  CHECK(take(api, api->buffer_create(&bc)).code == CMTR_ERROR_INVALID_ARGUMENT);
  bc.size_bytes = uint64_t(1) << 40;
  CHECK(take(api, api->buffer_create(&bc)).code == CMTR_ERROR_RESOURCE_EXHAUSTED);

  CMTR_Stream_Synchronize_Args ss{};
  ss.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
  CHECK(take(api, api->stream_synchronize(&ss)).code == CMTR_ERROR_INVALID_ARGUMENT);

  CMTR_Buffer_Destroy_Args bd{};
  bd.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer);
  CHECK(take(api, api->buffer_destroy(&bd)).code == CMTR_ERROR_INVALID_ARGUMENT);
  // A stream handle passed as a buffer is caught.
  bd.buffer = reinterpret_cast<CMTR_Buffer*>(s.stream);
  CHECK(take(api, api->buffer_destroy(&bd)).code == CMTR_ERROR_INVALID_ARGUMENT);

  CMTR_Event_Elapsed_Args ee{};
  ee.struct_size = CMTR_STRUCT_SIZE(CMTR_Event_Elapsed_Args, elapsed_s);
  CHECK(take(api, api->event_elapsed(&ee)).code == CMTR_ERROR_INVALID_ARGUMENT);

  CMTR_Op_Enqueue_Args oe{};
  oe.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
  oe.stream = s.stream;
  e = take(api, api->op_enqueue(&oe));
  CHECK(e.code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(e.message.find("op is NULL") != std::string::npos);

  CMTR_Op_Query_Args oq{};
  oq.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_buffer_size);  // short
  oq.device = s.device;
  oq.name = str("noop.v1");
  CHECK(take(api, api->op_query(&oq)).code == CMTR_ERROR_INVALID_ARGUMENT);

  CMTR_Plugin_Initialize_Args pi{};
  pi.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
  pi.host_abi_major = 2;
  CHECK(take(api, api->plugin_initialize(&pi)).code == CMTR_ERROR_INVALID_ARGUMENT);

  // error_info tolerates a short struct and leaves it alone.
  CMTR_Error_Info_Args ei{};
  ei.struct_size = 8;
  api->error_info(&ei);
  CHECK(ei.message.data == nullptr);
}

TEST_CASE("wronggemm: the same gemm gives a different C") {
  GemmCase g = kGemmCases[2];
  std::vector<float> A = pattern<float>(size_t((g.batch - 1) * g.sa + g.lda * g.k), 1);
  std::vector<float> B = pattern<float>(size_t((g.batch - 1) * g.sb + g.ldb * g.k), 2);
  std::vector<float> C0 = pattern<float>(size_t((g.batch - 1) * g.sc + g.ldc * g.n), 3);
  std::vector<float> good, bad;
  {
    Session s(CMETER_TEST_PLUGIN_STUB);
    good = run_gemm<float>(s, g, "f32", A, B, C0);
  }
  {
    Session s(CMETER_TEST_PLUGIN_WRONGGEMM);
    CHECK(s.plugin_name == "wronggemm");
    bad = run_gemm<float>(s, g, "f32", A, B, C0);
  }
  REQUIRE(good.size() == bad.size());
  int differ = 0;
  double max_diff = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    double d = std::fabs(double(good[i]) - double(bad[i]));
    if (d > 0) ++differ;
    max_diff = std::max(max_diff, d);
  }
  CHECK(differ > 0);
  CHECK(differ < int(good.size()) / 2);  // subtle: most elements are right
  CHECK(max_diff == doctest::Approx(1e-2).epsilon(1e-3));
}

namespace {
// Seconds the plugin reports for one gemm, and the seconds the host measured around it.
std::pair<double, double> timed_gemm(const char* path) {
  Session s(path);
  const int64_t n = 96;
  std::vector<CMTR_KeyValue> params = {kv_int("m", n), kv_int("n", n), kv_int("k", n),
                                       kv_string("dtype_a", "f64")};
  CMTR_Op* op = s.create("gemm.v1", params);
  CMTR_Buffer* a = s.buffer(n * n * 8);
  CMTR_Buffer* b = s.buffer(n * n * 8);
  CMTR_Buffer* c = s.buffer(n * n * 8);
  REQUIRE(s.enqueue(op, {a, b, c}).ok);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  CMTR_Event* start = s.record();
  for (int i = 0; i < 5; ++i) REQUIRE(s.enqueue(op, {a, b, c}).ok);
  CMTR_Event* stop = s.record();
  s.sync();
  auto t1 = std::chrono::steady_clock::now();
  double reported = s.elapsed(start, stop);
  for (CMTR_Buffer* x : {a, b, c}) s.free_buffer(x);
  s.destroy(op);
  return {reported, std::chrono::duration<double>(t1 - t0).count()};
}
}  // namespace

TEST_CASE("toofast: event_elapsed is ~1000x smaller than the host-measured time") {
  auto [stub_reported, stub_host] = timed_gemm(CMETER_TEST_PLUGIN_STUB);
  auto [fast_reported, fast_host] = timed_gemm(CMETER_TEST_PLUGIN_TOOFAST);
  MESSAGE("stub: reported ", stub_reported, " s, host ", stub_host, " s; toofast: reported ", fast_reported,
          " s, host ", fast_host, " s");
  REQUIRE(stub_reported > 0);
  REQUIRE(fast_reported > 0);
  CHECK(stub_host / stub_reported == doctest::Approx(1.0).epsilon(0.2));
  CHECK(fast_host / fast_reported == doctest::Approx(1000.0).epsilon(0.2));
}

TEST_CASE("fault variants: what loading them gives") {
  SUBCASE("badmajor reports ABI major 2") {
    Loaded l = load(CMETER_TEST_PLUGIN_BADMAJOR);
    REQUIRE(l.api != nullptr);
    CHECK(l.api->abi_major == 2);
    CHECK(l.api->struct_size == CMTR_API_STRUCT_SIZE_1_0);
    dlclose(l.handle);
  }
  SUBCASE("smallapi's table is shorter than 1.0") {
    Loaded l = load(CMETER_TEST_PLUGIN_SMALLAPI);
    REQUIRE(l.api != nullptr);
    CHECK(l.api->abi_major == 1);
    CHECK(l.api->struct_size == CMTR_STRUCT_SIZE(CMTR_Api, op_query));
    CHECK(l.api->struct_size < CMTR_API_STRUCT_SIZE_1_0);
    dlclose(l.handle);
  }
  SUBCASE("nullinit's cmeter_plugin_get_api returns NULL") {
    Loaded l = load(CMETER_TEST_PLUGIN_NULLINIT);
    REQUIRE(l.handle != nullptr);
    CHECK(l.error.empty());
    CHECK(l.api == nullptr);
    dlclose(l.handle);
  }
  SUBCASE("initfails: plugin_initialize gives UNAVAILABLE") {
    Loaded l = load(CMETER_TEST_PLUGIN_INITFAILS);
    REQUIRE(l.api != nullptr);
    CHECK(l.api->struct_size == CMTR_API_STRUCT_SIZE_1_0);
    CMTR_Plugin_Initialize_Args ia{};
    ia.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
    ia.host_abi_major = CMTR_ABI_MAJOR;
    ia.host_abi_minor = CMTR_ABI_MINOR;
    ErrorInfo e = take(l.api, l.api->plugin_initialize(&ia));
    CHECK(e.code == CMTR_ERROR_UNAVAILABLE);
    CHECK(e.message == "stub: no device driver found");
    dlclose(l.handle);
  }
  SUBCASE("nosymbol loads but has no cmeter_plugin_get_api") {
    Loaded l = load(CMETER_TEST_PLUGIN_NOSYMBOL);
    REQUIRE(l.handle != nullptr);
    CHECK(l.api == nullptr);
    MESSAGE("nosymbol dlerror: ", l.error);
    CHECK(l.error.find("undefined symbol: cmeter_plugin_get_api") != std::string::npos);
    dlclose(l.handle);
  }
  SUBCASE("needsmissing fails in dlopen, naming the missing library") {
    Loaded l = load(CMETER_TEST_PLUGIN_NEEDSMISSING);
    CHECK(l.handle == nullptr);
    MESSAGE("needsmissing dlerror: ", l.error);
    CHECK(l.error.find("libcmeter_vanishing.so") != std::string::npos);
  }
  SUBCASE("notaplugin is not an ELF file") {
    Loaded l = load(CMETER_TEST_PLUGIN_NOTAPLUGIN);
    CHECK(l.handle == nullptr);
    MESSAGE("notaplugin dlerror: ", l.error);
    CHECK(l.error.find("invalid ELF header") != std::string::npos);
  }
}
