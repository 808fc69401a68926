// Training result text and chart for every renderer (training_text.h).
#include "reports/training_text.h"

#include <cmath>

#include <fmt/format.h>

#include "reports/format.h"
#include "reports/inference_text.h"
#include "reports/svg_chart.h"

namespace cmeter::reports {
namespace {

std::string seconds(std::optional<double> v) {
  return v && std::isfinite(*v) ? fmt::format("{:.3g} s", *v) : std::string("n/a");
}
std::string number(double v) {
  return std::isfinite(v) ? fmt::format("{:.3g}", v) : std::string("n/a");
}

}  // namespace

std::string training_summary(const TrainingResult& t) {
  std::string mfu = t.mfu ? fmt::format("{} of {}", format_percent(*t.mfu), t.mfu_peak_key)
                          : std::string("n/a (no declared peak)");
  return fmt::format(
      "{} ({} parameters, {}): {}/{} runs reached {} <= {}; time to quality {} (olympic mean), "
      "spread {}, MFU {}",
      t.model, format_count(static_cast<double>(t.parameters)), t.dtype, t.converged_runs, t.runs.size(),
      t.form == "mlp" ? "eval NMSE" : "KL", number(t.target), seconds(t.olympic_mean_s),
      t.spread ? format_percent(*t.spread) : std::string("n/a"), mfu);
}

// The statistic a run's trajectory check passes on: the median (lm form) or the 90th percentile.
std::string trajectory_figure(const TrainingRun& run) {
  return number(run.trajectory_median ? *run.trajectory_median : run.trajectory_p90);
}
const char* trajectory_statistic(const TrainingResult& t) {
  return !t.runs.empty() && t.runs.front().trajectory_median ? "median" : "p90";
}

std::string training_run_text(const TrainingRun& run, double target) {
  std::string out = fmt::format("run {}, seed {:#x}: ", run.index, run.seed);
  out += run.converged ? fmt::format("{:.3g} s, {} steps", run.time_to_quality_s, run.steps)
                       : fmt::format("not at {} after {} steps", number(target), run.steps);
  out += fmt::format(", quality {} (host {})", number(run.device_quality),
                     run.host_quality ? number(*run.host_quality) : std::string("n/a"));
  if (run.trajectory_steps > 0)
    out += fmt::format(", trajectory {} {:.2g} {}", run.trajectory_median ? "median" : "p90",
                       run.trajectory_median ? *run.trajectory_median : run.trajectory_p90,
                       run.trajectory_passed ? "passed" : "FAILED");
  if (run.loss_scale_skips > 0) out += fmt::format(", {} loss-scale skips", run.loss_scale_skips);
  if (!run.problem.empty()) out += "; " + run.problem;
  return out;
}

std::string training_terminal(const LoadedReport& r, const std::string& device) {
  std::string out;
  for (const auto& c : r.results) {
    if (c.device != device || !c.training) continue;
    if (out.empty()) out = "\n  Training\n";
    out += fmt::format("  {}: {}\n", c.case_id, training_summary(*c.training));
    for (const auto& run : c.training->runs)
      out += "    " + training_run_text(run, c.training->target) + "\n";
  }
  return out;
}

std::string training_markdown(const LoadedReport& r) {
  std::string out;
  for (const auto& c : r.results) {
    if (!c.training) continue;
    const TrainingResult& t = *c.training;
    if (out.empty())
      out =
          "\n## Training\n\nTime to quality from the first step to the evaluation that reached the target "
          "(evaluations counted); olympic mean over the converged runs (fastest and slowest dropped from 3 "
          "runs on).\n";
    out += fmt::format("\n### {} on {} ({})\n\n{}\n\n", escape_markdown(c.case_id), escape_markdown(c.device),
                       to_string(c.status), escape_markdown(training_summary(t)));
    out += fmt::format(
               "| run | seed | reached | time to quality | steps | quality (device) | quality (host) | "
               "trajectory {} |\n",
               trajectory_statistic(t)) +
           "|---|---|---|---|---|---|---|---|\n";
    for (const auto& run : t.runs)
      out += fmt::format(
          "| {} | {:#x} | {} | {} | {} | {} | {} | {} |\n", run.index, run.seed, run.converged ? "yes" : "no",
          run.converged ? seconds(run.time_to_quality_s) : std::string("n/a"), run.steps,
          number(run.device_quality), run.host_quality ? number(*run.host_quality) : "n/a",
          run.trajectory_steps > 0 ? trajectory_figure(run) + (run.trajectory_passed ? "" : " FAILED")
                                   : std::string("n/a"));
  }
  return out;
}

std::string training_html(const LoadedReport& r) {
  std::string out;
  size_t chart = 0;
  for (const auto& c : r.results) {
    if (!c.training) continue;
    const TrainingResult& t = *c.training;
    if (out.empty()) out = "<section id=\"training\"><h2>Training</h2>\n";
    out += fmt::format(
        "<h3>{} on {} ({})</h3>\n<p>{}</p>\n<table><tr><th>run</th><th>seed</th><th>time to "
        "quality</th><th>steps</th><th>quality (device / host)</th><th>trajectory {}</th></tr>\n",
        escape_html(c.case_id), escape_html(c.device), to_string(c.status), escape_html(training_summary(t)),
        trajectory_statistic(t));
    XYChart xy;
    xy.id = fmt::format("training-curve-{}", chart++);
    xy.css_class = "training-curve";
    xy.title = fmt::format("{} on {}: held-out quality by step", c.case_id, c.device);
    xy.x_label = "step";
    xy.x_unit = "";
    xy.y_unit = "";
    for (const auto& run : t.runs) {
      out += fmt::format(
          "<tr><td>{}</td><td>{:#x}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
          "class=\"num\">{} / "
          "{}</td><td class=\"num\">{}</td></tr>\n",
          run.index, run.seed, run.converged ? seconds(run.time_to_quality_s) : std::string("not reached"),
          run.steps, number(run.device_quality), run.host_quality ? number(*run.host_quality) : "n/a",
          escape_html(trajectory_figure(run) + (run.trajectory_passed ? "" : " FAILED")));
      XYSeries s;
      s.name = fmt::format("run {}", run.index);
      for (const auto& p : run.curve)
        if (p.step > 0 && std::isfinite(p.quality) && p.quality > 0)
          s.points.push_back({static_cast<double>(p.step), p.quality, p.quality, p.quality,
                              fmt::format("step {}: {:.4g}", p.step, p.quality)});
      if (!s.points.empty()) xy.series.push_back(std::move(s));
    }
    out += "</table>\n";
    if (!xy.series.empty()) out += render_xy_chart(xy);
  }
  if (!out.empty()) out += "</section>\n";
  return out;
}

}  // namespace cmeter::reports
