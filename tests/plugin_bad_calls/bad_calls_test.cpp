// tests/plugin_bad_calls/bad_calls_test.cpp - the same bad calls against every plugin built here,
// which must all answer them with the same error code.
//
// Why this file exists: the cpu, opencl, cuda and template plugins share their ABI plumbing and op
// parameter contracts through the SDK adapter (cmeter/plugin_sdk.hpp, cmeter/plugin_ops.hpp); this
// test keeps them from drifting apart again. One list of bad calls (NULL args, short struct_size,
// NULL, foreign and destroyed handles, out-of-range and overflowing copies, zero-byte copies, unknown
// ops and keys, malformed gemm.v1/fma_peak.v1/stream.v1/copy.v1 params, wrong buffer counts) runs on
// each plugin given on the command line; each call's answer is compared with the contract's
// (docs/abi-keys.md, "Contract rules") and with every other plugin's. Calls that need a device are
// skipped, with a message, on a plugin with no device (cuda without a driver); calls whose setup the
// plugin cannot do are skipped for that plugin. Exit 0 when every
// answer matches, 1 otherwise (the table shows which).
//
// Usage: cmeter_plugin_bad_calls_test NAME=PLUGIN_FILE...
#include <cmeter/plugin_client.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using cmeter::client::Outcome;
using cmeter::client::Params;
using cmeter::client::Plugin;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

constexpr uint64_t kBufferBytes = 4096;
constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

// What a case needs before its bad call.
enum class Needs { kNothing, kDevice, kStreamAndBuffer, kNoopOp, kGemmOp };

// The state a case's call works on (set up per case, destroyed after it).
struct Fixture {
  const Plugin* plugin = nullptr;
  CMTR_Device* device = nullptr;
  cmeter::client::Owned<CMTR_Stream> stream;
  cmeter::client::Owned<CMTR_Buffer> buffer;
  cmeter::client::Owned<CMTR_Op> op;
};

// An answer: an error code name, or OK with op_query's supported flag.
using Answer = std::string;

struct Case {
  std::string name;
  Needs needs;
  Answer expected;
  std::function<Answer(Fixture&)> call;
};

Answer code_of(const Outcome& o) {
  return cmeter::client::code_name(o.code);
}

// A pointer that is no plugin's handle: zeroed memory, so its "magic" matches nothing.
template <class Handle>
Handle* foreign() {
  alignas(64) static unsigned char zeros[512] = {};
  return reinterpret_cast<Handle*>(zeros);
}

template <class Args>
Args args_of_size(size_t struct_size) {
  Args a{};
  a.struct_size = struct_size;
  return a;
}

template <class Args>
Answer raw(const Plugin& p, CMTR_Error* (*fn)(Args*), Args* a) {
  if (fn == nullptr) return "NULL slot";
  return code_of(p.take(fn(a)));
}

Answer query(Fixture& f, const std::string& op, const Params& params) {
  bool supported = false;
  std::string reason;
  Outcome o = f.plugin->query(f.device, op, params, &supported, &reason);
  if (!o.ok()) return code_of(o);
  return "OK";
}

Answer create(Fixture& f, const std::string& op, const Params& params) {
  Outcome o;
  auto made = f.plugin->make_op(f.device, op, params, &o);
  return code_of(o);
}

Params gemm(int64_t m = 8) {
  Params p;
  p.i("m", m).i("n", 8).i("k", 8).s("dtype_a", "f32");
  return p;
}

// A well-formed request of each ABI 1.1 inference op (small, f32), to be spoiled by one change.
Params inference(const std::string& op, const std::string& dtype = "f32") {
  Params p;
  if (op == "rmsnorm.v1") p.i("rows", 4).i("dim", 8);
  if (op == "rope.v1") p.i("rows", 4).i("heads", 2).i("head_dim", 8);
  if (op == "softmax.v1" || op == "argmax.v1") p.i("rows", 4).i("cols", 8);
  if (op == "swiglu.v1") p.i("rows", 4).i("dim", 8);
  if (op == "kv_append.v1") p.i("rows", 4).i("kv_heads", 2).i("head_dim", 8).i("slots", 2).i("capacity", 16);
  if (op == "embedding.v1") p.i("rows", 4).i("vocab", 32).i("dim", 8);
  if (op == "eltwise.v1") p.s("kind", "add").i("n", 64);
  if (op == "attention.v1")
    p.i("rows", 4).i("heads", 4).i("kv_heads", 2).i("head_dim", 8).i("slots", 2).i("capacity", 16);
  p.s("dtype", dtype);
  return p;
}

