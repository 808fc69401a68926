// plugins/cpu/op_test_support.hpp - what the CPU plugin's op tests share: the plugin loaded once
// through the C ABI client (one device, one stream), device buffers, f16/bf16/f32 tensors on the host
// and the NMSE/element checks against the FP64 references.
//
// Why this file exists: the inference ops' tests (inference_ops_test.cpp) and the training ops'
// (training_ops_test.cpp) run in one binary against one loaded plugin (Dev::get() is shared, so a
// re-initialisation per ISA covers both); test-only, header-only.
#ifndef CMETER_PLUGINS_CPU_OP_TEST_SUPPORT_HPP_
#define CMETER_PLUGINS_CPU_OP_TEST_SUPPORT_HPP_

#include <doctest/doctest.h>
#include <cmeter/plugin_client.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/validate/op_reference.h"
#include "cpu_level.hpp"

#ifndef CMETER_CPU_PLUGIN_PATH
#error "CMETER_CPU_PLUGIN_PATH must name the built plugin"
#endif

namespace cmeter::cpu_op_test {

using cmeter::client::Outcome;
using cmeter::client::Params;
namespace ref = cmeter::validate::ref;

// ---- The plugin, one device, one stream ----

struct Dev {
  cmeter::client::Plugin client{CMETER_CPU_PLUGIN_PATH, /*initialize=*/false};
  CMTR_Device* device = nullptr;
  CMTR_Stream* stream = nullptr;

