// Certificates: the one-page, signed verdict of a certification run (docs/certification.md). A
// certificate is built from a finished report (the evidence): device (name, declared-spec entry used,
// driver, plugin and its SHA-256), the verdict per criterion with measured value, CI and threshold,
// throttled cases, and the evidence's digest and file SHA-256. It has the report's integrity block
// shape (digest over the canonical form, optional Ed25519 signature, core/report/integrity.h), so it is
// signed and verified by the same code and trusted-keys rules; verify_certificate also checks it
// against its evidence, so a flipped byte in either is caught.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/integrity.h"
#include "core/util/result.h"

namespace cmeter {

inline constexpr const char* kCertificateSchema = "cmeter.certificate";
inline constexpr const char* kCertificateSchemaVersion = "1.0.0";

// `report`: the evidence as parsed; `report_bytes`: its file as written (hashed whole). Refuses a report
// whose recorded digest does not match its content, or that has no criteria (nothing to certify).
Result<nlohmann::json> build_certificate(const nlohmann::json& report, const std::string& report_bytes,
                                         const std::string& issued_utc);

// 0 PASS, 1 FAIL, 3 anything else (INCONCLUSIVE, INCOMPLETE).
int certificate_exit_code(const nlohmann::json& certificate);

// The certificate's own digest and signature (policy's trusted keys), then the evidence: its file
// SHA-256, its digest, its own integrity, and that its criteria and verdict are the certificate's.
VerifyOutcome verify_certificate(const nlohmann::json& certificate, const std::string& report_bytes,
                                 const TrustPolicy& policy);

// One page each: the device table, the verdict per criterion, the evidence and signature lines.
std::string certificate_markdown(const nlohmann::json& certificate);
std::string certificate_html(const nlohmann::json& certificate);

}  // namespace cmeter
