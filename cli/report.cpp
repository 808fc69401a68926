// `cmeter report show|md|html|csv|sign|verify|merge` and the end-of-run `--format` writer: read a report
// (core/report/report_reader.h: 1.x only, shape-checked), render it (reports/), or check and sign its
// integrity (core/report/integrity.h). Exit codes: 0 ok, 1 verification failed, 2 usage or input error.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/integrity.h"
#include "core/report/journal.h"
#include "core/report/merge.h"
#include "core/report/report.h"
#include "core/report/report_reader.h"
#include "core/util/clock.h"
#include "core/util/files.h"
#include "reports/csv.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/terminal.h"

namespace cmeter::cli {
namespace {

struct ReportState {
  std::string file, output, key, pubkey;
  std::vector<std::string> merge_inputs;
  CLI::App* report = nullptr;
  CLI::App* show = nullptr;
  CLI::App* md = nullptr;
  CLI::App* html = nullptr;
  CLI::App* csv = nullptr;
  CLI::App* sign = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* merge = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* keygen = nullptr;
};

ReportState& state() {
  static ReportState s;
  return s;
}

Result<std::string> read_text(const std::string& path) {
  auto text = read_file(path);
  if (!text) return make_error(ErrorCode::kNotFound, "{}: cannot open", path);
  return text;
}

// Writes `text` to `path` (atomically), or to stdout when path is empty or "-".
int emit(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return kExitOk;
  }
  if (auto st = write_file_atomically(path, text); !st) {
    std::cerr << "error: " << st.error().message << "\n";
    return kExitUsage;
  }
  std::cerr << "wrote " << path << "\n";
  return kExitOk;
}

std::string json_text(const nlohmann::json& report) {
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

int render(const std::string& format) {
  auto& s = state();
  auto report = read_report_file(s.file);
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitUsage;
  }
  if (report->newer_minor)
    std::cerr << fmt::format(
        "note: {} was written with schema {} (newer than this cmeter's {}); members this "
        "cmeter does not know are not shown\n",
        s.file, report->version.text, kReportSchemaVersion);
  if (format == "show") return emit(reports::render_terminal(*report, stdout_is_terminal()), "");
  if (format == "md") return emit(reports::render_markdown(*report), s.output);
  if (format == "html") return emit(reports::render_html(*report), s.output);
  return emit(reports::render_csv(*report), s.output);
}

int sign() {
  auto& s = state();
  auto report = read_report_file(s.file);
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitUsage;
  }
  auto key_text = read_text(s.key);
  if (!key_text) {
    std::cerr << "error: --key " << key_text.error().message << "\n";
    return kExitUsage;
  }
  auto keys = parse_secret_key_file(*key_text, s.key);
  if (!keys) {
    std::cerr << "error: " << keys.error().message << "\n";
    return kExitUsage;
  }
  auto signed_report = sign_report(report->json, *keys);
  if (!signed_report) {
    std::cerr << "error: " << s.file << ": " << signed_report.error().message << "\n";
    return kExitFail;
  }
  const std::string out = s.output.empty() ? s.file : s.output;
  if (auto st = write_file_atomically(out, json_text(*signed_report)); !st) {
    std::cerr << "error: " << st.error().message << "\n";
    return kExitUsage;
  }
  std::cout << fmt::format("signed {} with key id {} -> {}\n", s.file, key_id(keys->public_key), out);
  return kExitOk;
}

int verify() {
  auto& s = state();
  std::optional<PublicKey> expected;
  if (!s.pubkey.empty()) {
    auto text = read_text(s.pubkey);
    if (!text) {
      std::cerr << "error: --pubkey " << text.error().message << "\n";
      return kExitUsage;
    }
    auto key = parse_public_key_file(*text, s.pubkey);
    if (!key) {
      std::cerr << "error: " << key.error().message << "\n";
      return kExitUsage;
    }
    expected = *key;
  }
  auto report = read_report_file(s.file);
  if (!report) {
    std::cerr << "FAILED: " << report.error().message << "\n";
    return kExitUsage;
  }
  auto v = verify_report(report->json, expected);
  for (const auto& f : v.failures) std::cerr << fmt::format("FAILED: {}: {}\n", s.file, f);
  if (!v.ok()) return kExitFail;
  std::cout << fmt::format("{}: digest ok (sha256 {})\n", s.file, v.computed_digest);
  if (v.is_signed)
    std::cout << fmt::format("{}: signature ok (Ed25519, key id {}{})\n", s.file, v.signer_key_id,
                             expected ? ", the expected key" : "");
  for (const auto& n : v.notes) std::cout << fmt::format("{}: {}\n", s.file, n);
  return kExitOk;
}

