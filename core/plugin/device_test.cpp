// Tests of Device and its RAII handles against the stub plugin: data round trips, every handle
// destroyed exactly once (moves included), plugin errors turned into Error values with the plugin's
// code and message, and the plugin faults the wrapper must absorb - a NULL handle with no error, a
// missing (NULL) slot - planted in this host's copy of the plugin's table.
#include "core/plugin/device.h"

#include <cstring>
#include <vector>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

struct StubDevice {
  std::unique_ptr<PluginLibrary> lib;
  std::unique_ptr<Device> device;
  // This host's copy of the plugin's table (PluginLibrary copies it at load): tests plant faults here
  // without touching the plugin or any other PluginLibrary.
  CMTR_Api& table() { return const_cast<CMTR_Api&>(lib->api()); }
};

StubDevice open_stub() {
  auto lib = PluginLibrary::open(std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so");
  REQUIRE_MESSAGE(lib.ok(), lib.error().message);
  StubDevice s{std::move(lib).value(), nullptr};
  REQUIRE(!s.lib->devices().empty());
  auto attrs = read_device_attributes(*s.lib, s.lib->devices()[0]);
  REQUIRE(attrs.ok());
  s.device = std::make_unique<Device>(s.lib.get(), s.lib->devices()[0], "stub:0", *attrs);
  return s;
}

// Destroy calls seen by the counting wrappers, and the stub's own functions they forward to.
struct Destroyed {
  int buffers = 0, streams = 0, events = 0, ops = 0;
};
Destroyed g_destroyed;
CMTR_Buffer_Destroy* g_buffer_destroy = nullptr;
CMTR_Stream_Destroy* g_stream_destroy = nullptr;
CMTR_Event_Destroy* g_event_destroy = nullptr;
CMTR_Op_Destroy* g_op_destroy = nullptr;

CMTR_Error* counting_buffer_destroy(CMTR_Buffer_Destroy_Args* a) {
  ++g_destroyed.buffers;
  return g_buffer_destroy(a);
}
CMTR_Error* counting_stream_destroy(CMTR_Stream_Destroy_Args* a) {
  ++g_destroyed.streams;
  return g_stream_destroy(a);
}
CMTR_Error* counting_event_destroy(CMTR_Event_Destroy_Args* a) {
  ++g_destroyed.events;
  return g_event_destroy(a);
}
CMTR_Error* counting_op_destroy(CMTR_Op_Destroy_Args* a) {
  ++g_destroyed.ops;
  return g_op_destroy(a);
}

void count_destroys(StubDevice& s) {
  g_destroyed = {};
  g_buffer_destroy = std::exchange(s.table().buffer_destroy, counting_buffer_destroy);
  g_stream_destroy = std::exchange(s.table().stream_destroy, counting_stream_destroy);
  g_event_destroy = std::exchange(s.table().event_destroy, counting_event_destroy);
  g_op_destroy = std::exchange(s.table().op_destroy, counting_op_destroy);
}

// Faulty slots: succeed (no error object) but hand back no handle.
CMTR_Error* null_buffer_create(CMTR_Buffer_Create_Args*) {
  return nullptr;
}
CMTR_Error* null_stream_create(CMTR_Stream_Create_Args*) {
  return nullptr;
}
CMTR_Error* null_event_record(CMTR_Event_Record_Args*) {
  return nullptr;
}
CMTR_Error* null_op_create(CMTR_Op_Create_Args*) {
  return nullptr;
}

TEST_CASE("device: data written through a stream reads back; a copy op runs") {
  StubDevice s = open_stub();
  auto stream = s.device->create_stream();
  REQUIRE(stream.ok());
  auto src = s.device->create_buffer(4096), dst = s.device->create_buffer(4096);
  REQUIRE(src.ok());
  REQUIRE(dst.ok());
  CHECK(src->size_bytes() == 4096);
  CHECK(src->kind() == MemoryKind::kDevice);
  std::vector<uint8_t> pattern(4096), back(4096, 0);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 3);
  REQUIRE(stream->write(*src, 0, pattern.data(), pattern.size()).ok());
  auto op = s.device->create_op("copy.v1", {{"bytes", int64_t{4096}}});
  REQUIRE_MESSAGE(op.ok(), op.error().message);
  Buffer* buffers[] = {&*src, &*dst};
  REQUIRE(op->enqueue(*stream, buffers).ok());
  REQUIRE(stream->read(*dst, 0, back.data(), back.size()).ok());
  REQUIRE(stream->synchronize().ok());
  CHECK(back == pattern);
  CHECK(stream->device() == s.device.get());
}

TEST_CASE("device: every handle is destroyed exactly once, moves included") {
  StubDevice s = open_stub();
  count_destroys(s);
  {
    auto stream = s.device->create_stream();
    REQUIRE(stream.ok());
    auto buffer = s.device->create_buffer(64);
    REQUIRE(buffer.ok());
    Buffer moved = std::move(buffer).value();
    Buffer assigned;
    assigned = std::move(moved);  // the moved-from handles destroy nothing
    CHECK(moved.get() == nullptr);
    auto start = stream->record_event();
    REQUIRE(start.ok());
    auto stop = stream->record_event();
    REQUIRE(stop.ok());
    REQUIRE(stream->synchronize().ok());
    auto elapsed = stream->elapsed_s(*start, *stop);
    REQUIRE(elapsed.ok());
    CHECK(*elapsed >= 0);
    auto op = s.device->create_op("noop.v1", {});
    REQUIRE(op.ok());
    Op op2 = std::move(op).value();
    CHECK(g_destroyed.buffers == 0);
    auto other = s.device->create_buffer(64);
    REQUIRE(other.ok());
    assigned = std::move(other).value();  // assigning over a live handle destroys the old one
    CHECK(g_destroyed.buffers == 1);
  }
  CHECK(g_destroyed.buffers == 2);
  CHECK(g_destroyed.streams == 1);
  CHECK(g_destroyed.events == 2);
  CHECK(g_destroyed.ops == 1);
}

