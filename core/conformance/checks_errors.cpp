// Bad-input checks, function by function: NULL args, a struct_size short of the 1.0 layout, NULL
// handles, zero and huge sizes, out-of-range and overflowing ranges, unknown op names and keys. Each
// call must answer an error object with a known code and a message (destroying NULL and zero-byte
// copies may also succeed), never crash: a crash kills the worker and fails the check, naming the case.
// Also: args from a newer host (larger struct_size) must be accepted.
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "core/conformance/session.h"

namespace cmeter::conformance {
namespace {

constexpr size_t kShortSize = sizeof(size_t);  // struct_size covering only struct_size itself
constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

CMTR_Device* raw_device(Session& s) {
  return s.lib->devices()[static_cast<size_t>(s.options.device_index)];
}

// A catalogue op the device supports with small parameters, to probe keys against.
struct SupportedOp {
  std::string name;
  KeyValues params;
  std::string required;   // a required param to drop ("" when none)
  std::string int_param;  // a param whose value must be an int ("" when none)
  size_t num_buffers = 0;
  std::vector<uint64_t> buffer_bytes;  // sizes that make a valid enqueue
};

std::vector<SupportedOp> candidate_ops() {
  return {
      {"copy.v1", {{"bytes", int64_t{64}}}, "bytes", "bytes", 2, {64, 64}},
      {"stream.v1",
       {{"kind", std::string("copy")}, {"dtype", std::string("f32")}, {"n", int64_t{16}}},
       "n",
       "n",
       3,
       {64, 64, 64}},
      {"stream.v1",
       {{"kind", std::string("copy")}, {"dtype", std::string("f64")}, {"n", int64_t{8}}},
       "n",
       "n",
       3,
       {64, 64, 64}},
      {"gemm.v1",
       {{"m", int64_t{4}},
        {"n", int64_t{4}},
        {"k", int64_t{4}},
        {"dtype_a", std::string("f32")},
        {"dtype_b", std::string("f32")}},
       "m",
       "k",
       3,
       {64, 64, 64}},
      {"gemm.v1",
       {{"m", int64_t{4}},
        {"n", int64_t{4}},
        {"k", int64_t{4}},
        {"dtype_a", std::string("f64")},
        {"dtype_b", std::string("f64")}},
       "m",
       "k",
       3,
       {128, 128, 128}},
      {"fma_peak.v1",
       {{"dtype", std::string("f32")}, {"items", int64_t{16}}, {"iters", int64_t{1}}},
       "items",
       "items",
       1,
       {64}},
      {"noop.v1", {}, "", "", 0, {}},
  };
}

std::optional<SupportedOp> find_supported_op(const Device& d) {
  for (auto& op : candidate_ops()) {
    auto q = d.query_op(op.name, op.params);
    if (q && q->supported) return op;
  }
  return std::nullopt;
}

// Calls op_query/op_create with `params` through the raw table.
CMTR_Error* raw_op_query(const CMTR_Api& api, CMTR_Device* dev, const std::string& name,
                         const KeyValues& params, int32_t* supported = nullptr) {
  auto list = to_abi(params);
  char reason[256];
  auto a = CMETER_ABI_ARGS(CMTR_Op_Query_Args, reason_size);
  a.device = dev;
  a.name = CMTR_String{name.data(), name.size()};
  a.params = list.data();
  a.num_params = list.size();
  a.reason_buffer = reason;
  a.reason_buffer_size = sizeof(reason);
  CMTR_Error* e = api.op_query(&a);
  if (supported) *supported = a.supported;
  return e;
}

void destroy_op(const CMTR_Api& api, CMTR_Op* op) {
  if (op == nullptr || api.op_destroy == nullptr) return;
  auto a = CMETER_ABI_ARGS(CMTR_Op_Destroy_Args, op);
  a.op = op;
  inspect_error(api, api.op_destroy(&a));
}

CMTR_Error* raw_op_create(const CMTR_Api& api, CMTR_Device* dev, const std::string& name,
                          const KeyValues& params) {
  auto list = to_abi(params);
  auto a = CMETER_ABI_ARGS(CMTR_Op_Create_Args, op);
  a.device = dev;
  a.name = CMTR_String{name.data(), name.size()};
  a.params = list.data();
  a.num_params = list.size();
  CMTR_Error* e = api.op_create(&a);
  if (e == nullptr) destroy_op(api, a.op);  // it should not have succeeded; do not leak it
  return e;
}

void finish(CheckContext& ctx, const char* what) {
  if (!ctx.done()) ctx.pass(fmt::format("every bad call to {} answered an error object", what));
}

}  // namespace

void check_errors_plugin(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  expect_error(ctx, api, "plugin_initialize(NULL)", [&] { return api.plugin_initialize(nullptr); });
  expect_error(ctx, api, "plugin_initialize struct_size 8", [&] {
    auto a = abi_args<CMTR_Plugin_Initialize_Args>(kShortSize);
    return api.plugin_initialize(&a);
  });
  expect_error(ctx, api, "plugin_initialize num_options 3, options NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Plugin_Initialize_Args, num_attributes);
    a.host_abi_major = CMTR_ABI_MAJOR;
    a.host_abi_minor = CMTR_ABI_MINOR;
    a.num_options = 3;
    return api.plugin_initialize(&a);
  });
  expect_error(ctx, api, "plugin_devices(NULL)", [&] { return api.plugin_devices(nullptr); });
  expect_error(ctx, api, "plugin_devices struct_size 8", [&] {
    auto a = abi_args<CMTR_Plugin_Devices_Args>(kShortSize);
    return api.plugin_devices(&a);
  });
  finish(ctx, "plugin_initialize and plugin_devices");
}

