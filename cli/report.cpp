// `cmeter report show|md|html|csv|sign|verify|merge`: read a report (core/report/report_reader.h: 1.x
// only, shape-checked), render it (reports/), or check and sign its integrity (core/report/integrity.h).
// Exit codes: 0 ok, 1 verification failed, 2 usage or input error.

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/certificate.h"
#include "core/report/integrity.h"
#include "core/report/merge.h"
#include "core/report/report.h"
#include "core/report/report_reader.h"
#include "core/util/clock.h"
#include "core/util/files.h"
#include "reports/csv.h"
#include "reports/render.h"
#include "reports/terminal.h"

namespace cmeter::cli {
namespace {

// A signature or digest that does not verify is the FAIL code (1); unreadable input is usage (2).
constexpr int kExitVerifyFailed = kExitFail;

struct ReportOptions {
  std::string file, output, key;
  std::string evidence;  // report verify --evidence: FILE is a certificate, checked against this report
  std::vector<std::string> merge_inputs;
  TrustOptions trust;
  bool inference_csv = false;  // report csv --inference
};

Result<std::string> read_text(const std::string& path) {
  auto text = read_file(path);
  if (!text) return make_error(ErrorCode::kNotFound, "{}: cannot open", path);
  return text;
}

std::string json_text(const nlohmann::json& report) {
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

int render(const ReportOptions& s, const std::string& format) {
  auto report = read_report_file(s.file);
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitUsage;
  }
  // Verified before anything says "signed" (the user's trusted keys; a problem is also a warning).
  auto policy = load_trust_policy(s.trust);
  if (!policy) {
    std::cerr << "error: " << policy.error().message << "\n";
    return kExitUsage;
  }
  auto verified = verify_loaded_report(*report, *policy);
  for (const auto& f : verified.failures) std::cerr << fmt::format("warning: {}: {}\n", s.file, f);
  if (report->newer_minor)
    std::cerr << fmt::format(
        "note: {} was written with schema {} (newer than this cmeter's {}); members this "
        "cmeter does not know are not shown\n",
        s.file, report->version.text, kReportSchemaVersion);
  if (format == "show")
    return write_output(reports::render_terminal(*report, stdout_is_terminal()), "") ? kExitOk : kExitUsage;
  auto text = format == "csv" && s.inference_csv ? Result<std::string>(reports::render_inference_csv(*report))
                                                 : reports::render_report_as(*report, format);
  if (!text) {
    std::cerr << "error: " << text.error().message << "\n";
    return kExitUsage;
  }
  return write_output(*text, s.output) ? kExitOk : kExitUsage;
}

int sign(const ReportOptions& s) {
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
    return kExitVerifyFailed;
  }
  const std::string out = s.output.empty() ? s.file : s.output;
  if (!write_output(json_text(*signed_report), out)) return kExitUsage;
  std::cout << fmt::format("signed {} with key id {} -> {}\n", s.file, key_id(keys->public_key), out);
  return kExitOk;
}

int verify(const ReportOptions& s) {
  auto policy = load_trust_policy(s.trust);
  if (!policy) {
    std::cerr << "error: " << policy.error().message << "\n";
    return kExitUsage;
  }
  if (!s.evidence.empty()) {  // a certificate against its evidence (core/report/certificate.h)
    auto cert_text = read_file(s.file);
    auto evidence = read_file(s.evidence);
    if (!cert_text || !evidence) {
      std::cerr << fmt::format("FAILED: cannot open {}\n", !cert_text ? s.file : s.evidence);
      return kExitUsage;
    }
    const nlohmann::json cert = nlohmann::json::parse(*cert_text, nullptr, false);
    if (cert.is_discarded()) {
      std::cerr << fmt::format("FAILED: {}: not JSON (changed?)\n", s.file);
      return kExitVerifyFailed;
    }
    auto v = verify_certificate(cert, *evidence, *policy);
    for (const auto& f : v.failures) std::cerr << fmt::format("FAILED: {}: {}\n", s.file, f);
    if (!v.ok()) return kExitVerifyFailed;
    std::cout << fmt::format("{}: certificate and evidence {} verify (certificate digest {}{})\n", s.file,
                             s.evidence, v.computed_digest,
                             v.is_signed ? ", signed by trusted key " + v.signer_key_id : ", not signed");
    return kExitOk;
  }
  auto report = read_report_file(s.file);
  if (!report) {
    std::cerr << "FAILED: " << report.error().message << "\n";
    return kExitUsage;
  }
  auto v = verify_report(report->json, *policy);
  for (const auto& f : v.failures) std::cerr << fmt::format("FAILED: {}: {}\n", s.file, f);
  if (!v.ok()) return kExitVerifyFailed;
  std::cout << fmt::format("{}: digest ok (sha256 {})\n", s.file, v.computed_digest);
  if (v.is_signed)
    std::cout << fmt::format("{}: signature ok (Ed25519, key id {}, a trusted key)\n", s.file,
                             v.signer_key_id);
  for (const auto& n : v.notes) std::cout << fmt::format("{}: {}\n", s.file, n);
  return kExitOk;
}

int merge(const ReportOptions& s) {
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
  if (!write_output(json_text(merged->report), s.output)) return kExitUsage;
  std::cerr << fmt::format("merged {} reports: {} devices, {} results\n", inputs.size(),
                           merged->report["devices"].size(), merged->report["results"].size());
  return kExitOk;
}

}  // namespace

