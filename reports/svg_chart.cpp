// SVG drawing: scales, ticks, bars with error bars, log-log XY charts and rooflines.
#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/format.h"

namespace cmeter::reports {
namespace {

constexpr double kWidth = 720, kHeight = 400;
constexpr double kLeft = 84, kRight = 20, kTop = 34, kBottom = 100;
const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                          "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

const char* colour(size_t i) {
  return kPalette[i % std::size(kPalette)];
}

std::string num(double v) {
  return fmt::format("{:.2f}", v);
}

// A "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks up to `max`.
double nice_step(double max, int count) {
  double raw = max / count;
  double p = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string open_svg(const std::string& id, const std::string& css_class, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {}\" id=\"{}\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" "
      "height=\"{}\" role=\"img\" aria-labelledby=\"{}-title\">\n<title id=\"{}-title\">{}</title>\n"
      "<rect class=\"frame\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>\n"
      "<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
      css_class, escape_html(id), kWidth, kHeight, kWidth, kHeight, escape_html(id), escape_html(id),
      escape_html(title), kWidth, kHeight, kLeft, escape_html(title));
}

std::string legend(const std::vector<std::string>& names, double y) {
  std::string out;
  double x = kLeft;
  for (size_t i = 0; i < names.size(); ++i) {
    out += fmt::format(
        "<g class=\"legend-item\"><rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g>\n",
        num(x), num(y), colour(i), num(x + 16), num(y + 10), escape_html(names[i]));
    x += 28 + 7.0 * static_cast<double>(display_width(names[i]));
  }
  return out;
}

std::string tooltip(const std::string& name, const ChartValue& v, const std::string& unit) {
  return fmt::format("{}: {} (95% CI {}){}", name, format_quantity(v.value, unit),
                     format_interval(v.value, v.low, v.high, unit), v.note.empty() ? "" : ", " + v.note);
}

}  // namespace

std::string render_bar_chart(const BarChart& c) {
  std::string out = open_svg(c.id, c.css_class, c.title);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double max = 0;
  for (const auto& s : c.series)
    for (const auto& v : s.values)
      if (v) {
        if (std::isfinite(v->value)) max = std::max(max, v->value);
        if (std::isfinite(v->high)) max = std::max(max, v->high);
      }
  if (c.reference_line) max = std::max(max, *c.reference_line);
  if (!(max > 0)) max = 1;
  const double step = nice_step(max * 1.05, 5);
  const double top = std::ceil(max * 1.05 / step) * step;
  auto y_of = [&](double v) { return kTop + plot_h * (1 - std::clamp(v, 0.0, top) / top); };
  for (double t = 0; t <= top * 1.0001; t += step) {
    out += fmt::format(
        "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
        num(kLeft), num(kLeft + plot_w), num(y_of(t)), num(y_of(t)), num(kLeft - 6), num(y_of(t) + 4),
        escape_html(format_quantity(t, c.unit)));
  }
  const size_t n_cat = std::max<size_t>(1, c.categories.size());
  const size_t n_ser = std::max<size_t>(1, c.series.size());
  const double group_w = plot_w / static_cast<double>(n_cat);
  const double bar_w = std::min(48.0, group_w * 0.8 / static_cast<double>(n_ser));
  for (size_t ci = 0; ci < c.categories.size(); ++ci) {
    const double group_x = kLeft + group_w * static_cast<double>(ci);
    const double start = group_x + (group_w - bar_w * static_cast<double>(n_ser)) / 2;
    for (size_t si = 0; si < c.series.size(); ++si) {
      if (ci >= c.series[si].values.size() || !c.series[si].values[ci]) continue;
      const ChartValue& v = *c.series[si].values[ci];
      if (!std::isfinite(v.value)) continue;
      const double x = start + bar_w * static_cast<double>(si);
      const double y = y_of(v.value);
      out += fmt::format(
          "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
          "fill=\"{}\"><title>{}</title></rect>\n",
          num(x + 1), num(y), num(bar_w - 2), num(kTop + plot_h - y), colour(si),
          escape_html(c.categories[ci] + ", " + tooltip(c.series[si].name, v, c.unit)));
      if (std::isfinite(v.low) && std::isfinite(v.high) && v.high > v.low) {
        const double mid = x + bar_w / 2;
        out += fmt::format(
            "<g class=\"error-bar\" stroke=\"#222\"><line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
            "<line x1=\"{3}\" x2=\"{4}\" y1=\"{1}\" y2=\"{1}\"/><line x1=\"{3}\" x2=\"{4}\" y1=\"{2}\" "
            "y2=\"{2}\"/></g>\n",
            num(mid), num(y_of(v.low)), num(y_of(v.high)), num(mid - bar_w / 4), num(mid + bar_w / 4));
      }
    }
    std::string label = c.categories[ci];
    if (display_width(label) > 24) {
      size_t cut = 22;
      while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80)
        --cut;  // not inside a UTF-8 char
      label = label.substr(0, cut) + "…";
    }
    out += fmt::format(
        "<text class=\"category\" x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" "
        "transform=\"rotate(-25 {} {})\">{}</text>\n",
        num(group_x + group_w / 2), num(kTop + plot_h + 14), num(group_x + group_w / 2),
        num(kTop + plot_h + 14), escape_html(label));
  }
  if (c.reference_line)
    out += fmt::format(
        "<line class=\"reference\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#555\" "
        "stroke-dasharray=\"4 3\"/>\n",
        num(kLeft), num(kLeft + plot_w), num(y_of(*c.reference_line)), num(y_of(*c.reference_line)));
  out += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line class=\"axis\" x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#333\"/>\n",
      num(kLeft), num(kTop), num(kTop + plot_h), num(kLeft + plot_w));
  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  out += legend(names, kHeight - 16);
  return out + "</svg>\n";
}