void check_errors_device(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  expect_error(ctx, api, "device_attributes(NULL)", [&] { return api.device_attributes(nullptr); });
  expect_error(ctx, api, "device_attributes struct_size 8", [&] {
    auto a = abi_args<CMTR_Device_Attributes_Args>(kShortSize);
    return api.device_attributes(&a);
  });
  expect_error(ctx, api, "device_attributes device NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Device_Attributes_Args, num_attributes);
    return api.device_attributes(&a);
  });
  if (auto telemetry = CMETER_RAW_SLOT(api, device_telemetry)) {
    expect_error(ctx, api, "device_telemetry(NULL)", [&] { return telemetry(nullptr); });
    expect_error(ctx, api, "device_telemetry struct_size 8", [&] {
      auto a = abi_args<CMTR_Device_Telemetry_Args>(kShortSize);
      return telemetry(&a);
    });
    expect_error(ctx, api, "device_telemetry device NULL", [&] {
      auto a = CMETER_ABI_ARGS(CMTR_Device_Telemetry_Args, num_readings);
      return telemetry(&a);
    });
  }
  finish(ctx, "device_attributes and device_telemetry");
}

void check_errors_buffer_create(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  auto create = CMETER_RAW_SLOT(api, buffer_create);
  if (!create) return ctx.skip(SkipKind::kUnimplemented, "buffer_create slot is NULL");
  CMTR_Device* dev = raw_device(s);
  // Each case; a buffer it wrongly created is destroyed.
  auto attempt = [&](const std::string& label, CMTR_Device* device, uint64_t bytes, int32_t kind) {
    CMTR_Buffer* made = nullptr;
    expect_error(ctx, api, label, [&] {
      auto a = CMETER_ABI_ARGS(CMTR_Buffer_Create_Args, buffer);
      a.device = device;
      a.size_bytes = bytes;
      a.memory_kind = kind;
      CMTR_Error* e = create(&a);
      if (e == nullptr) made = a.buffer;
      return e;
    });
    if (made != nullptr && CMETER_RAW_SLOT(api, buffer_destroy)) {
      auto d = CMETER_ABI_ARGS(CMTR_Buffer_Destroy_Args, buffer);
      d.buffer = made;
      inspect_error(api, api.buffer_destroy(&d));
    }
  };
  expect_error(ctx, api, "buffer_create(NULL)", [&] { return create(nullptr); });
  expect_error(ctx, api, "buffer_create struct_size 8", [&] {
    auto a = abi_args<CMTR_Buffer_Create_Args>(kShortSize);
    return create(&a);
  });
  attempt("buffer_create device NULL", nullptr, 64, CMTR_MEMORY_DEVICE);
  attempt("buffer_create size 0", dev, 0, CMTR_MEMORY_DEVICE);
  attempt("buffer_create size 2^64-1", dev, kHuge, CMTR_MEMORY_DEVICE);
  attempt("buffer_create size 2^62", dev, uint64_t{1} << 62, CMTR_MEMORY_DEVICE);
  attempt("buffer_create host-pinned size 2^62", dev, uint64_t{1} << 62, CMTR_MEMORY_HOST_PINNED);
  attempt("buffer_create memory_kind 7", dev, 64, 7);
  attempt("buffer_create memory_kind -1", dev, 64, -1);
  finish(ctx, "buffer_create");
}

