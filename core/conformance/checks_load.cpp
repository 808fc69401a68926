// Loading checks: the file, the exported symbol, the table's version, size and required slots, then
// initialisation through the host's own loader (PluginLibrary) and the devices with their attributes.
// Each is its own check so that a broken plugin fails exactly the step it breaks.
#include <dlfcn.h>

#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/conformance/session.h"

namespace cmeter::conformance {
namespace {

// dlopen searches the library path for a name without '/'; a file argument must not.
std::string dlopen_path(const std::string& path) {
  return path.find('/') == std::string::npos ? "./" + path : path;
}

enum class KeyType { kString, kInt, kNumber, kBool };

const std::map<std::string, KeyType>& documented_device_keys() {
  static const std::map<std::string, KeyType> keys = {
      {"name", KeyType::kString},
      {"vendor", KeyType::kString},
      {"kind", KeyType::kString},
      {"driver.version", KeyType::kString},
      {"runtime.version", KeyType::kString},
      {"uuid", KeyType::kString},
      {"pci.bus_id", KeyType::kString},
      {"numa.node", KeyType::kInt},
      {"mem.bytes", KeyType::kInt},
      {"mem.host_shared", KeyType::kBool},
      {"cache.llc.bytes", KeyType::kInt},
      {"compute_units", KeyType::kInt},
      {"simd.lanes.f32", KeyType::kInt},
      {"fma.pipes", KeyType::kInt},
      {"clock.core.mhz", KeyType::kNumber},
      {"clock.mem.mhz", KeyType::kNumber},
      {"clock.nominal.mhz", KeyType::kNumber},
      {"peak.mem.bytes_per_s", KeyType::kNumber},
      {"peak.link.bytes_per_s", KeyType::kNumber},
      {"peak.source", KeyType::kString},
      {"timer.kind", KeyType::kString},
      {"peak.sku", KeyType::kString},
      {"power.limit.w", KeyType::kNumber},
  };
  return keys;
}

bool has_type(const Value& v, KeyType t) {
  switch (t) {
    case KeyType::kString:
      return std::holds_alternative<std::string>(v);
    case KeyType::kInt:
      return std::holds_alternative<int64_t>(v);
    case KeyType::kNumber:
      return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
    case KeyType::kBool:
      return std::holds_alternative<bool>(v);
  }
  return false;
}

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kString:
      return "string";
    case KeyType::kInt:
      return "int";
    case KeyType::kNumber:
      return "double";
    case KeyType::kBool:
      return "bool";
  }
  return "?";
}

double as_number(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return 0;
}

bool is_pci_bus_id(const std::string& s) {
  // dddd:bb:dd.f, hexadecimal.
  if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11})
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// A string as the plugin handed it: pointer + size, valid UTF-8, bounded. Empty when fine.
std::string raw_string_problem(CMTR_String s, size_t max_bytes) {
  if (s.size > 0 && s.data == nullptr) return fmt::format("size {} with a NULL pointer", s.size);
  if (s.size > max_bytes) return fmt::format("{} bytes (more than {})", s.size, max_bytes);
  std::string_view bytes(s.data == nullptr ? "" : s.data, s.size);
  if (sanitize_utf8(bytes) != bytes) return "not valid UTF-8";
  return {};
}

