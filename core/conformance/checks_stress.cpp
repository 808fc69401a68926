// Stress checks (--level full): repeated create/destroy of every kind of object must not grow the
// process (host memory, measured as resident set size) or exhaust the device (large buffers freed and
// allocated again); and two devices, or two streams on one device when there is only one, used from
// two threads at once must both give correct results.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "core/conformance/session.h"
#include "core/util/resident_memory.h"
#include "core/validate/host_data.h"

namespace cmeter::conformance {
namespace {

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}

// A small op to create and destroy repeatedly: the first one supported.
std::optional<std::pair<std::string, KeyValues>> small_op(const Device& d) {
  const std::vector<std::pair<std::string, KeyValues>> candidates = {
      {"noop.v1", {}},
      {"copy.v1", {{"bytes", int64_t{64}}}},
      {"gemm.v1",
       {{"m", int64_t{8}},
        {"n", int64_t{8}},
        {"k", int64_t{8}},
        {"dtype_a", std::string("f32")},
        {"dtype_b", std::string("f32")}}},
  };
  for (const auto& c : candidates) {
    auto q = d.query_op(c.first, c.second);
    if (q && q->supported) return c;
  }
  return std::nullopt;
}

}  // namespace

void check_lifecycle_no_growth(Session& s, CheckContext& ctx) {
  const Device& d = *s.device();
  const CMTR_Api& api = *s.api;
  // Each loop runs `warmup` times, then the RSS is read, then `rounds` times, then it is read again.
  struct Loop {
    std::string what;
    int warmup, rounds;
    uint64_t limit_bytes;  // growth allowed
    std::function<Status()> body;
  };
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  constexpr uint64_t kBufferBytes = 4 << 20;
  std::vector<uint8_t> host(kBufferBytes, 0x11);
  std::vector<Loop> loops;
  loops.push_back({"buffer create, write 4 MiB, destroy", 8, 64, 32 << 20, [&]() -> Status {
                     auto b = d.create_buffer(kBufferBytes);
                     if (!b) return b.error();
                     CMETER_TRY(stream->write(*b, 0, host.data(), kBufferBytes));
                     return stream->synchronize();
                   }});
  loops.push_back({"stream create/destroy", 100, 5000, 4 << 20, [&]() -> Status {
                     auto st = d.create_stream();
                     if (!st) return st.error();
                     return {};
                   }});
  if (CMETER_RAW_SLOT(api, event_record) && CMETER_RAW_SLOT(api, event_destroy))
    loops.push_back({"event record/destroy", 100, 5000, 4 << 20, [&]() -> Status {
                       auto e = stream->record_event();
                       if (!e) return e.error();
                       return {};
                     }});
  loops.push_back({"error object create/destroy (a rejected call)", 100, 5000, 4 << 20, [&]() -> Status {
                     auto b = d.create_buffer(0);  // must fail: size 0
                     if (b) return make_error(ErrorCode::kInternal, "buffer_create of 0 bytes succeeded");
                     return {};
                   }});
  // Ops: created and destroyed, and one op launched many times (a launch must not allocate for good).
  std::optional<Op> launched;
  std::vector<Buffer> launch_buffers;
  if (auto op = small_op(d)) {
    loops.push_back({"op create, launch, destroy (" + op->first + ")", 3, 300, 4 << 20, [&, op]() -> Status {
                       auto o = d.create_op(op->first, op->second);
                       if (!o) return o.error();
                       std::vector<Buffer*> list;
                       for (auto& b : launch_buffers) list.push_back(&b);
                       CMETER_TRY(o->enqueue(*stream, list));
                       return stream->synchronize();
                     }});
    auto o = d.create_op(op->first, op->second);
    if (!o) return (void)ctx.setup_failed(o.error(), "op_create(" + op->first + ")");
    launched = std::move(o).value();
    const size_t count = op->first == "noop.v1" ? 0 : op->first == "copy.v1" ? 2 : 3;
    for (size_t i = 0; i < count; ++i) {
      auto b = d.create_buffer(1024);
      if (!b) return (void)ctx.setup_failed(b.error(), "buffer_create");
      launch_buffers.push_back(std::move(b).value());
    }
    loops.push_back({"op_enqueue + synchronize (" + op->first + ")", 10, 200, 16 << 20, [&]() -> Status {
                       std::vector<Buffer*> list;
                       for (auto& b : launch_buffers) list.push_back(&b);
                       CMETER_TRY(launched->enqueue(*stream, list));
                       return stream->synchronize();
                     }});
  } else {
    ctx.note("no small op supported: op create/destroy and launches not repeated");
  }
  for (const Loop& loop : loops) {
    ctx.step(loop.what);
    for (int i = 0; i < loop.warmup; ++i) {
      if (auto st = loop.body(); !st) return (void)ctx.setup_failed(st.error(), loop.what);
    }
    const uint64_t before = self_rss_bytes();
    // Growth is looked at as it happens, so a leak stops the loop before it takes the machine's memory.
    uint64_t after = before;
    int rounds = 0;
    const int every =
        loop.rounds <= 500 ? 1 : 10;  // /proc reads are cheap next to an op, not next to an event
    for (; rounds < loop.rounds; ++rounds) {
      if (auto st = loop.body(); !st)
        return ctx.fail(fmt::format("{}: round {}: {}", loop.what, rounds, st.error().message));
      if (rounds % every == every - 1 || rounds + 1 == loop.rounds) {
        after = self_rss_bytes();
        if (after > before + loop.limit_bytes) {
          ++rounds;
          break;
        }
      }
    }
    const int64_t growth = static_cast<int64_t>(after) - static_cast<int64_t>(before);
    ctx.note(
        fmt::format("{} x {}: resident {:.1f} -> {:.1f} MiB", rounds, loop.what, mib(before), mib(after)));
    if (growth > static_cast<int64_t>(loop.limit_bytes))
      ctx.fail(fmt::format("{} x {}: the process grew by {:.1f} MiB (limit {:.0f} MiB): a leak", rounds,
                           loop.what, mib(static_cast<uint64_t>(growth)), mib(loop.limit_bytes)));
  }
  // Device memory: allocate a quarter of it (at most 1 GiB) and free it, 12 times; a leak runs out.
  if (!get_bool(d.attributes(), "mem.host_shared").value_or(false)) {
    const int64_t mem = get_int(d.attributes(), "mem.bytes").value_or(0);
    if (mem > 0) {
      const uint64_t quarter = std::min<uint64_t>(static_cast<uint64_t>(mem) / 4, uint64_t{1} << 30);
      for (int i = 0; i < 12; ++i) {
        ctx.step(fmt::format("device buffer of {:.0f} MiB, round {}", mib(quarter), i));
        auto b = d.create_buffer(quarter);
        if (!b) {
          if (i == 0) {
            ctx.note(fmt::format("a {:.0f} MiB buffer cannot be created at all: {}", mib(quarter),
                                 b.error().message));
            break;
          }
          ctx.fail(
              fmt::format("a {:.0f} MiB buffer (a quarter of mem.bytes) fails on round {} after succeeding "
                          "before: destroyed buffers are not freed ({})",
                          mib(quarter), i, b.error().message));
          break;
        }
      }
      if (!ctx.failed())
        ctx.note(fmt::format("12 x {:.0f} MiB device buffers allocated and freed", mib(quarter)));
    }
  }
  if (!ctx.done()) ctx.pass(fmt::format("{} create/destroy loops without growth", loops.size()));
}