void check_errors_buffer_handles(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  if (auto destroy = CMETER_RAW_SLOT(api, buffer_destroy)) {
    expect_error(ctx, api, "buffer_destroy(NULL)", [&] { return destroy(nullptr); });
    expect_error(ctx, api, "buffer_destroy struct_size 8", [&] {
      auto a = abi_args<CMTR_Buffer_Destroy_Args>(kShortSize);
      return destroy(&a);
    });
    allow_error(ctx, api, "buffer_destroy buffer NULL", [&] {
      auto a = CMETER_ABI_ARGS(CMTR_Buffer_Destroy_Args, buffer);
      return destroy(&a);
    });
  } else {
    ctx.note("buffer_destroy slot is NULL");
  }
  if (auto host_pointer = CMETER_RAW_SLOT(api, buffer_host_pointer)) {
    expect_error(ctx, api, "buffer_host_pointer(NULL)", [&] { return host_pointer(nullptr); });
    expect_error(ctx, api, "buffer_host_pointer struct_size 8", [&] {
      auto a = abi_args<CMTR_Buffer_Host_Pointer_Args>(kShortSize);
      return host_pointer(&a);
    });
    expect_error(ctx, api, "buffer_host_pointer buffer NULL", [&] {
      auto a = CMETER_ABI_ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer);
      return host_pointer(&a);
    });
  }
  if (!CMETER_RAW_SLOT(api, buffer_destroy) && !CMETER_RAW_SLOT(api, buffer_host_pointer))
    return ctx.skip(SkipKind::kUnimplemented, "buffer_destroy and buffer_host_pointer slots are NULL");
  finish(ctx, "buffer_destroy and buffer_host_pointer");
}

void check_errors_buffer_transfer(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  auto write = CMETER_RAW_SLOT(api, buffer_write);
  auto read = CMETER_RAW_SLOT(api, buffer_read);
  if (!write || !read) return ctx.skip(SkipKind::kUnimplemented, "buffer_write or buffer_read slot is NULL");
  expect_error(ctx, api, "buffer_write(NULL)", [&] { return write(nullptr); });
  expect_error(ctx, api, "buffer_read(NULL)", [&] { return read(nullptr); });
  expect_error(ctx, api, "buffer_write struct_size 8", [&] {
    auto a = abi_args<CMTR_Buffer_Write_Args>(kShortSize);
    return write(&a);
  });
  expect_error(ctx, api, "buffer_read struct_size 8", [&] {
    auto a = abi_args<CMTR_Buffer_Read_Args>(kShortSize);
    return read(&a);
  });
  const Device& d = *s.device();
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  constexpr uint64_t kBytes = 4096;
  auto buffer = d.create_buffer(kBytes);
  if (!buffer) return (void)ctx.setup_failed(buffer.error(), "buffer_create");
  std::vector<uint8_t> host(kBytes + 64, 0x5a);
  struct Case {
    const char* label;
    bool null_stream, null_buffer, null_host;
    uint64_t offset, size;
    bool may_succeed;
  };
  const Case cases[] = {
      {"stream NULL", true, false, false, 0, 16, false},
      {"buffer NULL", false, true, false, 0, 16, false},
      {"host_pointer NULL, 16 bytes", false, false, true, 0, 16, false},
      {"range past the end (offset 4090, 16 bytes)", false, false, false, kBytes - 6, 16, false},
      {"offset past the end (offset 4097, 1 byte)", false, false, false, kBytes + 1, 1, false},
      {"overflowing range (offset 2^64-8, 16 bytes)", false, false, false, kHuge - 7, 16, false},
      {"size 2^64-1", false, false, false, 0, kHuge, false},
      {"size 0", false, false, false, 0, 0, true},
  };
  for (const Case& c : cases) {
    for (bool is_write : {true, false}) {
      const std::string label = fmt::format("{} {}", is_write ? "buffer_write" : "buffer_read", c.label);
      auto call = [&]() -> CMTR_Error* {
        if (is_write) {
          auto a = CMETER_ABI_ARGS(CMTR_Buffer_Write_Args, size_bytes);
          a.stream = c.null_stream ? nullptr : stream->get();
          a.buffer = c.null_buffer ? nullptr : buffer->get();
          a.host_pointer = c.null_host ? nullptr : host.data();
          a.offset_bytes = c.offset;
          a.size_bytes = c.size;
          return write(&a);
        }
        auto a = CMETER_ABI_ARGS(CMTR_Buffer_Read_Args, size_bytes);
        a.stream = c.null_stream ? nullptr : stream->get();
        a.buffer = c.null_buffer ? nullptr : buffer->get();
        a.host_pointer = c.null_host ? nullptr : host.data();
        a.offset_bytes = c.offset;
        a.size_bytes = c.size;
        return read(&a);
      };
      if (c.may_succeed)
        allow_error(ctx, api, label, call);
      else
        expect_error(ctx, api, label, call);
    }
  }
  ctx.step("stream_synchronize after the bad calls");
  if (auto st = stream->synchronize(); !st)
    ctx.fail("stream_synchronize after rejected transfers: " + st.error().message);
  finish(ctx, "buffer_write and buffer_read");
}