TEST_CASE("device: plugin errors come back as values with the plugin's code and message") {
  StubDevice s = open_stub();
  auto huge = s.device->create_buffer(uint64_t{1} << 40);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().code == ErrorCode::kResourceExhausted);
  CHECK(huge.error().message.find("exceed the stub device") != std::string::npos);
  auto zero = s.device->create_buffer(0);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().code == ErrorCode::kInvalidArgument);

  auto stream = s.device->create_stream();
  REQUIRE(stream.ok());
  auto buffer = s.device->create_buffer(16);
  REQUIRE(buffer.ok());
  uint8_t bytes[32] = {};
  auto past_end = stream->write(*buffer, 8, bytes, 16);
  REQUIRE_FALSE(past_end.ok());
  CHECK(past_end.error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(stream->read(*buffer, 0, bytes, 32).ok());

  auto unknown = s.device->create_op("no_such_op.v1", {});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("no_such_op.v1") != std::string::npos);
  auto query = s.device->query_op("no_such_op.v1", {});
  REQUIRE(query.ok());
  CHECK_FALSE(query->supported);
  CHECK_FALSE(query->reason.empty());

  auto copy = s.device->create_op("copy.v1", {{"bytes", int64_t{16}}});
  REQUIRE(copy.ok());
  Buffer* one[] = {&*buffer};  // copy.v1 takes two
  auto wrong_count = copy->enqueue(*stream, one);
  REQUIRE_FALSE(wrong_count.ok());
  CHECK(wrong_count.error().code == ErrorCode::kInvalidArgument);
  std::vector<Buffer*> too_many(17, &*buffer);
  auto seventeen = copy->enqueue(*stream, too_many);
  REQUIRE_FALSE(seventeen.ok());
  CHECK(seventeen.error().message.find("too many buffers") != std::string::npos);
}

TEST_CASE("device: a plugin that succeeds without a handle gives an error, not a null handle") {
  StubDevice s = open_stub();
  auto stream = s.device->create_stream();
  REQUIRE(stream.ok());
  s.table().buffer_create = null_buffer_create;
  s.table().stream_create = null_stream_create;
  s.table().event_record = null_event_record;
  s.table().op_create = null_op_create;
  auto buffer = s.device->create_buffer(64);
  REQUIRE_FALSE(buffer.ok());
  CHECK(buffer.error().code == ErrorCode::kInternal);
  CHECK(buffer.error().message == "stub: buffer_create returned NULL");
  auto stream2 = s.device->create_stream();
  REQUIRE_FALSE(stream2.ok());
  CHECK(stream2.error().message == "stub: stream_create returned NULL");
  auto event = stream->record_event();
  REQUIRE_FALSE(event.ok());
  CHECK(event.error().message == "stub: event_record returned NULL");
  auto op = s.device->create_op("noop.v1", {});
  REQUIRE_FALSE(op.ok());
  CHECK(op.error().message == "stub: op_create returned NULL");
}

TEST_CASE("device: a missing slot is unimplemented, never a call through NULL") {
  StubDevice s = open_stub();
  auto stream = s.device->create_stream();
  REQUIRE(stream.ok());
  auto buffer = s.device->create_buffer(64);
  REQUIRE(buffer.ok());
  auto op = s.device->create_op("noop.v1", {});
  REQUIRE(op.ok());
  CHECK(stream->has_device_timer());
  CHECK_FALSE(s.device->has_telemetry());  // the stub has none

  s.table().event_elapsed = nullptr;
  CHECK_FALSE(stream->has_device_timer());
  s.table().buffer_write = nullptr;
  s.table().stream_synchronize = nullptr;
  s.table().op_enqueue = nullptr;
  s.table().op_attributes = nullptr;
  s.table().op_query = nullptr;
  s.table().buffer_host_pointer = nullptr;
  uint8_t bytes[8] = {};
  auto write = stream->write(*buffer, 0, bytes, 8);
  REQUIRE_FALSE(write.ok());
  CHECK(write.error().code == ErrorCode::kUnimplemented);
  CHECK(write.error().message == "stub: plugin does not implement buffer_write");
  CHECK(stream->synchronize().error().code == ErrorCode::kUnimplemented);
  CHECK(op->enqueue(*stream, {}).error().code == ErrorCode::kUnimplemented);
  CHECK(buffer->host_pointer().error().code == ErrorCode::kUnimplemented);
  CHECK(s.device->telemetry().error().code == ErrorCode::kUnimplemented);
  auto attrs = op->attributes();  // optional slot: none is an empty list
  REQUIRE(attrs.ok());
  CHECK(attrs->empty());
  auto query = s.device->query_op("gemm.v1", {});
  REQUIRE(query.ok());
  CHECK_FALSE(query->supported);
  CHECK(query->reason == "plugin does not implement op_query");
}

}  // namespace
}  // namespace cmeter
