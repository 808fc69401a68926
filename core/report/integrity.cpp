// Digest and Ed25519 signature checks over the canonical form (libsodium).
#include "core/report/integrity.h"

#include <algorithm>

#include <sodium.h>

#include <cctype>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/report/report.h"
#include "core/util/sha256.h"

namespace cmeter {
namespace {

constexpr const char* kSecretPrefix = "cmeter-ed25519-secret-key-v1";
constexpr const char* kPublicPrefix = "cmeter-ed25519-public-key-v1";

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Strict lower/upper-case hex of exactly out.size() bytes.
template <size_t N>
bool from_hex(const std::string& hex, std::array<uint8_t, N>& out) {
  if (hex.size() != 2 * N) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < N; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// The hex word after `prefix` on the first non-comment line that starts with it.
std::optional<std::string> key_word(const std::string& text, const char* prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string tag, value, extra;
    words >> tag >> value;
    if (tag == prefix && !value.empty() && !(words >> extra)) return value;
  }
  return std::nullopt;
}

std::string content_bytes(const nlohmann::json& report) {
  nlohmann::json copy = report;
  if (copy.is_object()) copy.erase("integrity");
  return canonical_json(copy);
}

std::string str_member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string to_hex(const uint8_t* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

Result<KeyPair> generate_key_pair() {
  if (!sodium_ready()) return make_error(ErrorCode::kInternal, "libsodium failed to initialise");
  KeyPair keys;
  if (crypto_sign_keypair(keys.public_key.data(), keys.secret_key.data()) != 0)
    return make_error(ErrorCode::kInternal, "crypto_sign_keypair failed");
  return keys;
}

std::string key_id(const PublicKey& key) {
  std::string raw(reinterpret_cast<const char*>(key.data()), key.size());
  return sha256_hex(raw).substr(0, 16);
}

std::string secret_key_file_text(const KeyPair& keys) {
  return fmt::format(
      "# cmeter Ed25519 secret key, key id {}. Keep it private; the public half is in the .pub file.\n{} "
      "{}\n",
      key_id(keys.public_key), kSecretPrefix, to_hex(keys.secret_key.data(), keys.secret_key.size()));
}

std::string public_key_file_text(const PublicKey& key) {
  return fmt::format("# cmeter Ed25519 public key, key id {}\n{} {}\n", key_id(key), kPublicPrefix,
                     to_hex(key.data(), key.size()));
}

Result<KeyPair> parse_secret_key_file(const std::string& text, const std::string& source) {
  if (!sodium_ready()) return make_error(ErrorCode::kInternal, "libsodium failed to initialise");
  auto word = key_word(text, kSecretPrefix);
  if (!word) {
    if (key_word(text, kPublicPrefix))
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: this is a public key; signing needs the secret key file", source);
    return make_error(ErrorCode::kInvalidArgument, "{}: not a cmeter secret key file (no '{} <hex>' line)",
                      source, kSecretPrefix);
  }
  KeyPair keys;
  if (!from_hex(*word, keys.secret_key))
    return make_error(ErrorCode::kInvalidArgument, "{}: the secret key must be 128 hex digits", source);
  if (crypto_sign_ed25519_sk_to_pk(keys.public_key.data(), keys.secret_key.data()) != 0)
    return make_error(ErrorCode::kInvalidArgument, "{}: cannot derive the public key", source);
  // The secret key embeds its public half; check it is consistent with the seed.
  PublicKey derived{};
  SecretKey again{};
  std::array<uint8_t, 32> seed{};
  crypto_sign_ed25519_sk_to_seed(seed.data(), keys.secret_key.data());
  crypto_sign_seed_keypair(derived.data(), again.data(), seed.data());
  if (derived != keys.public_key)
    return make_error(ErrorCode::kInvalidArgument, "{}: the secret key is corrupt (its halves do not match)",
                      source);
  return keys;
}

Result<PublicKey> parse_public_key_file(const std::string& text, const std::string& source) {
  auto word = key_word(text, kPublicPrefix);
  if (!word) {
    if (key_word(text, kSecretPrefix))
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: this is a secret key; pass the public key file (.pub) to --pubkey", source);
    return make_error(ErrorCode::kInvalidArgument, "{}: not a cmeter public key file (no '{} <hex>' line)",
                      source, kPublicPrefix);
  }
  PublicKey key{};
  if (!from_hex(*word, key))
    return make_error(ErrorCode::kInvalidArgument, "{}: the public key must be 64 hex digits", source);
  return key;
}

Result<nlohmann::json> sign_report(const nlohmann::json& report, const KeyPair& keys) {
  if (!sodium_ready()) return make_error(ErrorCode::kInternal, "libsodium failed to initialise");
  if (!report.is_object() || !report.contains("integrity") || !report["integrity"].is_object())
    return make_error(ErrorCode::kInvalidArgument, "the report has no integrity block");
  const std::string content = content_bytes(report);
  const std::string computed = sha256_hex(content);
  const std::string recorded = str_member(report["integrity"], "digest");
  if (recorded != computed)
    return make_error(
        ErrorCode::kInvalidArgument,
        "the recorded digest {} does not match the content ({}): the report was changed after it "
        "was written; refusing to sign it",
        recorded.empty() ? "(none)" : recorded, computed);
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(content.data()),
                       content.size(), keys.secret_key.data());
  nlohmann::json out = report;
  out["integrity"]["signature"] = {{"algorithm", "ed25519"},
                                   {"public_key", to_hex(keys.public_key.data(), keys.public_key.size())},
                                   {"public_key_id", key_id(keys.public_key)},
                                   {"signature", to_hex(signature.data(), signature.size())}};
  return out;
}

VerifyOutcome verify_report(const nlohmann::json& report, const TrustPolicy& policy) {
  VerifyOutcome v;
  if (!sodium_ready()) {
    v.failures.push_back("libsodium failed to initialise");
    return v;
  }
  if (!report.is_object() || !report.contains("integrity") || !report["integrity"].is_object()) {
    v.failures.push_back("integrity: the report has no integrity block");
    return v;
  }
  const nlohmann::json& integrity = report["integrity"];
  for (auto it = integrity.begin(); it != integrity.end(); ++it)
    if (it.key() != "digest_algorithm" && it.key() != "canonical_form" && it.key() != "digest" &&
        it.key() != "signature")
      v.failures.push_back(
          fmt::format("integrity: unknown member '{}' (not covered by the digest)", it.key()));
  if (str_member(integrity, "digest_algorithm") != "sha256")
    v.failures.push_back(fmt::format("integrity.digest_algorithm: expected sha256, found '{}'",
                                     str_member(integrity, "digest_algorithm")));
  if (str_member(integrity, "canonical_form") != kCanonicalFormText)
    v.failures.push_back("integrity.canonical_form: not the canonical form this cmeter computes (changed?)");
  const std::string content = content_bytes(report);
  v.computed_digest = sha256_hex(content);
  v.recorded_digest = str_member(integrity, "digest");
  v.digest_ok = v.recorded_digest == v.computed_digest;
  if (!v.digest_ok)
    v.failures.push_back(
        fmt::format("digest: recorded {} but the content hashes to {} (the report was changed "
                    "after it was written)",
                    v.recorded_digest.empty() ? "(none)" : v.recorded_digest, v.computed_digest));
  auto sig_it = integrity.find("signature");
  if (sig_it == integrity.end()) {
    if (policy.require_signature)
      v.failures.push_back("signature: the report is not signed (a signature is required)");
    else
      v.notes.push_back("not signed (digest only)");
    return v;
  }
  v.is_signed = true;
  const nlohmann::json& sig = *sig_it;
  if (!sig.is_object()) {
    v.failures.push_back("signature: integrity.signature is not an object");
    return v;
  }
  for (auto it = sig.begin(); it != sig.end(); ++it)
    if (it.key() != "algorithm" && it.key() != "public_key" && it.key() != "public_key_id" &&
        it.key() != "signature")
      v.failures.push_back(fmt::format("signature: unknown member '{}'", it.key()));
  if (str_member(sig, "algorithm") != "ed25519")
    v.failures.push_back(
        fmt::format("signature.algorithm: expected ed25519, found '{}'", str_member(sig, "algorithm")));
  PublicKey embedded{};
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  // Lower-case hex only: the bytes of the block are checked exactly, so "aB" and "ab" are not the same.
  if (!from_hex(str_member(sig, "public_key"), embedded) ||
      to_hex(embedded.data(), embedded.size()) != str_member(sig, "public_key")) {
    v.failures.push_back("signature.public_key: not 64 lower-case hex digits");
    return v;
  }
  v.signer_key_id = key_id(embedded);
  if (str_member(sig, "public_key_id") != v.signer_key_id)
    v.failures.push_back(fmt::format("signature.public_key_id: recorded '{}' but the embedded key's id is {}",
                                     str_member(sig, "public_key_id"), v.signer_key_id));
  v.signer_is_trusted = std::find(policy.trusted_keys.begin(), policy.trusted_keys.end(), embedded) !=
                        policy.trusted_keys.end();
  if (!v.signer_is_trusted) {
    std::vector<std::string> ids;
    for (const auto& k : policy.trusted_keys) ids.push_back(key_id(k));
    v.failures.push_back(
        fmt::format("signature: signed by key id {}, which is not trusted ({}){}{}", v.signer_key_id,
                    ids.empty() ? "no key is trusted" : "trusted: " + fmt::format("{}", fmt::join(ids, ", ")),
                    policy.how_to_trust.empty() ? "" : "; ", policy.how_to_trust));
  }
  if (!from_hex(str_member(sig, "signature"), signature) ||
      to_hex(signature.data(), signature.size()) != str_member(sig, "signature")) {
    v.failures.push_back("signature.signature: not 128 lower-case hex digits");
    return v;
  }
  v.signature_ok =
      crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(content.data()),
                                  content.size(), embedded.data()) == 0;
  if (!v.signature_ok)
    v.failures.push_back(
        fmt::format("signature: does not verify with key id {} over the report's content", v.signer_key_id));
  return v;
}

}  // namespace cmeter
