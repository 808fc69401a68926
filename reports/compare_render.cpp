// Terminal, Markdown and HTML renderings of a comparison.
#include "reports/compare_render.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "reports/format.h"
#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cmeter::reports {
namespace {

std::string table_title(const CompareTable& t) {
  return t.normalisation.empty() ? "As measured" : "Normalised " + t.normalisation;
}

std::string value_text(const CompareCell& c, const std::string& unit) {
  if (!c.present) return "-";
  if (!c.counted) return c.status.empty() ? "-" : c.status;
  return format_quantity(c.value, unit) + " " + format_ci_percent(c.value, c.low, c.high);
}

std::string ratio_text(const CompareCell& c) {
  return c.ratio ? fmt::format("x{:.3f}", *c.ratio) : "";
}

std::string verdict_text(const CompareCell& c) {
  std::string v(to_string(c.verdict));
  return c.note.empty() || c.note == c.status ? v : v + " (" + c.note + ")";
}

std::string row_name(const CompareRow& r, bool show_slot) {
  return show_slot ? r.device_slot + " " + r.label : r.label;
}

std::string sides_text(const Comparison& c) {
  std::string out;
  for (const auto& s : c.sides)
    out += fmt::format("{} = {} (host {}, run {}, cmeter {}, profile {}, devices {})\n", s.label, s.source,
                       s.hostname, s.run_id, s.tool_version, s.profile, fmt::join(s.devices, ","));
  return out;
}

// The row groups of a table in display order, with their names (column head, section title, chart).
struct RowGroup {
  const std::vector<CompareRow>* rows;
  const char* column;   // "headline", "case", "inference figure"
  const char* section;  // "Headlines", "Cases", "LLM inference"
};
std::vector<RowGroup> row_groups(const CompareTable& t) {
  return {{&t.headlines, "headline", "Headlines"},
          {&t.cases, "case", "Cases"},
          {&t.inference, "inference figure", "LLM inference"}};
}

std::string md_cell(const std::string& s) {
  return escape_markdown(s);
}

// The comparison with each table's headline rows in the headline catalogue's order within each device
// slot (slots in order of first appearance), as every other view orders headlines.
Comparison in_display_order(Comparison c) {
  for (auto& t : c.tables) {
    std::map<std::string, size_t> slot_rank;
    for (const auto& row : t.headlines) slot_rank.emplace(row.device_slot, slot_rank.size());
    std::stable_sort(t.headlines.begin(), t.headlines.end(), [&](const CompareRow& a, const CompareRow& b) {
      const size_t sa = slot_rank[a.device_slot], sb = slot_rank[b.device_slot];
      return sa != sb ? sa < sb : headline_rank(a.metric) < headline_rank(b.metric);
    });
  }
  return c;
}

}  // namespace

std::string render_comparison_terminal(const Comparison& input, bool colour) {
  const Comparison c = in_display_order(input);
  std::string out =
      "Reports (ratios and verdicts are against A; verdicts from the 95% CIs)\n" + sides_text(c);
  for (const auto& w : c.warnings) out += "warning: " + w + "\n";
  const bool show_slot = !c.aligned_by_position;
  for (const auto& t : c.tables) {
    out += fmt::format("\n== {} ==\n", table_title(t));
    for (const auto& group : row_groups(t)) {
      const auto* rows = group.rows;
      if (rows->empty()) continue;
      TextTable table;
      table.headers = {group.column, "unit"};
      table.right_aligned = {false, false};
      for (size_t i = 0; i < c.sides.size(); ++i) {
        table.headers.push_back(c.sides[i].label);
        table.right_aligned.push_back(true);
        if (i > 0) {
          table.headers.push_back(c.sides[i].label + "/A");
          table.headers.push_back("verdict " + c.sides[i].label);
          table.right_aligned.push_back(true);
          table.right_aligned.push_back(false);
        }
      }
      for (const auto& r : *rows) {
        std::vector<std::string> cells = {row_name(r, show_slot), r.unit};
        for (size_t i = 0; i < r.cells.size(); ++i) {
          cells.push_back(value_text(r.cells[i], r.unit));
          if (i > 0) {
            cells.push_back(ratio_text(r.cells[i]));
            std::string word(to_string(r.cells[i].verdict));
            std::string v = verdict_text(r.cells[i]);
            cells.push_back(colour ? colour_word(word, true) + v.substr(word.size()) : v);
          }
        }
        table.rows.push_back(std::move(cells));
      }
      out += table.render();
    }
  }
  return out;
}