void check_errors_stream(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  auto create = CMETER_RAW_SLOT(api, stream_create);
  auto destroy = CMETER_RAW_SLOT(api, stream_destroy);
  auto sync = CMETER_RAW_SLOT(api, stream_synchronize);
  if (!create || !destroy || !sync)
    return ctx.skip(SkipKind::kUnimplemented, "a stream slot (create, destroy, synchronize) is NULL");
  expect_error(ctx, api, "stream_create(NULL)", [&] { return create(nullptr); });
  expect_error(ctx, api, "stream_create struct_size 8", [&] {
    auto a = abi_args<CMTR_Stream_Create_Args>(kShortSize);
    return create(&a);
  });
  expect_error(ctx, api, "stream_create device NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Stream_Create_Args, stream);
    CMTR_Error* e = create(&a);
    if (e == nullptr && a.stream != nullptr) {
      auto d = CMETER_ABI_ARGS(CMTR_Stream_Destroy_Args, stream);
      d.stream = a.stream;
      inspect_error(api, destroy(&d));
    }
    return e;
  });
  expect_error(ctx, api, "stream_synchronize(NULL)", [&] { return sync(nullptr); });
  expect_error(ctx, api, "stream_synchronize struct_size 8", [&] {
    auto a = abi_args<CMTR_Stream_Synchronize_Args>(kShortSize);
    return sync(&a);
  });
  expect_error(ctx, api, "stream_synchronize stream NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Stream_Synchronize_Args, stream);
    return sync(&a);
  });
  expect_error(ctx, api, "stream_destroy(NULL)", [&] { return destroy(nullptr); });
  expect_error(ctx, api, "stream_destroy struct_size 8", [&] {
    auto a = abi_args<CMTR_Stream_Destroy_Args>(kShortSize);
    return destroy(&a);
  });
  allow_error(ctx, api, "stream_destroy stream NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Stream_Destroy_Args, stream);
    return destroy(&a);
  });
  finish(ctx, "stream_create, stream_synchronize and stream_destroy");
}

