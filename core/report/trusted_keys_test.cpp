// Tests for the trust store: keys from files and a directory, errors naming the file, the default
// directory from the environment, and what a verified report says about its signature.
#include "core/report/trusted_keys.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "tests/support/report_fixtures.h"

namespace cmeter {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& label) {
  fs::path dir = fs::temp_directory_path() / ("cmeter-trust-" + label + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST_CASE("trusted keys: --pubkey files and every *.pub of the directory, each once") {
  auto a = generate_key_pair(), b = generate_key_pair();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  fs::path dir = fresh_dir("dir");
  std::ofstream(dir / "a.pub") << public_key_file_text(a->public_key);
  std::ofstream(dir / "notes.txt") << "not a key";
  fs::path given = dir.parent_path() / ("cmeter-trust-b-" + std::to_string(::getpid()) + ".pub");
  std::ofstream(given) << public_key_file_text(b->public_key);
  auto policy = load_trust_policy({given.string(), (dir / "a.pub").string()}, dir.string(), true);
  REQUIRE(policy.ok());
  CHECK(policy->trusted_keys.size() == 2);  // a.pub given and in the directory: once
  CHECK(policy->require_signature);
  CHECK(policy->how_to_trust.find(dir.string()) != std::string::npos);
  auto none = load_trust_policy({}, (dir / "missing").string(), false);
  REQUIRE(none.ok());
  CHECK(none->trusted_keys.empty());
  std::ofstream(dir / "bad.pub") << "cmeter-ed25519-public-key-v1 xyz\n";
  auto bad = load_trust_policy({}, dir.string(), false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.pub") != std::string::npos);
  auto missing = load_trust_policy({"/nonexistent/k.pub"}, "", false);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/k.pub: cannot open") != std::string::npos);
  fs::remove(given);
  fs::remove_all(dir);
}

TEST_CASE("trusted keys: the default directory follows XDG_CONFIG_HOME, then HOME") {
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const std::string saved = old_xdg ? old_xdg : "";
  ::setenv("XDG_CONFIG_HOME", "/x/config", 1);
  CHECK(default_trust_dir() == "/x/config/cmeter/trusted-keys");
  ::unsetenv("XDG_CONFIG_HOME");
  if (std::getenv("HOME") != nullptr)
    CHECK(default_trust_dir() == std::string(std::getenv("HOME")) + "/.config/cmeter/trusted-keys");
  if (old_xdg != nullptr) ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
}

TEST_CASE("trusted keys: a verified report says whether its signature is trusted") {
  auto keys = generate_key_pair();
  REQUIRE(keys.ok());
  auto signed_json = sign_report(testing::make_report({}), *keys);
  REQUIRE(signed_json.ok());
  auto loaded = load_report(*signed_json, "s.json");
  REQUIRE(loaded.ok());
  CHECK(signature_summary(*loaded) == "signed, signature not checked");
  TrustPolicy nobody;
  CHECK_FALSE(verify_loaded_report(*loaded, nobody).ok());
  CHECK(loaded->signature_status ==
        "signed by key id " + key_id(keys->public_key) + ", which is NOT trusted");
  TrustPolicy trusting;
  trusting.trusted_keys = {keys->public_key};
  CHECK(verify_loaded_report(*loaded, trusting).ok());
  CHECK(signature_summary(*loaded) == "signed (Ed25519, key id " + key_id(keys->public_key) + ", trusted)");
  auto changed = *signed_json;
  changed["run"]["id"] = "forged";
  auto forged = load_report(changed, "f.json");
  REQUIRE(forged.ok());
  CHECK_FALSE(verify_loaded_report(*forged, trusting).ok());
  CHECK(forged->signature_status.find("signature does NOT verify") != std::string::npos);
}

}  // namespace
}  // namespace cmeter
