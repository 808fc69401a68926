// tests/abi/compat_host.cpp - a host built against the FUTURE-minor header (current + one appended
// slot, minor + 1), loading plugins built against older and newer headers.
//
// Why this file exists: `cmeter` itself is built against the current header, so it can only show that
// plugins of other minors load in the current host. This small host is the "cmeter of the next minor":
// it uses the core's own loader (core/plugin/plugin_library.cpp, device.cpp, compiled against the
// future header) and shows that a plugin built against the frozen 1.0 header loads, that the new slot
// reads as absent for it (never past its struct_size), and that its devices work (a GEMM against a
// host reference, a memory round trip). A future-minor plugin must show the slot present and callable.
//
// Usage: cmeter_abi_compat_host PLUGIN.so old|new
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/plugin/device.h"
#include "core/plugin/plugin_library.h"

using namespace cmeter;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PLUGIN.so old|new\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1], kind = argv[2];
  std::printf("host ABI %d.%d (table %zu bytes), plugin %s\n", CMTR_ABI_MAJOR, CMTR_ABI_MINOR,
              sizeof(CMTR_Api), path.c_str());
  auto lib = PluginLibrary::open(path);
  if (!lib) {
    std::printf("FAIL load: %s\n", lib.error().message.c_str());
    return 1;
  }
  const CMTR_Api& api = (*lib)->api();
  std::printf("plugin ABI %d.%d, table %zu bytes\n", api.abi_major, api.abi_minor, api.struct_size);
  auto future = CMETER_API_SLOT(**lib, cmtr_test_future_slot);
  if (kind == "old") {
    expect(api.abi_minor < CMTR_ABI_MINOR, "the plugin is of an older minor");
    expect(api.struct_size < CMTR_STRUCT_SIZE(CMTR_Api, cmtr_test_future_slot),
           "its table ends before the appended slot");
    expect(future == nullptr, "the appended slot reads as absent (never read past struct_size)");
  } else {
    expect(api.abi_minor == CMTR_ABI_MINOR, "the plugin is of this host's minor");
    expect(future != nullptr, "the appended slot is present");
    if (future) {
      CMTR_Plugin_Shutdown_Args args{};
      args.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Shutdown_Args, extension);
      expect(future(&args) == nullptr, "the appended slot is callable");
    }
  }
  expect(!(*lib)->devices().empty(), "it lists a device");
  if ((*lib)->devices().empty()) return 1;
  auto attrs = read_device_attributes(**lib, (*lib)->devices()[0]);
  expect(attrs.ok(), "device_attributes");
  Device device(lib->get(), (*lib)->devices()[0], "dev:0", attrs ? *attrs : KeyValues{});

  // A 13x11x7 f32 GEMM against a host reference, and a round trip of an odd size.
  const int64_t m = 13, n = 11, k = 7;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> a(m * k), b(k * n), c(m * n, 0), got(m * n);
  for (auto& v : a) v = uniform(rng);
  for (auto& v : b) v = uniform(rng);
  KeyValues params{
      {"m", m}, {"n", n}, {"k", k}, {"dtype_a", std::string("f32")}, {"dtype_b", std::string("f32")}};
  auto stream = device.create_stream();
  auto op = device.create_op("gemm.v1", params);
  auto ba = device.create_buffer(a.size() * 4), bb = device.create_buffer(b.size() * 4),
       bc = device.create_buffer(c.size() * 4);
  expect(stream && op && ba && bb && bc, "stream, gemm.v1 op and buffers created");
  if (!(stream && op && ba && bb && bc)) return 1;
  Buffer* list[] = {&*ba, &*bb, &*bc};
  Status st = stream->write(*ba, 0, a.data(), a.size() * 4);
  if (st) st = stream->write(*bb, 0, b.data(), b.size() * 4);
  if (st) st = op->enqueue(*stream, list);
  if (st) st = stream->read(*bc, 0, got.data(), got.size() * 4);
  if (st) st = stream->synchronize();
  expect(st.ok(), "gemm.v1 ran" + (st ? std::string() : ": " + st.error().message));
  double worst = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      double ref = 0;
      for (int64_t q = 0; q < k; ++q) ref += static_cast<double>(a[i + q * m]) * b[q + j * k];
      worst = std::max(worst, std::fabs(ref - got[i + j * m]));
    }
  expect(worst < 1e-5, "gemm.v1 matches the host reference (max error " + std::to_string(worst) + ")");
  std::vector<unsigned char> bytes(4097), back(4097);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 31 + 7);
  auto odd = device.create_buffer(bytes.size());
  st = odd ? stream->write(*odd, 0, bytes.data(), bytes.size()) : odd.error();
  if (st) st = stream->read(*odd, 0, back.data(), back.size());
  if (st) st = stream->synchronize();
  expect(st.ok() && bytes == back, "4097-byte round trip");
  std::printf("%s\n", failures == 0 ? "compatible" : "INCOMPATIBLE");
  return failures == 0 ? 0 : 1;
}