void check_errors_event(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  auto record = CMETER_RAW_SLOT(api, event_record);
  auto elapsed = CMETER_RAW_SLOT(api, event_elapsed);
  auto destroy = CMETER_RAW_SLOT(api, event_destroy);
  if (!record || !elapsed || !destroy)
    return ctx.skip(SkipKind::kNotApplicable, "no device timer (event slots NULL): the host times instead");
  expect_error(ctx, api, "event_record(NULL)", [&] { return record(nullptr); });
  expect_error(ctx, api, "event_record struct_size 8", [&] {
    auto a = abi_args<CMTR_Event_Record_Args>(kShortSize);
    return record(&a);
  });
  expect_error(ctx, api, "event_record stream NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Event_Record_Args, event);
    return record(&a);
  });
  expect_error(ctx, api, "event_elapsed(NULL)", [&] { return elapsed(nullptr); });
  expect_error(ctx, api, "event_elapsed struct_size 8", [&] {
    auto a = abi_args<CMTR_Event_Elapsed_Args>(kShortSize);
    return elapsed(&a);
  });
  expect_error(ctx, api, "event_elapsed start and stop NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
    return elapsed(&a);
  });
  expect_error(ctx, api, "event_destroy(NULL)", [&] { return destroy(nullptr); });
  expect_error(ctx, api, "event_destroy struct_size 8", [&] {
    auto a = abi_args<CMTR_Event_Destroy_Args>(kShortSize);
    return destroy(&a);
  });
  allow_error(ctx, api, "event_destroy event NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Event_Destroy_Args, event);
    return destroy(&a);
  });
  // One real event against a NULL partner.
  auto stream = s.device()->create_stream();
  if (stream) {
    auto event = stream->record_event();
    if (event && stream->synchronize()) {
      expect_error(ctx, api, "event_elapsed stop NULL", [&] {
        auto a = CMETER_ABI_ARGS(CMTR_Event_Elapsed_Args, elapsed_s);
        a.start = event->get();
        return elapsed(&a);
      });
    } else if (!event && event.error().code != ErrorCode::kUnimplemented) {
      ctx.fail("event_record on a valid stream: " + event.error().message);
    }
  }
  finish(ctx, "event_record, event_elapsed and event_destroy");
}

void check_errors_op_query(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  if (!CMETER_RAW_SLOT(api, op_query)) return ctx.skip(SkipKind::kUnimplemented, "op_query slot is NULL");
  CMTR_Device* dev = raw_device(s);
  expect_error(ctx, api, "op_query(NULL)", [&] { return api.op_query(nullptr); });
  expect_error(ctx, api, "op_query struct_size 8", [&] {
    auto a = abi_args<CMTR_Op_Query_Args>(kShortSize);
    return api.op_query(&a);
  });
  expect_error(ctx, api, "op_query device NULL", [&] { return raw_op_query(api, nullptr, "noop.v1", {}); });
  expect_error(ctx, api, "op_query num_params 2, params NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Op_Query_Args, reason_size);
    a.device = dev;
    a.name = CMTR_String{"gemm.v1", 7};
    a.num_params = 2;
    return api.op_query(&a);
  });
  // Unknown op: an answer (unsupported, with a reason), not an error.
  {
    const std::string name = "cmeter.no_such_op.v1";
    ctx.step("op_query unknown op");
    char reason[256];
    auto a = CMETER_ABI_ARGS(CMTR_Op_Query_Args, reason_size);
    a.device = dev;
    a.name = CMTR_String{name.data(), name.size()};
    a.reason_buffer = reason;
    a.reason_buffer_size = sizeof(reason);
    a.supported = 1;
    ErrorProbe p = inspect_error(api, api.op_query(&a));
    if (p.is_error)
      ctx.fail(fmt::format("op_query of an unknown op must answer unsupported, not an error ({} \"{}\")",
                           error_code_name(p.code), p.message));
    else if (a.supported != 0)
      ctx.fail("op_query says the unknown op 'cmeter.no_such_op.v1' is supported");
    else if (a.reason_size == 0 || a.reason_size > sizeof(reason))
      ctx.fail(fmt::format("op_query of an unknown op gave reason_size {} (want 1..{})", a.reason_size,
                           sizeof(reason)));
    else
      ctx.note("op_query unknown op: unsupported, \"" +
               sanitize_utf8(std::string_view(reason, a.reason_size)) + "\"");
  }
  allow_error(ctx, api, "op_query empty name (NULL data), no reason buffer", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Op_Query_Args, reason_size);
    a.device = dev;
    return api.op_query(&a);
  });
  auto op = find_supported_op(*s.device());
  if (!op) {
    if (!ctx.done()) ctx.pass("no catalogue op is supported, so unknown-key checks had nothing to query");
    return ctx.note("no catalogue op supported at small sizes: unknown-key and type checks not run");
  }
  ctx.note("probing keys with " + op->name);
  KeyValues bogus = op->params;
  bogus["cmeter_bogus_key"] = int64_t{1};
  ErrorProbe p = expect_error(ctx, api, op->name + " unknown key 'cmeter_bogus_key'",
                              [&] { return raw_op_query(api, dev, op->name, bogus); });
  if (p.is_error && p.message.find("cmeter_bogus_key") == std::string::npos)
    ctx.note("the unknown-key error message does not name the key (it should)");
  if (!op->int_param.empty()) {
    KeyValues typed = op->params;
    typed[op->int_param] = std::string("many");
    expect_error(ctx, api, fmt::format("{} '{}' as a string", op->name, op->int_param),
                 [&] { return raw_op_query(api, dev, op->name, typed); });
  }
  KeyValues hinted = op->params;
  hinted["hint.cmeter_conformance"] = std::string("ignored");
  ctx.step(op->name + " with a hint.* key");
  int32_t supported = 0;
  ErrorProbe h = inspect_error(api, raw_op_query(api, dev, op->name, hinted, &supported));
  if (h.is_error)
    ctx.fail(fmt::format("{}: a 'hint.' key must be ignored, got {} \"{}\"", op->name,
                         error_code_name(h.code), h.message));
  else if (supported == 0)
    ctx.fail(op->name + ": adding a 'hint.' key made a supported op unsupported");
  finish(ctx, "op_query");
}

