// Key/value lists across the ABI: CMTR_KeyValue arrays from a plugin become the model's KeyValues
// (every string sanitised), and KeyValues become owned ABI arrays for calls into a plugin.
#include "core/plugin/abi_key_values.h"

#include <fmt/format.h>

namespace cmeter {

std::string sanitize_plugin_string(CMTR_String s) {
  if (s.data == nullptr) return {};
  return sanitize_utf8(std::string_view(s.data, s.size));
}

KeyValues from_abi(const CMTR_KeyValue* items, size_t count) {
  KeyValues out;
  if (items == nullptr) return out;
  for (size_t i = 0; i < count && i < 10000; ++i) {
    const CMTR_KeyValue& kv = items[i];
    std::string key = sanitize_plugin_string(kv.key);
    if (key.empty()) key = fmt::format("<empty key #{}>", i);
    switch (kv.type) {
      case CMTR_VALUE_STRING:
        out[key] = sanitize_plugin_string(kv.string_value);
        break;
      case CMTR_VALUE_INT64:
        out[key] = kv.int_value;
        break;
      case CMTR_VALUE_DOUBLE:
        out[key] = kv.double_value;
        break;
      case CMTR_VALUE_BOOL:
        out[key] = kv.int_value != 0;
        break;
      default:
        out[key] = fmt::format("<invalid value type {}>", kv.type);
        break;
    }
  }
  return out;
}

sdk::KeyValueList to_abi(const KeyValues& values) {
  sdk::KeyValueList list;
  for (const auto& [key, value] : values) {
    std::visit(
        [&, k = key](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>)
            list.set_bool(k, v);
          else
            list.set(k, v);
        },
        value);
  }
  return list;
}

}  // namespace cmeter