// A well-formed request of each ABI 1.2 training op (small, f32 unless `dtype`), to be spoiled.
Params training(const std::string& op, const std::string& dtype = "f32") {
  Params p;
  if (op == "rmsnorm_backward.v1" || op == "swiglu_backward.v1") p.i("rows", 4).i("dim", 8);
  if (op == "softmax_backward.v1") p.i("rows", 4).i("cols", 8);
  if (op == "rope_backward.v1") p.i("rows", 4).i("heads", 2).i("head_dim", 8);
  if (op == "cross_entropy.v1") p.i("rows", 4).i("vocab", 32);
  if (op == "embedding_backward.v1") p.i("rows", 4).i("vocab", 32).i("dim", 8);
  if (op == "reduce.v1") p.s("kind", "sum").s("axis", "rows").i("rows", 4).i("cols", 8);
  if (op == "adamw.v1")
    p.i("n", 64).s("dtype_out", dtype);
  else
    p.s("dtype", dtype);
  return p;
}

Answer write(Fixture& f, CMTR_Stream* s, CMTR_Buffer* b, uint64_t offset, const void* host, uint64_t size) {
  return code_of(f.plugin->write(s, b, offset, host, size));
}

std::vector<Case> cases() {
  static std::vector<uint8_t> host(kBufferBytes + 64, 0x5a);
  const void* h = host.data();
  const size_t kShort = sizeof(size_t);  // struct_size covering only struct_size itself
  std::vector<Case> c;
  // ---- Load level: no device needed ----
  c.push_back({"plugin_initialize struct_size 8", Needs::kNothing, "INVALID_ARGUMENT", [=](Fixture& f) {
                 auto a = args_of_size<CMTR_Plugin_Initialize_Args>(kShort);
                 return raw(*f.plugin, f.plugin->api()->plugin_initialize, &a);
               }});
  c.push_back({"plugin_devices(NULL)", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return raw<CMTR_Plugin_Devices_Args>(*f.plugin, f.plugin->api()->plugin_devices, nullptr);
               }});
  c.push_back({"device_attributes(NULL)", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return raw<CMTR_Device_Attributes_Args>(*f.plugin, f.plugin->api()->device_attributes,
                                                         nullptr);
               }});
  c.push_back({"device_attributes device NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 Outcome o;
                 f.plugin->attributes(nullptr, &o);
                 return code_of(o);
               }});
  c.push_back({"device_attributes foreign device", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 Outcome o;
                 f.plugin->attributes(foreign<CMTR_Device>(), &o);
                 return code_of(o);
               }});
  c.push_back({"buffer_create device NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Buffer* b = nullptr;
                 return code_of(f.plugin->buffer(nullptr, 64, &b));
               }});
  c.push_back({"buffer_create foreign device", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Buffer* b = nullptr;
                 return code_of(f.plugin->buffer(foreign<CMTR_Device>(), 64, &b));
               }});
  c.push_back({"buffer_destroy(NULL args)", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return raw<CMTR_Buffer_Destroy_Args>(*f.plugin, f.plugin->api()->buffer_destroy, nullptr);
               }});
  c.push_back({"buffer_destroy buffer NULL", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->destroy(static_cast<CMTR_Buffer*>(nullptr))); }});
  c.push_back({"buffer_destroy foreign buffer", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->destroy(foreign<CMTR_Buffer>())); }});
  c.push_back({"buffer_write(NULL args)", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return raw<CMTR_Buffer_Write_Args>(*f.plugin, f.plugin->api()->buffer_write, nullptr);
               }});
  c.push_back({"buffer_read struct_size 8", Needs::kNothing, "INVALID_ARGUMENT", [=](Fixture& f) {
                 auto a = args_of_size<CMTR_Buffer_Read_Args>(kShort);
                 return raw(*f.plugin, f.plugin->api()->buffer_read, &a);
               }});
  c.push_back({"buffer_host_pointer foreign buffer", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 void* p = nullptr;
                 return code_of(f.plugin->host_pointer(foreign<CMTR_Buffer>(), &p));
               }});
  c.push_back({"stream_create device NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Stream* s = nullptr;
                 return code_of(f.plugin->stream(nullptr, &s));
               }});
  c.push_back({"stream_destroy stream NULL", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->destroy(static_cast<CMTR_Stream*>(nullptr))); }});
  c.push_back({"stream_synchronize foreign stream", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->sync(foreign<CMTR_Stream>())); }});
  c.push_back({"event_record stream NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Event* e = nullptr;
                 return code_of(f.plugin->record(nullptr, &e));
               }});
  c.push_back({"event_elapsed start NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 double s = 0;
                 return code_of(f.plugin->elapsed(nullptr, foreign<CMTR_Event>(), &s));
               }});
  c.push_back({"event_destroy foreign event", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->destroy(foreign<CMTR_Event>())); }});
  c.push_back({"op_query(NULL)", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return raw<CMTR_Op_Query_Args>(*f.plugin, f.plugin->api()->op_query, nullptr);
               }});
  c.push_back({"op_query device NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 Fixture none{f.plugin, nullptr, {}, {}, {}};
                 return query(none, "noop.v1", Params());
               }});
  c.push_back({"op_create struct_size 8", Needs::kNothing, "INVALID_ARGUMENT", [=](Fixture& f) {
                 auto a = args_of_size<CMTR_Op_Create_Args>(kShort);
                 return raw(*f.plugin, f.plugin->api()->op_create, &a);
               }});
  c.push_back({"op_attributes op NULL", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 auto a = args_of_size<CMTR_Op_Attributes_Args>(
                     CMTR_STRUCT_SIZE(CMTR_Op_Attributes_Args, num_attributes));
                 return raw(*f.plugin, f.plugin->api()->op_attributes, &a);
               }});
  c.push_back({"op_enqueue foreign op", Needs::kNothing, "INVALID_ARGUMENT", [](Fixture& f) {
                 return code_of(f.plugin->enqueue(foreign<CMTR_Op>(), foreign<CMTR_Stream>(), {}));
               }});
  c.push_back({"op_destroy op NULL", Needs::kNothing, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->destroy(static_cast<CMTR_Op*>(nullptr))); }});

  // ---- Device level: op parameters ----
  c.push_back({"buffer_create size 0", Needs::kDevice, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Buffer* b = nullptr;
                 return code_of(f.plugin->buffer(f.device, 0, &b));
               }});
  // More than the device's memory (sdk::Adapter's memory_bytes) is RESOURCE_EXHAUSTED before any allocation.
  c.push_back({"buffer_create 2^62 bytes", Needs::kDevice, "RESOURCE_EXHAUSTED", [](Fixture& f) {
                 CMTR_Buffer* b = nullptr;
                 return code_of(f.plugin->buffer(f.device, uint64_t{1} << 62, &b));
               }});
  c.push_back({"buffer_create memory_kind 99", Needs::kDevice, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Buffer* b = nullptr;
                 return code_of(f.plugin->buffer(f.device, 64, &b, 99));
               }});
  c.push_back({"op_query unknown op", Needs::kDevice, "OK",
               [](Fixture& f) { return query(f, "nope.v1", Params()); }});
  c.push_back({"op_create unknown op", Needs::kDevice, "NOT_FOUND",
               [](Fixture& f) { return create(f, "nope.v1", Params()); }});
  c.push_back({"op_query params NULL, num_params 2", Needs::kDevice, "INVALID_ARGUMENT", [](Fixture& f) {
                 CMTR_Op_Query_Args a{};
                 a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_size);
                 a.device = f.device;
                 a.name = {"noop.v1", 7};
                 a.num_params = 2;
                 return raw(*f.plugin, f.plugin->api()->op_query, &a);
               }});
  c.push_back({"op_query gemm.v1 unknown hint is ignored", Needs::kDevice, "OK", [](Fixture& f) {
                 Params p = gemm();
                 p.i("hint.nobody.knows", 1);
                 return query(f, "gemm.v1", p);
               }});
  struct Bad {
    const char* name;
    const char* op;
    std::function<Params()> params;
  };
  const std::vector<Bad> malformed = {
      {"gemm.v1 dtype_a f8 (unknown dtype)", "gemm.v1",
       [] {
         Params p;
         p.i("m", 8).i("n", 8).i("k", 8).s("dtype_a", "f8");
         return p;
       }},
      {"gemm.v1 dtype_c f8 (unknown dtype)", "gemm.v1", [] { return std::move(gemm().s("dtype_c", "f8")); }},
      {"gemm.v1 compute f7 (unknown compute)", "gemm.v1",
       [] { return std::move(gemm().s("compute", "f7")); }},
      {"gemm.v1 m -1", "gemm.v1", [] { return gemm(-1); }},
      {"gemm.v1 m 0", "gemm.v1", [] { return gemm(0); }},
      {"gemm.v1 missing m", "gemm.v1",
       [] {
         Params p;
         p.i("n", 8).i("k", 8).s("dtype_a", "f32");
         return p;
       }},
      {"gemm.v1 missing dtype_a", "gemm.v1",
       [] {
         Params p;
         p.i("m", 8).i("n", 8).i("k", 8);
         return p;
       }},
      {"gemm.v1 unknown key", "gemm.v1", [] { return std::move(gemm().i("frobnicate", 1)); }},
      {"gemm.v1 m given twice", "gemm.v1", [] { return std::move(gemm().i("m", 8)); }},
      {"gemm.v1 m is a string", "gemm.v1",
       [] {
         Params p;
         p.s("m", "eight").i("n", 8).i("k", 8).s("dtype_a", "f32");
         return p;
       }},
      {"gemm.v1 alpha NaN", "gemm.v1", [] { return std::move(gemm().d("alpha", std::nan(""))); }},
      {"gemm.v1 lda below the rows", "gemm.v1", [] { return std::move(gemm().i("lda", 4)); }},
      {"gemm.v1 negative stride", "gemm.v1",
       [] { return std::move(gemm().i("batch", 2).i("stride_a", -1)); }},
      {"gemm.v1 overlapping C batches", "gemm.v1",
       [] { return std::move(gemm().i("batch", 2).i("stride_c", 8)); }},
      {"gemm.v1 sizes overflow", "gemm.v1",
       [] {
         Params p;
         p.i("m", int64_t{1} << 40).i("n", int64_t{1} << 40).i("k", int64_t{1} << 40).s("dtype_a", "f32");
         return p;
       }},
      {"fma_peak.v1 dtype f8", "fma_peak.v1",
       [] {
         Params p;
         p.s("dtype", "f8").i("items", 64).i("iters", 4);
         return p;
       }},
      {"fma_peak.v1 lanes 33", "fma_peak.v1",
       [] {
         Params p;
         p.s("dtype", "f32").i("items", 64).i("iters", 4).i("lanes", 33);
         return p;
       }},
      {"fma_peak.v1 items 0", "fma_peak.v1",
       [] {
         Params p;
         p.s("dtype", "f32").i("items", 0).i("iters", 4);
         return p;
       }},
      {"fma_peak.v1 a infinite", "fma_peak.v1",
       [] {
         Params p;
         p.s("dtype", "f32").i("items", 64).i("iters", 4).d("a", INFINITY);
         return p;
       }},
      {"stream.v1 kind bogus", "stream.v1",
       [] {
         Params p;
         p.s("kind", "bogus").i("n", 1024);
         return p;
       }},
      {"stream.v1 dtype f8", "stream.v1",
       [] {
         Params p;
         p.s("kind", "copy").s("dtype", "f8").i("n", 1024);
         return p;
       }},
      {"stream.v1 n 0", "stream.v1",
       [] {
         Params p;
         p.s("kind", "copy").i("n", 0);
         return p;
       }},
      {"copy.v1 bytes 0", "copy.v1",
       [] {
         Params p;
         p.i("bytes", 0);
         return p;
       }},
      {"copy.v1 missing bytes", "copy.v1", [] { return Params(); }},
      {"noop.v1 with a parameter", "noop.v1",
       [] {
         Params p;
         p.i("x", 1);
         return p;
       }},
      // ABI 1.1: gemm.v1 offsets and the inference ops.
      {"gemm.v1 negative offset_a", "gemm.v1", [] { return std::move(gemm().i("offset_a", -1)); }},
      {"gemm.v1 offset_c overflows", "gemm.v1",
       [] { return std::move(gemm().i("offset_c", int64_t{1} << 61)); }},
      {"rmsnorm.v1 unknown key", "rmsnorm.v1",
       [] { return std::move(inference("rmsnorm.v1").i("frob", 1)); }},
      {"rmsnorm.v1 missing dim", "rmsnorm.v1",
       [] {
         Params p;
         p.i("rows", 4).s("dtype", "f32");
         return p;
       }},
      {"rmsnorm.v1 eps negative", "rmsnorm.v1",
       [] { return std::move(inference("rmsnorm.v1").d("eps", -1)); }},
      {"rmsnorm.v1 eps NaN", "rmsnorm.v1",
       [] { return std::move(inference("rmsnorm.v1").d("eps", std::nan(""))); }},
      {"rmsnorm.v1 dtype f8", "rmsnorm.v1",
       [] {
         Params p;
         p.i("rows", 4).i("dim", 8).s("dtype", "f8");
         return p;
       }},
      {"rmsnorm.v1 sizes overflow", "rmsnorm.v1",
       [] {
         Params p;
         p.i("rows", int64_t{1} << 40).i("dim", int64_t{1} << 40).s("dtype", "f32");
         return p;
       }},
      {"rope.v1 odd head_dim", "rope.v1",
       [] {
         Params p;
         p.i("rows", 4).i("heads", 2).i("head_dim", 7).s("dtype", "f32");
         return p;
       }},
      {"rope.v1 layout bogus", "rope.v1",
       [] { return std::move(inference("rope.v1").s("layout", "bogus")); }},
      {"rope.v1 theta 1", "rope.v1", [] { return std::move(inference("rope.v1").d("theta", 1)); }},
      {"rope.v1 heads 0", "rope.v1",
       [] {
         Params p;
         p.i("rows", 4).i("heads", 0).i("head_dim", 8).s("dtype", "f32");
         return p;
       }},
      {"softmax.v1 mask bogus", "softmax.v1",
       [] { return std::move(inference("softmax.v1").s("mask", "causal")); }},
      {"softmax.v1 scale infinite", "softmax.v1",
       [] { return std::move(inference("softmax.v1").d("scale", INFINITY)); }},
      {"softmax.v1 missing cols", "softmax.v1",
       [] {
         Params p;
         p.i("rows", 4).s("dtype", "f32");
         return p;
       }},
      {"swiglu.v1 dim given twice", "swiglu.v1",
       [] { return std::move(inference("swiglu.v1").i("dim", 8)); }},
      {"swiglu.v1 missing dtype", "swiglu.v1",
       [] {
         Params p;
         p.i("rows", 4).i("dim", 8);
         return p;
       }},
      {"kv_append.v1 slots 0", "kv_append.v1",
       [] {
         Params p;
         p.i("rows", 4).i("kv_heads", 2).i("head_dim", 8).i("slots", 0).i("capacity", 16).s("dtype", "f32");
         return p;
       }},
      {"kv_append.v1 missing capacity", "kv_append.v1",
       [] {
         Params p;
         p.i("rows", 4).i("kv_heads", 2).i("head_dim", 8).i("slots", 2).s("dtype", "f32");
         return p;
       }},
      {"embedding.v1 vocab -1", "embedding.v1",
       [] {
         Params p;
         p.i("rows", 4).i("vocab", -1).i("dim", 8).s("dtype", "f32");
         return p;
       }},
      {"embedding.v1 unknown key", "embedding.v1",
       [] { return std::move(inference("embedding.v1").i("padding_idx", 0)); }},
      {"argmax.v1 cols 0", "argmax.v1",
       [] {
         Params p;
         p.i("rows", 4).i("cols", 0).s("dtype", "f32");
         return p;
       }},
      {"argmax.v1 rows is a string", "argmax.v1",
       [] {
         Params p;
         p.s("rows", "four").i("cols", 8).s("dtype", "f32");
         return p;
       }},
      {"eltwise.v1 dtype_out on add", "eltwise.v1",
       [] { return std::move(inference("eltwise.v1").s("dtype_out", "f16")); }},
      {"eltwise.v1 scalar on add", "eltwise.v1",
       [] { return std::move(inference("eltwise.v1").d("scalar", 2)); }},
      {"eltwise.v1 kind bogus", "eltwise.v1",
       [] {
         Params p;
         p.s("kind", "sub").i("n", 64).s("dtype", "f32");
         return p;
       }},
      {"eltwise.v1 scale with scalar NaN", "eltwise.v1",
       [] {
         Params p;
         p.s("kind", "scale").i("n", 64).s("dtype", "f32").d("scalar", std::nan(""));
         return p;
       }},
      {"eltwise.v1 cast to f8", "eltwise.v1",
       [] {
         Params p;
         p.s("kind", "cast").i("n", 64).s("dtype", "f32").s("dtype_out", "f8");
         return p;
       }},
      {"attention.v1 heads not a multiple of kv_heads", "attention.v1",
       [] {
         Params p;
         p.i("rows", 4)
             .i("heads", 3)
             .i("kv_heads", 2)
             .i("head_dim", 8)
             .i("slots", 2)
             .i("capacity", 16)
             .s("dtype", "f32");
         return p;
       }},
      {"attention.v1 scale NaN", "attention.v1",
       [] { return std::move(inference("attention.v1").d("scale", std::nan(""))); }},
      // ABI 1.2: the training ops.
      {"rmsnorm_backward.v1 unknown key", "rmsnorm_backward.v1",
       [] { return std::move(training("rmsnorm_backward.v1").i("frob", 1)); }},
      {"rmsnorm_backward.v1 accumulate is a string", "rmsnorm_backward.v1",
       [] { return std::move(training("rmsnorm_backward.v1").s("accumulate", "yes")); }},
      {"swiglu_backward.v1 dim 0", "swiglu_backward.v1",
       [] {
         Params p;
         p.i("rows", 4).i("dim", 0).s("dtype", "f32");
         return p;
       }},
      {"softmax_backward.v1 mask bogus", "softmax_backward.v1",
       [] { return std::move(training("softmax_backward.v1").s("mask", "causal")); }},
      {"rope_backward.v1 odd head_dim", "rope_backward.v1",
       [] {
         Params p;
         p.i("rows", 4).i("heads", 2).i("head_dim", 7).s("dtype", "f32");
         return p;
       }},
      {"cross_entropy.v1 missing vocab", "cross_entropy.v1",
       [] {
         Params p;
         p.i("rows", 4).s("dtype", "f32");
         return p;
       }},
      {"cross_entropy.v1 dtype f8", "cross_entropy.v1",
       [] {
         Params p;
         p.i("rows", 4).i("vocab", 32).s("dtype", "f8");
         return p;
       }},
      {"embedding_backward.v1 sizes overflow", "embedding_backward.v1",
       [] {
         Params p;
         p.i("rows", 4).i("vocab", int64_t{1} << 40).i("dim", int64_t{1} << 30).s("dtype", "f32");
         return p;
       }},
      {"reduce.v1 axis bogus", "reduce.v1",
       [] {
         Params p;
         p.s("kind", "sum").s("axis", "diagonal").i("rows", 4).i("cols", 8).s("dtype", "f32");
         return p;
       }},
      {"reduce.v1 kind max (not in the catalogue)", "reduce.v1",
       [] {
         Params p;
         p.s("kind", "max").s("axis", "rows").i("rows", 4).i("cols", 8).s("dtype", "f32");
         return p;
       }},
      {"reduce.v1 scale Inf", "reduce.v1",
       [] { return std::move(training("reduce.v1").d("scale", INFINITY)); }},
      {"adamw.v1 beta1 = 1", "adamw.v1", [] { return std::move(training("adamw.v1").d("beta1", 1.0)); }},
      {"adamw.v1 eps 0", "adamw.v1", [] { return std::move(training("adamw.v1").d("eps", 0.0)); }},
      {"adamw.v1 weight_decay negative", "adamw.v1",
       [] { return std::move(training("adamw.v1").d("weight_decay", -0.1)); }},
      {"adamw.v1 missing dtype_out", "adamw.v1",
       [] {
         Params p;
         p.i("n", 64);
         return p;
       }},
      {"adamw.v1 lr as a parameter (it lives in HYPER)", "adamw.v1",
       [] { return std::move(training("adamw.v1").d("lr", 1e-3)); }},
      {"attention.v1 missing slots", "attention.v1",
       [] {
         Params p;
         p.i("rows", 4).i("heads", 4).i("kv_heads", 2).i("head_dim", 8).i("capacity", 16).s("dtype", "f32");
         return p;
       }},
  };
  for (const Bad& b : malformed) {
    for (bool is_create : {false, true}) {
      std::string name = std::string(is_create ? "op_create " : "op_query ") + b.name;
      const std::string op = b.op;
      auto params = b.params;
      c.push_back({name, Needs::kDevice, "INVALID_ARGUMENT", [=](Fixture& f) {
                     Params p = params();
                     return is_create ? create(f, op, p) : query(f, op, p);
                   }});
    }
  }

  // Well-formed inference ops: every plugin answers op_query without an error (supported or not);
  // another catalogue dtype (f64, i32) is unsupported everywhere: op_create UNIMPLEMENTED.
  for (const char* op : {"rmsnorm.v1", "rope.v1", "softmax.v1", "swiglu.v1", "kv_append.v1", "embedding.v1",
                         "argmax.v1", "eltwise.v1", "attention.v1"}) {
    const std::string name = op;
    c.push_back({"op_query " + name + " well-formed", Needs::kDevice, "OK",
                 [=](Fixture& f) { return query(f, name, inference(name)); }});
    c.push_back({"op_create " + name + " dtype f64 (not offered)", Needs::kDevice, "UNIMPLEMENTED",
                 [=](Fixture& f) { return create(f, name, inference(name, "f64")); }});
  }

  // Well-formed training ops (ABI 1.2): op_query answers without an error (a 1.1 plugin: unsupported);
  // f64 is unsupported everywhere: op_create UNIMPLEMENTED (a plugin without the op: also UNIMPLEMENTED
  // or NOT_FOUND for an unknown op, which only an ABI 1.0/1.1 plugin may answer).
  for (const char* op :
       {"rmsnorm_backward.v1", "swiglu_backward.v1", "softmax_backward.v1", "rope_backward.v1",
        "cross_entropy.v1", "embedding_backward.v1", "reduce.v1", "adamw.v1"}) {
    const std::string name = op;
    c.push_back({"op_query " + name + " well-formed", Needs::kDevice, "OK",
                 [=](Fixture& f) { return query(f, name, training(name)); }});
    c.push_back({"op_create " + name + " dtype f64 (not offered)", Needs::kDevice, "UNIMPLEMENTED",
                 [=](Fixture& f) { return create(f, name, training(name, "f64")); }});
  }

  // ---- Device level: copies (a stream and a 4096-byte buffer) ----
  c.push_back({"buffer_write size 0 (zero-byte copy)", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [=](Fixture& f) { return write(f, f.stream.get(), f.buffer.get(), 0, h, 0); }});
  c.push_back(
      {"buffer_read size 0 (zero-byte copy)", Needs::kStreamAndBuffer, "INVALID_ARGUMENT", [](Fixture& f) {
         return code_of(f.plugin->read(f.stream.get(), f.buffer.get(), 0, host.data(), 0));
       }});
  c.push_back(
      {"buffer_write range past the end", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
       [=](Fixture& f) { return write(f, f.stream.get(), f.buffer.get(), kBufferBytes - 6, h, 16); }});
  c.push_back({"buffer_write offset past the end", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [=](Fixture& f) { return write(f, f.stream.get(), f.buffer.get(), kBufferBytes + 1, h, 1); }});
  c.push_back({"buffer_write overflowing range", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [=](Fixture& f) { return write(f, f.stream.get(), f.buffer.get(), kHuge - 7, h, 16); }});
  c.push_back({"buffer_read size 2^64-1", Needs::kStreamAndBuffer, "INVALID_ARGUMENT", [](Fixture& f) {
                 return code_of(f.plugin->read(f.stream.get(), f.buffer.get(), 0, host.data(), kHuge));
               }});
  c.push_back({"buffer_write host_pointer NULL", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [](Fixture& f) { return write(f, f.stream.get(), f.buffer.get(), 0, nullptr, 16); }});
  c.push_back({"buffer_write stream NULL", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [=](Fixture& f) { return write(f, nullptr, f.buffer.get(), 0, h, 16); }});
  c.push_back({"buffer_write foreign buffer", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [=](Fixture& f) { return write(f, f.stream.get(), foreign<CMTR_Buffer>(), 0, h, 16); }});
  c.push_back({"buffer_write destroyed buffer", Needs::kStreamAndBuffer, "INVALID_ARGUMENT", [=](Fixture& f) {
                 if (kAddressSanitizer) return Answer("skip");
                 CMTR_Buffer* gone = f.buffer.release();
                 if (!f.plugin->destroy(gone).ok()) return Answer("destroy failed");
                 // Reads the freed handle's magic: what the plugins promise to detect (runtime.hpp).
                 return write(f, f.stream.get(), gone, 0, h, 16);
               }});
  c.push_back(
      {"stream_synchronize destroyed stream", Needs::kStreamAndBuffer, "INVALID_ARGUMENT", [](Fixture& f) {
         if (kAddressSanitizer) return Answer("skip");
         CMTR_Stream* gone = f.stream.release();
         if (!f.plugin->destroy(gone).ok()) return Answer("destroy failed");
         return code_of(f.plugin->sync(gone));
       }});

  // ---- Device level: enqueue ----
  c.push_back({"op_enqueue noop.v1 with one buffer", Needs::kNoopOp, "INVALID_ARGUMENT", [](Fixture& f) {
                 return code_of(f.plugin->enqueue(f.op.get(), f.stream.get(), {f.buffer.get()}));
               }});
  c.push_back({"op_enqueue noop.v1 stream NULL", Needs::kNoopOp, "INVALID_ARGUMENT",
               [](Fixture& f) { return code_of(f.plugin->enqueue(f.op.get(), nullptr, {})); }});
  c.push_back(
      {"op_enqueue gemm.v1 with two buffers", Needs::kGemmOp, "INVALID_ARGUMENT", [](Fixture& f) {
         return code_of(f.plugin->enqueue(f.op.get(), f.stream.get(), {f.buffer.get(), f.buffer.get()}));
       }});
  // The adapter's rule (cmeter/plugin_adapter.hpp): buffers NULL with num_buffers > 0 is INVALID_ARGUMENT
  // in every plugin, before the op reads the array.
  c.push_back(
      {"op_enqueue gemm.v1 buffers NULL, num_buffers 3", Needs::kGemmOp, "INVALID_ARGUMENT", [](Fixture& f) {
         CMTR_Op_Enqueue_Args a{};
         a.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Enqueue_Args, num_buffers);
         a.op = f.op.get();
         a.stream = f.stream.get();
         a.num_buffers = 3;
         return raw(*f.plugin, f.plugin->api()->op_enqueue, &a);
       }});
  c.push_back({"op_enqueue gemm.v1 buffer A too small", Needs::kGemmOp, "INVALID_ARGUMENT", [](Fixture& f) {
                 Outcome o;
                 auto small = f.plugin->make_buffer(f.device, 16, CMTR_MEMORY_DEVICE, &o);
                 if (!small) return "setup: " + code_of(o);
                 return code_of(f.plugin->enqueue(f.op.get(), f.stream.get(),
                                                  {small.get(), f.buffer.get(), f.buffer.get()}));
               }});
  // ABI 1.1 gemm.v1 offsets: the buffer must hold offset + matrices (8x8 f32 = 256 bytes; an offset of
  // 960 elements needs 4096 bytes, 961 one more element than the 4096-byte buffer holds).
  c.push_back({"op_enqueue gemm.v1 offset_a past the buffer", Needs::kStreamAndBuffer, "INVALID_ARGUMENT",
               [](Fixture& f) {
                 Outcome o;
                 auto op = f.plugin->make_op(f.device, "gemm.v1", std::move(gemm().i("offset_a", 961)), &o);
                 if (!op) return "setup: " + code_of(o);
                 return code_of(f.plugin->enqueue(op.get(), f.stream.get(),
                                                  {f.buffer.get(), f.buffer.get(), f.buffer.get()}));
               }});
  // Offsets honoured, not ignored: 2x2 f32 A = [1 2; 3 4] at element 3 of its buffer, B = I at 9, C at
  // 17; C's buffer must then hold A there and be untouched elsewhere.
  c.push_back({"gemm.v1 offsets honoured (2x2 f32)", Needs::kStreamAndBuffer, "OK", [](Fixture& f) {
                 Outcome o;
                 Params p;
                 p.i("m", 2)
                     .i("n", 2)
                     .i("k", 2)
                     .s("dtype_a", "f32")
                     .i("offset_a", 3)
                     .i("offset_b", 9)
                     .i("offset_c", 17);
                 auto op = f.plugin->make_op(f.device, "gemm.v1", p, &o);
                 if (!op) return "setup: " + code_of(o);
                 auto bb = f.plugin->make_buffer(f.device, kBufferBytes, CMTR_MEMORY_DEVICE, &o);
                 auto cb = f.plugin->make_buffer(f.device, kBufferBytes, CMTR_MEMORY_DEVICE, &o);
                 if (!bb || !cb) return "setup: " + code_of(o);
                 const float a[4] = {1, 3, 2, 4}, b[4] = {1, 0, 0, 1};  // column-major
                 std::vector<float> fill(kBufferBytes / 4, -7.0f), ha = fill, hb = fill;
                 std::memcpy(&ha[3], a, sizeof a);
                 std::memcpy(&hb[9], b, sizeof b);
                 CMTR_Stream* s = f.stream.get();
                 if (!f.plugin->write(s, f.buffer.get(), 0, ha.data(), kBufferBytes).ok() ||
                     !f.plugin->write(s, bb.get(), 0, hb.data(), kBufferBytes).ok() ||
                     !f.plugin->write(s, cb.get(), 0, fill.data(), kBufferBytes).ok())
                   return Answer("write failed");
                 Outcome e = f.plugin->enqueue(op.get(), s, {f.buffer.get(), bb.get(), cb.get()});
                 if (!e.ok()) return "enqueue: " + code_of(e);
                 std::vector<float> back(kBufferBytes / 4, 0.0f);
                 if (!f.plugin->read(s, cb.get(), 0, back.data(), kBufferBytes).ok() ||
                     !f.plugin->sync(s).ok())
                   return Answer("read failed");
                 for (size_t i = 0; i < back.size(); ++i) {
                   const float want = i >= 17 && i < 21 ? a[i - 17] : -7.0f;
                   if (back[i] != want)
                     return "wrong C element " + std::to_string(i) + ": " + std::to_string(back[i]) +
                            " (want " + std::to_string(want) + ")";
                 }
                 return Answer("OK");
               }});
  return c;
}

