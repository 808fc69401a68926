// libFuzzer target: the profile loader (YAML text -> validated Profile). Any input must give a Profile
// or an Error with a message; never a crash, a hang, an uncaught exception or a sanitizer report.
// Build and run: scripts/test-sanitizers.sh (short), docs/reliability.md (long runs).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/profile/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = cmeter::profile::load_string(text, "fuzz.yaml");
  if (!profile.ok() && profile.error().message.empty()) __builtin_trap();  // errors must say something
  return 0;
}
