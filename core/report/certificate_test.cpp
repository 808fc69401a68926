// Certificates: built only from an unchanged report with criteria; verify passes on the pair as
// written and fails after one flipped byte of the certificate or of its evidence; signed with a
// trusted key it verifies, re-signed by another key it does not; exit codes per verdict.
#include "core/report/certificate.h"

#include <doctest/doctest.h>

#include "core/report/report.h"

namespace cmeter {
namespace {

std::string evidence_bytes(const std::string& verdict) {
  ReportParts parts;
  parts.run = {{"id", "run-1"}, {"profile", {{"name", "cert-cpu"}, {"version", "1.0.0"}, {"sha256", "ab"}}}};
  parts.devices = {{"cpu:0",
                    {{"name", std::string("AMD EPYC")},
                     {"declared.used", std::string("plugin")},
                     {"peak.source", std::string("computed from the measured clock")}}}};
  CriterionOutcome o;
  o.id = "fp32-gemm-vs-declared";
  o.metric = "gemm-f32.flops_per_s";
  o.device = "cpu:0";
  o.comparison = ">=";
  o.threshold = 0.002;
  o.relative_to = "peak.flops.f32";
  o.required = 8e8;
  o.measured = 1.7e9;
  o.measured_ci_low = 1.6e9;
  o.measured_ci_high = 1.8e9;
  o.verdict = verdict;
  o.reason = "measured 1.7e+09 (95% CI 1.6e+09 .. 1.8e+09): whole CI >= 8e+08";
  parts.criteria.outcomes = {o};
  parts.criteria.verdict = verdict;
  return build_report(parts).dump(2) + "\n";
}

TEST_CASE("certificate: verifies against its evidence; a flipped byte in either fails") {
  const std::string bytes = evidence_bytes("PASS");
  auto cert = build_certificate(nlohmann::json::parse(bytes), bytes, "2026-12-04T21:00:00Z");
  REQUIRE(cert.ok());
  CHECK((*cert)["verdict"] == "PASS");
  CHECK(certificate_exit_code(*cert) == 0);
  CHECK((*cert)["devices"][0]["declared"]["used"] == "plugin");
  CHECK(certificate_markdown(*cert).find("fp32-gemm-vs-declared") != std::string::npos);
  CHECK(certificate_html(*cert).find("<td class=\"v-PASS\">PASS</td>") != std::string::npos);
  TrustPolicy nobody;
  CHECK(verify_certificate(*cert, bytes, nobody).ok());

  std::string flipped = bytes;
  flipped[flipped.find("1700000000")] = '2';  // the measured value in the evidence
  auto bad_evidence = verify_certificate(*cert, flipped, nobody);
  CHECK(!bad_evidence.ok());
  CHECK(bad_evidence.failures[0].find("evidence") != std::string::npos);

  nlohmann::json changed = *cert;
  changed["criteria"][0]["verdict"] = "FAIL";
  CHECK(!verify_certificate(changed, bytes, nobody).ok());

  // Signed: trusted key verifies; the same certificate re-signed by another key does not.
  auto keys = generate_key_pair();
  auto other = generate_key_pair();
  REQUIRE((keys.ok() && other.ok()));
  auto signed_cert = sign_report(*cert, *keys);
  REQUIRE(signed_cert.ok());
  TrustPolicy trusted;
  trusted.trusted_keys = {keys->public_key};
  trusted.require_signature = true;
  CHECK(verify_certificate(*signed_cert, bytes, trusted).ok());
  CHECK(!verify_certificate(*sign_report(*cert, *other), bytes, trusted).ok());
  CHECK(!verify_certificate(*cert, bytes, trusted).ok());  // unsigned, signature required
}

TEST_CASE("certificate: refuses a changed report or one without criteria; exit codes per verdict") {
  const std::string fail_bytes = evidence_bytes("FAIL");
  auto failed = build_certificate(nlohmann::json::parse(fail_bytes), fail_bytes, "t");
  REQUIRE(failed.ok());
  CHECK(certificate_exit_code(*failed) == 1);
  const std::string inconclusive = evidence_bytes("INCONCLUSIVE");
  CHECK(certificate_exit_code(*build_certificate(nlohmann::json::parse(inconclusive), inconclusive, "t")) ==
        3);

  nlohmann::json changed = nlohmann::json::parse(fail_bytes);
  changed["criteria"][0]["verdict"] = "PASS";  // a FAIL edited into a PASS after the run
  CHECK(!build_certificate(changed, changed.dump(), "t").ok());

  ReportParts none;
  none.run = {{"id", "r"}};
  const nlohmann::json no_criteria = build_report(none);
  auto refused = build_certificate(no_criteria, no_criteria.dump(), "t");
  REQUIRE(!refused.ok());
  CHECK(refused.error().message.find("no criteria") != std::string::npos);
}

}  // namespace
}  // namespace cmeter
