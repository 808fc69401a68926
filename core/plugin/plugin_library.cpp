// Loading one plugin: dlopen, symbol lookup, ABI checks, initialise, enumerate devices.
#include "core/plugin/plugin_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

#include <filesystem>

namespace cmeter {

std::string plugin_name_from_path(const std::string& path) {
  std::string stem = std::filesystem::path(path).filename().string();
  if (stem.rfind("libcmeter-", 0) == 0) stem = stem.substr(10);
  if (auto dot = stem.find(".so"); dot != std::string::npos) stem = stem.substr(0, dot);
  return stem;
}

bool PluginLibrary::has_slot(size_t slot_end_offset, const void* slot) const {
  return api_ != nullptr && api_->struct_size >= slot_end_offset && slot != nullptr;
}

Error PluginLibrary::take_error(CMTR_Error* error, std::string_view what) const {
  Error out{ErrorCode::kInternal, fmt::format("{}: {} failed", name_, what)};
  if (error == nullptr) return out;
  if (api_->error_info != nullptr) {
    CMTR_Error_Info_Args info{};
    info.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message);
    info.error = error;
    api_->error_info(&info);
    std::string message = sanitize_plugin_string(info.message);
    switch (info.code) {
      case CMTR_ERROR_INVALID_ARGUMENT:
        out.code = ErrorCode::kInvalidArgument;
        break;
      case CMTR_ERROR_NOT_FOUND:
        out.code = ErrorCode::kNotFound;
        break;
      case CMTR_ERROR_UNIMPLEMENTED:
        out.code = ErrorCode::kUnimplemented;
        break;
      case CMTR_ERROR_RESOURCE_EXHAUSTED:
        out.code = ErrorCode::kResourceExhausted;
        break;
      case CMTR_ERROR_UNAVAILABLE:
        out.code = ErrorCode::kUnavailable;
        break;
      case CMTR_ERROR_DEVICE_LOST:
        out.code = ErrorCode::kDeviceLost;
        break;
      default:
        out.code = ErrorCode::kInternal;
        break;
    }
    out.message = fmt::format("{}: {}: {}", name_, what, message.empty() ? "(no message)" : message);
  }
  if (api_->error_destroy != nullptr) {
    CMTR_Error_Destroy_Args destroy{};
    destroy.struct_size = CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error);
    destroy.error = error;
    api_->error_destroy(&destroy);
  }
  return out;
}

Result<std::unique_ptr<PluginLibrary>> PluginLibrary::open(const std::string& path) {
  std::unique_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = path;
  lib->name_ = plugin_name_from_path(path);
  dlerror();
  lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle_ == nullptr) {
    const char* why = dlerror();
    return make_error(ErrorCode::kUnavailable, "cannot load {}: {}", path,
                      why ? why : "unknown dlopen error");
  }
  dlerror();
  void* symbol = dlsym(lib->handle_, CMTR_GET_API_SYMBOL);
  if (symbol == nullptr) {
    const char* why = dlerror();
    return make_error(ErrorCode::kNotFound, "{} is not a cmeter plugin: no symbol {} ({})", path,
                      CMTR_GET_API_SYMBOL, why ? why : "symbol is NULL");
  }
  auto get_api = reinterpret_cast<CMTR_GetApiFn*>(symbol);
  lib->api_ = get_api();
  if (lib->api_ == nullptr)
    return make_error(ErrorCode::kInternal, "{}: {}() returned NULL", path, CMTR_GET_API_SYMBOL);
  const CMTR_Api& api = *lib->api_;
  if (api.abi_major != CMTR_ABI_MAJOR)
    return make_error(ErrorCode::kUnimplemented,
                      "{}: plugin ABI major {} (minor {}) but this cmeter speaks ABI {}.{}", path,
                      api.abi_major, api.abi_minor, CMTR_ABI_MAJOR, CMTR_ABI_MINOR);
  if (api.struct_size < CMTR_API_STRUCT_SIZE_1_0)
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: CMTR_Api struct_size {} is smaller than the ABI 1.0 table ({} bytes)", path,
                      api.struct_size, CMTR_API_STRUCT_SIZE_1_0);
  std::memcpy(&lib->api_copy_, lib->api_, std::min<size_t>(api.struct_size, sizeof(CMTR_Api)));
  lib->api_ = &lib->api_copy_;
  for (auto [slot, slot_name] :
       {std::pair{reinterpret_cast<const void*>(api.error_info), "error_info"},
        {reinterpret_cast<const void*>(api.error_destroy), "error_destroy"},
        {reinterpret_cast<const void*>(api.plugin_initialize), "plugin_initialize"},
        {reinterpret_cast<const void*>(api.plugin_devices), "plugin_devices"},
        {reinterpret_cast<const void*>(api.device_attributes), "device_attributes"}}) {
    if (slot == nullptr)
      return make_error(ErrorCode::kUnimplemented, "{}: required slot {} is NULL", path, slot_name);
  }

  CMTR_Plugin_Initialize_Args init{};
  init.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Initialize_Args, num_attributes);
  init.host_abi_major = CMTR_ABI_MAJOR;
  init.host_abi_minor = CMTR_ABI_MINOR;
  if (CMTR_Error* e = api.plugin_initialize(&init)) return lib->take_error(e, "plugin_initialize");
  lib->initialized_ = true;
  lib->attributes_ = from_abi(init.attributes, init.num_attributes);
  if (auto n = get_string(lib->attributes_, "plugin.name"); n && !n->empty()) lib->name_ = *n;

  CMTR_Plugin_Devices_Args devices{};
  devices.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Devices_Args, num_devices);
  if (CMTR_Error* e = api.plugin_devices(&devices)) return lib->take_error(e, "plugin_devices");
  if (devices.num_devices > 0 && devices.devices == nullptr)
    return make_error(ErrorCode::kInternal, "{}: plugin_devices returned {} devices but a NULL array", path,
                      devices.num_devices);
  for (size_t i = 0; i < devices.num_devices && i < 4096; ++i) lib->devices_.push_back(devices.devices[i]);
  return lib;
}

PluginLibrary::~PluginLibrary() {
  if (initialized_ && api_ != nullptr) {
    if (auto shutdown = CMETER_API_SLOT(*this, plugin_shutdown)) {
      CMTR_Plugin_Shutdown_Args args{};
      args.struct_size = CMTR_STRUCT_SIZE(CMTR_Plugin_Shutdown_Args, extension);
      if (CMTR_Error* e = shutdown(&args)) (void)take_error(e, "plugin_shutdown");
    }
  }
  // Plugins may have registered thread-local destructors or atexit handlers (OpenBLAS, TBB): keep
  // the code mapped for the life of the process rather than risk running unmapped code at exit.
  // (dlclose is skipped on purpose; the handle is reclaimed at process exit.)
}

}  // namespace cmeter