// Checks the raw key/value array (before the host sanitises it): keys, value types, strings.
void check_raw_list(CheckContext& ctx, const std::string& id, const CMTR_KeyValue* items, size_t count) {
  if (count > 0 && items == nullptr)
    return ctx.fail(fmt::format("{}: {} attributes but a NULL array", id, count));
  if (count > 4096) return ctx.fail(fmt::format("{}: {} attributes is implausibly many", id, count));
  for (size_t i = 0; i < count; ++i) {
    const CMTR_KeyValue& kv = items[i];
    const std::string key = sanitize_plugin_string(kv.key);
    if (kv.key.size == 0) ctx.fail(fmt::format("{}: attribute {} has an empty key", id, i));
    if (auto p = raw_string_problem(kv.key, 256); !p.empty())
      ctx.fail(fmt::format("{}: attribute {} key '{}': {}", id, i, key, p));
    if (kv.type < CMTR_VALUE_STRING || kv.type > CMTR_VALUE_BOOL) {
      ctx.fail(fmt::format("{}: attribute '{}' has value type {}, not a CMTR_ValueType", id, key, kv.type));
      continue;
    }
    if (kv.type == CMTR_VALUE_STRING) {
      if (auto p = raw_string_problem(kv.string_value, kMaxPluginString); !p.empty())
        ctx.fail(fmt::format("{}: attribute '{}' value: {}", id, key, p));
    }
    if (kv.type == CMTR_VALUE_BOOL && kv.int_value != 0 && kv.int_value != 1)
      ctx.fail(fmt::format("{}: bool attribute '{}' is {}, not 0 or 1", id, key, kv.int_value));
  }
}

// Checks one device's attribute list; problems are failures in `ctx`.
// Keys under `<plugin name>.` are the plugin's own (documented in its section of abi-keys.md).
void check_attribute_list(CheckContext& ctx, const std::string& id, const std::string& plugin,
                          const KeyValues& attrs) {
  for (const char* required : {"name", "vendor", "kind"}) {
    auto it = attrs.find(required);
    if (it == attrs.end()) ctx.fail(fmt::format("{}: required attribute '{}' missing", id, required));
  }
  for (const auto& [key, value] : attrs) {
    KeyType t = KeyType::kString;
    if (auto it = documented_device_keys().find(key); it != documented_device_keys().end())
      t = it->second;
    else if (key.rfind("peak.flops.", 0) == 0)
      t = KeyType::kNumber;
    else if (key.rfind(plugin + ".", 0) == 0)
      continue;
    else {
      ctx.note(
          fmt::format("{}: attribute '{}' is not in docs/abi-keys.md (allowed, but undocumented)", id, key));
      continue;
    }
    if (!has_type(value, t)) {
      ctx.fail(
          fmt::format("{}: attribute '{}' must be a {}, got {}", id, key, type_name(t), to_display(value)));
      continue;
    }
    if (t == KeyType::kNumber && (!std::isfinite(as_number(value)) || as_number(value) < 0))
      ctx.fail(fmt::format("{}: attribute '{}' = {} is not a finite non-negative number", id, key,
                           to_display(value)));
    if ((key == "mem.bytes" || key == "compute_units") && as_number(value) <= 0)
      ctx.fail(fmt::format("{}: attribute '{}' = {} must be positive", id, key, to_display(value)));
  }
  if (auto kind = get_string(attrs, "kind");
      kind && *kind != "cpu" && *kind != "gpu" && *kind != "npu" && *kind != "other")
    ctx.fail(fmt::format("{}: kind '{}' is not cpu, gpu, npu or other", id, *kind));
  if (auto bus = get_string(attrs, "pci.bus_id"); bus && !is_pci_bus_id(*bus))
    ctx.fail(fmt::format("{}: pci.bus_id '{}' is not dddd:bb:dd.f", id, *bus));
}

}  // namespace

void check_load_dlopen(Session& s, CheckContext& ctx) {
  const std::string& path = s.options.plugin_path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return ctx.fail(fmt::format("{}: no such file", path));
  ctx.step("dlopen");
  dlerror();
  void* handle = dlopen(dlopen_path(path).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return ctx.fail(fmt::format("dlopen failed: {}", why ? why : "unknown error"));
  }
  s.dl_handle = handle;
  dlerror();
  void* symbol = dlsym(handle, CMTR_GET_API_SYMBOL);
  if (symbol == nullptr) {
    const char* why = dlerror();
    return ctx.fail(fmt::format("not a cmeter plugin: no symbol {} ({})", CMTR_GET_API_SYMBOL,
                                why ? why : "symbol is NULL"));
  }
  ctx.pass(fmt::format("loaded; {} found", CMTR_GET_API_SYMBOL));
}

