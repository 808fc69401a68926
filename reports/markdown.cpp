// Markdown rendering of a report.
#include "reports/markdown.h"

#include <fmt/format.h>

#include "reports/energy.h"
#include "reports/format.h"
#include "reports/inference_text.h"
#include "reports/node_scaling.h"
#include "reports/training_text.h"

namespace cmeter::reports {
namespace {

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + c + " |";
  return out + "\n";
}

std::string header(const std::vector<std::string>& cells, const std::vector<bool>& right) {
  std::string out = row(cells) + "|";
  for (size_t i = 0; i < cells.size(); ++i) out += i < right.size() && right[i] ? "---:|" : "---|";
  return out + "\n";
}

std::string validation_text(const CaseResult& c) {
  if (!c.validation) return "-";
  const auto& v = *c.validation;
  return fmt::format("{} ({} points, max rel err {:.2g})", v.passed ? "passed" : "FAILED", v.points,
                     v.max_rel_error);
}

// Per device: a table of the figures of each LLM inference result, then per result what the table has
// no room for (model shape, run, Server search, MFU/MBU, energy, accuracy, op paths).
std::string markdown_inference_section(const LoadedReport& r) {
  if (r.inference.empty()) return "";
  std::string out =
      "\n## LLM inference\n\nTimes in milliseconds as p50 / p90 / p99; TTFT is the time to the first "
      "token, TPOT the time per output token after it.\n";
  for (const auto& d : r.devices) {
    bool any = false;
    for (const auto& v : r.inference) any = any || v.device == d.id;
    if (!any) continue;
    std::string name = r.device_name(d.id);
    out += fmt::format("\n### {}{}\n\n", escape_markdown(d.id),
                       name.empty() ? "" : " — " + escape_markdown(name));
    out += header({"Case", "Model", "Scenario", "Status", "Output tok/s", "Prompt tok/s", "Latency ms",
                   "TTFT ms", "TPOT ms", "Server rate", "Accuracy"},
                  {false, false, false, false, true, true, true, true, true, true, false});
    for (const auto& v : r.inference) {
      if (v.device != d.id) continue;
      out += row({escape_markdown(v.case_id), escape_markdown(model_text(v)), scenario_label(v.scenario),
                  std::string(to_string(v.status)), format_quantity(v.output_tokens_per_s, "tok/s"),
                  format_quantity(v.prompt_tokens_per_s, "tok/s"), percentiles_ms(v.latency_s),
                  percentiles_ms(v.ttft_s), percentiles_ms(v.tpot_s),
                  v.server ? format_quantity(v.server->achieved_qps, "query/s") : "-",
                  v.accuracy.passed ? "passed" : "**FAILED**"});
    }
    for (const auto& v : r.inference) {
      if (v.device != d.id) continue;
      out += fmt::format("\n**{}** ({}, {})\n\n", escape_markdown(v.case_id), escape_markdown(v.model.name),
                         scenario_label(v.scenario));
      out += "- Model: " + escape_markdown(model_shape_text(v)) + "\n";
      out += "- Run: " + escape_markdown(workload_text(v)) + "\n";
      if (v.server) {
        out += "- Server rate: " + escape_markdown(server_text(v)) + "\n";
        if (!v.server->search.empty()) {
          std::vector<std::string> steps;
          for (const auto& s : v.server->search)
            steps.push_back(fmt::format("{} ({} ms / {} ms, {})", format_quantity(s.qps, "query/s"),
                                        format_ms(s.ttft_p99_s), format_ms(s.tpot_p99_s),
                                        search_step_outcome(*v.server, s)));
          out += "- Server search (rate: TTFT p99 / TPOT p99): " +
                 escape_markdown(fmt::format("{}", fmt::join(steps, "; "))) + "\n";
        }
      }
      out += "- MFU prefill: " + escape_markdown(mfu_text(v)) +
             "; MBU decode: " + escape_markdown(mbu_text(v)) + "\n";
      out += "- Energy: " + escape_markdown(energy_text(v)) + "\n";
      out +=
          fmt::format("- Accuracy: **{}**: {}\n", accuracy_verdict(v), escape_markdown(accuracy_numbers(v)));
      out += "- Op paths: " + escape_markdown(op_paths_text(v)) + "\n";
    }
  }
  return out;
}

// Energy and per watt: every case with energy or power, and every device without, with its reason.
std::string markdown_energy_section(const LoadedReport& r) {
  const EnergyView v = energy_view(r);
  if (v.rows.empty() && v.without.empty()) return "";
  std::string out = "\n## Energy and per watt\n\n";
  if (!v.rows.empty()) {
    const bool facility = v.pue.has_value();
    std::vector<bool> right = {false, false, true, true, true};
    if (facility) right.push_back(true);
    out += header(energy_headers(facility), right);
    for (const auto& row_data : v.rows) {
      std::vector<std::string> cells;
      for (const auto& c : energy_cells(row_data, facility)) cells.push_back(escape_markdown(c));
      out += row(cells);
    }
    if (facility) out += "\n" + pue_note(v) + "\n";
  }
  if (!v.without.empty()) {
    out += v.rows.empty() ? "No energy figures:\n\n" : "\nNo energy figures:\n\n";
    for (const auto& d : v.without)
      out += fmt::format("- **{}**: {}\n", escape_markdown(d.device), escape_markdown(d.reason));
  }
  return out;
}

}  // namespace

