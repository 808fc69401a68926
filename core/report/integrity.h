// Integrity of a report: the digest (SHA-256 of the canonical form, report.h) and an optional Ed25519
// signature (libsodium) over the same canonical bytes, with the signer's public key and key id, so
// `cmeter report verify` can say exactly what does not match: the digest (content changed), the
// signature (signed content or signature changed), the key (signed by someone else), or the
// integrity block itself (unknown algorithm or canonical form).
//
// Key files are one line of text each (comments start with '#'):
//   secret: "cmeter-ed25519-secret-key-v1 <128 hex digits>" (libsodium's 64-byte secret key)
//   public: "cmeter-ed25519-public-key-v1 <64 hex digits>"
// The key id is the first 16 hex digits of SHA-256 of the 32 public key bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace cmeter {

// The canonical_form text written into (and required in) integrity blocks of this schema major.
inline constexpr const char* kCanonicalFormText =
    "report without 'integrity', nlohmann::json dump(): sorted keys, no whitespace";

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};

Result<KeyPair> generate_key_pair();
std::string key_id(const PublicKey& key);
std::string to_hex(const uint8_t* data, size_t size);

std::string secret_key_file_text(const KeyPair& keys);
std::string public_key_file_text(const PublicKey& key);
// `source` names the file in errors. A secret key file yields its key pair (the public half is derived).
Result<KeyPair> parse_secret_key_file(const std::string& text, const std::string& source);
Result<PublicKey> parse_public_key_file(const std::string& text, const std::string& source);

// Signs `report` (whose recorded digest must match its content: a report is never signed over a
// mismatch) and returns it with integrity.signature set (replacing an earlier signature).
Result<nlohmann::json> sign_report(const nlohmann::json& report, const KeyPair& keys);

struct VerifyOutcome {
  std::string recorded_digest;
  std::string computed_digest;
  bool digest_ok = false;
  bool is_signed = false;
  bool signature_ok = false;
  std::string signer_key_id;          // from the report's signature block
  bool signer_is_trusted = false;     // signed by one of the policy's trusted keys
  std::vector<std::string> failures;  // one line each, naming what failed
  std::vector<std::string> notes;     // facts worth printing (e.g. "not signed")
  bool ok() const { return failures.empty(); }
};

// Whom a verification trusts. A signature means something only when its key is one the user trusts:
// a report re-signed with any other key must not verify, so the key embedded in a report is never
// trusted for being there.
struct TrustPolicy {
  std::vector<PublicKey> trusted_keys;  // from --pubkey and the trust directory (trusted_keys.h)
  bool require_signature = false;       // an unsigned report fails
  std::string how_to_trust;             // appended to the "not trusted" failure: how to add a key
};

// Recomputes the digest and checks the signature: it must verify over the content with the embedded
// key, and that key must be one of `policy.trusted_keys` (otherwise a failure naming the key id).
// An unsigned report passes with a note, unless policy.require_signature.
VerifyOutcome verify_report(const nlohmann::json& report, const TrustPolicy& policy);

}  // namespace cmeter