void check_load_get_api(Session& s, CheckContext& ctx) {
  auto get_api = reinterpret_cast<CMTR_GetApiFn*>(dlsym(s.dl_handle, CMTR_GET_API_SYMBOL));
  ctx.step("cmeter_plugin_get_api()");
  const CMTR_Api* first = get_api();
  if (first == nullptr) return ctx.fail(fmt::format("{}() returned NULL", CMTR_GET_API_SYMBOL));
  const CMTR_Api* second = get_api();
  if (second != first)
    return ctx.fail(fmt::format("{}() returned a different table on its second call", CMTR_GET_API_SYMBOL));
  s.api = first;
  ctx.pass("table returned, stable across calls");
}

void check_abi_version(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  if (api.abi_major != CMTR_ABI_MAJOR)
    return ctx.fail(
        fmt::format("plugin ABI major {} (minor {}), but this host speaks {}.{}; a plugin is "
                    "built for one major",
                    api.abi_major, api.abi_minor, CMTR_ABI_MAJOR, CMTR_ABI_MINOR));
  if (api.abi_minor < 0) return ctx.fail(fmt::format("negative ABI minor {}", api.abi_minor));
  if (api.abi_minor > CMTR_ABI_MINOR)
    ctx.note(fmt::format("plugin is newer (1.{}) than the host (1.{}): the host uses the slots it knows",
                         api.abi_minor, CMTR_ABI_MINOR));
  ctx.pass(fmt::format("plugin ABI {}.{}, host {}.{}", api.abi_major, api.abi_minor, CMTR_ABI_MAJOR,
                       CMTR_ABI_MINOR));
}

void check_abi_table_size(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  const size_t host_size = sizeof(CMTR_Api);  // ends with a pointer: no tail padding
  if (api.struct_size < CMTR_API_STRUCT_SIZE_1_0)
    return ctx.fail(fmt::format("CMTR_Api struct_size {} is smaller than the ABI 1.0 table ({} bytes)",
                                api.struct_size, CMTR_API_STRUCT_SIZE_1_0));
  if (api.struct_size % sizeof(void*) != 0)
    return ctx.fail(fmt::format("CMTR_Api struct_size {} is not a whole number of slots", api.struct_size));
  if (api.struct_size > 64 * 1024)
    return ctx.fail(fmt::format("CMTR_Api struct_size {} is implausibly large", api.struct_size));
  if (api.abi_minor == CMTR_ABI_MINOR && api.struct_size != host_size)
    return ctx.fail(fmt::format("ABI 1.{} table must be {} bytes (CMTR_STRUCT_SIZE to its last slot), got {}",
                                api.abi_minor, host_size, api.struct_size));
  if (api.abi_minor > CMTR_ABI_MINOR && api.struct_size < host_size)
    return ctx.fail(fmt::format("ABI 1.{} table ({} bytes) is smaller than the 1.{} table ({} bytes)",
                                api.abi_minor, api.struct_size, CMTR_ABI_MINOR, host_size));
  ctx.pass(fmt::format("{} bytes ({} slots past the header); host table {} bytes", api.struct_size,
                       (api.struct_size - offsetof(CMTR_Api, error_info)) / sizeof(void*), host_size));
}

