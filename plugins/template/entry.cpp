// entry.cpp - the one exported symbol and the function table.
//
// Why this file exists: the ABI's only promise about symbols is cmeter_plugin_get_api(), which must
// return a table valid for the library's lifetime without calling any driver. Fill a slot with NULL
// for a function you will never provide (device_telemetry without sensors, event_* without a device
// timer: the host then times with its own clock); keep the slot and answer UNIMPLEMENTED while you work.
#include "template.hpp"

namespace {

const CMTR_Api kApi = {
    CMTR_API_STRUCT_SIZE_1_0,  // the table this plugin knows: ABI 1.0
    nullptr,
    CMTR_ABI_MAJOR,
    0,  // ABI minor: 0 (bump together with struct_size when you fill slots of a later minor)
    cmeter::sdk::error_info,
    cmeter::sdk::error_destroy,
    tmpl::plugin_initialize,
    tmpl::plugin_shutdown,
    tmpl::plugin_devices,
    tmpl::device_attributes,
    nullptr,  // device_telemetry: TODO(vendor): power.w, energy.j, temp.c, ... (docs/abi-keys.md)
    tmpl::buffer_create,
    tmpl::buffer_destroy,
    tmpl::buffer_host_pointer,
    tmpl::buffer_write,
    tmpl::buffer_read,
    tmpl::stream_create,
    tmpl::stream_destroy,
    tmpl::stream_synchronize,
    tmpl::event_record,
    tmpl::event_elapsed,
    tmpl::event_destroy,
    tmpl::op_query,
    tmpl::op_create,
    tmpl::op_attributes,
    tmpl::op_enqueue,
    tmpl::op_destroy,
};

}  // namespace

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &kApi;
}
