// streams.cpp - streams (in-order queues) and events (device timestamps).
//
// Why this file exists: the host measures by recording an event, enqueuing work, recording another
// and asking event_elapsed after stream_synchronize. Events must be timed by the device in stream
// order. A device without a usable timer (e.g. Kunlunxin XRE) sets the three event slots to NULL in
// entry.cpp and the host times with its steady clock around stream_synchronize instead. The template
// runs every op and copy to completion inside its call, so its stream is trivially in order, and an
// event is the host's steady_clock read at record time (timer.kind "host.steady_clock in stream order").
#include "template.hpp"

namespace tmpl {

CMTR_Error* check_stream(const CMTR_Stream* stream, const char* function) {
  if (CMTR_Error* e =
          cmeter::sdk::check_handle(stream, kStreamMagic, function, "stream", kPluginName, "stream"))
    return e;
  return initialised() ? nullptr : cmeter::sdk::not_initialised(function);
}

CMTR_Error* check_event(const CMTR_Event* event, const char* role, const char* function) {
  return cmeter::sdk::check_handle(event, kEventMagic, function, role, kPluginName, "event");
}

CMTR_Error* stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Create_Args, stream);
  if (CMTR_Error* e = check_device(args->device, "stream_create")) return e;
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    args->stream = new CMTR_Stream{kStreamMagic, args->device};  // VENDOR: hipStreamCreate
    return nullptr;
  });
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (CMTR_Error* e = cmeter::sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream",
                                                kPluginName, "stream"))
    return e;
  args->stream->magic = 0;  // VENDOR: hipStreamDestroy
  delete args->stream;
  return nullptr;
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
  // VENDOR: wait for everything enqueued (hipStreamSynchronize); a kernel fault is DEVICE_LOST with the
  // driver's text. The template's work is already done.
  return nullptr;
}

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    // VENDOR: hipEventCreate + hipEventRecord(event, stream).
    args->event = new CMTR_Event{kEventMagic, std::chrono::steady_clock::now()};
    return nullptr;
  });
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (CMTR_Error* e = check_event(args->start, "start", "event_elapsed")) return e;
  if (CMTR_Error* e = check_event(args->stop, "stop", "event_elapsed")) return e;
  // VENDOR: hipEventElapsedTime(&ms, start, stop) / 1e3 (after the stop event completed).
  args->elapsed_s = std::chrono::duration<double>(args->stop->time - args->start->time).count();
  return nullptr;
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e = check_event(args->event, "event", "event_destroy")) return e;
  args->event->magic = 0;  // VENDOR: hipEventDestroy
  delete args->event;
  return nullptr;
}

}  // namespace tmpl
