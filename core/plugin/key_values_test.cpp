// Tests for key/value conversion: round trip through the ABI form, and sanitising of plugin strings.
#include "core/plugin/key_values.h"

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

TEST_CASE("key values: garbage strings from a plugin are made safe") {
  CHECK(sanitize_utf8("plain") == "plain");
  CHECK(sanitize_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(sanitize_utf8("bad\xFF\xFE") == "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sanitize_utf8(std::string("nul\0in", 6)) == "nul\xEF\xBF\xBDin");
  CHECK(sanitize_utf8("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong encoding
  std::string huge(kMaxPluginString + 100, 'x');
  CHECK(sanitize_utf8(huge).size() == kMaxPluginString + 8);
  CMTR_KeyValue kv{};
  kv.key = CMTR_String{"k", 1};
  kv.type = 99;
  CHECK(to_display(from_abi(&kv, 1).at("k")) == "<invalid value type 99>");
  CHECK(from_abi(nullptr, 5).empty());
}

}  // namespace
}  // namespace cmeter
