// Memory checks: write/read round trips at odd sizes and odd offsets, from misaligned host pointers,
// in stream order without a synchronise between dependent copies; and for host-pinned memory, that
// buffer_host_pointer sees exactly what buffer_write wrote and buffer_read returns what the host wrote.
#include <cstring>

#include <fmt/format.h>

#include "core/conformance/session.h"
#include "core/validate/host_data.h"

namespace cmeter::conformance {
namespace {

// Random bytes from core/validate's seeded generator, different for each size and seed.
std::vector<uint8_t> pattern(size_t size, uint64_t seed) {
  auto rng = validate::make_rng(seed, "memory", size);
  return validate::random_elements(DType::kI8, size, rng, -128, 127);
}

// Empty when equal, else where and how they differ.
std::string compare(const uint8_t* got, const uint8_t* expected, size_t size) {
  if (std::memcmp(got, expected, size) == 0) return {};
  size_t i = 0;
  while (got[i] == expected[i]) ++i;
  size_t wrong = 0;
  for (size_t j = i; j < size; ++j) wrong += got[j] != expected[j];
  return fmt::format("{} of {} bytes differ, first at byte {} (got 0x{:02x}, expected 0x{:02x})", wrong, size,
                     i, got[i], expected[i]);
}

// Round trips on one buffer of `size` bytes; failures go to ctx. Returns false when setup failed.
bool round_trips(CheckContext& ctx, const Device& d, Stream& stream, uint64_t size, MemoryKind kind) {
  const std::string what =
      fmt::format("{} {}", kind == MemoryKind::kDevice ? "device" : "host-pinned", bytes_label(size));
  ctx.step(what + " buffer_create");
  auto created = d.create_buffer(size, kind);
  if (!created) return ctx.setup_failed(created.error(), "buffer_create " + what);
  Buffer& buffer = *created;
  const size_t n = static_cast<size_t>(size);
  // Host copies start one byte into their vectors: misaligned on purpose.
  std::vector<uint8_t> expected = pattern(n, 1);
  std::vector<uint8_t> src(n + 1), dst(n + 1);
  std::memcpy(src.data() + 1, expected.data(), n);
  auto run = [&](const std::string& label, auto&& body) {
    ctx.step(what + ": " + label);
    Status st = body();
    if (st) st = stream.synchronize();
    if (!st) ctx.fail(fmt::format("{}: {}: {}", what, label, st.error().message));
    return st.ok();
  };
  auto verify = [&](const std::string& label, const uint8_t* got, const uint8_t* want, size_t count) {
    if (auto diff = compare(got, want, count); !diff.empty())
      ctx.fail(fmt::format("{}: {}: {}", what, label, diff));
  };
  // 1. Whole buffer.
  if (!run("write all, read all", [&] {
        Status st = stream.write(buffer, 0, src.data() + 1, size);
        if (st) st = stream.read(buffer, 0, dst.data() + 1, size);
        return st;
      }))
    return true;
  verify("whole-buffer round trip", dst.data() + 1, expected.data(), n);
  if (n >= 3) {
    // 2. An odd sub-range, then the whole buffer and an odd window of it.
    const size_t off = (n / 3) | 1;
    const size_t len = n - off - 1;
    if (len > 0) {
      std::vector<uint8_t> part = pattern(len, 2);
      std::memcpy(expected.data() + off, part.data(), len);
      if (!run(fmt::format("write [{}, {}), read all", off, off + len), [&] {
            Status st = stream.write(buffer, off, part.data(), len);
            if (st) st = stream.read(buffer, 0, dst.data() + 1, size);
            return st;
          }))
        return true;
      verify(fmt::format("after writing [{}, {})", off, off + len), dst.data() + 1, expected.data(), n);
      std::vector<uint8_t> window(n - 2);
      if (!run(fmt::format("read [1, {})", n - 1),
               [&] { return stream.read(buffer, 1, window.data(), n - 2); }))
        return true;
      verify(fmt::format("read of [1, {})", n - 1), window.data(), expected.data() + 1, n - 2);
    }
  }
  // 3. Stream order: two writes to the same bytes and a read, with no synchronise between them.
  const size_t head = std::min<size_t>(n, 64);
  std::vector<uint8_t> first = pattern(head, 3), second = pattern(head, 4);
  std::memcpy(expected.data(), second.data(), head);
  if (!run("write, overwrite, read without synchronising", [&] {
        Status st = stream.write(buffer, 0, first.data(), head);
        if (st) st = stream.write(buffer, 0, second.data(), head);
        if (st) st = stream.read(buffer, 0, dst.data() + 1, size);
        return st;
      }))
    return true;
  verify("in-order writes", dst.data() + 1, expected.data(), n);
  return true;
}

std::vector<uint64_t> sizes_for(const Session& s) {
  std::vector<uint64_t> sizes = {1, 3, 4097, 65537};
  if (s.full()) {
    sizes.push_back((uint64_t{1} << 20) + 7);
    sizes.push_back((uint64_t{16} << 20) + 3);
  }
  return sizes;
}

}  // namespace

void check_memory_round_trip(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  const auto sizes = sizes_for(s);
  for (uint64_t size : sizes) {
    if (!round_trips(ctx, d, *stream, size, MemoryKind::kDevice)) return;
  }
  if (!ctx.done())
    ctx.pass(fmt::format("{} sizes from 1 to {} bytes: whole, odd sub-range, odd window, in-order",
                         sizes.size(), sizes.back()));
}

void check_memory_host_pinned(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  const auto sizes = sizes_for(s);
  for (uint64_t size : sizes) {
    if (!round_trips(ctx, d, *stream, size, MemoryKind::kHostPinned)) return;
  }
  // Coherence with the host pointer.
  constexpr size_t kBytes = 65537;
  auto buffer = d.create_buffer(kBytes, MemoryKind::kHostPinned);
  if (!buffer) return (void)ctx.setup_failed(buffer.error(), "buffer_create host-pinned");
  ctx.step("buffer_host_pointer");
  auto host = buffer->host_pointer();
  if (!host) return (void)ctx.setup_failed(host.error(), "buffer_host_pointer of a host-pinned buffer");
  auto* mapped = static_cast<uint8_t*>(*host);
  std::vector<uint8_t> a = pattern(kBytes, 5), b = pattern(kBytes, 6), got(kBytes);
  ctx.step("buffer_write then read through the host pointer");
  Status st = stream->write(*buffer, 0, a.data(), kBytes);
  if (st) st = stream->synchronize();
  if (!st) return ctx.fail("host-pinned write: " + st.error().message);
  if (auto diff = compare(mapped, a.data(), kBytes); !diff.empty())
    ctx.fail("host pointer does not show what buffer_write wrote: " + diff);
  ctx.step("host writes through the pointer, then buffer_read");
  std::memcpy(mapped, b.data(), kBytes);
  st = stream->read(*buffer, 0, got.data(), kBytes);
  if (st) st = stream->synchronize();
  if (!st) return ctx.fail("host-pinned read: " + st.error().message);
  if (auto diff = compare(got.data(), b.data(), kBytes); !diff.empty())
    ctx.fail("buffer_read does not return what the host wrote through the pointer: " + diff);
  if (!ctx.done())
    ctx.pass(fmt::format("{} sizes round-trip; host pointer coherent both ways", sizes.size()));
}

}  // namespace cmeter::conformance
