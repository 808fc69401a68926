// Tests for the ABI form of key/value lists: round trip through CMTR_KeyValue, and a plugin's
// garbage (unknown value types, NULL arrays) made safe.
#include "core/plugin/abi_key_values.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("key values: round trip through CMTR_KeyValue") {
  KeyValues in{{"m", int64_t{512}}, {"alpha", 1.5}, {"trans_a", true}, {"dtype_a", std::string("f16")}};
  auto list = to_abi(in);
  REQUIRE(list.size() == 4);
  KeyValues out = from_abi(list.data(), list.size());
  CHECK(out == in);
  CHECK(get_int(out, "m").value() == 512);
  CHECK(get_number(out, "m").value() == 512.0);
  CHECK(get_bool(out, "trans_a").value());
  CHECK_FALSE(get_string(out, "missing").has_value());
}

TEST_CASE("key values: garbage from a plugin is made safe") {
  CMTR_KeyValue kv{};
  kv.key = CMTR_String{"k", 1};
  kv.type = 99;
  CHECK(to_display(from_abi(&kv, 1).at("k")) == "<invalid value type 99>");
  CHECK(from_abi(nullptr, 5).empty());
  const char bad[] = "bad\xFF";
  CHECK(sanitize_plugin_string(CMTR_String{bad, 4}) == "bad\xEF\xBF\xBD");
  CHECK(sanitize_plugin_string(CMTR_String{nullptr, 3}).empty());
}

}  // namespace
}  // namespace cmeter
