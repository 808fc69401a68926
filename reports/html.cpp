// HTML rendering of a report: cards, SVG charts, tables, embedded data.
#include "reports/html.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/report/cluster.h"
#include "reports/energy.h"
#include "reports/format.h"
#include "reports/inference_text.h"
#include "reports/node_scaling.h"
#include "reports/svg_chart.h"
#include "reports/training_text.h"

namespace cmeter::reports {
namespace {

const char* kCss = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:#f4f4f4}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ccc;border-radius:6px;padding:8px 12px;min-width:190px}
.card .label{font-size:12px;color:#555}.card .value{font-size:20px;font-weight:600}.card .detail{font-size:12px;color:#555}
.status-ok,.verdict-PASS,.v-faster{color:#17803d;font-weight:600}
.status-noisy,.verdict-INCOMPLETE,.verdict-INCONCLUSIVE,.v-same{color:#a66300;font-weight:600}
.status-unsupported,.v-missing,.v-not{color:#777}
.status-invalid,.status-implausible,.status-failed,.status-crashed,.status-timeout,.verdict-FAIL,.v-slower{color:#b3261e;font-weight:600}
figure{margin:12px 0 20px}figcaption{font-size:12px;color:#555}
svg.chart{max-width:100%;height:auto;border:1px solid #eee}
details{margin:4px 0 12px}summary{cursor:pointer;font-size:13px}
.warning{background:#fff4e5;border:1px solid #f0c36d;padding:6px 10px;margin:6px 0;font-size:13px}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
)css";

std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

std::string td(const std::string& text, bool numeric = false) {
  return fmt::format("<td{}>{}</td>", numeric ? " class=\"num\"" : "", escape_html(text));
}

std::string table(const std::vector<std::string>& headers, const std::vector<std::string>& rows,
                  const std::string& css_class) {
  std::string out = fmt::format("<table class=\"{}\"><thead><tr>", css_class);
  for (const auto& h : headers) out += "<th scope=\"col\">" + escape_html(h) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& r : rows) out += "<tr>" + r + "</tr>\n";
  return out + "</tbody></table>\n";
}

std::string status_cell(const std::string& status) {
  return fmt::format("<td class=\"status-{}\">{}</td>", slug(status), escape_html(status));
}

std::optional<double> param_number(const KeyValues& p, const std::string& key) {
  return get_number(p, key);
}

struct Group {
  std::string workload, metric, unit;
  std::vector<std::string> categories;
};

// Bars per metric: one chart per workload × primary metric, a bar per case and device.
std::string metric_charts(const LoadedReport& r) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (const auto& c : r.results) {
    if (!counts_in_summary(c.status) || c.metrics.empty()) continue;
    const auto& m = c.metrics.front();
    std::string key = c.workload + "|" + m.name;
    auto [it, added] = index.emplace(key, groups.size());
    if (added) groups.push_back({c.workload, m.name, m.unit, {}});
    auto& cats = groups[it->second].categories;
    if (std::find(cats.begin(), cats.end(), c.case_id) == cats.end()) cats.push_back(c.case_id);
  }
  std::string out;
  for (const auto& g : groups) {
    BarChart chart;
    chart.id = "bars-" + slug(g.workload + "-" + g.metric);
    chart.title = fmt::format("{}: {} ({}; error bars: 95% CI of the median)", g.workload, g.metric, g.unit);
    chart.unit = g.unit;
    chart.categories = g.categories;
    std::vector<std::string> rows;
    for (const auto& d : r.devices) {
      BarSeries s{d.id, std::vector<std::optional<ChartValue>>(g.categories.size())};
      bool any = false;
      for (const auto& c : r.results) {
        if (c.device != d.id || c.workload != g.workload || !counts_in_summary(c.status)) continue;
        const Metric* m = c.metric(g.metric);
        if (m == nullptr) continue;
        size_t ci = static_cast<size_t>(std::find(g.categories.begin(), g.categories.end(), c.case_id) -
                                        g.categories.begin());
        if (ci >= g.categories.size()) continue;
        s.values[ci] = ChartValue{m->stats.median, m->stats.ci_low, m->stats.ci_high,
                                  c.status == CaseStatus::kNoisy ? "noisy" : ""};
        any = true;
        rows.push_back(
            td(d.id) + td(c.case_id) + td(format_quantity(m->stats.median, m->unit), true) +
            td(format_interval(m->stats.median, m->stats.ci_low, m->stats.ci_high, m->unit), true) +
            status_cell(std::string(to_string(c.status))));
      }
      if (any) chart.series.push_back(std::move(s));
    }
    out += "<figure>\n" + render_bar_chart(chart) +
           fmt::format(
               "<figcaption>{}</figcaption>\n<details><summary>Numbers</summary>\n{}</details></figure>\n",
               escape_html(chart.title),
               table({"Device", "Case", "Median", "95% CI", "Status"}, rows, "chart-data"));
  }
  return out;
}

// GEMM throughput against size (cube root of m·n·k), a line per device and input dtype.
std::string gemm_chart(const LoadedReport& r) {
  XYChart chart;
  chart.id = "gemm-scaling";
  chart.css_class = "gemm-scaling";
  chart.title = "GEMM throughput vs size, per dtype (error bars: 95% CI)";
  chart.x_label = "size: cube root of m·n·k";
  chart.y_unit = "FLOP/s";
  chart.x_log_base = 2;
  std::map<std::string, size_t> series_index;
  std::vector<std::string> rows;
  for (const auto& c : r.results) {
    if (c.workload != "gemm" || !counts_in_summary(c.status)) continue;
    const Metric* m = c.metric("flops_per_s");
    auto mm = param_number(c.params, "m"), nn = param_number(c.params, "n"), kk = param_number(c.params, "k");
    if (m == nullptr || !mm || !nn || !kk) continue;
    std::string dtype = get_string(c.params, "dtype_a").value_or(get_string(c.params, "dtype").value_or("?"));
    std::string name = c.device + " " + dtype;
    auto [it, added] = series_index.emplace(name, chart.series.size());
    if (added) chart.series.push_back({name, {}, true});
    double size = std::cbrt(*mm * *nn * *kk);
    chart.series[it->second].points.push_back({size, m->stats.median, m->stats.ci_low, m->stats.ci_high,
                                               fmt::format("{} ({}x{}x{})", c.case_id, *mm, *nn, *kk)});
    rows.push_back(td(c.device) + td(dtype) + td(fmt::format("{}x{}x{}", *mm, *nn, *kk)) +
                   td(format_quantity(m->stats.median, m->unit), true) +
                   td(format_interval(m->stats.median, m->stats.ci_low, m->stats.ci_high, m->unit), true) +
                   td(c.case_id));
  }
  if (chart.series.empty()) return "<p>No valid GEMM result to plot.</p>\n";
  return "<figure>\n" + render_xy_chart(chart) +
         fmt::format(
             "<figcaption>{}</figcaption>\n<details><summary>Numbers</summary>\n{}</details></figure>\n",
             escape_html(chart.title),
             table({"Device", "Dtype", "m×n×k", "Median", "95% CI", "Case"}, rows, "chart-data"));
}

// A roofline per device: measured compute ceilings (fma_peak, best GEMM per dtype), declared peaks
// dashed, the bandwidth slope from the best STREAM figure, and GEMM/FMA points at their intensity.
std::string roofline_charts(const LoadedReport& r) {
  std::string out;
  for (const auto& d : r.devices) {
    XYChart chart;
    chart.id = "roofline-" + slug(d.id);
    chart.css_class = "roofline";
    chart.title = fmt::format("Roofline: {}", d.id);
    chart.x_label = "arithmetic intensity (FLOP per byte moved)";
    chart.y_unit = "FLOP/s";
    std::map<std::string, double> fma, gemm;
    double bandwidth = 0;
    std::string bandwidth_case;
    std::map<std::string, size_t> series_index;
    for (const auto& c : r.results) {
      if (c.device != d.id || !counts_in_summary(c.status)) continue;
      if (c.workload == "stream") {
        if (const Metric* m = c.metric("bytes_per_s"); m && m->stats.median > bandwidth) {
          bandwidth = m->stats.median;
          bandwidth_case = c.case_id;
        }
        continue;
      }
      if (c.workload != "gemm" && c.workload != "fma_peak") continue;
      const Metric* m = c.metric("flops_per_s");
      if (m == nullptr) continue;
      std::string dtype = get_string(c.params, c.workload == "gemm" ? "dtype_a" : "dtype").value_or("?");
      auto& best = c.workload == "gemm" ? gemm[dtype] : fma[dtype];
      best = std::max(best, m->stats.median);
      if (c.method.bytes_per_call > 0 && c.method.flop_per_call > 0) {
        std::string name = c.workload + " " + dtype;
        auto [it, added] = series_index.emplace(name, chart.series.size());
        if (added) chart.series.push_back({name, {}, false});
        chart.series[it->second].points.push_back({c.method.flop_per_call / c.method.bytes_per_call,
                                                   m->stats.median, m->stats.ci_low, m->stats.ci_high,
                                                   c.case_id});
      }
    }
    for (const auto& [dtype, v] : fma) chart.ceilings.push_back({"FMA " + dtype + " (measured)", v, false});
    for (const auto& [dtype, v] : gemm)  // a GEMM roof only where fma_peak did not measure that dtype
      if (!fma.count(dtype)) chart.ceilings.push_back({"GEMM " + dtype + " (measured)", v, false});
    std::map<double, std::string> declared;  // equal declared peaks share one dashed roof
    for (const auto& [k, v] : d.attributes)
      if (k.rfind("peak.flops.", 0) == 0)
        if (auto x = get_number(d.attributes, k); x && *x > 0)
          declared[*x] += (declared[*x].empty() ? "" : "/") + k.substr(11);
    for (const auto& [value, dtypes] : declared)
      chart.ceilings.push_back({"declared " + dtypes, value, true});
    if (bandwidth > 0) {
      chart.bandwidth_slope = bandwidth;
      chart.slope_label = fmt::format("{} ({})", format_quantity(bandwidth, "B/s"), bandwidth_case);
    }
    if (chart.ceilings.empty() && !chart.bandwidth_slope) continue;
    std::vector<std::string> rows;
    for (const auto& ceiling : chart.ceilings)
      rows.push_back(td(ceiling.label) + td(format_quantity(ceiling.y, "FLOP/s"), true));
    if (bandwidth > 0)
      rows.push_back(td("bandwidth slope: " + bandwidth_case) + td(format_quantity(bandwidth, "B/s"), true));
    out +=
        "<figure>\n" + render_xy_chart(chart) +
        fmt::format(
            "<figcaption>{}: solid roofs are measured, dashed ones declared; points are measured cases at "
            "their FLOP per byte.</figcaption>\n<details><summary>Numbers</summary>\n{}</details></figure>\n",
            escape_html(chart.title), table({"Roof", "Value"}, rows, "chart-data"));
  }
  return out.empty() ? "<p>No compute or bandwidth result to draw a roofline from.</p>\n" : out;
}

// Output tokens/s of a result: its metric's median and CI where it has one, else the inference figure.
ChartValue output_rate(const LoadedReport& r, const InferenceView& v) {
  if (v.result_index < r.results.size())
    if (const Metric* m = r.results[v.result_index].metric("output_tokens_per_s"))
      return {m->stats.median, m->stats.ci_low, m->stats.ci_high,
              v.status == CaseStatus::kNoisy ? "noisy" : ""};
  return {v.output_tokens_per_s, NAN, NAN, v.status == CaseStatus::kNoisy ? "noisy" : ""};
}

// LLM inference: output tokens/s bars across devices and cases, then per device a table of the
// figures, the latency CDF of its counted results, and per result the details.
std::string html_inference_section(const LoadedReport& r) {
  if (r.inference.empty()) return "";
  std::string out =
      "<h2>LLM inference</h2>\n<p>Times in milliseconds as p50 / p90 / p99; TTFT is the time to the first "
      "token, TPOT the time per output token after it. Charts show results that count (ok, noisy) "
      "only.</p>\n";
  BarChart bars;
  bars.id = "llm-tokens";
  bars.css_class = "bars llm-tokens";
  bars.title = "LLM output tokens/s per case and device (error bars: 95% CI where measured)";
  bars.unit = "tok/s";
  for (const auto& v : r.inference)
    if (counts_in_summary(v.status) &&
        std::find(bars.categories.begin(), bars.categories.end(), v.case_id) == bars.categories.end())
      bars.categories.push_back(v.case_id);
  std::vector<std::string> bar_rows;
  for (const auto& d : r.devices) {
    BarSeries s{d.id, std::vector<std::optional<ChartValue>>(bars.categories.size())};
    bool any = false;
    for (const auto& v : r.inference) {
      if (v.device != d.id || !counts_in_summary(v.status)) continue;
      const size_t ci = static_cast<size_t>(
          std::find(bars.categories.begin(), bars.categories.end(), v.case_id) - bars.categories.begin());
      if (ci >= bars.categories.size() || s.values[ci]) continue;
      ChartValue value = output_rate(r, v);
      s.values[ci] = value;
      any = true;
      bar_rows.push_back(td(d.id) + td(v.case_id) + td(model_text(v)) + td(scenario_label(v.scenario)) +
                         td(format_quantity(value.value, "tok/s"), true) +
                         td(format_interval(value.value, value.low, value.high, "tok/s"), true));
    }
    if (any) bars.series.push_back(std::move(s));
  }
  if (!bars.series.empty())
    out += "<figure>\n" + render_bar_chart(bars) +
           fmt::format(
               "<figcaption>{}</figcaption>\n<details><summary>Numbers</summary>\n{}</details></figure>\n",
               escape_html(bars.title),
               table({"Device", "Case", "Model", "Scenario", "Output tokens/s", "95% CI"}, bar_rows,
                     "chart-data"));
  for (const auto& d : r.devices) {
    std::vector<const InferenceView*> views;
    for (const auto& v : r.inference)
      if (v.device == d.id) views.push_back(&v);
    if (views.empty()) continue;
    std::string name = r.device_name(d.id);
    out += fmt::format("<h3>{}{}</h3>\n", escape_html(d.id), name.empty() ? "" : " — " + escape_html(name));
    std::vector<std::string> rows;
    for (const auto* v : views)
      rows.push_back(td(v->case_id) + td(model_text(*v)) + td(scenario_label(v->scenario)) +
                     status_cell(std::string(to_string(v->status))) +
                     td(format_quantity(v->output_tokens_per_s, "tok/s"), true) +
                     td(format_quantity(v->prompt_tokens_per_s, "tok/s"), true) +
                     td(percentiles_ms(v->latency_s), true) + td(percentiles_ms(v->ttft_s), true) +
                     td(percentiles_ms(v->tpot_s), true) +
                     td(v->server ? format_quantity(v->server->achieved_qps, "query/s") : "-", true) +
                     td(v->mfu_prefill ? format_percent(*v->mfu_prefill) : "n/a", true) +
                     td(v->mbu_decode ? format_percent(*v->mbu_decode) : "n/a", true) +
                     td(v->joules_per_token ? fmt::format("{:.3g}", *v->joules_per_token) : "n/a", true) +
                     fmt::format("<td class=\"status-{}\">{}</td>", v->accuracy.passed ? "ok" : "invalid",
                                 accuracy_verdict(*v)));
    out += table({"Case", "Model", "Scenario", "Status", "Output tok/s", "Prompt tok/s", "Latency ms",
                  "TTFT ms", "TPOT ms", "Server rate", "MFU prefill", "MBU decode", "J/token", "Accuracy"},
                 rows, "inference");
    CdfChart cdf;
    cdf.id = "llm-cdf-" + slug(d.id);
    cdf.title = fmt::format("LLM query latency CDF: {}", d.id);
    cdf.x_label = "end-to-end latency";
    cdf.x_unit = "s";
    std::vector<std::string> cdf_rows;
    for (const auto* v : views) {
      if (!counts_in_summary(v->status) || v->latency_cdf.empty()) continue;
      cdf.series.push_back(
          {fmt::format("{} {}", v->model.name, scenario_label(v->scenario)), v->latency_cdf});
      cdf_rows.push_back(td(v->case_id) + td(std::to_string(v->latency_cdf.size()), true) +
                         td(format_ms(v->latency_cdf.front().first), true) +
                         td(format_ms(v->latency_cdf.back().first), true) +
                         td(percentiles_ms(v->latency_s), true));
    }
    if (!cdf.series.empty())
      out += "<figure>\n" + render_cdf_chart(cdf) +
             fmt::format(
                 "<figcaption>{}: the fraction of queries that finished within each latency (dashed: p50, "
                 "p90, p99).</figcaption>\n<details><summary>Numbers</summary>\n{}</details></figure>\n",
                 escape_html(cdf.title),
                 table({"Case", "Points", "Lowest ms", "Highest ms", "p50 / p90 / p99 ms"}, cdf_rows,
                       "chart-data"));
    for (const auto* v : views) {
      std::vector<std::string> facts = {td("Model") + td(model_shape_text(*v)),
                                        td("Run") + td(workload_text(*v))};
      if (v->server) facts.push_back(td("Server rate") + td(server_text(*v)));
      facts.push_back(td("MFU prefill") + td(mfu_text(*v)));
      facts.push_back(td("MBU decode") + td(mbu_text(*v)));
      facts.push_back(td("Energy") + td(energy_text(*v)));
      facts.push_back(td("Accuracy") + td(accuracy_verdict(*v) + ": " + accuracy_numbers(*v)));
      facts.push_back(td("Op paths") + td(op_paths_text(*v)));
      out += fmt::format("<details class=\"inference-detail\"><summary>{}: details</summary>\n",
                         escape_html(v->case_id)) +
             table({"Figure", "Value"}, facts, "inference-facts");
      if (v->server && !v->server->search.empty()) {
        std::vector<std::string> steps;
        for (const auto& s : v->server->search)
          steps.push_back(td(format_quantity(s.qps, "query/s"), true) + td(format_ms(s.ttft_p99_s), true) +
                          td(format_ms(s.tpot_p99_s), true) +
                          fmt::format("<td class=\"status-{}\">{}</td>", s.passed ? "ok" : "invalid",
                                      escape_html(search_step_outcome(*v->server, s))));
        out += table({"Rate tried", "TTFT p99 ms", "TPOT p99 ms", "Outcome"}, steps, "server-search");
      }
      out += "</details>\n";
    }
  }
  return out;
}

}  // namespace

// Energy and per watt: every case with energy or power, and every device without, with its reason.
std::string energy_html(const LoadedReport& r) {
  const EnergyView v = energy_view(r);
  if (v.rows.empty() && v.without.empty()) return "";
  std::string out = "<h2>Energy and per watt</h2>\n";
  if (!v.rows.empty()) {
    const bool facility = v.pue.has_value();
    std::vector<std::string> rows;
    for (const auto& row : v.rows) {
      const std::vector<std::string> cells = energy_cells(row, facility);
      std::string tr;
      for (size_t i = 0; i < cells.size(); ++i) tr += td(cells[i], i >= 2 && i < cells.size() - 2);
      rows.push_back(tr);
    }
    out += table(energy_headers(facility), rows, "energy");
    if (facility) out += "<p>" + escape_html(pue_note(v)) + "</p>\n";
  }
  if (!v.without.empty()) {
    out += "<p>No energy figures:</p>\n<ul class=\"no-energy\">\n";
    for (const auto& d : v.without)
      out += fmt::format("<li><b>{}</b>: {}</li>\n", escape_html(d.device), escape_html(d.reason));
    out += "</ul>\n";
  }
  return out;
}

std::string json_for_script(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (size_t i = 0; i < json_text.size(); ++i) {
    if (json_text[i] == '<' && i + 1 < json_text.size() &&
        (json_text[i + 1] == '/' || json_text[i + 1] == '!'))
      out += "\\u003c";
    else
      out += json_text[i];
  }
  return out;
}

std::string html_page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "img-src data:\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      escape_html(title), kCss, body);
}

// Merged and cluster reports with many nodes: a per-node table sorted by the headline total (the first
// total in the catalogue's order, fastest first) and a histogram of that figure over the nodes, in
// place of per-device cards and charts (which would be one per device: 1000 nodes, 1000 cards). Also
// the cluster member: launch facts, missing nodes, spread, collective figures.
constexpr size_t kNodesForClusterView = 16;

std::string cluster_section(const LoadedReport& r) {
  const nlohmann::json& summary = r.json.contains("summary") ? r.json["summary"] : nlohmann::json();
  if (!summary.is_object() || !summary.contains("nodes") || !summary["nodes"].is_array()) return "";
  const nlohmann::json& nodes = summary["nodes"];
  std::string out = "<h2>Nodes</h2>\n";
  const auto spreads = node_spreads(nodes);
  if (!spreads.empty()) {
    std::vector<std::string> rows;
    for (const auto& s : spreads)
      rows.push_back(td(s.metric) + td(std::to_string(s.nodes), true) +
                     td(s.slowest_node + " " + format_quantity(s.slowest, s.unit)) +
                     td(s.fastest_node + " " + format_quantity(s.fastest, s.unit)) +
                     td(format_quantity(s.mean, s.unit), true) +
                     td(fmt::format("{:.1f}%", 100 * s.cv), true));
    out += "<h3>Spread over the nodes</h3>\n" +
           table({"Total", "Nodes", "Slowest", "Fastest", "Mean", "CV"}, rows, "node-spread");
    // Per-node table, sorted by the headline total, fastest first.
    const NodeSpread& head = spreads.front();
    std::vector<std::pair<double, const nlohmann::json*>> order;
    for (const auto& n : nodes) {
      const auto& t = n["totals"];
      double v = t.contains(head.metric) && t[head.metric]["value"].is_number()
                     ? t[head.metric]["value"].get<double>()
                     : -1;
      order.emplace_back(v, &n);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    rows.clear();
    size_t rank = 0;
    for (const auto& [v, n] : order)
      rows.push_back(td(std::to_string(++rank), true) + td((*n)["node"].get<std::string>()) +
                     td(v >= 0 ? format_quantity(v, head.unit) : "-", true) +
                     td(std::to_string((*n)["devices"].size()), true));
    out += fmt::format("<h3>Nodes by {} (fastest first)</h3>\n", escape_html(head.metric)) +
           "<details open><summary>Per-node table</summary>\n" +
           table({"#", "Node", head.metric, "Devices"}, rows, "node-table") + "</details>\n";
    // Histogram: 10 equal bins between the slowest and the fastest node.
    constexpr int kBins = 10;
    std::vector<int> counts(kBins, 0);
    const double lo = head.slowest, width = (head.fastest - head.slowest) / kBins;
    for (const auto& [v, n] : order) {
      if (v < 0) continue;
      int bin = width > 0 ? static_cast<int>((v - lo) / width) : 0;
      counts[static_cast<size_t>(std::clamp(bin, 0, kBins - 1))]++;
    }
    BarChart chart;
    chart.id = "node-distribution";
    chart.css_class = "bars node-distribution";
    chart.title = fmt::format("Nodes per {} bin", head.metric);
    chart.unit = "nodes";
    BarSeries series{"nodes", {}};
    for (int b = 0; b < kBins; ++b) {
      chart.categories.push_back(format_quantity(lo + width * b, head.unit));
      series.values.push_back(ChartValue{static_cast<double>(counts[static_cast<size_t>(b)]),
                                         static_cast<double>(counts[static_cast<size_t>(b)]),
                                         static_cast<double>(counts[static_cast<size_t>(b)]), ""});
    }
    chart.series.push_back(series);
    out += "<h3>Distribution</h3>\n<div class=\"node-distribution\">" + render_bar_chart(chart) + "</div>\n";
  }
  if (r.json.contains("cluster") && r.json["cluster"].is_object()) {
    const auto& c = r.json["cluster"];
    const auto& launch = c["launch"];
    out += fmt::format("<h3>Cluster run</h3>\n<p>{} ranks, {}; {} node(s) missing.</p>\n",
                       launch.value("ranks", 0), escape_html(launch.value("library", std::string("MPI"))),
                       c["missing"].size());
    std::vector<std::string> rows;
    for (const auto& m : c["missing"]) rows.push_back(td(m.value("node", "")) + td(m.value("reason", "")));
    if (!rows.empty()) out += table({"Missing node", "Why"}, rows, "missing-nodes");
    rows.clear();
    for (const auto& x : c["collective"])
      rows.push_back(
          td(x.value("case_id", "")) + td(x.value("op", "")) + td(format_bytes(x.value("bytes", 0.0)), true) +
          td(x["time_s"].is_number() ? format_quantity(x["time_s"].get<double>(), "s") : "-", true) +
          td(x["algbw_bytes_per_s"].is_number() ? format_quantity(x["algbw_bytes_per_s"].get<double>(), "B/s")
                                                : "-",
             true) +
          td(x["busbw_bytes_per_s"].is_number() ? format_quantity(x["busbw_bytes_per_s"].get<double>(), "B/s")
                                                : "-",
             true) +
          td(x.value("validated", false) ? "yes" : "no: " + x.value("reason", std::string())));
    if (!rows.empty())
      out += table({"Collective", "Op", "Bytes per rank", "Time", "algbw", "busbw", "Validated"}, rows,
                   "collective");
  }
  return out;
}

std::string render_html(const LoadedReport& r) {
  std::string body = fmt::format("<h1>cmeter report {}</h1>\n", escape_html(r.run.id));
  std::vector<std::string> facts = {
      td("Tool") + td(fmt::format("{} {} (git {}{}, {}, {})", r.tool.name, r.tool.version, r.tool.git_sha,
                                  r.tool.git_dirty ? " dirty" : "", r.tool.build_type, r.tool.compiler)),
      td("Run") + td(fmt::format("{} to {}", r.run.start_utc, r.run.end_utc)),
      td("Profile") + td(fmt::format("{} {} (sha256 {})", r.run.profile_name, r.run.profile_version,
                                     r.run.profile_sha256.substr(0, 16))),
      td("Host") + td(fmt::format("{}: {}, {} logical CPUs, {}, {}, {}", r.host.hostname, r.host.cpu_model,
                                  r.host.logical_cpus, format_bytes(static_cast<double>(r.host.memory_bytes)),
                                  r.host.os, r.host.kernel)),
      td("Digest") + fmt::format("<td class=\"mono\">sha256 {}, {}</td>", escape_html(r.digest),
                                 escape_html(signature_summary(r)))};
  if (!r.criteria.verdict.empty())
    facts.push_back(td("Verdict") +
                    fmt::format("<td class=\"verdict-{0}\">{0}</td>", escape_html(r.criteria.verdict)));
  body += table({"Fact", "Value"}, facts, "facts");

  const size_t node_count = r.json.contains("summary") && r.json["summary"].contains("nodes")
                                ? r.json["summary"]["nodes"].size()
                                : 0;
  const bool cluster_view = node_count > kNodesForClusterView;
  body += cluster_section(r);
  body += "<h2>Headline figures</h2>\n";
  if (cluster_view)
    body +=
        fmt::format("<p>{} devices on {} nodes: see the per-node table above and the results below.</p>\n",
                    r.summaries.size(), node_count);
  for (const auto& s : r.summaries) {
    if (cluster_view) break;
    std::string name = r.device_name(s.device);
    body += fmt::format("<h3>{}{}</h3>\n<div class=\"cards\">\n", escape_html(s.device),
                        name.empty() ? "" : " — " + escape_html(name));
    std::vector<std::string> rows;
    for (const auto& m : s.metrics) {
      body += fmt::format(
          "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>"
          "<div class=\"detail\">{} CI95{}{}</div></div>\n",
          escape_html(m.label), escape_html(format_quantity(m.value, m.unit)),
          escape_html(format_ci_percent(m.value, m.ci95_low, m.ci95_high)),
          m.efficiency ? escape_html(", " + format_percent(*m.efficiency) + " of declared") : "",
          m.noisy ? ", noisy" : "");
      rows.push_back(td(m.label) + td(format_quantity(m.value, m.unit), true) +
                     td(format_interval(m.value, m.ci95_low, m.ci95_high, m.unit), true) +
                     td(m.efficiency ? format_percent(*m.efficiency) : "-", true) +
                     td(m.case_id + (m.noisy ? " (noisy)" : "")));
    }
    body += "</div>\n";
    body += table({"Headline", "Median", "95% CI", "Of declared peak", "From case"}, rows, "headlines");
  }
  if (!r.node_totals.empty()) {
    std::vector<std::string> rows;
    for (const auto& n : r.node_totals)
      rows.push_back(td(n.key) + td(format_quantity(n.value, n.unit), true) +
                     td(std::to_string(n.devices), true) + td(fmt::format("{}", fmt::join(n.counted, ", "))));
    const bool concurrent =
        (r.json.contains("run") && r.json["run"].contains("settings") &&
         r.json["run"]["settings"].is_object() && r.json["run"]["settings"].value("concurrent", false));
    body += fmt::format("<h3>Node totals ({}; each physical device counted once)</h3>\n",
                        concurrent ? "all devices at the same time" : "devices measured one after another") +
            table({"Metric", "Total", "Physical devices", "Counted"}, rows, "node-totals");
    if (!r.excluded_from_totals.empty()) {
      std::vector<std::string> xrows;
      for (const auto& e : r.excluded_from_totals) xrows.push_back(td(e.key) + td(e.device) + td(e.reason));
      body += "<h4>Left out of node totals</h4>\n" + table({"Total", "Device", "Reason"}, xrows, "excluded");
    }
  }
  if (const auto scaling = node_scaling_rows(r.json); !scaling.empty()) {
    std::vector<std::string> rows;
    for (const auto& row : scaling)
      rows.push_back(td(row.scope) + td(row.what) + td(row.alone, true) + td(row.at_once, true) +
                     td(row.ratio, true));
    body += "<h3>Node scaling (each device alone, then all devices at once)</h3>\n<p>" +
            escape_html(node_scaling_note(r.json)) + ".</p>\n" +
            table({"Scope", "Figure", "Alone", "All at once", "Ratio"}, rows, "node-scaling");
  }
  if (!cluster_view) {
    body += "<h2>Charts</h2>\n<h3>Per metric and device</h3>\n" + metric_charts(r);
    body += "<h3>GEMM throughput vs size</h3>\n" + gemm_chart(r);
    body += "<h3>Rooflines</h3>\n" + roofline_charts(r);
  }
  body += html_inference_section(r);
  body += training_html(r);
  body += energy_html(r);

  if (!r.criteria.outcomes.empty()) {
    std::vector<std::string> rows;
    for (const auto& c : r.criteria.outcomes)
      rows.push_back(fmt::format("<td class=\"verdict-{0}\">{0}</td>", escape_html(c.verdict)) + td(c.id) +
                     td(c.device) + td(c.reason));
    body += "<h2>Criteria</h2>\n" + table({"Verdict", "Criterion", "Device", "Reason"}, rows, "criteria");
  }
  std::vector<std::string> rows;
  for (const auto& c : r.results) {
    auto base = td(c.device) + td(c.case_id) + status_cell(std::string(to_string(c.status)));
    if (c.metrics.empty()) rows.push_back(base + td("-") + td("") + td("") + td("") + td(c.reason));
    for (const auto& m : c.metrics)
      rows.push_back(base + td(m.name) + td(format_quantity(m.stats.median, m.unit), true) +
                     td(format_interval(m.stats.median, m.stats.ci_low, m.stats.ci_high, m.unit), true) +
                     td(std::to_string(m.stats.n), true) + td(c.reason));
  }
  body += "<h2>Results</h2>\n" +
          std::string(cluster_view ? "<details><summary>Every result</summary>\n" : "") +
          table({"Device", "Case", "Status", "Metric", "Median", "95% CI", "n", "Reason"}, rows, "results") +
          (cluster_view ? "</details>\n" : "");
  rows.clear();
  for (const auto& d : r.devices)
    for (const auto& [k, v] : d.attributes) rows.push_back(td(d.id) + td(k) + td(to_display(v)));
  body += "<h2>Devices</h2>\n<details><summary>All device attributes</summary>\n" +
          table({"Device", "Attribute", "Value"}, rows, "devices") + "</details>\n";
  rows.clear();
  for (const auto& p : r.plugins)
    rows.push_back(td(p.name) + td(p.version) + td(p.abi) + status_cell(p.status) + td(p.error));
  body += "<h2>Plugins</h2>\n" + table({"Plugin", "Version", "ABI", "Status", "Error"}, rows, "plugins");
  body += "<script type=\"application/json\" id=\"cmeter-report-data\">" +
          json_for_script(r.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) +
          "</script>\n";
  return html_page("cmeter report " + r.run.id, body);
}

}  // namespace cmeter::reports
