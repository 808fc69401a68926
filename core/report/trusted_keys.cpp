// Trusted signing keys: --pubkey files and the trust directory, read into a TrustPolicy.
#include "core/report/trusted_keys.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "core/util/files.h"

namespace cmeter {

std::string default_trust_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0')
    return (std::filesystem::path(xdg) / "cmeter" / "trusted-keys").string();
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return (std::filesystem::path(home) / ".config" / "cmeter" / "trusted-keys").string();
  return "";
}

Result<TrustPolicy> load_trust_policy(const std::vector<std::string>& pubkey_files,
                                      const std::string& trust_dir, bool require_signature) {
  TrustPolicy policy;
  policy.require_signature = require_signature;
  std::vector<std::string> files = pubkey_files;
  std::error_code ec;
  if (!trust_dir.empty() && std::filesystem::is_directory(trust_dir, ec)) {
    std::vector<std::string> in_dir;
    for (const auto& entry : std::filesystem::directory_iterator(trust_dir, ec))
      if (entry.path().extension() == ".pub") in_dir.push_back(entry.path().string());
    std::sort(in_dir.begin(), in_dir.end());
    files.insert(files.end(), in_dir.begin(), in_dir.end());
  }
  for (const auto& file : files) {
    auto text = read_file(file);
    if (!text)
      return make_error(ErrorCode::kInvalidArgument, "trusted key {}: cannot open ({})", file,
                        text.error().message);
    auto key = parse_public_key_file(*text, file);
    CMETER_TRY(key);
    if (std::find(policy.trusted_keys.begin(), policy.trusted_keys.end(), *key) == policy.trusted_keys.end())
      policy.trusted_keys.push_back(*key);
  }
  policy.how_to_trust =
      trust_dir.empty()
          ? "trust it with --pubkey FILE.pub"
          : fmt::format("trust it with --pubkey FILE.pub or by copying FILE.pub into {}", trust_dir);
  return policy;
}

VerifyOutcome verify_loaded_report(LoadedReport& report, const TrustPolicy& policy) {
  VerifyOutcome v = verify_report(report.json, policy);
  if (!v.is_signed)
    report.signature_status = v.digest_ok ? "not signed" : "not signed; digest does NOT match the content";
  else if (v.ok())
    report.signature_status = fmt::format("signed (Ed25519, key id {}, trusted)", v.signer_key_id);
  else if (v.signature_ok && v.digest_ok)
    report.signature_status = fmt::format("signed by key id {}, which is NOT trusted", v.signer_key_id);
  else
    report.signature_status = fmt::format("signed by key id {}, signature does NOT verify", v.signer_key_id);
  return v;
}

}  // namespace cmeter
