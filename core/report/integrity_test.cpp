// Tests for report integrity: keys round trip through their files, a signed report verifies, and any
// change (content, digest, signature, key, integrity block) makes verification fail naming what failed.
#include "core/report/integrity.h"

#include <doctest/doctest.h>

#include <cctype>

#include "core/report/report_reader.h"
#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {

TrustPolicy trusting(const PublicKey& key, bool require_signature = false) {
  TrustPolicy p;
  p.trusted_keys = {key};
  p.require_signature = require_signature;
  return p;
}

bool mentions(const VerifyOutcome& v, const std::string& needle) {
  for (const auto& f : v.failures)
    if (f.find(needle) != std::string::npos) return true;
  return false;
}

TEST_CASE("integrity: key files round trip and are told apart") {
  auto keys = generate_key_pair();
  REQUIRE(keys.ok());
  auto secret = parse_secret_key_file(secret_key_file_text(*keys), "k");
  REQUIRE(secret.ok());
  CHECK(secret->public_key == keys->public_key);
  CHECK(secret->secret_key == keys->secret_key);
  auto pub = parse_public_key_file(public_key_file_text(keys->public_key), "k.pub");
  REQUIRE(pub.ok());
  CHECK(*pub == keys->public_key);
  CHECK(key_id(keys->public_key).size() == 16);
  CHECK(parse_secret_key_file(public_key_file_text(keys->public_key), "k.pub")
            .error()
            .message.find("public key") != std::string::npos);
  CHECK(parse_public_key_file(secret_key_file_text(*keys), "k").error().message.find("secret key") !=
        std::string::npos);
  CHECK_FALSE(parse_public_key_file("cmeter-ed25519-public-key-v1 abc\n", "short").ok());
  CHECK_FALSE(parse_secret_key_file("hello", "junk").ok());
  // A secret key whose embedded public half was altered is refused.
  auto text = secret_key_file_text(*keys);
  text[text.size() - 3] = text[text.size() - 3] == '0' ? '1' : '0';
  CHECK_FALSE(parse_secret_key_file(text, "corrupt").ok());
}

TEST_CASE("integrity: the canonical form text matches what build_report writes") {
  auto report = testing::make_report({});
  CHECK(report["integrity"]["canonical_form"] == kCanonicalFormText);
  auto v = verify_report(report, TrustPolicy{});
  CHECK(v.ok());
  CHECK_FALSE(v.is_signed);
}

TEST_CASE("integrity: sign and verify, and every kind of change fails") {
  auto keys = generate_key_pair();
  auto other = generate_key_pair();
  REQUIRE(keys.ok());
  REQUIRE(other.ok());
  auto report = testing::make_report({});
  auto signed_report = sign_report(report, *keys);
  REQUIRE(signed_report.ok());
  CHECK(load_report(*signed_report, "s.json").ok());  // still schema-valid
  auto good = verify_report(*signed_report, trusting(keys->public_key));
  CHECK_MESSAGE(good.ok(), (good.ok() ? "" : good.failures[0]));
  CHECK(good.is_signed);
  CHECK(good.signer_key_id == key_id(keys->public_key));
  // The key embedded in the report is not trusted for being there.
  auto untrusted = verify_report(*signed_report, TrustPolicy{});
  CHECK(untrusted.signature_ok);
  CHECK_FALSE(untrusted.signer_is_trusted);
  CHECK(mentions(untrusted, "signed by key id " + key_id(keys->public_key) +
                                ", which is not trusted (no key is trusted)"));

  auto content = *signed_report;
  content["results"][0]["metrics"][0]["statistics"]["median"] = 1.5e11;
  auto v = verify_report(content, trusting(keys->public_key));
  CHECK(mentions(v, "digest: recorded"));
  CHECK(mentions(v, "signature: does not verify"));

  auto rehashed = content;  // a forger who also recomputes the digest still fails the signature
  rehashed["integrity"]["digest"] = report_digest(rehashed);
  v = verify_report(rehashed, TrustPolicy{});
  CHECK(v.digest_ok);
  CHECK(mentions(v, "signature: does not verify"));

  auto resigned = sign_report(rehashed, *other);  // ...and re-signing with another key names the key
  REQUIRE(resigned.ok());
  v = verify_report(*resigned, trusting(keys->public_key));
  CHECK(v.signature_ok);  // a valid signature, by a key nobody trusts
  CHECK(mentions(v, "signed by key id " + key_id(other->public_key) +
                        ", which is not trusted (trusted: " + key_id(keys->public_key) + ")"));

  auto bad_sig = *signed_report;
  std::string sig = bad_sig["integrity"]["signature"]["signature"];
  sig[5] = sig[5] == 'a' ? 'b' : 'a';
  bad_sig["integrity"]["signature"]["signature"] = sig;
  CHECK(mentions(verify_report(bad_sig, TrustPolicy{}), "signature: does not verify"));

  auto upper = *signed_report;  // the same key bytes in upper case are still a change to the report
  std::string pk = upper["integrity"]["signature"]["public_key"];
  for (auto& ch : pk) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  upper["integrity"]["signature"]["public_key"] = pk;
  CHECK(mentions(verify_report(upper, TrustPolicy{}), "lower-case hex"));

  auto bad_id = *signed_report;
  bad_id["integrity"]["signature"]["public_key_id"] = "0000000000000000";
  CHECK(mentions(verify_report(bad_id, TrustPolicy{}), "public_key_id"));

  auto bad_form = *signed_report;
  bad_form["integrity"]["canonical_form"] = "something else";
  CHECK(mentions(verify_report(bad_form, TrustPolicy{}), "canonical_form"));

  auto extra = *signed_report;
  extra["integrity"]["comment"] = "trust me";
  CHECK(mentions(verify_report(extra, TrustPolicy{}), "unknown member 'comment'"));

  CHECK(verify_report(report, trusting(keys->public_key)).ok());  // unsigned: a note, not a failure
  CHECK(mentions(verify_report(report, trusting(keys->public_key, true)),
                 "not signed (a signature is required)"));

  auto tampered = content;  // signing refuses a report whose digest does not match
  CHECK_FALSE(sign_report(tampered, *keys).ok());
}

TEST_CASE("integrity: flipping any byte of a signed report's text changes or breaks it") {
  auto keys = generate_key_pair();
  REQUIRE(keys.ok());
  auto signed_report = sign_report(testing::make_report({}), *keys);
  REQUIRE(signed_report.ok());
  const std::string text = signed_report->dump(2);
  int checked = 0;
  for (size_t at = 0; at < 2 * text.size(); ++at) {
    const size_t i = at / 2;
    std::string flipped = text;
    flipped[i] = static_cast<char>(flipped[i] ^ (at % 2 == 0 ? 0x01 : 0x20));  // 0x20: letter case
    auto parsed = nlohmann::json::parse(flipped, nullptr, false);
    if (parsed.is_discarded()) continue;     // not JSON any more: verify refuses to read it
    if (parsed == *signed_report) continue;  // the same content (e.g. 'e' and 'E' in an exponent)
    ++checked;
    auto loaded = load_report(parsed, "flipped.json");
    bool verified = loaded.ok() && verify_report(parsed, trusting(keys->public_key)).ok();
    CHECK_MESSAGE(!verified, "byte " << i << " flipped still verifies");
  }
  CHECK(checked > 100);
}

}  // namespace
}  // namespace cmeter