std::string render_markdown(const LoadedReport& r) {
  std::string out = fmt::format("# cmeter report {}\n\n", escape_markdown(r.run.id));
  out += header({"", ""}, {});
  out += row({"Tool", escape_markdown(fmt::format("{} {} (git {}{}, {}, {})", r.tool.name, r.tool.version,
                                                  r.tool.git_sha, r.tool.git_dirty ? " dirty" : "",
                                                  r.tool.build_type, r.tool.compiler))});
  out += row({"Run", escape_markdown(fmt::format("{} to {}", r.run.start_utc, r.run.end_utc))});
  out += row(
      {"Profile", escape_markdown(fmt::format("{} {} (sha256 {})", r.run.profile_name, r.run.profile_version,
                                              r.run.profile_sha256.substr(0, 16)))});
  out += row({"Host", escape_markdown(fmt::format("{}: {}, {} logical CPUs, {}, {}, {}", r.host.hostname,
                                                  r.host.cpu_model, r.host.logical_cpus,
                                                  format_bytes(static_cast<double>(r.host.memory_bytes)),
                                                  r.host.os, r.host.kernel))});
  if (r.run.has_seed) out += row({"Seed", std::to_string(r.run.seed)});
  if (!r.criteria.verdict.empty()) out += row({"Verdict", "**" + r.criteria.verdict + "**"});
  out += row({"Digest", fmt::format("sha256 `{}`, {}", r.digest, signature_summary(r))});

  for (const auto& s : r.summaries) {
    std::string name = r.device_name(s.device);
    out += fmt::format("\n## {}{}\n\n", escape_markdown(s.device),
                       name.empty() ? "" : " — " + escape_markdown(name));
    if (s.metrics.empty()) {
      out += "No valid result feeds a headline on this device.\n";
      continue;
    }
    out += header({"Headline", "Median", "95% CI", "Of declared peak", "From case"},
                  {false, true, true, true, false});
    for (const auto& m : s.metrics)
      out += row({escape_markdown(m.label), format_quantity(m.value, m.unit),
                  format_ci_percent(m.value, m.ci95_low, m.ci95_high),
                  m.efficiency ? format_percent(*m.efficiency) : "-",
                  escape_markdown(m.case_id) + (m.noisy ? " (noisy)" : "")});
  }
  if (!r.node_totals.empty()) {
    out +=
        "\n## Node totals\n\nSums over physical devices, each counted once (devices sharing silicon, such as "
        "the CPU plugin and an OpenCL CPU device, count with the best validated figure among them), " +
        std::string((r.json.contains("run") && r.json["run"].contains("settings") &&
                     r.json["run"]["settings"].is_object() &&
                     r.json["run"]["settings"].value("concurrent", false))
                        ? "all devices measured at the same time (concurrent run).\n\n"
                        : "each measured on its own (not concurrently).\n\n");
    out += header({"Metric", "Total", "Physical devices", "Counted"}, {false, true, true, false});
    for (const auto& n : r.node_totals)
      out += row({escape_markdown(n.key), format_quantity(n.value, n.unit), std::to_string(n.devices),
                  escape_markdown(fmt::format("{}", fmt::join(n.counted, ", ")))});
    if (!r.excluded_from_totals.empty()) {
      out += "\nLeft out of node totals:\n\n";
      out += header({"Total", "Device", "Reason"}, {});
      for (const auto& e : r.excluded_from_totals)
        out += row({escape_markdown(e.key), escape_markdown(e.device), escape_markdown(e.reason)});
    }
  }
  if (const auto scaling = node_scaling_rows(r.json); !scaling.empty()) {
    out += "\n## Node scaling\n\n" + escape_markdown(node_scaling_note(r.json)) + ".\n\n";
    out += header({"Scope", "Figure", "Alone", "All at once", "Ratio"}, {false, false, true, true, true});
    for (const auto& line : scaling)
      out += row(
          {escape_markdown(line.scope), escape_markdown(line.what), line.alone, line.at_once, line.ratio});
  }
  if (!r.criteria.outcomes.empty()) {
    out += "\n## Criteria\n\n";
    out += header({"Verdict", "Criterion", "Device", "Reason"}, {});
    for (const auto& c : r.criteria.outcomes)
      out += row({"**" + c.verdict + "**", escape_markdown(c.id), escape_markdown(c.device),
                  escape_markdown(c.reason)});
  }
  out += "\n## Results\n\n";
  out += header({"Device", "Case", "Status", "Median", "95% CI", "n", "Timer", "Validation", "Reason"},
                {false, false, false, true, true, true, false, false, false});
  for (const auto& c : r.results) {
    std::string median = "-", ci = "-", n = "-";
    if (!c.metrics.empty()) {
      const auto& m = c.metrics.front();
      median = format_quantity(m.stats.median, m.unit);
      ci = format_interval(m.stats.median, m.stats.ci_low, m.stats.ci_high, m.unit);
      n = std::to_string(m.stats.n);
    }
    out += row({escape_markdown(c.device), escape_markdown(c.case_id), std::string(to_string(c.status)),
                median, ci, n, c.method.timer.empty() ? "-" : c.method.timer, validation_text(c),
                c.reason.empty() ? "" : escape_markdown(c.reason)});
  }
  out += markdown_inference_section(r);
  out += training_markdown(r);
  out += markdown_energy_section(r);
  out += "\n## Devices\n\n";
  for (const auto& d : r.devices) {
    out += fmt::format("- **{}**", escape_markdown(d.id));
    std::vector<std::string> peaks;
    for (const auto& [k, v] : d.attributes)
      if (k.rfind("peak.", 0) == 0 && k != "peak.source")
        if (auto x = get_number(d.attributes, k))
          peaks.push_back(fmt::format(
              "{} {}", k, format_quantity(*x, k.find("bytes") != std::string::npos ? "B/s" : "FLOP/s")));
    if (!peaks.empty()) out += ": declared " + escape_markdown(fmt::format("{}", fmt::join(peaks, ", ")));
    if (auto src = get_string(d.attributes, "peak.source"))
      out += fmt::format(" (source: {})", escape_markdown(*src));
    out += "\n";
  }
  out += "\n## Plugins\n\n";
  out += header({"Plugin", "Version", "ABI", "Status", "Error"}, {});
  for (const auto& p : r.plugins)
    out += row({escape_markdown(p.name), escape_markdown(p.version), escape_markdown(p.abi), p.status,
                escape_markdown(p.error)});
  return out;
}

}  // namespace cmeter::reports
