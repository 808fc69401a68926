// streams.cpp - streams (in-order queues) and events (device timestamps).
//
// Why this file exists: the host measures by recording an event, enqueuing work, recording another
// and asking event_elapsed after stream_synchronize. Events must be timed by the device in stream
// order. A device without a usable timer (e.g. Kunlunxin XRE) sets the three event slots to NULL in
// entry.cpp and the host times with its steady clock around stream_synchronize instead.
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
  // TODO(vendor): create a queue; args->stream = new CMTR_Stream{kStreamMagic, args->device};
  return unimplemented("stream_create");
}

CMTR_Error* stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Destroy_Args, stream);
  if (CMTR_Error* e = cmeter::sdk::check_handle(args->stream, kStreamMagic, "stream_destroy", "stream",
                                                kPluginName, "stream"))
    return e;
  // TODO(vendor): destroy the queue; args->stream->magic = 0; delete args->stream;
  return unimplemented("stream_destroy");
}

CMTR_Error* stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Stream_Synchronize_Args, stream);
  if (CMTR_Error* e = check_stream(args->stream, "stream_synchronize")) return e;
  // TODO(vendor): wait for everything enqueued; a kernel fault is DEVICE_LOST with the driver's text.
  return unimplemented("stream_synchronize");
}

CMTR_Error* event_record(CMTR_Event_Record_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Record_Args, event);
  if (CMTR_Error* e = check_stream(args->stream, "event_record")) return e;
  // TODO(vendor): create and record a timing event on the stream; args->event = new CMTR_Event{...};
  return unimplemented("event_record");
}

CMTR_Error* event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Elapsed_Args, elapsed_s);
  if (CMTR_Error* e = check_event(args->start, "start", "event_elapsed")) return e;
  if (CMTR_Error* e = check_event(args->stop, "stop", "event_elapsed")) return e;
  // TODO(vendor): args->elapsed_s = device-timed seconds from start to stop (cudaEventElapsedTime / 1e3).
  return unimplemented("event_elapsed");
}

CMTR_Error* event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Event_Destroy_Args, event);
  if (CMTR_Error* e = check_event(args->event, "event", "event_destroy")) return e;
  // TODO(vendor): destroy the event; args->event->magic = 0; delete args->event;
  return unimplemented("event_destroy");
}

}  // namespace tmpl