  static Dev& get() {
    static Dev* d = [] {
      auto* x = new Dev();
      x->start();
      return x;
    }();
    return *d;
  }
  void start() {
    REQUIRE_MESSAGE(client.init().ok(), client.error);
    REQUIRE(client.devices.size() == 1);
    device = client.devices[0];
    REQUIRE(client.stream(device, &stream).ok());
  }
  void stop() {
    REQUIRE(client.destroy(stream).ok());
    REQUIRE(client.shutdown().ok());
  }
  // Re-initialises the plugin with CMETER_CPU_ISA = isa (nullptr: the default).
  void restart_with_isa(const char* isa) {
    stop();
    if (isa == nullptr)
      unsetenv("CMETER_CPU_ISA");
    else
      setenv("CMETER_CPU_ISA", isa, 1);
    start();
  }
};

struct Buf {
  CMTR_Buffer* h = nullptr;
  uint64_t size_bytes = 0;
  explicit Buf(uint64_t bytes) : size_bytes(bytes) {
    REQUIRE(Dev::get().client.buffer(Dev::get().device, bytes, &h).ok());
  }
  ~Buf() { (void)Dev::get().client.destroy(h); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  void write(const void* p, uint64_t bytes) {
    REQUIRE(Dev::get().client.write(Dev::get().stream, h, 0, p, bytes).ok());
  }
  template <class T>
  std::vector<T> read(size_t count) {
    std::vector<T> v(count);
    REQUIRE(Dev::get().client.read(Dev::get().stream, h, 0, v.data(), count * sizeof(T)).ok());
    return v;
  }
};

struct Op {
  CMTR_Op* h = nullptr;
  Outcome created;
  Op(const std::string& name, const Params& p) {
    created = Dev::get().client.create(Dev::get().device, name, p, &h);
    REQUIRE_MESSAGE(created.ok(), name << ": " << created.describe());
    CHECK(!Dev::get().client.op_attribute(h, "impl").empty());
  }
  ~Op() { (void)Dev::get().client.destroy(h); }
  Outcome enqueue(std::vector<CMTR_Buffer*> buffers) {
    Outcome o = Dev::get().client.enqueue(h, Dev::get().stream, std::move(buffers));
    if (o.ok()) o = Dev::get().client.sync(Dev::get().stream);
    return o;
  }
  void run(std::vector<CMTR_Buffer*> buffers) {
    Outcome o = enqueue(std::move(buffers));
    REQUIRE_MESSAGE(o.ok(), o.describe());
  }
};

// ---- Storage types on the host ----

inline uint16_t to_f16(double v) {
  const _Float16 h = static_cast<_Float16>(static_cast<float>(v));
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
inline double from_f16(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<double>(static_cast<float>(h));
}
inline uint16_t to_bf16(double v) {
  const float f = static_cast<float>(v);
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
inline double from_bf16(uint16_t u) {
  const uint32_t x = static_cast<uint32_t>(u) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return static_cast<double>(f);
}

inline size_t elem_bytes(const std::string& t) {
  return t == "f32" ? 4 : 2;
}

// Values stored in dtype `t`: the bytes, and the values they hold (as the references read them).
struct Tensor {
  std::string t;
  std::vector<uint8_t> bytes;
  std::vector<double> values;
  Tensor(const std::string& dtype, const std::vector<double>& v)
      : t(dtype), bytes(v.size() * elem_bytes(dtype)) {
    values.resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (t == "f32") {
        const float f = static_cast<float>(v[i]);
        std::memcpy(&bytes[i * 4], &f, 4);
        values[i] = f;
      } else {
        const uint16_t u = t == "f16" ? to_f16(v[i]) : to_bf16(v[i]);
        std::memcpy(&bytes[i * 2], &u, 2);
        values[i] = t == "f16" ? from_f16(u) : from_bf16(u);
      }
    }
  }
};

inline std::vector<double> decode(const std::string& t, const std::vector<uint8_t>& bytes) {
  const size_t n = bytes.size() / elem_bytes(t);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (t == "f32") {
      float f;
      std::memcpy(&f, &bytes[i * 4], 4);
      v[i] = f;
    } else {
      uint16_t u;
      std::memcpy(&u, &bytes[i * 2], 2);
      v[i] = t == "f16" ? from_f16(u) : from_bf16(u);
    }
  }
  return v;
}

inline std::vector<double> random_values(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = d(gen);
  return v;
}

// A device buffer holding `x` (exactly its size unless `bytes` says more).
inline std::unique_ptr<Buf> upload(const Tensor& x) {
  auto b = std::make_unique<Buf>(x.bytes.size());
  b->write(x.bytes.data(), x.bytes.size());
  return b;
}
inline std::unique_ptr<Buf> upload_i32(const std::vector<int32_t>& v) {
  auto b = std::make_unique<Buf>(v.size() * 4);
  b->write(v.data(), v.size() * 4);
  return b;
}
inline std::vector<double> download(Buf& b, const std::string& t) {
  return decode(t, b.read<uint8_t>(b.size_bytes));
}

// NMSE bound for results rounded once to `t` after f32 arithmetic (unit roundoff² with margin).
inline double nmse_bound(const std::string& t) {
  return t == "f32" ? 1e-11 : t == "f16" ? 1e-6 : 3e-5;
}

inline void check_close(const std::vector<double>& got, const std::vector<double>& want,
                        const std::string& t) {
  REQUIRE(got.size() == want.size());
  const double e = ref::nmse(got.data(), want.data(), got.size());
  CHECK_MESSAGE(e <= nmse_bound(t), "nmse " << e << " above " << nmse_bound(t));
  // And no single element far off (a wrong element in a large array hides in the mean).
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  const double tol = (t == "f32" ? 1e-5 : t == "f16" ? 2e-3 : 1.6e-2) * std::max(scale, 1e-30);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol)) ++bad;
  CHECK_MESSAGE(bad == 0, bad << " elements off by more than " << tol);
}

// The rounding a result in `t` gets (the reference in double, then stored as the op stores).
inline std::vector<double> rounded(const std::string& t, const std::vector<double>& v) {
  return Tensor(t, v).values;
}

// Enqueue with buffer `which` one byte short must be INVALID_ARGUMENT.
inline void check_too_small(Op& op, std::vector<Buf*> buffers, size_t which) {
  Buf small(buffers[which]->size_bytes - 1);
  std::vector<CMTR_Buffer*> hs;
  for (size_t i = 0; i < buffers.size(); ++i) hs.push_back(i == which ? small.h : buffers[i]->h);
  CHECK(op.enqueue(hs).code == CMTR_ERROR_INVALID_ARGUMENT);
}

inline const char* const kDtypes[] = {"f32", "f16", "bf16"};

// Whether this CPU runs the kernels of `isa` (CMETER_CPU_ISA values).
inline bool cpu_has(const char* isa) {
  if (std::string(isa) == "avx512") return cmeter::cpu::cpu_is_x86_64_v4();
  if (std::string(isa) == "avx2") return cmeter::cpu::cpu_is_x86_64_v3();
  return true;
}

}  // namespace cmeter::cpu_op_test

#endif  // CMETER_PLUGINS_CPU_OP_TEST_SUPPORT_HPP_
