// plugin.cpp - plugin_initialize, plugin_shutdown, plugin_devices, device_attributes.
//
// Why this file exists: this is where the plugin meets the driver. plugin_initialize loads and
// initialises the vendor runtime (dlopen it, so a machine without the driver gets a clear
// UNAVAILABLE error instead of a library that does not load), enumerates devices and fills their
// attributes (docs/abi-keys.md: name, vendor, kind, mem.bytes, compute_units, pci.bus_id, peaks,
// timer.kind). The template reports one device, `template:0`: the host's memory and one thread.
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
  std::vector<cmeter::sdk::KeyValueList> device_attributes;
};

State& state() {
  static State* s = new State();  // never destroyed: no static destruction order issues at exit
  return *s;
}

}  // namespace

bool initialised() {
  return state().initialized;
}

CMTR_Error* check_device(const CMTR_Device* device, const char* function) {
  State& s = state();
  bool ours = false;
  for (const CMTR_Device* d : s.device_list) ours = ours || (d == device && d->magic == kDeviceMagic);
  return cmeter::sdk::check_device(device, function, kPluginName, s.initialized, ours);
}

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Initialize_Args, num_attributes);
  if (CMTR_Error* e = cmeter::sdk::check_initialize(args, kPluginName)) return e;
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.initialized) {
      // VENDOR: dlopen your runtime, initialise it, enumerate devices. On a machine without the driver,
      // succeed with zero devices and say why in plugin.status (plugins/cuda, plugins/hip do).
      s.plugin_attributes.clear();
      s.plugin_attributes.set("plugin.name", kPluginName)
          .set("plugin.version", "0.1.0")
          .set("plugin.vendor", "cmeter plugin template (reference device over host memory)");
      const int64_t mem_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
      s.devices.assign(1, CMTR_Device{kDeviceMagic, 0, static_cast<uint64_t>(mem_bytes)});
      s.device_list.clear();
      s.device_attributes.clear();
      for (auto& d : s.devices) {
        s.device_list.push_back(&d);
        cmeter::sdk::KeyValueList attrs;
        // VENDOR: the driver's facts (docs/abi-keys.md): name, vendor, kind, mem.bytes, compute_units,
        // pci.bus_id, clocks. Declared peaks (peak.flops.<dtype>, peak.mem.bytes_per_s, with peak.source)
        // let the host flag results faster than the hardware can be; the template declares none.
        attrs.set("name", "template reference device (host memory, one thread)")
            .set("vendor", "cmeter")
            .set("kind", "other")
            .set("runtime.version", "plain C++ loops (plugins/template/kernels.cpp)")
            .set("mem.bytes", static_cast<int64_t>(d.mem_bytes))
            .set("compute_units", 1)
            .set("timer.kind", "host.steady_clock in stream order");
        attrs.set_bool("mem.host_shared", true);  // its "device memory" is host memory
        s.device_attributes.push_back(std::move(attrs));
      }
      s.initialized = true;
    }
    args->attributes = s.plugin_attributes.data();
    args->num_attributes = s.plugin_attributes.size();
    return nullptr;
  });
}

CMTR_Error* plugin_shutdown(CMTR_Plugin_Shutdown_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Shutdown_Args, extension);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  // VENDOR: release the runtime. Handles the host still holds are not used after this.
  s.initialized = false;
  return nullptr;
}

CMTR_Error* plugin_devices(CMTR_Plugin_Devices_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Plugin_Devices_Args, num_devices);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.initialized) return cmeter::sdk::not_initialised("plugin_devices");
  args->devices = s.device_list.data();
  args->num_devices = s.device_list.size();
  return nullptr;
}

CMTR_Error* device_attributes(CMTR_Device_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Device_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_device(args->device, "device_attributes")) return e;
  State& s = state();
  const auto& attrs = s.device_attributes.at(static_cast<size_t>(args->device->index));
  args->attributes = attrs.data();
  args->num_attributes = attrs.size();
  return nullptr;
}

}  // namespace tmpl