void check_errors_op_create(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  if (!CMETER_RAW_SLOT(api, op_create)) return ctx.skip(SkipKind::kUnimplemented, "op_create slot is NULL");
  CMTR_Device* dev = raw_device(s);
  expect_error(ctx, api, "op_create(NULL)", [&] { return api.op_create(nullptr); });
  expect_error(ctx, api, "op_create struct_size 8", [&] {
    auto a = abi_args<CMTR_Op_Create_Args>(kShortSize);
    return api.op_create(&a);
  });
  expect_error(ctx, api, "op_create device NULL", [&] { return raw_op_create(api, nullptr, "noop.v1", {}); });
  ErrorProbe unknown = expect_error(ctx, api, "op_create unknown op 'cmeter.no_such_op.v1'",
                                    [&] { return raw_op_create(api, dev, "cmeter.no_such_op.v1", {}); });
  if (unknown.is_error && unknown.code != CMTR_ERROR_NOT_FOUND && unknown.code != CMTR_ERROR_UNIMPLEMENTED)
    ctx.note(fmt::format("op_create of an unknown op answered {}; NOT_FOUND is expected",
                         error_code_name(unknown.code)));
  auto op = find_supported_op(*s.device());
  if (op) {
    KeyValues bogus = op->params;
    bogus["cmeter_bogus_key"] = int64_t{1};
    expect_error(ctx, api, op->name + " unknown key",
                 [&] { return raw_op_create(api, dev, op->name, bogus); });
    if (!op->required.empty()) {
      KeyValues missing = op->params;
      missing.erase(op->required);
      expect_error(ctx, api, fmt::format("{} without required '{}'", op->name, op->required),
                   [&] { return raw_op_create(api, dev, op->name, missing); });
    }
  } else {
    ctx.note("no catalogue op supported at small sizes: unknown-key and missing-param checks not run");
  }
  finish(ctx, "op_create");
}

