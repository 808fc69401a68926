// The transfer workload: host<->device copies through buffer_write / buffer_read, from page-locked
// (a host-pinned plugin buffer) or pageable (plain malloc) host memory, one direction per case. The
// copied data is verified byte for byte after timing. Bytes counted once per call.
#include <algorithm>
#include <cstring>

#include "core/validate/host_data.h"
#include "core/validate/tolerance.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

void run_transfer(const Context& ctx, CaseResult& result) {
  ParamReader p(ctx.spec.params);
  const std::string direction = p.get_string("direction", "h2d");
  const std::string memory = p.get_string("memory", "pinned");
  const int64_t bytes_param = p.get_int("bytes", 64 << 20);
  if (auto st = p.finish(); !st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
  if (direction != "h2d" && direction != "d2h")
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("direction must be h2d or d2h, got '{}'", direction));
  if (memory != "pinned" && memory != "pageable")
    return (void)fail(result, CaseStatus::kFailed,
                      fmt::format("memory must be pinned or pageable, got '{}'", memory));
  if (bytes_param <= 0) return (void)fail(result, CaseStatus::kFailed, "bytes must be positive");
  const auto bytes = static_cast<uint64_t>(bytes_param);
  result.params = KeyValues{{"direction", direction}, {"memory", memory}, {"bytes", bytes_param}};
  const Device& dev = ctx.device;
  if (bytes > memory_budget_bytes(dev))
    return (void)fail(result, CaseStatus::kUnsupported, "buffer does not fit device memory");
  result.method.bytes_per_call = static_cast<double>(bytes);
  result.method.rotation_sets = 1;

  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  auto device_buffer = dev.create_buffer(bytes, MemoryKind::kDevice);
  if (!device_buffer) return (void)fail(result, CaseStatus::kFailed, device_buffer.error().message);

  Buffer pinned;
  std::vector<uint8_t> pageable;
  uint8_t* host = nullptr;
  if (memory == "pinned") {
    auto b = dev.create_buffer(bytes, MemoryKind::kHostPinned);
    if (!b)
      return (void)fail(result, CaseStatus::kUnsupported, "no host-pinned memory: " + b.error().message);
    pinned = std::move(b).value();
    auto ptr = pinned.host_pointer();
    if (!ptr)
      return (void)fail(result, CaseStatus::kUnsupported,
                        "host-pinned buffer not host-addressable: " + ptr.error().message);
    host = static_cast<uint8_t*>(*ptr);
    result.method.impl = "host-pinned plugin buffer";
  } else {
    pageable.resize(bytes);  // value-initialised: pages touched before timing
    host = pageable.data();
    result.method.impl = "pageable host memory (std::vector)";
  }
  auto rng = validate::make_rng(ctx.seed, ctx.spec.id + "/" + dev.id());
  const std::vector<uint8_t> pattern = validate::random_elements(DType::kI8, bytes, rng, -128, 127);
  Status st;
  if (direction == "h2d") {
    std::memcpy(host, pattern.data(), bytes);
  } else {
    st = stream->write(*device_buffer, 0, pattern.data(), bytes);
    if (st) st = stream->synchronize();
    if (!st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
    std::memset(host, 0, bytes);
  }
  auto enqueue = [&](int64_t) -> Status {
    return direction == "h2d" ? stream->write(*device_buffer, 0, host, bytes)
                              : stream->read(*device_buffer, 0, host, bytes);
  };
  auto measured = measure::run_loop(*stream, enqueue, {ctx.spec.stats});
  if (!measured) return (void)fail(result, CaseStatus::kFailed, measured.error().message);
  record_measurement(result, *measured, static_cast<double>(bytes), "bytes_per_s", "B/s");
  set_status_from_measurement(result, *measured);

  // Verify: h2d reads the device buffer back; d2h checks the host buffer the timed calls filled.
  std::vector<uint8_t> check;
  const uint8_t* got = host;
  if (direction == "h2d") {
    check.resize(bytes);
    st = stream->read(*device_buffer, 0, check.data(), bytes);
    if (st) st = stream->synchronize();
    if (!st) return (void)fail(result, CaseStatus::kFailed, st.error().message);
    got = check.data();
  }
  Validation v;
  v.method = direction == "h2d" ? "device buffer read back and compared byte for byte"
                                : "host buffer compared byte for byte";
  v.points = static_cast<int64_t>(bytes);
  v.passed = std::memcmp(got, pattern.data(), bytes) == 0;
  if (!v.passed) {
    size_t first = 0;
    while (first < bytes && got[first] == pattern[first]) ++first;
    v.failures = 1;
    v.first_failure = fmt::format("byte {}: got {}, expected {}", first, got[first], pattern[first]);
  }
  result.validation = v;
  if (!v.passed)
    return (void)fail(result, CaseStatus::kInvalid, "transferred data differs: " + v.first_failure);
  const bool shared = get_bool(dev.attributes(), "mem.host_shared").value_or(false);
  apply_plausibility(result, dev,
                     shared && !get_number(dev.attributes(), "peak.link.bytes_per_s")
                         ? "peak.mem.bytes_per_s"
                         : "peak.link.bytes_per_s",
                     "bytes_per_s");
}

}  // namespace cmeter::workloads
