// Certificates: build from a report, verify against the evidence, render one page.
#include "core/report/certificate.h"

#include <fmt/format.h>

#include "core/report/report.h"
#include "core/util/sha256.h"

namespace cmeter {
namespace {

std::string text(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::string attr(const nlohmann::json& device, const char* key) {
  const auto& a = device.value("attributes", nlohmann::json::object());
  if (!a.contains(key)) return "";
  return a[key].is_string() ? a[key].get<std::string>() : a[key].dump();
}

std::string number_text(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? fmt::format("{:.4g}", j[key].get<double>()) : "-";
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

Result<nlohmann::json> build_certificate(const nlohmann::json& report, const std::string& report_bytes,
                                         const std::string& issued_utc) {
  if (!report.is_object() || text(report, "schema") != "cmeter.report")
    return make_error(ErrorCode::kInvalidArgument, "the evidence is not a cmeter report");
  const std::string recorded = text(report.value("integrity", nlohmann::json::object()), "digest");
  const std::string computed = report_digest(report);
  if (recorded != computed)
    return make_error(
        ErrorCode::kInvalidArgument,
        "the evidence's recorded digest {} does not match its content ({}): refusing to certify "
        "a changed report",
        recorded.empty() ? "(none)" : recorded, computed);
  if (!report.contains("criteria") || !report["criteria"].is_array() || report["criteria"].empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "the evidence has no criteria: run a certification profile (profiles/cert-*.yaml)");

  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : report.value("devices", nlohmann::json::array())) {
    const std::string id = text(d, "id");
    const std::string plugin_name = id.substr(0, id.find(':'));
    nlohmann::json plugin = nullptr;
    for (const auto& p : report.value("plugins", nlohmann::json::array()))
      if (text(p, "name") == plugin_name)
        plugin = {{"name", text(p, "name")},
                  {"version", text(p, "version")},
                  {"path", text(p, "path")},
                  {"file_sha256", text(p, "file_sha256")}};
    devices.push_back({{"id", id},
                       {"name", attr(d, "name")},
                       {"vendor", attr(d, "vendor")},
                       {"driver", attr(d, "driver.version")},
                       {"declared",
                        {{"used", attr(d, "declared.used")},
                         {"sku", attr(d, "declared.sku")},
                         {"file", attr(d, "declared.file")},
                         {"peak_source", attr(d, "peak.source")},
                         {"sources", attr(d, "declared.sources")}}},
                       {"plugin", plugin}});
  }
  nlohmann::json throttled = nlohmann::json::array();
  for (const auto& r : report.value("results", nlohmann::json::array()))
    if (r.contains("telemetry") && r["telemetry"].is_object() && r["telemetry"].value("throttled", false))
      throttled.push_back(fmt::format("{} on {}", text(r, "case_id"), text(r, "device")));

  const auto& run = report.value("run", nlohmann::json::object());
  nlohmann::json cert = {
      {"schema", kCertificateSchema},
      {"schema_version", kCertificateSchemaVersion},
      {"issued_utc", issued_utc},
      {"tool", report.value("tool", nlohmann::json::object())},
      {"profile", run.value("profile", nlohmann::json(nullptr))},
      {"devices", devices},
      {"criteria", report["criteria"]},
      {"verdict", report.value("verdict", nlohmann::json(nullptr)).is_string()
                      ? report["verdict"]
                      : nlohmann::json("INCOMPLETE")},
      {"throttled_cases", throttled},
      {"evidence",
       {{"run_id", run.value("id", nlohmann::json(nullptr))},
        {"report_digest", computed},
        {"report_file_sha256", sha256_hex(report_bytes)},
        {"report_signed", report["integrity"].contains("signature")}}},
  };
  cert["integrity"] = {{"digest_algorithm", "sha256"}, {"canonical_form", kCanonicalFormText}};
  cert["integrity"]["digest"] = report_digest(cert);
  return cert;
}

int certificate_exit_code(const nlohmann::json& certificate) {
  const std::string verdict = text(certificate, "verdict");
  return verdict == "PASS" ? 0 : verdict == "FAIL" ? 1 : 3;
}

VerifyOutcome verify_certificate(const nlohmann::json& certificate, const std::string& report_bytes,
                                 const TrustPolicy& policy) {
  VerifyOutcome v = verify_report(certificate, policy);
  for (auto& f : v.failures) f = "certificate: " + f;
  auto fail = [&v](std::string why) { v.failures.push_back(std::move(why)); };
  if (text(certificate, "schema") != kCertificateSchema) fail("certificate: not a cmeter certificate");
  const auto& evidence = certificate.value("evidence", nlohmann::json::object());
  const std::string file_sha = sha256_hex(report_bytes);
  if (file_sha != text(evidence, "report_file_sha256"))
    fail(fmt::format(
        "evidence: the report file's SHA-256 is {}, the certificate names {}: not the certified report",
        file_sha, text(evidence, "report_file_sha256")));
  const nlohmann::json report = nlohmann::json::parse(report_bytes, nullptr, false);
  if (report.is_discarded()) {
    fail("evidence: not JSON");
    return v;
  }
  TrustPolicy evidence_policy = policy;
  evidence_policy.require_signature = false;  // the certificate's signature covers the evidence's digest
  VerifyOutcome e = verify_report(report, evidence_policy);
  for (const auto& f : e.failures) fail("evidence: " + f);
  if (report_digest(report) != text(evidence, "report_digest"))
    fail(fmt::format("evidence: digest {} is not the certified {}", report_digest(report),
                     text(evidence, "report_digest")));
  if (report.value("criteria", nlohmann::json()) != certificate.value("criteria", nlohmann::json()))
    fail("evidence: its criteria differ from the certificate's");
  return v;
}

std::string certificate_markdown(const nlohmann::json& c) {
  std::string out = fmt::format("# cmeter certificate: **{}**\n\n", text(c, "verdict"));
  const auto& profile = c.value("profile", nlohmann::json());
  out += fmt::format("Issued {} by cmeter {}; profile {}.\n\n", text(c, "issued_utc"),
                     text(c.value("tool", nlohmann::json::object()), "version"),
                     profile.is_object() ? fmt::format("{} {} (sha256 {})", text(profile, "name"),
                                                       text(profile, "version"), text(profile, "sha256"))
                                         : md_escape(profile.dump()));
  out += "| device | name | declared spec | driver | plugin | plugin SHA-256 |\n|---|---|---|---|---|---|\n";
  for (const auto& d : c.value("devices", nlohmann::json::array())) {
    const auto& decl = d.value("declared", nlohmann::json::object());
    const auto& p = d.value("plugin", nlohmann::json());
    std::string spec = text(decl, "used") == "spec" || text(decl, "used") == "forced"
                           ? fmt::format("{} ({})", text(decl, "sku"), text(decl, "file"))
                       : text(decl, "used") == "plugin"
                           ? "the plugin's own: " + text(decl, "peak_source").substr(0, 80)
                           : "none";
    out += fmt::format("| {} | {} | {} | {} | {} | `{}` |\n", md_escape(text(d, "id")),
                       md_escape(text(d, "name")), md_escape(spec), md_escape(text(d, "driver")),
                       p.is_object() ? md_escape(text(p, "name") + " " + text(p, "version")) : "-",
                       p.is_object() ? text(p, "file_sha256") : "-");
  }
  out +=
      "\n| verdict | criterion | device | measured | 95% CI | required | reason "
      "|\n|---|---|---|---|---|---|---|\n";
  for (const auto& k : c.value("criteria", nlohmann::json::array()))
    out += fmt::format("| **{}** | {} | {} | {} | {} .. {} | {} {} | {} |\n", text(k, "verdict"),
                       md_escape(text(k, "id")), md_escape(text(k, "device")), number_text(k, "measured"),
                       number_text(k, "measured_ci_low"), number_text(k, "measured_ci_high"),
                       text(k, "comparison"), number_text(k, "required"), md_escape(text(k, "reason")));
  const auto& throttled = c.value("throttled_cases", nlohmann::json::array());
  out += fmt::format("\nThrottled cases: {}.\n", throttled.empty() ? "none" : md_escape(throttled.dump()));
  const auto& e = c.value("evidence", nlohmann::json::object());
  out += fmt::format("\nEvidence: run {}, report digest `{}`, report file SHA-256 `{}`.\n",
                     md_escape(e.value("run_id", nlohmann::json()).dump()), text(e, "report_digest"),
                     text(e, "report_file_sha256"));
  const auto& integrity = c.value("integrity", nlohmann::json::object());
  const auto& sig = integrity.value("signature", nlohmann::json());
  out += fmt::format(
      "Certificate digest `{}`; {}.\n\nVerify: `cmeter report verify certificate.json --evidence "
      "report.json`.\n",
      text(integrity, "digest"),
      sig.is_object() ? fmt::format("Ed25519 signature, key id `{}`", text(sig, "public_key_id"))
                      : std::string("not signed"));
  return out;
}

std::string certificate_html(const nlohmann::json& c) {
  std::string rows;
  for (const auto& k : c.value("criteria", nlohmann::json::array()))
    rows += fmt::format(
        "<tr><td class=\"v-{0}\">{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4} .. {5}</td>"
        "<td>{6} {7}</td><td>{8}</td></tr>\n",
        html_escape(text(k, "verdict")), html_escape(text(k, "id")), html_escape(text(k, "device")),
        number_text(k, "measured"), number_text(k, "measured_ci_low"), number_text(k, "measured_ci_high"),
        html_escape(text(k, "comparison")), number_text(k, "required"), html_escape(text(k, "reason")));
  std::string devices;
  for (const auto& d : c.value("devices", nlohmann::json::array())) {
    const auto& decl = d.value("declared", nlohmann::json::object());
    const auto& p = d.value("plugin", nlohmann::json());
    devices += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
        html_escape(text(d, "id")), html_escape(text(d, "name")), html_escape(text(decl, "used")),
        html_escape(text(decl, "sku")), html_escape(text(d, "driver")),
        p.is_object() ? html_escape(text(p, "name") + " " + text(p, "version")) : "-",
        p.is_object() ? html_escape(text(p, "file_sha256")) : "-");
  }
  const auto& e = c.value("evidence", nlohmann::json::object());
  const auto& integrity = c.value("integrity", nlohmann::json::object());
  const auto& sig = integrity.value("signature", nlohmann::json());
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cmeter certificate</title><style>"
      "body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{border:1px solid "
      "#ccc;padding:.2em .5em}}"
      "table{{border-collapse:collapse}}.v-PASS{{color:#17803d;font-weight:600}}.v-FAIL{{color:#b3261e;font-"
      "weight:600}}"
      ".v-INCONCLUSIVE,.v-INCOMPLETE{{color:#a66300;font-weight:600}}</style></head><body>\n"
      "<h1>cmeter certificate: <span class=\"v-{0}\">{0}</span></h1>\n<p>Issued {1}.</p>\n"
      "<table><tr><th>device</th><th>name</th><th>declared spec</th><th>driver</th><th>plugin</th><th>plugin "
      "SHA-256</th></tr>\n{2}</table>\n"
      "<h2>Criteria</h2><table><tr><th>verdict</th><th>criterion</th><th>device</th><th>measured</th><th>95% "
      "CI</th>"
      "<th>required</th><th>reason</th></tr>\n{3}</table>\n"
      "<p>Evidence: report digest <code>{4}</code>, file SHA-256 <code>{5}</code>.<br>Certificate digest "
      "<code>{6}</code>; {7}.</p>\n"
      "</body></html>\n",
      html_escape(text(c, "verdict")), html_escape(text(c, "issued_utc")), devices, rows,
      html_escape(text(e, "report_digest")), html_escape(text(e, "report_file_sha256")),
      html_escape(text(integrity, "digest")),
      sig.is_object() ? "Ed25519 signature, key id " + html_escape(text(sig, "public_key_id"))
                      : "not signed");
}

}  // namespace cmeter