std::string render_comparison_markdown(const Comparison& input) {
  const Comparison c = in_display_order(input);
  std::string out =
      "# cmeter comparison\n\nRatios and verdicts are against A (the baseline). `faster`/`slower` only "
      "when the 95% confidence intervals do not overlap; otherwise `same within noise`.\n\n";
  for (const auto& s : c.sides)
    out += fmt::format("- **{}**: `{}` (host {}, run {}, cmeter {}, profile {}, devices {})\n", s.label,
                       s.source, md_cell(s.hostname), md_cell(s.run_id), md_cell(s.tool_version),
                       md_cell(s.profile), md_cell(fmt::format("{}", fmt::join(s.devices, ", "))));
  if (!c.warnings.empty()) {
    out += "\n**Warnings**\n\n";
    for (const auto& w : c.warnings) out += "- " + md_cell(w) + "\n";
  }
  const bool show_slot = !c.aligned_by_position;
  for (const auto& t : c.tables) {
    out += fmt::format("\n## {}\n", table_title(t));
    for (const auto& group : row_groups(t)) {
      const auto* rows = group.rows;
      if (rows->empty()) continue;
      std::string column = group.column;
      column[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(column[0])));
      out += fmt::format("\n### {}\n\n| {} | Unit |", group.section, column);
      std::string align = "|---|---|";
      for (size_t i = 0; i < c.sides.size(); ++i) {
        out += " " + c.sides[i].label + " |";
        align += "---:|";
        if (i > 0) {
          out += fmt::format(" {}/A | Verdict {} |", c.sides[i].label, c.sides[i].label);
          align += "---:|---|";
        }
      }
      out += "\n" + align + "\n";
      for (const auto& r : *rows) {
        out += "| " + md_cell(row_name(r, show_slot)) + " | " + md_cell(r.unit) + " |";
        for (size_t i = 0; i < r.cells.size(); ++i) {
          (out += " ") += md_cell(value_text(r.cells[i], r.unit)) + " |";  // GCC bug 105651: see csv.cpp
          if (i > 0)
            ((((out += " ") += ratio_text(r.cells[i])) += " | ") += md_cell(verdict_text(r.cells[i]))) +=
                " |";
        }
        out += "\n";
      }
    }
  }
  return out;
}

std::string render_comparison_html(const Comparison& input) {
  const Comparison c = in_display_order(input);
  std::string body =
      "<h1>cmeter comparison</h1>\n<p>Ratios and verdicts are against A (the baseline). "
      "<b>faster</b>/<b>slower</b> only when the 95% confidence intervals do not overlap; otherwise "
      "<b>same within noise</b>.</p>\n<ul>\n";
  for (const auto& s : c.sides)
    body += fmt::format(
        "<li><b>{}</b>: <span class=\"mono\">{}</span> (host {}, run {}, cmeter {}, profile {}, devices "
        "{})</li>\n",
        escape_html(s.label), escape_html(s.source), escape_html(s.hostname), escape_html(s.run_id),
        escape_html(s.tool_version), escape_html(s.profile),
        escape_html(fmt::format("{}", fmt::join(s.devices, ", "))));
  body += "</ul>\n";
  for (const auto& w : c.warnings) body += "<div class=\"warning\">warning: " + escape_html(w) + "</div>\n";
  const bool show_slot = !c.aligned_by_position;
  int chart_index = 0;
  for (const auto& t : c.tables) {
    body += fmt::format("<h2>{}</h2>\n", escape_html(table_title(t)));
    for (const auto& group : row_groups(t)) {
      const auto* rows = group.rows;
      if (rows->empty()) continue;
      std::string column = group.column;
      column[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(column[0])));
      body += fmt::format("<h3>{}</h3>\n", escape_html(group.section));
      // Ratio bars: one category per row, one series per report (A = 1).
      BarChart chart;
      chart.id = fmt::format("compare-{}", chart_index++);
      chart.css_class = "bars ratios";
      chart.title = fmt::format("{}: {} relative to A (error bars: 95% CI / A's median)", table_title(t),
                                group.section);
      chart.unit = "";
      chart.reference_line = 1.0;
      for (const auto& r : *rows) chart.categories.push_back(row_name(r, show_slot));
      for (size_t i = 0; i < c.sides.size(); ++i) {
        BarSeries s{c.sides[i].label, {}};
        for (const auto& r : *rows) {
          const CompareCell& base = r.cells[0];
          const CompareCell& cell = r.cells[i];
          if (!cell.present || !cell.counted || !base.counted || base.value == 0 ||
              !std::isfinite(base.value))
            s.values.push_back(std::nullopt);
          else
            s.values.push_back(ChartValue{cell.value / base.value, cell.low / base.value,
                                          cell.high / base.value, std::string(to_string(cell.verdict))});
        }
        chart.series.push_back(std::move(s));
      }
      body += "<figure>\n" + render_bar_chart(chart) + "</figure>\n";
      body += "<table class=\"comparison\"><thead><tr><th scope=\"col\">" + column +
              "</th><th scope=\"col\">Unit</th>";
      for (size_t i = 0; i < c.sides.size(); ++i) {
        body += "<th scope=\"col\">" + escape_html(c.sides[i].label) + "</th>";
        if (i > 0)
          body += fmt::format("<th scope=\"col\">{0}/A</th><th scope=\"col\">Verdict {0}</th>",
                              escape_html(c.sides[i].label));
      }
      body += "</tr></thead><tbody>\n";
      for (const auto& r : *rows) {
        body +=
            "<tr><td>" + escape_html(row_name(r, show_slot)) + "</td><td>" + escape_html(r.unit) + "</td>";
        for (size_t i = 0; i < r.cells.size(); ++i) {
          body += "<td class=\"num\">" + escape_html(value_text(r.cells[i], r.unit)) + "</td>";
          if (i > 0) {
            std::string word(to_string(r.cells[i].verdict));
            body += "<td class=\"num\">" + escape_html(ratio_text(r.cells[i])) + "</td>" +
                    fmt::format("<td class=\"v-{}\">{}</td>", escape_html(word.substr(0, word.find(' '))),
                                escape_html(verdict_text(r.cells[i])));
          }
        }
        body += "</tr>\n";
      }
      body += "</tbody></table>\n";
    }
  }
  return html_page("cmeter comparison", body);
}

}  // namespace cmeter::reports