void check_abi_required_slots(Session& s, CheckContext& ctx) {
  const CMTR_Api& api = *s.api;
  struct Slot {
    const char* name;
    size_t end;
    const void* fn;
    bool required;
  };
#define CMETER_SLOT(name, required)                                                              \
  Slot {                                                                                         \
#name, CMTR_STRUCT_SIZE(CMTR_Api, name), reinterpret_cast < const void*>(api.name), required \
  }
  const Slot slots[] = {CMETER_SLOT(error_info, true),          CMETER_SLOT(error_destroy, true),
                        CMETER_SLOT(plugin_initialize, true),   CMETER_SLOT(plugin_shutdown, false),
                        CMETER_SLOT(plugin_devices, true),      CMETER_SLOT(device_attributes, true),
                        CMETER_SLOT(device_telemetry, false),   CMETER_SLOT(buffer_create, false),
                        CMETER_SLOT(buffer_destroy, false),     CMETER_SLOT(buffer_host_pointer, false),
                        CMETER_SLOT(buffer_write, false),       CMETER_SLOT(buffer_read, false),
                        CMETER_SLOT(stream_create, false),      CMETER_SLOT(stream_destroy, false),
                        CMETER_SLOT(stream_synchronize, false), CMETER_SLOT(event_record, false),
                        CMETER_SLOT(event_elapsed, false),      CMETER_SLOT(event_destroy, false),
                        CMETER_SLOT(op_query, false),           CMETER_SLOT(op_create, false),
                        CMETER_SLOT(op_attributes, false),      CMETER_SLOT(op_enqueue, false),
                        CMETER_SLOT(op_destroy, false)};
#undef CMETER_SLOT
  std::vector<std::string> null_optional;
  for (const Slot& slot : slots) {
    if (slot.end > api.struct_size) continue;  // never read past the plugin's table
    if (slot.fn != nullptr) continue;
    if (slot.required)
      ctx.fail(fmt::format("required slot {} is NULL", slot.name));
    else
      null_optional.push_back(slot.name);
  }
  for (const auto& name : null_optional) ctx.note(fmt::format("slot {} is NULL (unimplemented)", name));
  ctx.pass(null_optional.empty()
               ? std::string("every 1.0 slot is set")
               : fmt::format("required slots set; {} optional slot(s) NULL", null_optional.size()));
}

void check_plugin_load(Session& s, CheckContext& ctx) {
  ctx.step("PluginLibrary::open (plugin_initialize, plugin_devices)");
  auto lib = PluginLibrary::open(s.options.plugin_path);
  if (!lib) return ctx.fail(lib.error().message);
  s.lib = std::move(lib).value();
  const KeyValues& attrs = s.lib->attributes();
  auto name = get_string(attrs, "plugin.name");
  if (!name || name->empty()) ctx.fail("plugin attribute 'plugin.name' (non-empty string) is missing");
  for (const char* key : {"plugin.version", "plugin.vendor"})
    if (!get_string(attrs, key)) ctx.note(fmt::format("plugin attribute '{}' (string) is missing", key));
  for (size_t i = 0; i < s.lib->devices().size(); ++i) {
    CMTR_Device* handle = s.lib->devices()[i];
    auto device_attrs = read_device_attributes(*s.lib, handle);
    s.devices.emplace_back(s.lib.get(), handle, fmt::format("{}:{}", s.lib->name(), i),
                           device_attrs ? *device_attrs : KeyValues{});
  }
  nlohmann::json facts = {{"plugin_name", s.lib->name()},
                          {"abi_major", s.lib->abi_major()},
                          {"abi_minor", s.lib->abi_minor()},
                          {"plugin_attributes", cmeter::to_json(attrs)},
                          {"device_count", s.devices.size()}};
  if (const Device* d = s.device()) {
    facts["device_id"] = d->id();
    facts["device_attributes"] = cmeter::to_json(d->attributes());
  }
  s.listener.on_facts(facts);
  ctx.pass(fmt::format("initialised: {} {} by {}, {} device(s)", s.lib->name(),
                       get_string(attrs, "plugin.version").value_or("?"),
                       get_string(attrs, "plugin.vendor").value_or("?"), s.devices.size()));
}

