// PluginLibrary: one loaded plugin shared library. It owns the dlopen handle and the plugin's
// initialised state (RAII: plugin_shutdown then dlclose), checks the ABI major and table size before
// calling anything, and turns plugin error objects into core Errors. Every failure mode of loading
// (not an ELF, missing vendor library, missing symbol, NULL table, wrong major, short table, failing
// init) is an Error naming the file and the reason, never a crash.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <cmeter/plugin_abi.h>

#include "core/plugin/abi_key_values.h"
#include "core/util/result.h"

namespace cmeter {

class PluginLibrary {
 public:
  // Loads, checks and initialises the plugin at `path`.
  static Result<std::unique_ptr<PluginLibrary>> open(const std::string& path);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const CMTR_Api& api() const { return *api_; }
  const std::string& path() const { return path_; }
  // plugin.name, or the file name's stem (libcmeter-<name>.so) if the plugin gave none.
  const std::string& name() const { return name_; }
  const KeyValues& attributes() const { return attributes_; }
  int abi_major() const { return api_->abi_major; }
  int abi_minor() const { return api_->abi_minor; }
  const std::vector<CMTR_Device*>& devices() const { return devices_; }

  // Converts (and frees) a plugin error; `what` names the call, e.g. "buffer_create".
  Error take_error(CMTR_Error* error, std::string_view what) const;
  // True when the table is long enough to hold the slot at `slot_offset` and the slot is set.
  bool has_slot(size_t slot_end_offset, const void* slot) const;

 private:
  PluginLibrary() = default;
  void* handle_ = nullptr;
  const CMTR_Api* api_ = nullptr;  // after the size checks: &api_copy_
  // The plugin's table copied into one of this host's size, zero past the plugin's struct_size, so a
  // slot an older plugin lacks reads as NULL without reading past the plugin's table.
  CMTR_Api api_copy_{};
  bool initialized_ = false;
  std::string path_;
  std::string name_;
  KeyValues attributes_;
  std::vector<CMTR_Device*> devices_;
};

// The plugin name implied by a file name: "libcmeter-cpu.so" -> "cpu".
std::string plugin_name_from_path(const std::string& path);

// Calls an optional API slot only if the plugin's table is long enough and the slot is non-NULL.
#define CMETER_API_SLOT(lib, slot)                                                                   \
  ((lib).has_slot(CMTR_STRUCT_SIZE(CMTR_Api, slot), reinterpret_cast<const void*>((lib).api().slot)) \
       ? (lib).api().slot                                                                            \
       : nullptr)

}  // namespace cmeter
