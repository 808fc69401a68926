// Tests for the SVG charts: marks and error bars are drawn where values exist, nothing is drawn for
// missing or non-finite values, text is escaped, and log-axis charts place roofs and points.
#include "reports/svg_chart.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cmeter::reports {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_CASE("svg: grouped bars with error bars") {
  BarChart c;
  c.id = "t";
  c.title = "gemm <f32>";
  c.unit = "FLOP/s";
  c.categories = {"a", "b", "c"};
  c.series = {
      {"cpu:0", {ChartValue{1e11, 0.9e11, 1.1e11, ""}, std::nullopt, ChartValue{NAN, NAN, NAN, ""}}},
      {"cpu:1", {ChartValue{2e11, 2e11, 2e11, ""}, ChartValue{5e10, 4e10, 6e10, "noisy"}, std::nullopt}}};
  std::string svg = render_bar_chart(c);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart bars\"", 0) == 0);
  CHECK(count(svg, "<rect class=\"bar\"") == 3);
  CHECK(count(svg, "class=\"error-bar\"") == 2);  // the zero-width interval draws none
  CHECK(svg.find("gemm &lt;f32&gt;") != std::string::npos);
  CHECK(svg.find("noisy") != std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("svg: roofline on log axes") {
  XYChart c;
  c.id = "roof";
  c.css_class = "roofline";
  c.title = "Roofline";
  c.y_unit = "FLOP/s";
  c.ceilings = {{"FMA f32 (measured)", 1.5e11, false}, {"declared f32", 4.5e11, true}};
  c.bandwidth_slope = 2e10;
  c.slope_label = "20 GB/s";
  c.series = {{"gemm f32", {{85.0, 9e10, 8e10, 1e11, "gemm"}, {-1, 5, 5, 5, "dropped"}}, false}};
  std::string svg = render_xy_chart(c);
  CHECK(count(svg, "class=\"roof ceiling") == 2);
  CHECK(count(svg, "class=\"roof ceiling declared\"") == 1);
  CHECK(count(svg, "class=\"roof bandwidth\"") == 1);
  CHECK(count(svg, "<circle class=\"point\"") == 1);  // x <= 0 cannot sit on a log axis
  CHECK(svg.find("nan") == std::string::npos);
  XYChart empty;
  empty.id = "e";
  CHECK(render_xy_chart(empty).find("</svg>") != std::string::npos);
}

TEST_CASE("svg: a latency CDF on linear axes, steps through its points") {
  CdfChart c;
  c.id = "cdf";
  c.title = "latency <CDF>";
  c.x_label = "latency";
  c.x_unit = "s";
  c.series = {{"llm-tiny Offline", {{0.2, 0.5}, {0.1, 0.25}, {0.4, 1.0}, {NAN, 0.7}}}, {"empty", {}}};
  std::string svg = render_cdf_chart(c);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart cdf\" id=\"cdf\"", 0) == 0);
  CHECK(count(svg, "class=\"cdf-line\"") == 1);       // the empty series draws no line
  CHECK(count(svg, "<circle class=\"point\"") == 3);  // the non-finite point is dropped
  CHECK(count(svg, "class=\"guide\"") == 3);          // p50, p90, p99
  CHECK(svg.find("latency &lt;CDF&gt;") != std::string::npos);
  CHECK(svg.find("llm-tiny Offline: 25.0% of queries within 100 ms") != std::string::npos);
  CHECK(svg.find(">100%</text>") != std::string::npos);
  // Sorted by latency: the step line starts at 0% (y 300) at the lowest latency, 0.1 s, which sits at a
  // fifth of the x axis (0 to 0.5 s over 616 px from x 84), then rises to 25% there.
  CHECK(svg.find("class=\"cdf-line\" d=\"M 207.20 300.00 L 207.20 300.00 L 207.20 233.50 L ") !=
        std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CdfChart empty;
  empty.id = "e";
  CHECK(render_cdf_chart(empty).find("</svg>") != std::string::npos);
}

}  // namespace
}  // namespace cmeter::reports
