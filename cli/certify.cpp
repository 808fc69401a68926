// `cmeter certify`: turns a certification run's report (the evidence) into a one-page certificate,
// certificate.{json,md,html}, signed with an Ed25519 key (core/report/certificate.h). With --report it
// certifies an existing report; otherwise it runs `cmeter run` with the arguments after `--` (a
// cert-*.yaml profile) into <output>/evidence first. Exit 0 PASS, 1 FAIL, 3 inconclusive or
// incomplete, 2 usage (docs/certification.md).
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/certificate.h"
#include "core/report/integrity.h"
#include "core/util/clock.h"
#include "core/util/files.h"

extern char** environ;

namespace cmeter::cli {
namespace {

namespace fs = std::filesystem;

struct CertifyOptions {
  std::string report, output = "certificate", key;
  std::vector<std::string> run_args;
};

// Runs `cmeter run <args> -o <dir> -q`; its exit code, or -1 when it could not start.
int run_evidence(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<std::string> argv = {self_executable_path(), "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const char* extra : {"-o", dir.c_str(), "-q"}) argv.emplace_back(extra);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int certify(const CertifyOptions& s) {
  std::string report_path = s.report;
  if (report_path.empty()) {
    if (s.run_args.empty()) {
      std::cerr
          << "error: give --report FILE, or run arguments after `--` (e.g. -- --profile cert-compute)\n";
      return kExitUsage;
    }
    const std::string evidence_dir = (fs::path(s.output) / "evidence").string();
    const int rc = run_evidence(s.run_args, evidence_dir);
    if (rc == kExitUsage || rc < 0) {
      std::cerr << fmt::format("error: the certification run did not start or was refused (exit {})\n", rc);
      return kExitUsage;
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(evidence_dir, ec))
      if (fs::exists(entry.path() / "report.json")) report_path = (entry.path() / "report.json").string();
    if (report_path.empty()) {
      std::cerr << fmt::format("error: the certification run wrote no report under {}\n", evidence_dir);
      return kExitIncomplete;
    }
  }
  auto bytes = read_file(report_path);
  if (!bytes) {
    std::cerr << fmt::format("error: {}: cannot open\n", report_path);
    return kExitUsage;
  }
  const nlohmann::json report = nlohmann::json::parse(*bytes, nullptr, false);
  if (report.is_discarded()) {
    std::cerr << fmt::format("error: {}: not JSON\n", report_path);
    return kExitUsage;
  }
  auto cert = build_certificate(report, *bytes, utc_now_iso8601());
  if (!cert) {
    std::cerr << fmt::format("error: {}: {}\n", report_path, cert.error().message);
    return kExitUsage;
  }
  if (!s.key.empty()) {
    auto key_text = read_file(s.key);
    if (!key_text) {
      std::cerr << fmt::format("error: {}: cannot open\n", s.key);
      return kExitUsage;
    }
    auto keys = parse_secret_key_file(*key_text, s.key);
    if (!keys) {
      std::cerr << "error: " << keys.error().message << "\n";
      return kExitUsage;
    }
    auto signed_cert = sign_report(*cert, *keys);
    if (!signed_cert) {
      std::cerr << "error: " << signed_cert.error().message << "\n";
      return kExitUsage;
    }
    cert = std::move(signed_cert);
  }
  std::error_code ec;
  fs::create_directories(s.output, ec);
  const fs::path out(s.output);
  if (!write_output(cert->dump(2) + "\n", (out / "certificate.json").string()) ||
      !write_output(certificate_markdown(*cert), (out / "certificate.md").string()) ||
      !write_output(certificate_html(*cert), (out / "certificate.html").string()))
    return kExitUsage;
  std::cout << fmt::format("{}: {} (evidence {})\n", (out / "certificate.json").string(),
                           (*cert)["verdict"].get<std::string>(), report_path);
  for (const auto& c : (*cert)["criteria"])
    if (c.value("verdict", "") != "PASS")
      std::cout << fmt::format("  {} {} on {}: {}\n", c.value("verdict", ""), c.value("id", ""),
                               c.value("device", ""), c.value("reason", ""));
  return certificate_exit_code(*cert);
}

}  // namespace

Subcommand register_certify(CLI::App& app) {
  auto s = std::make_shared<CertifyOptions>();
  auto* cmd = app.add_subcommand(
      "certify",
      "Write a signed one-page certificate (certificate.json/.md/.html) from a certification run: "
      "--report FILE, or run `cmeter run` with the arguments after `--`; exit 0 PASS, 1 FAIL, 3 "
      "inconclusive");
  cmd->add_option("--report", s->report, "Certify this finished report (the evidence) instead of running")
      ->check(CLI::ExistingFile);
  cmd->add_option("--output,-o", s->output, "Directory for the certificate (and evidence/ when running)")
      ->capture_default_str();
  cmd->add_option("--key", s->key, "Secret key file from `cmeter keygen` to sign the certificate");
  cmd->add_option("run_args", s->run_args,
                  "After `--`: the `cmeter run` arguments (--profile cert-..., --device ...)");
  return {cmd, [s](const std::vector<std::string>&) { return certify(*s); }};
}

}  // namespace cmeter::cli