Subcommand register_report(CLI::App& app) {
  auto s = std::make_shared<ReportOptions>();
  auto* report = app.add_subcommand("report", "Show, render, sign, verify or merge report files");
  report->require_subcommand(1);
  auto* show =
      report->add_subcommand("show", "Print a report as terminal tables (headline per device first)");
  auto* md = report->add_subcommand("md", "Render a report as Markdown");
  auto* html =
      report->add_subcommand("html", "Render a report as one self-contained HTML file with SVG charts");
  auto* csv = report->add_subcommand("csv", "Render a report as CSV: one row per result and metric");
  for (auto* sub : {show, md, html, csv}) {
    sub->add_option("file", s->file, "report.json")->required();
    if (sub != show) sub->add_option("--output,-o", s->output, "Write here instead of stdout");
  }
  csv->add_flag("--inference", s->inference_csv,
                "The LLM inference results instead: one row per result with its flat figures");
  auto* sign_cmd =
      report->add_subcommand("sign", "Add an Ed25519 signature and key id to a report (in place unless -o)");
  sign_cmd->add_option("file", s->file, "report.json")->required();
  sign_cmd->add_option("--key", s->key, "Secret key file from `cmeter keygen`")->required();
  sign_cmd->add_option("--output,-o", s->output, "Write the signed report here instead of replacing FILE");
  auto* verify_cmd = report->add_subcommand(
      "verify", "Recompute a report's digest and check its signature; exit 1 naming what failed");
  verify_cmd->add_option("file", s->file, "report.json (or certificate.json with --evidence)")->required();
  verify_cmd->add_option(
      "--evidence", s->evidence,
      "FILE is a certificate (cmeter certify): check it and this evidence report against it");
  verify_cmd->add_flag("--require-signature", s->trust.require_signature,
                       "Fail a report that is not signed (by a trusted key)");
  for (auto* sub : {show, md, html, csv, verify_cmd}) add_trust_options(*sub, s->trust);
  auto* merge_cmd = report->add_subcommand(
      "merge", "Combine reports of several devices or nodes into one, with node totals");
  merge_cmd->add_option("files", s->merge_inputs, "report.json files (two or more)")
      ->required()
      ->expected(2, -1);
  merge_cmd->add_option("--output,-o", s->output, "Write the merged report here (default stdout)")
      ->required();
  return {report, [=](const std::vector<std::string>&) {
            if (*show) return render(*s, "show");
            if (*md) return render(*s, "md");
            if (*html) return render(*s, "html");
            if (*csv) return render(*s, "csv");
            if (*sign_cmd) return sign(*s);
            if (*verify_cmd) return verify(*s);
            if (*merge_cmd) return merge(*s);
            return kExitUsage;
          }};
}

}  // namespace cmeter::cli