void check_errors_op_handles(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  auto attributes = CMETER_RAW_SLOT(api, op_attributes);
  auto enqueue = CMETER_RAW_SLOT(api, op_enqueue);
  auto destroy = CMETER_RAW_SLOT(api, op_destroy);
  if (!enqueue || !destroy)
    return ctx.skip(SkipKind::kUnimplemented, "op_enqueue or op_destroy slot is NULL");
  if (attributes) {
    expect_error(ctx, api, "op_attributes(NULL)", [&] { return attributes(nullptr); });
    expect_error(ctx, api, "op_attributes struct_size 8", [&] {
      auto a = abi_args<CMTR_Op_Attributes_Args>(kShortSize);
      return attributes(&a);
    });
    expect_error(ctx, api, "op_attributes op NULL", [&] {
      auto a = CMETER_ABI_ARGS(CMTR_Op_Attributes_Args, num_attributes);
      return attributes(&a);
    });
  }
  expect_error(ctx, api, "op_enqueue(NULL)", [&] { return enqueue(nullptr); });
  expect_error(ctx, api, "op_enqueue struct_size 8", [&] {
    auto a = abi_args<CMTR_Op_Enqueue_Args>(kShortSize);
    return enqueue(&a);
  });
  expect_error(ctx, api, "op_enqueue op NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Op_Enqueue_Args, num_buffers);
    return enqueue(&a);
  });
  expect_error(ctx, api, "op_destroy(NULL)", [&] { return destroy(nullptr); });
  expect_error(ctx, api, "op_destroy struct_size 8", [&] {
    auto a = abi_args<CMTR_Op_Destroy_Args>(kShortSize);
    return destroy(&a);
  });
  allow_error(ctx, api, "op_destroy op NULL", [&] {
    auto a = CMETER_ABI_ARGS(CMTR_Op_Destroy_Args, op);
    return destroy(&a);
  });
  // With a real op: NULL stream, wrong buffer count, a buffer too small.
  const Device& d = *s.device();
  auto spec = find_supported_op(d);
  if (!spec) {
    ctx.note("no catalogue op supported at small sizes: enqueue checks with a live op not run");
    return finish(ctx, "op_attributes, op_enqueue and op_destroy");
  }
  auto op = d.create_op(spec->name, spec->params);
  if (!op) return (void)ctx.setup_failed(op.error(), "op_create(" + spec->name + ")");
  auto stream = d.create_stream();
  if (!stream) return (void)ctx.setup_failed(stream.error(), "stream_create");
  std::vector<Buffer> buffers;
  std::vector<CMTR_Buffer*> handles;
  for (uint64_t bytes : spec->buffer_bytes) {
    auto b = d.create_buffer(bytes);
    if (!b) return (void)ctx.setup_failed(b.error(), "buffer_create");
    buffers.push_back(std::move(b).value());
  }
  for (auto& b : buffers) handles.push_back(b.get());
  auto call = [&](CMTR_Stream* stream_handle, CMTR_Buffer* const* list, size_t count) {
    auto a = CMETER_ABI_ARGS(CMTR_Op_Enqueue_Args, num_buffers);
    a.op = op->get();
    a.stream = stream_handle;
    a.buffers = list;
    a.num_buffers = count;
    return enqueue(&a);
  };
  expect_error(ctx, api, spec->name + " enqueue stream NULL",
               [&] { return call(nullptr, handles.data(), handles.size()); });
  std::vector<CMTR_Buffer*> extra = handles;
  extra.push_back(handles.empty() ? nullptr : handles[0]);
  if (extra.back() == nullptr) {
    auto b = d.create_buffer(64);
    if (b) {
      buffers.push_back(std::move(b).value());
      extra.back() = buffers.back().get();
    }
  }
  if (extra.back() != nullptr)
    expect_error(
        ctx, api,
        fmt::format("{} enqueue with {} buffers (wants {})", spec->name, extra.size(), spec->num_buffers),
        [&] { return call(stream->get(), extra.data(), extra.size()); });
  if (spec->num_buffers > 0) {
    expect_error(ctx, api,
                 fmt::format("{} enqueue buffers NULL, num_buffers {}", spec->name, spec->num_buffers),
                 [&] { return call(stream->get(), nullptr, spec->num_buffers); });
    std::vector<CMTR_Buffer*> with_null = handles;
    with_null.back() = nullptr;
    expect_error(ctx, api, spec->name + " enqueue with a NULL buffer",
                 [&] { return call(stream->get(), with_null.data(), with_null.size()); });
    auto small = d.create_buffer(8);
    if (small) {
      std::vector<CMTR_Buffer*> with_small = handles;
      with_small.back() = small->get();
      expect_error(ctx, api, spec->name + " enqueue with an 8-byte buffer",
                   [&] { return call(stream->get(), with_small.data(), with_small.size()); });
    }
  }
  ctx.step("stream_synchronize after the bad calls");
  if (auto st = stream->synchronize(); !st)
    ctx.fail("stream_synchronize after rejected enqueues: " + st.error().message);
  finish(ctx, "op_attributes, op_enqueue and op_destroy");
}

