// Tests for the renderers' text helpers: SI figures, interval widths, escaping, display width and
// padded tables (colour codes and UTF-8 must not shift columns).
#include "reports/format.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cmeter::reports {
namespace {

TEST_CASE("format: figures with SI prefixes and units") {
  CHECK(format_quantity(1.234e12, "FLOP/s") == "1.23 TFLOP/s");
  CHECK(format_quantity(25.3e9, "B/s") == "25.3 GB/s");
  CHECK(format_quantity(999.7e9, "B/s") == "1 TB/s");  // no "1e+03 GB/s"
  CHECK(format_quantity(4.1e-6, "s") == "4.1 us");
  CHECK(format_quantity(26.6e-9, "s") == "26.6 ns");
  CHECK(format_quantity(2.5e-3, "s") == "2.5 ms");
  CHECK(format_quantity(NAN, "s") == "n/a");
  CHECK(format_ci_percent(100, 98, 103) == "±2.5%");
  CHECK(format_ci_percent(0, -1, 1).empty());
  CHECK(format_interval(100e9, 98e9, 103e9, "B/s") == "[98 GB/s, 103 GB/s]");
  CHECK(format_percent(0.1943) == "19.4%");
  CHECK(format_bytes(25276026880.0) == "23.5 GiB");
  CHECK(format_exact(0.1) == "0.1");
  CHECK(format_exact(INFINITY).empty());
}

TEST_CASE("format: escaping") {
  CHECK(escape_html("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  CHECK(escape_markdown("a|b\nc*d_") == "a\\|b c\\*d\\_");
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
}

TEST_CASE("format: words wrap at spaces within the width") {
  using V = std::vector<std::string>;
  CHECK(wrap_words("", 10) == V{""});
  CHECK(wrap_words("short text", 10) == V{"short text"});
  CHECK(wrap_words("one two three four", 9) == V{"one two", "three", "four"});
  CHECK(wrap_words("averyveryverylongword x", 5) == V{"averyveryverylongword", "x"});
  CHECK(wrap_words("a  b", 10) == V{"a b"});
  CHECK(wrap_words("x × y", 5) == V{"x × y"});  // width counts code points, not bytes
}

TEST_CASE("format: text tables pad by display width") {
  CHECK(display_width("±3.0%") == 5);
  CHECK(display_width("\x1b[32mok\x1b[0m") == 2);
  TextTable t{{"name", "value"}, {false, true}, {{"cpu:0 — AMD", "1"}, {"\x1b[31mx\x1b[0m", "100"}}};
  std::string out = t.render("");
  CHECK(out == "name         value\ncpu:0 — AMD      1\n\x1b[31mx\x1b[0m              100\n");
  CHECK(colour_word("ok", false) == "ok");
  CHECK(colour_word("ok", true) == "\x1b[32mok\x1b[0m");
  CHECK(colour_word("slower", true) == "\x1b[31mslower\x1b[0m");
}

}  // namespace
}  // namespace cmeter::reports
