// `cmeter compare A.json B.json [...]`: reports side by side with ratios to A and verdicts from the
// confidence intervals (core/report/compare.h); terminal output (coloured on a terminal), and
// --md/--html files. Exit codes: 0 compared (warnings included), 2 usage or unreadable report.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/compare.h"
#include "reports/compare_render.h"

namespace cmeter::cli {
namespace {

struct CompareCommandOptions {
  std::vector<std::string> files;
  bool per_watt = false;
  std::vector<std::string> prices;
  std::string md_path, html_path;
  TrustOptions trust;
};

int run_compare(const CompareCommandOptions& s) {
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
  auto policy = load_trust_policy(s.trust);
  if (!policy) {
    std::cerr << "error: " << policy.error().message << "\n";
    return kExitUsage;
  }
  std::vector<std::string> unverified;  // every input is verified before anything says "signed"
  for (auto& r : reports) {
    auto v = verify_loaded_report(r, *policy);
    for (const auto& f : v.failures) unverified.push_back(fmt::format("{} does not verify: {}", r.source, f));
  }
  auto comparison = compare_reports(reports, options);
  if (!comparison) {
    std::cerr << "error: " << comparison.error().message << "\n";
    return kExitUsage;
  }
  comparison->warnings.insert(comparison->warnings.begin(), unverified.begin(), unverified.end());
  for (const auto& w : comparison->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << reports::render_comparison_terminal(*comparison, stdout_is_terminal());
  bool written = true;
  if (!s.md_path.empty())
    written &= write_output(reports::render_comparison_markdown(*comparison), s.md_path);
  if (!s.html_path.empty())
    written &= write_output(reports::render_comparison_html(*comparison), s.html_path);
  return written ? 0 : 2;
}

}  // namespace

Subcommand register_compare(CLI::App& app) {
  auto s = std::make_shared<CompareCommandOptions>();
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare reports side by side: ratios to the first, faster/slower/same within noise from the CIs");
  cmd->add_option("files", s->files, "report.json files; the first is the baseline")
      ->required()
      ->expected(2, -1);
  cmd->add_flag("--per-watt", s->per_watt, "Also compare per watt (results with power telemetry)");
  cmd->add_option(
      "--price", s->prices,
      "Also compare per price: DEVICE=AMOUNT (device id, device name, or N/id for report N; repeatable)");
  add_trust_options(*cmd, s->trust);
  cmd->add_option("--md", s->md_path, "Also write the comparison as Markdown to this file");
  cmd->add_option("--html", s->html_path,
                  "Also write the comparison as a self-contained HTML page to this file");
  return {cmd, [s](const std::vector<std::string>&) { return run_compare(*s); }};
}

}  // namespace cmeter::cli