std::string render_xy_chart(const XYChart& c) {
  std::string out = open_svg(c.id, c.css_class, c.title);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double x_min = INFINITY, x_max = 0, y_min = INFINITY, y_max = 0;
  auto see_x = [&](double x) {
    if (std::isfinite(x) && x > 0) x_min = std::min(x_min, x), x_max = std::max(x_max, x);
  };
  auto see_y = [&](double y) {
    if (std::isfinite(y) && y > 0) y_min = std::min(y_min, y), y_max = std::max(y_max, y);
  };
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      see_x(p.x);
      see_y(p.y);
      see_y(p.low);
      see_y(p.high);
    }
  for (const auto& ceiling : c.ceilings) see_y(ceiling.y);
  if (c.bandwidth_slope && !c.ceilings.empty()) {
    double highest = 0;
    for (const auto& ceiling : c.ceilings) highest = std::max(highest, ceiling.y);
    see_x(highest / *c.bandwidth_slope);  // the ridge point
    see_x(highest / *c.bandwidth_slope / 8);
    see_x(highest / *c.bandwidth_slope * 8);
  }
  if (!(x_max > 0)) x_min = 1, x_max = 10;
  if (!(y_max > 0)) y_min = 1, y_max = 10;
  const double bx = c.x_log_base;
  double lx0 = std::floor(std::log(x_min) / std::log(bx)), lx1 = std::ceil(std::log(x_max) / std::log(bx));
  double ly0 = std::floor(std::log10(y_min)), ly1 = std::ceil(std::log10(y_max));
  if (lx1 <= lx0) lx1 = lx0 + 1;
  if (ly1 <= ly0) ly1 = ly0 + 1;
  auto x_of = [&](double x) { return kLeft + plot_w * (std::log(x) / std::log(bx) - lx0) / (lx1 - lx0); };
  auto y_of = [&](double y) { return kTop + plot_h * (1 - (std::log10(y) - ly0) / (ly1 - ly0)); };
  for (double e = lx0; e <= lx1; e += 1) {
    double x = std::pow(bx, e);
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{0}\" y=\"{3}\" font-size=\"11\" text-anchor=\"middle\">{4}</text>\n",
        num(x_of(x)), num(kTop), num(kTop + plot_h), num(kTop + plot_h + 14),
        escape_html(c.x_unit.empty() ? fmt::format("{:g}", x) : format_quantity(x, c.x_unit)));
  }
  for (double e = ly0; e <= ly1; e += 1) {
    double y = std::pow(10, e);
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4}\" font-size=\"11\" text-anchor=\"end\">{5}</text>\n",
        num(kLeft), num(kLeft + plot_w), num(y_of(y)), num(kLeft - 6), num(y_of(y) + 4),
        escape_html(format_quantity(y, c.y_unit)));
  }
  const double xa = std::pow(bx, lx0), xb = std::pow(bx, lx1);
  if (c.bandwidth_slope && *c.bandwidth_slope > 0) {
    // The roof: min(ceiling, slope × x) for the highest ceiling; lower ceilings as their own lines.
    double highest = 0;
    for (const auto& ceiling : c.ceilings) highest = std::max(highest, ceiling.y);
    double ridge = highest > 0 ? highest / *c.bandwidth_slope : xb;
    double y_start = std::max(*c.bandwidth_slope * xa, std::pow(10, ly0));
    double x_start = y_start / *c.bandwidth_slope;
    out += fmt::format(
        "<path class=\"roof bandwidth\" d=\"M {} {} L {} {}\" stroke=\"#444\" stroke-width=\"2\" "
        "fill=\"none\"><title>{}</title></path>\n",
        num(x_of(x_start)), num(y_of(y_start)), num(x_of(std::min(ridge, xb))),
        num(y_of(*c.bandwidth_slope * std::min(ridge, xb))), escape_html(c.slope_label));
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#444\">{}</text>\n",
                       num(x_of(x_start) + 4), num(y_of(y_start) - 6), escape_html(c.slope_label));
  }
  // Roof labels from the top down, each at least 13 px below the one above, so close roofs stay readable.
  std::vector<size_t> order(c.ceilings.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return c.ceilings[a].y > c.ceilings[b].y; });
  std::vector<double> label_y(c.ceilings.size());
  double previous = -1e9;
  for (size_t i : order) {
    label_y[i] = std::max(y_of(c.ceilings[i].y) - 4, previous + 14);
    previous = label_y[i];
  }
  for (size_t i = 0; i < c.ceilings.size(); ++i) {
    const Ceiling& ceiling = c.ceilings[i];
    double from =
        c.bandwidth_slope && *c.bandwidth_slope > 0 ? std::max(xa, ceiling.y / *c.bandwidth_slope) : xa;
    out += fmt::format(
        "<path class=\"roof ceiling{}\" d=\"M {} {} L {} {}\" stroke=\"{}\" stroke-width=\"2\"{} "
        "fill=\"none\"><title>{}</title></path>\n",
        ceiling.declared ? " declared" : "", num(x_of(from)), num(y_of(ceiling.y)), num(x_of(xb)),
        num(y_of(ceiling.y)), ceiling.declared ? "#999" : "#444",
        ceiling.declared ? " stroke-dasharray=\"6 4\"" : "",
        escape_html(ceiling.label + ": " + format_quantity(ceiling.y, c.y_unit)));
    out +=
        fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
                    num(kLeft + plot_w - 4), num(label_y[i]),
                    escape_html(ceiling.label + " " + format_quantity(ceiling.y, c.y_unit)));
  }
  for (size_t si = 0; si < c.series.size(); ++si) {
    const auto& s = c.series[si];
    std::vector<XYPoint> pts;
    for (const auto& p : s.points)
      if (std::isfinite(p.x) && p.x > 0 && std::isfinite(p.y) && p.y > 0) pts.push_back(p);
    std::sort(pts.begin(), pts.end(), [](const XYPoint& a, const XYPoint& b) { return a.x < b.x; });
    if (s.connect && pts.size() > 1) {
      std::string d;
      for (const auto& p : pts)
        d += fmt::format("{} {} {} ", d.empty() ? "M" : "L", num(x_of(p.x)), num(y_of(p.y)));
      out += fmt::format(
          "<path class=\"series-line\" d=\"{}\" stroke=\"{}\" stroke-width=\"1.5\" fill=\"none\"/>\n", d,
          colour(si));
    }
    for (const auto& p : pts) {
      if (std::isfinite(p.low) && std::isfinite(p.high) && p.low > 0 && p.high > p.low)
        out += fmt::format(
            "<line class=\"error-bar\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\"/>\n",
            num(x_of(p.x)), num(y_of(p.low)), num(y_of(p.high)), colour(si));
      out += fmt::format(
          "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"><title>{}</title></circle>\n",
          num(x_of(p.x)), num(y_of(p.y)), colour(si),
          escape_html(fmt::format("{}: {} at {} {} (95% CI {})", s.name, format_quantity(p.y, c.y_unit),
                                  c.x_label, fmt::format("{:g}", p.x),
                                  format_interval(p.y, p.low, p.high, c.y_unit)) +
                      (p.label.empty() ? "" : ", " + p.label)));
    }
  }
  out += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line class=\"axis\" x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#333\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" font-size=\"12\" text-anchor=\"middle\">{6}</text>\n",
      num(kLeft), num(kTop), num(kTop + plot_h), num(kLeft + plot_w), num(kLeft + plot_w / 2),
      num(kTop + plot_h + 32), escape_html(c.x_label));
  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  out += legend(names, kHeight - 16);
  return out + "</svg>\n";
}

