// entry.cpp - the one exported symbol and the function table.
//
// Why this file exists: the ABI's only promise about symbols is cmeter_plugin_get_api(), which must
// return a table valid for the library's lifetime without calling any driver. Fill a slot with NULL
// for a function you will never provide (device_telemetry without sensors, event_* without a device
// timer: the host then times with its own clock); keep the slot and answer UNIMPLEMENTED while you work.
#include "template.hpp"

namespace {

// sdk::ApiBuilder fills the 1.0 table (struct_size, ABI version, the SDK's error_info/error_destroy) and
// takes the slots by group, so none is forgotten.
const CMTR_Api kApi =
    cmeter::sdk::ApiBuilder()
        .plugin(tmpl::plugin_initialize, tmpl::plugin_shutdown, tmpl::plugin_devices)
        // device_telemetry: VENDOR: power.w, energy.j, temp.c, ... (docs/abi-keys.md); NULL: no sensors.
        .device(tmpl::device_attributes, nullptr)
        .buffers(tmpl::buffer_create, tmpl::buffer_destroy, tmpl::buffer_host_pointer, tmpl::buffer_write,
                 tmpl::buffer_read)
        .streams(tmpl::stream_create, tmpl::stream_destroy, tmpl::stream_synchronize)
        .events(tmpl::event_record, tmpl::event_elapsed, tmpl::event_destroy)
        .ops(tmpl::op_query, tmpl::op_create, tmpl::op_attributes, tmpl::op_enqueue, tmpl::op_destroy)
        .build();

}  // namespace

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &kApi;
}