void check_concurrency_two_threads(Session& s, CheckContext& ctx) {
  const Device& first = *s.device();
  const Device* second = nullptr;
  for (const auto& d : s.devices)
    if (&d != &first) {
      second = &d;
      break;
    }
  const std::string how = second ? fmt::format("{} and {}", first.id(), second->id())
                                 : fmt::format("two streams on {} (the plugin has one device)", first.id());
  const Device* targets[2] = {&first, second ? second : &first};
  auto copy_supported = [](const Device& d) {
    auto q = d.query_op("copy.v1", {{"bytes", int64_t{1} << 20}});
    return q && q->supported;
  };
  // Each thread: 20 rounds of write pattern, (copy.v1 on the device when supported), read, compare.
  struct Outcome {
    std::string error;
    bool unimplemented = false;  // setup answered UNIMPLEMENTED
    int rounds = 0;
  };
  Outcome outcomes[2];
  std::atomic<int> ready{0};
  auto worker = [&](int t) {
    const Device& d = *targets[t];
    Outcome& out = outcomes[t];
    constexpr uint64_t kBytes = 1 << 20;
    std::optional<Stream> stream;
    std::optional<Buffer> src, dst;
    std::optional<Op> copy;
    auto setup = [&]() -> Status {
      auto st = d.create_stream();
      if (!st) return st.error();
      stream = std::move(st).value();
      for (auto* slot : {&src, &dst}) {
        auto b = d.create_buffer(kBytes);
        if (!b) return b.error();
        *slot = std::move(b).value();
      }
      if (copy_supported(d)) {
        auto op = d.create_op("copy.v1", {{"bytes", static_cast<int64_t>(kBytes)}});
        if (!op) return op.error();
        copy = std::move(op).value();
      }
      return {};
    };
    Status ok = setup();
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();  // start together (both arrive, even on failure)
    if (!ok) {
      out.error = "setup: " + ok.error().message;
      out.unimplemented = ok.error().code == ErrorCode::kUnimplemented;
      return;
    }
    std::vector<uint8_t> pattern, got(kBytes);
    auto rng = validate::make_rng(static_cast<uint64_t>(t) + 1, "concurrency");
    for (int round = 0; round < 20; ++round) {
      pattern = validate::random_elements(DType::kI8, kBytes, rng, -128, 127);
      Status st = stream->write(*src, 0, pattern.data(), kBytes);
      Buffer* list[] = {&*src, &*dst};
      if (st && copy) st = copy->enqueue(*stream, list);
      if (st) st = stream->read(copy ? *dst : *src, 0, got.data(), kBytes);
      if (st) st = stream->synchronize();
      if (!st) return void(out.error = fmt::format("round {}: {}", round, st.error().message));
      if (got != pattern)
        return void(out.error = fmt::format("round {}: data read back differs from what was written", round));
      out.rounds = round + 1;
    }
  };
  ctx.step("two threads: " + how);
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  for (int t = 0; t < 2; ++t) {
    if (!outcomes[t].error.empty()) {
      if (outcomes[t].unimplemented) {
        ctx.skip(SkipKind::kUnimplemented, outcomes[t].error);
        continue;
      }
      ctx.fail(fmt::format("thread {} on {}: {}", t, targets[t]->id(), outcomes[t].error));
    }
  }
  ctx.note("used " + how + (copy_supported(first) ? ", write + copy.v1 + read" : ", write + read"));
  if (!ctx.done()) ctx.pass(fmt::format("20 rounds per thread correct, {}", how));
}

}  // namespace cmeter::conformance
