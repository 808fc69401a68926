// Inline SVG charts for the HTML report and comparison, generated in C++ (no script, no fonts, no
// network): grouped bars with 95% CI error bars, and XY charts on log axes, used for GEMM throughput
// vs size and for rooflines (compute ceilings, a bandwidth slope, measured points), and cumulative
// distributions on a linear scale (LLM latency). Every mark carries a <title> with its exact figure;
// element classes (chart, bar, error-bar, roof, point, cdf-line) let tests find them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cmeter::reports {

struct ChartValue {
  double value = 0;
  double low = 0;  // 95% CI; equal to value when unknown
  double high = 0;
  std::string note;  // e.g. "noisy", shown in the tooltip
};

struct BarSeries {
  std::string name;                               // legend entry (a device, a report)
  std::vector<std::optional<ChartValue>> values;  // one per category; nullopt = no bar
};

struct BarChart {
  std::string id, css_class = "bars", title, unit;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  std::optional<double> reference_line;  // e.g. 1.0 for ratio charts
};
std::string render_bar_chart(const BarChart& chart);

struct XYPoint {
  double x = 0, y = 0, low = 0, high = 0;
  std::string label;
};
struct XYSeries {
  std::string name;
  std::vector<XYPoint> points;
  bool connect = true;
};
struct Ceiling {
  std::string label;
  double y = 0;
  bool declared = false;  // dashed: a declared peak, not a measured one
};

struct XYChart {
  std::string id, css_class, title, x_label, x_unit, y_unit;
  int x_log_base = 10;  // ticks at powers of this base (2 or 10); both axes are logarithmic
  std::vector<XYSeries> series;
  std::vector<Ceiling> ceilings;          // roofline: horizontal compute roofs
  std::optional<double> bandwidth_slope;  // roofline: y = slope * x (B/s)
  std::string slope_label;
};
std::string render_xy_chart(const XYChart& chart);

// A cumulative distribution (the LLM latency CDF): x linear from 0 (values in `x_unit`, e.g. "s" shown
// as ms), y the fraction of queries at or below x, 0 to 100%, with dashed guides at p50, p90 and p99;
// each series a step line through its points (x ascending, fraction in 0..1) with a marked, titled
// point per entry.
struct CdfSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, fraction)
};
struct CdfChart {
  std::string id, css_class = "cdf", title, x_label, x_unit;
  std::vector<CdfSeries> series;
};
std::string render_cdf_chart(const CdfChart& chart);

}  // namespace cmeter::reports