std::string render_cdf_chart(const CdfChart& c) {
  std::string out = open_svg(c.id, c.css_class, c.title);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double max = 0;
  for (const auto& s : c.series)
    for (const auto& [x, f] : s.points)
      if (std::isfinite(x) && std::isfinite(f)) max = std::max(max, x);
  if (!(max > 0)) max = 1;
  const double step = nice_step(max * 1.05, 6);
  const double right = std::ceil(max * 1.05 / step) * step;
  auto x_of = [&](double x) { return kLeft + plot_w * std::clamp(x, 0.0, right) / right; };
  auto y_of = [&](double f) { return kTop + plot_h * (1 - std::clamp(f, 0.0, 1.0)); };
  for (double tick = 0; tick <= right * 1.0001; tick += step)
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{0}\" y=\"{3}\" font-size=\"11\" text-anchor=\"middle\">{4}</text>\n",
        num(x_of(tick)), num(kTop), num(kTop + plot_h), num(kTop + plot_h + 14),
        escape_html(c.x_unit.empty() ? fmt::format("{:g}", tick) : format_quantity(tick, c.x_unit)));
  for (int pct = 0; pct <= 100; pct += 20)
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4}\" font-size=\"11\" text-anchor=\"end\">{5}%</text>\n",
        num(kLeft), num(kLeft + plot_w), num(y_of(pct / 100.0)), num(kLeft - 6), num(y_of(pct / 100.0) + 4),
        pct);
  for (const auto& [fraction, name] :
       {std::pair<double, const char*>{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}})
    out += fmt::format(
        "<line class=\"guide\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#999\" "
        "stroke-dasharray=\"4 3\"/><text x=\"{3}\" y=\"{4}\" font-size=\"10\" fill=\"#666\" "
        "text-anchor=\"end\">{5}</text>\n",
        num(kLeft), num(kLeft + plot_w), num(y_of(fraction)), num(kLeft + plot_w - 2),
        num(y_of(fraction) - 3), name);
  for (size_t si = 0; si < c.series.size(); ++si) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : c.series[si].points)
      if (std::isfinite(p.first) && std::isfinite(p.second)) pts.push_back(p);
    std::sort(pts.begin(), pts.end());
    if (pts.empty()) continue;
    // A step line: from 0% at the first latency, up at each point, flat to the next.
    std::string d = fmt::format("M {} {}", num(x_of(pts.front().first)), num(y_of(0)));
    double previous = 0;
    for (const auto& [x, f] : pts) {
      d += fmt::format(" L {} {} L {} {}", num(x_of(x)), num(y_of(previous)), num(x_of(x)), num(y_of(f)));
      previous = f;
    }
    out +=
        fmt::format("<path class=\"cdf-line\" d=\"{}\" stroke=\"{}\" stroke-width=\"1.8\" fill=\"none\"/>\n",
                    d, colour(si));
    for (const auto& [x, f] : pts)
      out += fmt::format(
          "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"2.2\" fill=\"{}\"><title>{}</title></circle>\n",
          num(x_of(x)), num(y_of(f)), colour(si),
          escape_html(fmt::format("{}: {} of queries within {}", c.series[si].name, format_percent(f),
                                  c.x_unit.empty() ? fmt::format("{:g}", x) : format_quantity(x, c.x_unit))));
  }
  out += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line class=\"axis\" x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#333\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" font-size=\"12\" text-anchor=\"middle\">{6}</text>\n",
      num(kLeft), num(kTop), num(kTop + plot_h), num(kLeft + plot_w), num(kLeft + plot_w / 2),
      num(kTop + plot_h + 32), escape_html(c.x_label));
  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  out += legend(names, kHeight - 16);
  return out + "</svg>\n";
}

}  // namespace cmeter::reports