void check_plugin_devices(Session& s, CheckContext& ctx) {
  if (s.devices.empty()) {
    auto status = get_string(s.lib->attributes(), "plugin.status");
    return ctx.skip(SkipKind::kNotApplicable,
                    "the plugin has no devices here" + (status ? ": " + *status : std::string()));
  }
  std::set<const CMTR_Device*> seen;
  for (const auto& handle : s.lib->devices()) {
    if (handle == nullptr) ctx.fail("plugin_devices returned a NULL device handle");
    if (!seen.insert(handle).second) ctx.fail("plugin_devices returned the same handle twice");
  }
  if (s.device() == nullptr)
    return ctx.fail(fmt::format("--device {}: the plugin has {} device(s) (0..{})", s.options.device_index,
                                s.devices.size(), s.devices.size() - 1));
  for (const auto& d : s.devices) ctx.note(fmt::format("{}: {}", d.id(), d.name()));
  ctx.pass(fmt::format("{} device(s); checking {}", s.devices.size(), s.device()->id()));
}

void check_plugin_device_attributes(Session& s, CheckContext& ctx) {
  for (const auto& d : s.devices) {
    ctx.step(d.id() + " device_attributes");
    CMTR_Device* handle = s.lib->devices()[static_cast<size_t>(&d - s.devices.data())];
    auto raw = CMETER_ABI_ARGS(CMTR_Device_Attributes_Args, num_attributes);
    raw.device = handle;
    if (ErrorProbe p = inspect_error(*s.api, s.api->device_attributes(&raw)); p.is_error) {
      ctx.fail(fmt::format("{}: device_attributes: {} \"{}\"", d.id(), error_code_name(p.code), p.message));
      continue;
    }
    check_raw_list(ctx, d.id(), raw.attributes, raw.num_attributes);
    auto first = read_device_attributes(*s.lib, handle);
    if (!first) {
      ctx.fail(fmt::format("{}: {}", d.id(), first.error().message));
      continue;
    }
    auto second = read_device_attributes(*s.lib, handle);
    if (!second || *second != *first)
      ctx.fail(fmt::format("{}: a second device_attributes call differs", d.id()));
    check_attribute_list(ctx, d.id(), s.lib->name(), *first);
  }
  const Device* d = s.device();
  ctx.pass(fmt::format("{} attribute(s) on {}: {} ({}, {})", d->attributes().size(), d->id(), d->name(),
                       get_string(d->attributes(), "kind").value_or("?"),
                       get_string(d->attributes(), "vendor").value_or("?")));
}

void check_plugin_telemetry(Session& s, CheckContext& ctx) {
  const Device* d = s.device();
  if (!d->has_telemetry())
    return ctx.skip(SkipKind::kNotApplicable, "no telemetry (device_telemetry slot is NULL)");
  static const std::set<std::string> keys = {"power.w",       "energy.j", "temp.c",          "clock.core.mhz",
                                             "clock.mem.mhz", "util.pct", "throttle.reasons"};
  ctx.step("device_telemetry");
  auto first = d->telemetry();
  if (!first) {
    if (first.error().code == ErrorCode::kUnimplemented)
      return ctx.skip(SkipKind::kNotApplicable, "telemetry answers UNIMPLEMENTED: " + first.error().message);
    return ctx.fail(first.error().message);
  }
  for (const auto& [key, value] : *first) {
    if (!keys.count(key)) {
      ctx.note(fmt::format("reading '{}' is not in docs/abi-keys.md", key));
      continue;
    }
    if (key == "throttle.reasons") {
      if (!std::holds_alternative<std::string>(value)) ctx.fail("throttle.reasons must be a string");
    } else if (!has_type(value, KeyType::kNumber) || !std::isfinite(as_number(value))) {
      ctx.fail(fmt::format("reading '{}' = {} is not a finite number", key, to_display(value)));
    }
    ctx.note(fmt::format("{} = {}", key, to_display(value)));
  }
  auto second = d->telemetry();
  if (!second) return ctx.fail("second device_telemetry call: " + second.error().message);
  auto e1 = get_number(*first, "energy.j"), e2 = get_number(*second, "energy.j");
  if (e1 && e2 && *e2 < *e1) ctx.fail(fmt::format("energy.j went backwards: {} then {}", *e1, *e2));
  ctx.pass(fmt::format("{} reading(s)", first->size()));
}

}  // namespace cmeter::conformance
