// Tests for key/value lists: sanitising of strings, and the one JSON mapping both ways.
#include "core/model/key_values.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("key values: garbage strings are made safe") {
  CHECK(sanitize_utf8("plain") == "plain");
  CHECK(sanitize_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(sanitize_utf8("bad\xFF\xFE") == "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sanitize_utf8(std::string("nul\0in", 6)) == "nul\xEF\xBF\xBDin");
  CHECK(sanitize_utf8("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong encoding
  std::string huge(kMaxPluginString + 100, 'x');
  CHECK(sanitize_utf8(huge).size() == kMaxPluginString + 8);
}

TEST_CASE("key values: one JSON mapping, both ways") {
  KeyValues in{{"m", int64_t{512}},
               {"neg", int64_t{-3}},
               {"alpha", 1.5},
               {"trans_a", true},
               {"dtype_a", std::string("f16")}};
  CHECK(key_values_from_json(to_json(in)) == in);
  // Parsed text: positive integers arrive as unsigned and stay integers.
  auto parsed = key_values_from_json(nlohmann::json::parse(R"({"n": 4096, "x": 2.0, "s": "a", "b": false})"));
  CHECK(std::get<int64_t>(parsed.at("n")) == 4096);
  CHECK(std::get<double>(parsed.at("x")) == 2.0);
  CHECK(std::get<std::string>(parsed.at("s")) == "a");
  CHECK(std::get<bool>(parsed.at("b")) == false);
  // Beyond int64: a double, not a wrapped negative.
  auto big = key_values_from_json(nlohmann::json::parse(R"({"u": 18446744073709551615})"));
  CHECK(std::get<double>(big.at("u")) > 1.8e19);
  // Non-scalars are skipped; a non-object gives nothing.
  auto mixed = key_values_from_json(nlohmann::json::parse(R"({"a": null, "b": [1], "c": {"d": 1}, "e": 1})"));
  CHECK(mixed.size() == 1);
  CHECK(key_values_from_json(nlohmann::json::array({1, 2})).empty());
  CHECK(key_values_from_json(nlohmann::json("text")).empty());
}

}  // namespace
}  // namespace cmeter