namespace {

// The same call with the 1.0 struct_size and with a newer host's larger one (trailing zero bytes).
template <class Args, class Fill, class Call, class Cleanup>
void compare_sizes(CheckContext& ctx, const CMTR_Api& api, const std::string& label, size_t size_1_0,
                   Fill&& fill, Call&& call, Cleanup&& cleanup) {
  struct Padded {
    Args args;
    unsigned char extra[64];
  };
  ErrorProbe results[2];
  for (int larger = 0; larger < 2; ++larger) {
    Padded p;
    std::memset(&p, 0, sizeof(p));
    p.args.struct_size = larger ? sizeof(Padded) : size_1_0;
    fill(p.args);
    ctx.step(fmt::format("{} struct_size {}", label, p.args.struct_size));
    results[larger] = inspect_error(api, call(&p.args));
    if (!results[larger].is_error) cleanup(p.args);
  }
  if (results[0].is_error && results[0].code == CMTR_ERROR_UNIMPLEMENTED)
    return ctx.note(label + ": unimplemented (not compared)");
  if (results[0].is_error)
    return ctx.fail(fmt::format("{}: the 1.0-sized call failed: {} \"{}\"", label,
                                error_code_name(results[0].code), results[0].message));
  if (results[1].is_error)
    return ctx.fail(fmt::format("{}: struct_size {} (a newer host) rejected: {} \"{}\"", label,
                                sizeof(Padded), error_code_name(results[1].code), results[1].message));
  ctx.note(label + ": accepted with struct_size " + std::to_string(sizeof(Padded)));
}

}  // namespace

void check_compat_struct_size(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  CMTR_Device* dev = raw_device(s);
  auto nothing = [](auto&) {};
  compare_sizes<CMTR_Device_Attributes_Args>(
      ctx, api, "device_attributes", CMTR_STRUCT_SIZE(CMTR_Device_Attributes_Args, num_attributes),
      [&](auto& a) { a.device = dev; }, [&](auto* a) { return api.device_attributes(a); }, nothing);
  if (CMETER_RAW_SLOT(api, op_query)) {
    const std::string name = "cmeter.no_such_op.v1";
    compare_sizes<CMTR_Op_Query_Args>(
        ctx, api, "op_query", CMTR_STRUCT_SIZE(CMTR_Op_Query_Args, reason_size),
        [&](auto& a) {
          a.device = dev;
          a.name = CMTR_String{name.data(), name.size()};
        },
        [&](auto* a) { return api.op_query(a); }, nothing);
  }
  if (CMETER_RAW_SLOT(api, stream_create) && CMETER_RAW_SLOT(api, stream_destroy)) {
    compare_sizes<CMTR_Stream_Create_Args>(
        ctx, api, "stream_create", CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream),
        [&](auto& a) { a.device = dev; }, [&](auto* a) { return api.stream_create(a); },
        [&](auto& a) {
          auto d = CMETER_ABI_ARGS(CMTR_Stream_Destroy_Args, stream);
          d.stream = a.stream;
          inspect_error(api, api.stream_destroy(&d));
        });
  }
  if (CMETER_RAW_SLOT(api, buffer_create) && CMETER_RAW_SLOT(api, buffer_destroy)) {
    compare_sizes<CMTR_Buffer_Create_Args>(
        ctx, api, "buffer_create", CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer),
        [&](auto& a) {
          a.device = dev;
          a.size_bytes = 256;
        },
        [&](auto* a) { return api.buffer_create(a); },
        [&](auto& a) {
          auto d = CMETER_ABI_ARGS(CMTR_Buffer_Destroy_Args, buffer);
          d.buffer = a.buffer;
          inspect_error(api, api.buffer_destroy(&d));
        });
  }
  if (!ctx.done()) ctx.pass("calls with a larger struct_size behave as with the 1.0 size");
}

}  // namespace cmeter::conformance
