// Terminal rendering of a report.
#include "reports/terminal.h"

#include <fmt/format.h>

#include "core/report/cluster.h"
#include "reports/format.h"
#include "reports/inference_text.h"
#include "reports/node_scaling.h"
#include "reports/training_text.h"

namespace cmeter::reports {
namespace {

struct CaseFigure {
  std::string median, ci;  // "" when the case has no metric
};

// The figure a case is quoted by: its first metric's median and CI95 width.
CaseFigure case_figure(const CaseResult& c) {
  if (c.metrics.empty()) return {};
  const auto& m = c.metrics.front();
  return {format_quantity(m.stats.median, m.unit),
          format_ci_percent(m.stats.median, m.stats.ci_low, m.stats.ci_high)};
}

// The LLM inference results of one device: per result its model and scenario, then the figures as
// labelled lines and the latency percentiles as a small table in milliseconds.
std::string inference_section(const LoadedReport& r, const std::string& device, bool colour) {
  std::string out;
  for (const auto& v : r.inference) {
    if (v.device != device) continue;
    if (out.empty()) out = "\n  LLM inference\n";
    out += fmt::format("  {}  {}, {}: {}\n", v.case_id, model_text(v), scenario_label(v.scenario),
                       colour_word(std::string(to_string(v.status)), colour));
    std::vector<std::pair<std::string, std::string>> lines = {
        {"model", model_shape_text(v)},
        {"run", workload_text(v)},
        {"throughput", fmt::format("{} output, {} prompt", format_quantity(v.output_tokens_per_s, "tok/s"),
                                   format_quantity(v.prompt_tokens_per_s, "tok/s"))}};
    if (v.server) lines.emplace_back("Server rate", server_text(v));
    lines.emplace_back("MFU prefill", mfu_text(v));
    lines.emplace_back("MBU decode", mbu_text(v));
    lines.emplace_back("energy", energy_text(v));
    const std::string verdict = accuracy_verdict(v);
    lines.emplace_back(
        "accuracy",
        (colour ? fmt::format("\x1b[{}m{}\x1b[0m", v.accuracy.passed ? "32" : "31", verdict) : verdict) +
            ": " + accuracy_numbers(v));
    lines.emplace_back("op paths", op_paths_text(v));
    for (const auto& [label, text] : lines) out += fmt::format("    {:<13}{}\n", label, text);
    TextTable t{{"ms", "p50", "p90", "p99"}, {false, true, true, true}, {}};
    for (const auto& [label, p] : {std::pair<const char*, const Percentiles&>{"latency", v.latency_s},
                                   {"TTFT", v.ttft_s},
                                   {"TPOT", v.tpot_s}})
      t.rows.push_back({label, format_ms(p.p50), format_ms(p.p90), format_ms(p.p99)});
    out += t.render("    ");
  }
  return out;
}

}  // namespace

std::string render_case_outcome(const CaseResult& c, bool colour) {
  CaseFigure f = case_figure(c);
  std::string out = colour_word(std::string(to_string(c.status)), colour);
  if (!f.median.empty()) out += " " + f.median;
  if (!f.ci.empty()) out += " " + f.ci;
  if (!c.reason.empty()) out += "  (" + c.reason + ")";
  return out;
}

std::string render_terminal(const LoadedReport& r, bool colour) {
  std::string out;
  out += fmt::format("cmeter report {} (schema {})\n", r.source, r.version.text);
  out += fmt::format("  run      {}  {} .. {}\n", r.run.id, r.run.start_utc, r.run.end_utc);
  out += fmt::format("  profile  {} {}\n", r.run.profile_name, r.run.profile_version);
  out += fmt::format("  tool     {} {} ({}{}, {})\n", r.tool.name, r.tool.version, r.tool.git_sha,
                     r.tool.git_dirty ? ", dirty" : "", r.tool.build_type);
  out += fmt::format("  host     {}: {}, {} logical CPUs, {}, {}\n", r.host.hostname, r.host.cpu_model,
                     r.host.logical_cpus, format_bytes(static_cast<double>(r.host.memory_bytes)), r.host.os);
  out += fmt::format("  digest   {} ({})\n", r.digest, signature_summary(r));
  if (!r.criteria.verdict.empty())
    out += fmt::format("  verdict  {}\n", colour_word(r.criteria.verdict, colour));

  for (const auto& dev : r.devices) {
    std::string name = r.device_name(dev.id);
    out += fmt::format("\n{}{}\n", dev.id, name.empty() ? "" : " — " + name);
    for (const auto& s : r.summaries) {
      if (s.device != dev.id || s.metrics.empty()) continue;
      TextTable t{
          {"headline", "median", "CI95", "of peak", "from case"}, {false, true, true, true, false}, {}};
      for (const auto& m : s.metrics)
        t.rows.push_back(
            {m.label, format_quantity(m.value, m.unit), format_ci_percent(m.value, m.ci95_low, m.ci95_high),
             m.efficiency ? format_percent(*m.efficiency) : "-", m.case_id + (m.noisy ? " (noisy)" : "")});
      out += t.render();
    }
    TextTable cases{{"case", "median", "CI95", "status", "reason"}, {false, true, true, false, false}, {}};
    for (const auto& c : r.results) {
      if (c.device != dev.id) continue;
      CaseFigure f = case_figure(c);
      cases.rows.push_back(
          {c.case_id, f.median, f.ci, colour_word(std::string(to_string(c.status)), colour), c.reason});
    }
    if (!cases.rows.empty()) (out += "\n") += cases.render();  // GCC bug 105651: see csv.cpp
    out += inference_section(r, dev.id, colour);
    out += training_terminal(r, dev.id);
  }
  if (!r.node_totals.empty()) {
    const bool concurrent =
        (r.json.contains("run") && r.json["run"].contains("settings") &&
         r.json["run"]["settings"].is_object() && r.json["run"]["settings"].value("concurrent", false));
    out += fmt::format("\nNode totals ({}; each physical device counted once)\n",
                       concurrent ? "all devices at the same time" : "devices measured one after another");
    TextTable t{{"metric", "total", "physical devices", "counted"}, {false, true, true, false}, {}};
    for (const auto& n : r.node_totals)
      t.rows.push_back({n.key, format_quantity(n.value, n.unit), std::to_string(n.devices),
                        fmt::format("{}", fmt::join(n.counted, ", "))});
    out += t.render();
    if (!r.excluded_from_totals.empty()) {
      out += "Left out of node totals\n";
      TextTable x{{"total", "device", "reason"}, {}, {}};
      for (const auto& e : r.excluded_from_totals) x.rows.push_back({e.key, e.device, e.reason});
      out += x.render();
    }
  }
  if (const auto scaling = node_scaling_rows(r.json); !scaling.empty()) {
    out += "\nNode scaling (each device alone, then all devices at once)\n";
    TextTable t{{"scope", "figure", "alone", "all at once", "ratio"}, {false, false, true, true, true}, {}};
    for (const auto& row : scaling)
      t.rows.push_back({row.scope, row.what, row.alone, row.at_once, row.ratio});
    out += t.render();
    out += node_scaling_note(r.json) + "\n";
  }
  if (r.json.contains("cluster") && r.json["cluster"].is_object()) {
    const auto& c = r.json["cluster"];
    out += fmt::format("\nCluster: {} ranks ({}), {} node(s) reported, {} missing\n",
                       c["launch"].value("ranks", 0), c["launch"].value("library", std::string("MPI")),
                       r.json["summary"].value("nodes", nlohmann::json::array()).size(), c["missing"].size());
    for (const auto& m : c["missing"])
      out += fmt::format("  MISSING {}: {}\n", m.value("node", ""), m.value("reason", ""));
    TextTable spread{{"total", "nodes", "slowest", "fastest", "CV"}, {false, true, false, false, true}, {}};
    for (const auto& s : node_spreads(r.json["summary"]["nodes"]))
      spread.rows.push_back(
          {s.metric, std::to_string(s.nodes), s.slowest_node + " " + format_quantity(s.slowest, s.unit),
           s.fastest_node + " " + format_quantity(s.fastest, s.unit), fmt::format("{:.1f}%", 100 * s.cv)});
    if (!spread.rows.empty()) out += spread.render();
    TextTable coll{{"collective", "bytes/rank", "time", "algbw", "busbw", "validated"},
                   {false, true, true, true, true, false},
                   {}};
    for (const auto& x : c["collective"])
      coll.rows.push_back(
          {x.value("case_id", ""), format_bytes(x.value("bytes", 0.0)),
           x["time_s"].is_number() ? format_quantity(x["time_s"].get<double>(), "s") : "-",
           x["algbw_bytes_per_s"].is_number() ? format_quantity(x["algbw_bytes_per_s"].get<double>(), "B/s")
                                              : "-",
           x["busbw_bytes_per_s"].is_number() ? format_quantity(x["busbw_bytes_per_s"].get<double>(), "B/s")
                                              : "-",
           x.value("validated", false) ? "yes" : "no: " + x.value("reason", std::string())});
    if (!coll.rows.empty()) out += coll.render();
  }
  if (!r.criteria.outcomes.empty()) {
    out += "\nCriteria\n";
    TextTable t{{"verdict", "criterion", "device", "reason"}, {}, {}};
    for (const auto& c : r.criteria.outcomes)
      t.rows.push_back({colour_word(c.verdict, colour), c.id, c.device, c.reason});
    out += t.render();
    out += fmt::format("Verdict: {}\n", colour_word(r.criteria.verdict, colour));
  }
  bool failed_plugins = false;
  for (const auto& p : r.plugins) failed_plugins = failed_plugins || p.status != "loaded";
  if (failed_plugins) {
    out += "\nPlugins not loaded\n";
    TextTable t{{"plugin", "error"}, {}, {}};
    for (const auto& p : r.plugins)
      if (p.status != "loaded") t.rows.push_back({p.name, p.error});
    out += t.render();
  }
  return out;
}

}  // namespace cmeter::reports
