// Tests of the conformance check families one by one, in this process: each passes on the stub
// plugin and fails when a fault is planted in this host's copy of the stub's function table (the
// plugin itself is untouched): an op that skips its work, a read that corrupts a byte, an elapsed time
// that runs backwards, a bad call that succeeds, a destroy that leaks. The faulty stub builds
// (wronggemm, toofast, badmajor...) are tested through the whole suite in suite_test.cpp.
#include <cstring>

#include <doctest/doctest.h>

#include "core/conformance/session.h"

#if defined(__SANITIZE_ADDRESS__)
#define CMETER_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CMETER_UNDER_ASAN 1
#endif
#endif
#ifndef CMETER_UNDER_ASAN
#define CMETER_UNDER_ASAN 0
#endif

namespace cmeter::conformance {
namespace {

class NullListener : public SuiteListener {
 public:
  void on_result(size_t, const CheckResult&) override {}
};

// The stub loaded by the suite's own loading checks, its table open to planted faults.
struct Loaded {
  SuiteOptions options;
  NullListener listener;
  Session session{options, listener};
  CMTR_Api& table() { return const_cast<CMTR_Api&>(session.lib->api()); }
};

CheckResult run(Session& s, CheckFn fn) {
  CheckContext ctx(s, "under test");
  fn(s, ctx);
  return ctx.finish("under test", 0);
}

std::unique_ptr<Loaded> load_stub(Level level = Level::kQuick) {
  auto l = std::make_unique<Loaded>();
  l->options.plugin_path = std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so";
  l->options.level = level;
  for (CheckFn fn : {check_load_dlopen, check_load_get_api, check_abi_version, check_abi_table_size,
                     check_abi_required_slots, check_plugin_load, check_plugin_devices}) {
    const CheckResult r = run(l->session, fn);
    REQUIRE_MESSAGE(r.status == CheckStatus::kPass, r.reason);
  }
  REQUIRE(l->session.device() != nullptr);
  // Every check, the raw-ABI ones included, goes through the host's copy of the table.
  l->session.api = &l->session.lib->api();
  return l;
}

// The stub's functions the planted faults forward to.
CMTR_Op_Enqueue* g_op_enqueue = nullptr;
CMTR_Buffer_Read* g_buffer_read = nullptr;
CMTR_Buffer_Create* g_buffer_create = nullptr;
CMTR_Event_Elapsed* g_event_elapsed = nullptr;
CMTR_Buffer_Destroy* g_buffer_destroy = nullptr;

// The lazy kernel: accepts the launch and does nothing.
CMTR_Error* skipping_enqueue(CMTR_Op_Enqueue_Args* a) {
  if (a == nullptr || a->op == nullptr) return g_op_enqueue(a);  // bad calls still answered
  return nullptr;
}
// A transfer that flips the last byte it reads.
CMTR_Error* corrupting_read(CMTR_Buffer_Read_Args* a) {
  CMTR_Error* e = g_buffer_read(a);
  if (e == nullptr && a != nullptr && a->host_pointer != nullptr && a->size_bytes > 0)
    static_cast<uint8_t*>(a->host_pointer)[a->size_bytes - 1] ^= 0x5a;
  return e;
}
// Accepts a zero-byte buffer (it must be an error).
CMTR_Error* zero_accepting_create(CMTR_Buffer_Create_Args* a) {
  if (a != nullptr && a->size_bytes == 0) {
    a->size_bytes = 1;
    CMTR_Error* e = g_buffer_create(a);
    a->size_bytes = 0;
    return e;
  }
  return g_buffer_create(a);
}
// A timer that runs backwards.
CMTR_Error* backwards_elapsed(CMTR_Event_Elapsed_Args* a) {
  CMTR_Error* e = g_event_elapsed(a);
  if (e == nullptr && a != nullptr) a->elapsed_s = -a->elapsed_s;
  return e;
}
// Leaks every buffer (the handle is never freed).
CMTR_Error* leaking_destroy(CMTR_Buffer_Destroy_Args* a) {
  if (a == nullptr || a->buffer == nullptr) return g_buffer_destroy(a);
  return nullptr;
}

TEST_CASE("conformance checks: op families pass on the stub, fail on a kernel that skips its work") {
  const std::vector<std::pair<const char*, CheckFn>> ops = {{"op.gemm.v1.f32", check_op_gemm_f32},
                                                            {"op.gemm.v1.f64", check_op_gemm_f64},
                                                            {"op.fma_peak.v1.f32", check_op_fma_peak_f32},
                                                            {"op.fma_peak.v1.f64", check_op_fma_peak_f64},
                                                            {"op.stream.v1.f32", check_op_stream_f32},
                                                            {"op.stream.v1.f64", check_op_stream_f64},
                                                            {"op.copy.v1", check_op_copy}};
  auto honest = load_stub();
  for (const auto& [id, fn] : ops) {
    const auto& id_value = id;  // clang 14 cannot capture a structured binding
    CAPTURE(id_value);
    const CheckResult r = run(honest->session, fn);
    CHECK_MESSAGE(r.status == CheckStatus::kPass, r.reason);
  }
  CHECK(run(honest->session, check_op_noop).status == CheckStatus::kPass);
  auto lazy = load_stub();
  g_op_enqueue = std::exchange(lazy->table().op_enqueue, skipping_enqueue);
  for (const auto& [id, fn] : ops) {
    const auto& id_value = id;  // clang 14 cannot capture a structured binding
    CAPTURE(id_value);
    const CheckResult r = run(lazy->session, fn);
    CHECK(r.status == CheckStatus::kFail);
    CHECK_FALSE(r.reason.empty());
  }
}

TEST_CASE("conformance checks: an op family the plugin does not claim is skipped, not failed") {
  auto l = load_stub();
  const CheckResult r = run(l->session, check_op_gemm_f16);
  CHECK(r.status == CheckStatus::kSkip);
  CHECK(r.skip_kind == SkipKind::kNotApplicable);
}

TEST_CASE("conformance checks: memory and concurrency fail on a read that corrupts a byte") {
  const std::vector<std::pair<const char*, CheckFn>> checks = {
      {"memory.round_trip", check_memory_round_trip},
      {"memory.host_pinned", check_memory_host_pinned},
      {"concurrency.two_threads", check_concurrency_two_threads}};
  auto honest = load_stub();
  for (const auto& [id, fn] : checks) {
    const auto& id_value = id;  // clang 14 cannot capture a structured binding
    CAPTURE(id_value);
    const CheckResult r = run(honest->session, fn);
    CHECK_MESSAGE(r.status == CheckStatus::kPass, r.reason);
  }
  auto corrupt = load_stub();
  g_buffer_read = std::exchange(corrupt->table().buffer_read, corrupting_read);
  for (const auto& [id, fn] : checks) {
    const auto& id_value = id;  // clang 14 cannot capture a structured binding
    CAPTURE(id_value);
    CHECK(run(corrupt->session, fn).status == CheckStatus::kFail);
  }
  const CheckResult round_trip = run(corrupt->session, check_memory_round_trip);
  CHECK(round_trip.reason.find("differ") != std::string::npos);
}

TEST_CASE("conformance checks: events fail on a timer that runs backwards") {
  auto honest = load_stub();
  CHECK(run(honest->session, check_events_monotonic).status == CheckStatus::kPass);
  auto backwards = load_stub();
  g_event_elapsed = std::exchange(backwards->table().event_elapsed, backwards_elapsed);
  CHECK(run(backwards->session, check_events_monotonic).status == CheckStatus::kFail);
}

TEST_CASE("conformance checks: bad-input families pass on the stub, fail when a bad call succeeds") {
  const std::vector<std::pair<const char*, CheckFn>> checks = {
      {"errors.plugin", check_errors_plugin},
      {"errors.device", check_errors_device},
      {"errors.buffer_create", check_errors_buffer_create},
      {"errors.buffer_handles", check_errors_buffer_handles},
      {"errors.buffer_transfer", check_errors_buffer_transfer},
      {"errors.stream", check_errors_stream},
      {"errors.event", check_errors_event},
      {"errors.op_query", check_errors_op_query},
      {"errors.op_create", check_errors_op_create},
      {"errors.op_handles", check_errors_op_handles},
      {"compat.struct_size", check_compat_struct_size},
  };
  auto honest = load_stub();
  for (const auto& [id, fn] : checks) {
    const auto& id_value = id;  // clang 14 cannot capture a structured binding
    CAPTURE(id_value);
    const CheckResult r = run(honest->session, fn);
    CHECK_MESSAGE(r.status == CheckStatus::kPass, r.reason);
  }
  auto lax = load_stub();
  g_buffer_create = std::exchange(lax->table().buffer_create, zero_accepting_create);
  const CheckResult r = run(lax->session, check_errors_buffer_create);
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.reason.find("succeeded; an error object was expected") != std::string::npos);
}

TEST_CASE("conformance checks: lifecycle fails on a plugin that leaks its buffers") {
  auto honest = load_stub(Level::kFull);
  const CheckResult ok = run(honest->session, check_lifecycle_no_growth);
#if !CMETER_UNDER_ASAN  // ASan's quarantine keeps freed buffers resident: an honest plugin grows too
  CHECK_MESSAGE(ok.status == CheckStatus::kPass, ok.reason);
#endif
  auto leaky = load_stub(Level::kFull);
  g_buffer_destroy = std::exchange(leaky->table().buffer_destroy, leaking_destroy);
  const CheckResult leak = run(leaky->session, check_lifecycle_no_growth);
  CHECK(leak.status == CheckStatus::kFail);
}

}  // namespace
}  // namespace cmeter::conformance
