// `cmeter compare A.json B.json [...]`: reports side by side with ratios to A and verdicts from the
// confidence intervals (core/report/compare.h); terminal output (coloured on a terminal), and
// --md/--html files. Exit codes: 0 compared (warnings included), 2 usage or unreadable report.
#include <iostream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/compare.h"
#include "core/report/journal.h"
#include "core/util/files.h"
#include "reports/compare_render.h"

namespace cmeter::cli {
namespace {

struct CompareState {
  std::vector<std::string> files;
  bool per_watt = false;
  std::vector<std::string> prices;
  std::string md_path, html_path;
};

CompareState& state() {
  static CompareState s;
  return s;
}

}  // namespace

CLI::App* add_compare_command(CLI::App& app) {
  auto& s = state();
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare reports side by side: ratios to the first, faster/slower/same within noise from the CIs");
  cmd->add_option("files", s.files, "report.json files; the first is the baseline")
      ->required()
      ->expected(2, -1);
  cmd->add_flag("--per-watt", s.per_watt, "Also compare per watt (results with power telemetry)");
  cmd->add_option(
      "--price", s.prices,
      "Also compare per price: DEVICE=AMOUNT (device id, device name, or N/id for report N; repeatable)");
  cmd->add_option("--md", s.md_path, "Also write the comparison as Markdown to this file");
  cmd->add_option("--html", s.html_path,
                  "Also write the comparison as a self-contained HTML page to this file");
  return cmd;
}

int run_compare() {
  auto& s = state();
  CompareOptions options;
  options.per_watt = s.per_watt;
  for (const auto& p : s.prices) {
    auto spec = parse_price(p);
    if (!spec) {
      std::cerr << "error: " << spec.error().message << "\n";
      return kExitUsage;
    }
    options.prices.push_back(*spec);
  }
  std::vector<LoadedReport> reports;
  for (const auto& f : s.files) {
    auto r = read_report_file(f);
    if (!r) {
      std::cerr << "error: " << r.error().message << "\n";
      return kExitUsage;
    }
    reports.push_back(std::move(*r));
  }
  auto comparison = compare_reports(reports, options);
  if (!comparison) {
    std::cerr << "error: " << comparison.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& w : comparison->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << reports::render_comparison_terminal(*comparison, stdout_is_terminal());
  int code = 0;
  auto write = [&](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    if (auto st = write_file_atomically(path, text); !st) {
      std::cerr << "error: " << st.error().message << "\n";
      code = 2;
    } else {
      std::cerr << "wrote " << path << "\n";
    }
  };
  write(s.md_path, reports::render_comparison_markdown(*comparison));
  write(s.html_path, reports::render_comparison_html(*comparison));
  return code;
}

}  // namespace cmeter::cli
