// entry.cpp - the one exported symbol.
//
// Why this file exists: the ABI's only promise about symbols is cmeter_plugin_get_api(), which must
// return a table valid for the library's lifetime without calling any driver. The table is
// TemplatePlugin::api() (sdk::Adapter: every slot filled, the ABI version, the SDK's error objects).
#include "template.hpp"

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  return &tmpl::kApi;
}