int merge() {
  auto& s = state();
  std::vector<LoadedReport> inputs;
  for (const auto& path : s.merge_inputs) {
    auto r = read_report_file(path);
    if (!r) {
      std::cerr << "error: " << r.error().message << "\n";
      return kExitUsage;
    }
    inputs.push_back(std::move(*r));
  }
  MergeOptions options;
  options.argv = s.merge_inputs;
  options.argv.insert(options.argv.begin(), {"cmeter", "report", "merge"});
  options.now_utc = utc_now_iso8601();
  auto merged = merge_reports(inputs, options);
  if (!merged) {
    std::cerr << "error: " << merged.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& w : merged->warnings) std::cerr << "warning: " << w << "\n";
  int code = emit(json_text(merged->report), s.output);
  if (code == kExitOk)
    std::cerr << fmt::format("merged {} reports: {} devices, {} results\n", inputs.size(),
                             merged->report["devices"].size(), merged->report["results"].size());
  return code;
}

}  // namespace

void add_report_commands(CLI::App& app) {
  auto& s = state();
  s.report = app.add_subcommand("report", "Show, render, sign, verify or merge report files");
  s.report->require_subcommand(1);
  s.show = s.report->add_subcommand("show", "Print a report as terminal tables (headline per device first)");
  s.md = s.report->add_subcommand("md", "Render a report as Markdown");
  s.html =
      s.report->add_subcommand("html", "Render a report as one self-contained HTML file with SVG charts");
  s.csv = s.report->add_subcommand("csv", "Render a report as CSV: one row per result and metric");
  for (auto* sub : {s.show, s.md, s.html, s.csv}) {
    sub->add_option("file", s.file, "report.json")->required();
    if (sub != s.show) sub->add_option("--output,-o", s.output, "Write here instead of stdout");
  }
  s.sign = s.report->add_subcommand("sign",
                                    "Add an Ed25519 signature and key id to a report (in place unless -o)");
  s.sign->add_option("file", s.file, "report.json")->required();
  s.sign->add_option("--key", s.key, "Secret key file from `cmeter keygen`")->required();
  s.sign->add_option("--output,-o", s.output, "Write the signed report here instead of replacing FILE");
  s.verify = s.report->add_subcommand(
      "verify", "Recompute a report's digest and check its signature; exit 1 naming what failed");
  s.verify->add_option("file", s.file, "report.json")->required();
  s.verify->add_option(
      "--pubkey", s.pubkey,
      "Public key file (.pub): the report must be signed by this key (otherwise the key embedded "
      "in the report is used)");
  s.merge = s.report->add_subcommand(
      "merge", "Combine reports of several devices or nodes into one, with node totals");
  s.merge->add_option("files", s.merge_inputs, "report.json files (two or more)")
      ->required()
      ->expected(2, -1);
  s.merge->add_option("--output,-o", s.output, "Write the merged report here (default stdout)")->required();
  s.compare = add_compare_command(app);
  s.keygen = add_keygen_command(app);
}

int run_report_commands() {
  auto& s = state();
  if (s.compare != nullptr && *s.compare) return run_compare();
  if (s.keygen != nullptr && *s.keygen) return run_keygen();
  if (s.report == nullptr || !*s.report) return -1;
  if (*s.show) return render("show");
  if (*s.md) return render("md");
  if (*s.html) return render("html");
  if (*s.csv) return render("csv");
  if (*s.sign) return sign();
  if (*s.verify) return verify();
  if (*s.merge) return merge();
  return kExitUsage;
}

CLI::Validator report_formats_check() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::stringstream list(value);
        std::string format;
        while (std::getline(list, format, ','))
          if (format != "md" && format != "html" && format != "csv" && format != "json")
            return fmt::format("unknown format '{}' (md, html, csv; comma-separated)", format);
        return {};
      },
      "md,html,csv");
}

bool write_report_formats(const nlohmann::json& report, const std::string& report_path,
                          const std::string& formats) {
  if (formats.empty()) return true;
  auto loaded = load_report(report, report_path);
  if (!loaded) {
    std::cerr << "error: --format: " << loaded.error().message << "\n";
    return false;
  }
  bool ok = true;
  std::stringstream list(formats);
  std::string format;
  const std::filesystem::path base = std::filesystem::path(report_path).replace_extension();
  while (std::getline(list, format, ',')) {
    std::string text;
    if (format == "md")
      text = reports::render_markdown(*loaded);
    else if (format == "html")
      text = reports::render_html(*loaded);
    else if (format == "csv")
      text = reports::render_csv(*loaded);
    else if (format == "json" || format.empty())
      continue;
    else {
      std::cerr << fmt::format("error: --format: unknown format '{}' (md, html, csv)\n", format);
      ok = false;
      continue;
    }
    const std::string path = base.string() + "." + format;
    if (auto st = write_file_atomically(path, text); !st) {
      std::cerr << "error: " << st.error().message << "\n";
      ok = false;
    } else {
      std::cerr << fmt::format("{}: {}\n",
                               format == "md"     ? "Markdown"
                               : format == "html" ? "HTML"
                                                  : "CSV",
                               path);
    }
  }
  return ok;
}

}  // namespace cmeter::cli
