// `cmeter keygen [-o KEY]`: a new Ed25519 key pair (libsodium) for `cmeter report sign`: the secret key
// file (mode 0600) and KEY.pub. Refuses to overwrite existing files unless --force.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/report/integrity.h"

namespace cmeter::cli {
namespace {

struct KeygenOptions {
  std::string path = "cmeter-signing.key";
  bool force = false;
};

// Not the CLI's output writer (write_output): the secret key file gets its mode before its content,
// so it never exists readable by others.
bool write_private(const std::string& path, const std::string& text, mode_t mode) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  ::chmod(path.c_str(), mode);  // before the secret is written
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int run_keygen(const KeygenOptions& s) {
  const std::string pub = s.path + ".pub";
  for (const auto& p : {s.path, pub})
    if (std::filesystem::exists(p) && !s.force) {
      std::cerr << fmt::format("error: {} exists; pass --force to overwrite it\n", p);
      return kExitUsage;
    }
  auto keys = generate_key_pair();
  if (!keys) {
    std::cerr << "error: " << keys.error().message << "\n";
    return kExitUsage;
  }
  if (!write_private(s.path, secret_key_file_text(*keys), 0600) ||
      !write_private(pub, public_key_file_text(keys->public_key), 0644)) {
    std::cerr << fmt::format("error: cannot write {} / {}\n", s.path, pub);
    return kExitUsage;
  }
  std::cout << fmt::format("key id {}\nsecret key: {} (keep it private)\npublic key: {}\n",
                           key_id(keys->public_key), s.path, pub);
  return kExitOk;
}

}  // namespace

Subcommand register_keygen(CLI::App& app) {
  auto s = std::make_shared<KeygenOptions>();
  auto* cmd =
      app.add_subcommand("keygen", "Create an Ed25519 key pair for signing reports (KEY and KEY.pub)");
  cmd->add_option("--output,-o", s->path, "Secret key file to create; the public key goes to <file>.pub")
      ->capture_default_str();
  cmd->add_flag("--force", s->force, "Overwrite existing key files");
  return {cmd, [s](const std::vector<std::string>&) { return run_keygen(*s); }};
}

}  // namespace cmeter::cli
