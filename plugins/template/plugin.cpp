// plugin.cpp - initialise, shut down, the device list.
//
// Why this file exists: this is where the plugin meets the driver. initialize loads and initialises
// the vendor runtime (dlopen it, so a machine without the driver gets a clear plugin.status instead of
// a library that does not load), enumerates devices and fills their attributes (docs/abi-keys.md:
// name, vendor, kind, mem.bytes, compute_units, pci.bus_id, peaks, timer.kind). The template reports
// one device, `template:0`: the host's memory and one thread.
#include <unistd.h>

#include <mutex>
#include <vector>

#include "template.hpp"

namespace tmpl {
namespace {

struct State {
  std::mutex mutex;
  bool initialized = false;
  cmeter::sdk::KeyValueList plugin_attributes;
  std::vector<CMTR_Device> devices;  // stable addresses after initialise (never resized later)
  std::vector<CMTR_Device*> device_list;
};

State& state() {
  static State* s = new State();  // never destroyed: no static destruction order issues at exit
  return *s;
}

}  // namespace

CMTR_Error* TemplatePlugin::initialize(const cmeter::sdk::KeyValueList** plugin_attributes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.initialized) {
    // VENDOR: dlopen your runtime, initialise it, enumerate devices. On a machine without the driver,
    // succeed with zero devices and say why in plugin.status (plugins/cuda, plugins/hip do).
    s.plugin_attributes.clear();
    s.plugin_attributes.set("plugin.name", kName)
        .set("plugin.version", "0.1.0")
        .set("plugin.vendor", "cmeter plugin template (reference device over host memory)");
    s.devices.clear();
    s.devices.resize(1);
    s.device_list.clear();
    for (auto& d : s.devices) {
      d.magic = kDeviceMagic;
      d.index = static_cast<int>(s.device_list.size());
      d.mem_bytes =
          static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
      s.device_list.push_back(&d);
      // VENDOR: the driver's facts (docs/abi-keys.md): name, vendor, kind, mem.bytes, compute_units,
      // pci.bus_id, clocks. Declared peaks (peak.flops.<dtype>, peak.mem.bytes_per_s, with peak.source)
      // let the host flag results faster than the hardware can be; the template declares none.
      d.attributes.set("name", "template reference device (host memory, one thread)")
          .set("vendor", "cmeter")
          .set("kind", "other")
          .set("runtime.version", "plain C++ loops (plugins/template/kernels.cpp)")
          .set("mem.bytes", static_cast<int64_t>(d.mem_bytes))
          .set("compute_units", 1)
          .set("timer.kind", "host.steady_clock in stream order");
      d.attributes.set_bool("mem.host_shared", true);  // its "device memory" is host memory
    }
    s.initialized = true;
  }
  *plugin_attributes = &s.plugin_attributes;
  return nullptr;
}

void TemplatePlugin::shutdown() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  // VENDOR: release the runtime. Handles the host still holds are not used after this.
  s.initialized = false;
}

bool TemplatePlugin::initialised() {
  return state().initialized;
}

cmeter::sdk::DeviceList TemplatePlugin::devices() {
  return {state().device_list.data(), state().device_list.size()};
}

}  // namespace tmpl
