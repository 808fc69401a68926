// streams.cpp - streams (in-order queues) and events (device timestamps).
//
// Why this file exists: the host measures by recording an event, enqueuing work, recording another
// and asking event_elapsed after stream_synchronize. Events must be timed by the device in stream
// order. A device without a usable timer (e.g. Kunlunxin XRE) sets kEvents = false in template.hpp
// and the host times with its steady clock around stream_synchronize instead. The template runs every
// op and copy to completion inside its call, so its stream is trivially in order, and an event is the
// host's steady_clock read at record time (timer.kind "host.steady_clock in stream order").
#include "template.hpp"

namespace tmpl {

CMTR_Error* TemplatePlugin::create_stream(CMTR_Device* device, CMTR_Stream** out) {
  *out = new CMTR_Stream{kStreamMagic, device};  // VENDOR: hipStreamCreate
  return nullptr;
}

CMTR_Error* TemplatePlugin::free_stream(CMTR_Stream* stream) {
  delete stream;  // VENDOR: hipStreamDestroy
  return nullptr;
}

CMTR_Error* TemplatePlugin::synchronize(CMTR_Stream* /*stream*/) {
  // VENDOR: wait for everything enqueued (hipStreamSynchronize); a kernel fault is DEVICE_LOST with the
  // driver's text. The template's work is already done.
  return nullptr;
}

CMTR_Error* TemplatePlugin::record(CMTR_Stream* stream, CMTR_Event** out) {
  // VENDOR: hipEventCreate + hipEventRecord(event, stream).
  *out = new CMTR_Event{kEventMagic, stream->device, std::chrono::steady_clock::now()};
  return nullptr;
}

CMTR_Error* TemplatePlugin::elapsed(const CMTR_Event* start, const CMTR_Event* stop, double* elapsed_s) {
  // VENDOR: hipEventElapsedTime(&ms, start, stop) / 1e3 (after the stop event completed).
  *elapsed_s = std::chrono::duration<double>(stop->time - start->time).count();
  return nullptr;
}

CMTR_Error* TemplatePlugin::free_event(CMTR_Event* event) {
  delete event;  // VENDOR: hipEventDestroy
  return nullptr;
}

}  // namespace tmpl