// Builds what a case needs; an empty string, or why it cannot (the case is then skipped).
std::string set_up(Fixture& f, Needs needs) {
  if (needs == Needs::kNothing) return {};
  if (f.plugin->devices.empty()) return "no device";
  f.device = f.plugin->devices[0];
  if (needs == Needs::kDevice) return {};
  Outcome o;
  f.stream = f.plugin->make_stream(f.device, &o);
  if (!f.stream) return "stream_create: " + o.describe();
  f.buffer = f.plugin->make_buffer(f.device, kBufferBytes, CMTR_MEMORY_DEVICE, &o);
  if (!f.buffer) return "buffer_create: " + o.describe();
  if (needs == Needs::kNoopOp) {
    f.op = f.plugin->make_op(f.device, "noop.v1", Params(), &o);
    if (!f.op) return "op_create noop.v1: " + o.describe();
  }
  if (needs == Needs::kGemmOp) {
    f.op = f.plugin->make_op(f.device, "gemm.v1", gemm(), &o);
    if (!f.op) return "op_create gemm.v1 f32 8x8x8: " + o.describe();
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  struct Loaded {
    std::string name;
    std::unique_ptr<Plugin> plugin;
  };
  std::vector<Loaded> plugins;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "usage: %s NAME=PLUGIN_FILE...\n", argv[0]);
      return 2;
    }
    Loaded l{arg.substr(0, eq), std::make_unique<Plugin>(arg.substr(eq + 1).c_str())};
    if (!l.plugin->ready()) {
      std::fprintf(stderr, "FAIL %s: cannot load or initialise %s: %s\n", l.name.c_str(),
                   arg.c_str() + eq + 1, l.plugin->error.c_str());
      return 1;
    }
    if (l.plugin->devices.empty())
      std::printf("note: %s has no device; its device-level calls are skipped, its load-level ones run\n",
                  l.name.c_str());
    plugins.push_back(std::move(l));
  }
  if (plugins.size() < 2) {
    std::fprintf(stderr, "need at least two plugins to compare\n");
    return 2;
  }
  if (kAddressSanitizer) std::printf("note: under AddressSanitizer the destroyed-handle calls are skipped\n");

  int failures = 0, compared = 0;
  for (Case& c : cases()) {
    std::map<std::string, std::string> answers;  // plugin -> answer
    std::string line;
    for (const Loaded& l : plugins) {
      Fixture f;
      f.plugin = l.plugin.get();
      std::string answer;
      if (std::string why = set_up(f, c.needs); !why.empty())
        answer = "skip (" + why + ")";
      else
        answer = c.call(f);
      if (answer.rfind("skip", 0) != 0) answers[l.name] = answer;
      line += "  " + l.name + "=" + answer;
    }
    bool ok = true;
    for (const auto& [name, answer] : answers) ok = ok && answer == c.expected;
    if (!answers.empty()) ++compared;
    if (!ok) ++failures;
    std::printf("%s %-52s expected %-16s%s\n", ok ? "ok  " : "FAIL", c.name.c_str(), c.expected.c_str(),
                line.c_str());
  }
  std::printf("%d calls compared across %zu plugins, %d with differing or wrong answers\n", compared,
              plugins.size(), failures);
  return failures == 0 ? 0 : 1;
}
