// Golden-file tests of the Markdown and CSV renderers on a fixed real report
// (tests/fixtures/reports/stub-run.json), and structural checks of the terminal and HTML views.
// Set CMETER_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "reports/csv.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/terminal.h"

namespace cmeter::reports {
namespace {

const std::string kFixtures = std::string(CMETER_SOURCE_DIR) + "/tests/fixtures/reports/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void check_golden(const std::string& name, const std::string& text) {
  const std::string path = kFixtures + name;
  const char* update = std::getenv("CMETER_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") std::ofstream(path) << text;
  const std::string expected = read(path);
  REQUIRE_MESSAGE(!expected.empty(), "missing golden file " << path);
  CHECK_MESSAGE(text == expected, "output differs from " << path << " (CMETER_UPDATE_GOLDEN=1 rewrites it)");
}

LoadedReport fixture(const std::string& name) {
  auto r = read_report_file(kFixtures + name);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(*r);
}

TEST_CASE("render: Markdown and CSV of a fixed report match the golden files") {
  auto r = fixture("stub-run.json");
  check_golden("stub-run.md", render_markdown(r));
  check_golden("stub-run.csv", render_csv(r));
}

TEST_CASE("render: terminal view puts the headline first and colours only when asked") {
  auto r = fixture("stub-run.json");
  std::string plain = render_terminal(r, false);
  std::string coloured = render_terminal(r, true);
  CHECK(plain.find("\x1b[") == std::string::npos);
  CHECK(coloured.find("\x1b[31mimplausible\x1b[0m") != std::string::npos);
  const std::string device_line = "\nstub:0 — cmeter stub device\n";
  auto device = plain.find(device_line);
  REQUIRE(device != std::string::npos);
  CHECK(plain.compare(device + device_line.size(), 10, "  headline") == 0);
  CHECK(plain.find("Verdict: INCOMPLETE") != std::string::npos);
}

TEST_CASE("render: HTML is self-contained and carries its data") {
  auto r = fixture("cpu-quick.json");
  std::string html = render_html(r);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("default-src 'none'") != std::string::npos);
  for (const char* needle :
       {"class=\"chart bars\"", "class=\"chart gemm-scaling\"", "class=\"chart roofline\"",
        "<table class=\"results\">", "id=\"cmeter-report-data\""})
    CHECK_MESSAGE(html.find(needle) != std::string::npos, needle);
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(json_for_script("{\"a\":\"</script><!--\"}") == "{\"a\":\"\\u003c/script>\\u003c!--\"}");
}

}  // namespace
}  // namespace cmeter::reports
