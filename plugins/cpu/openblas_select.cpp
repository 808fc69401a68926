// plugins/cpu/openblas_select.cpp - chooses OpenBLAS's kernel set before OpenBLAS initialises.
//
// Why this file exists: see openblas_select.hpp. The constructor below has priority 101, so it runs
// before every default-priority constructor of the same shared object, including the one of the
// statically linked OpenBLAS (gotoblas_init), which reads OPENBLAS_CORETYPE exactly once.
#include "openblas_select.hpp"
#include "cpu_level.hpp"

#include <cblas.h>
#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace cmeter::cpu {
namespace {

struct Selection {
  bool had_previous = false;
  char previous[64] = {};
  const char* choice = nullptr;  // what we asked OpenBLAS for; nullptr = left alone
  const char* reason = "";
  bool restored = false;
};
Selection g_selection;

}  // namespace

// Runs at load time, before OpenBLAS's constructor; only getenv/setenv and CPUID, no allocation
// beyond setenv's own.
__attribute__((constructor(101))) static void select_openblas_coretype() {
  Selection& s = g_selection;
  const char* prev = std::getenv("OPENBLAS_CORETYPE");
  if (prev != nullptr) {
    s.had_previous = true;
    std::strncpy(s.previous, prev, sizeof s.previous - 1);
  }
  const char* force = std::getenv("CMETER_CPU_OPENBLAS_CORETYPE");
  if (force != nullptr && std::strcmp(force, "inherit") == 0) {
    s.reason = prev != nullptr
                   ? "OPENBLAS_CORETYPE from the environment, CMETER_CPU_OPENBLAS_CORETYPE=inherit"
                   : "OpenBLAS's own detection, CMETER_CPU_OPENBLAS_CORETYPE=inherit";
    return;
  }
  if (force != nullptr && *force != '\0' && std::strcmp(force, "auto") != 0) {
    s.choice = force;
    s.reason = "forced by CMETER_CPU_OPENBLAS_CORETYPE";
  } else {
    if (cpu_is_x86_64_v4()) {
      s.choice = "SkylakeX";
      s.reason = "chosen by cmeter for AVX-512";
    } else if (cpu_is_x86_64_v3()) {
      s.choice = "Haswell";
      s.reason = "chosen by cmeter for AVX2";
    } else {
      s.reason = prev != nullptr ? "OPENBLAS_CORETYPE from the environment (no AVX2)"
                                 : "OpenBLAS's own detection (no AVX2)";
      return;
    }
  }
  setenv("OPENBLAS_CORETYPE", s.choice, 1);
}

void openblas_restore_environment() {
  Selection& s = g_selection;
  if (s.choice == nullptr || s.restored) return;
  s.restored = true;
  if (s.had_previous)
    setenv("OPENBLAS_CORETYPE", s.previous, 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
}

std::string openblas_description() {
  const Selection& s = g_selection;
  std::string config = openblas_get_config();
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21"
  const auto second_space = config.find(' ', config.find(' ') + 1);
  std::string out = config.substr(0, second_space) + " " + openblas_get_corename() + " kernels";
  const bool took = s.choice != nullptr && strcasecmp(openblas_get_corename(), s.choice) == 0;
  if (s.choice != nullptr && !took)
    out += std::string(" (asked for ") + s.choice + " but OpenBLAS initialised first: shared library)";
  else
    out += std::string(" (") + s.reason + ")";
  if (took && s.had_previous && strcasecmp(s.previous, s.choice) != 0)
    out += std::string(", OPENBLAS_CORETYPE=") + s.previous + " in the environment not used";
  return out;
}

void openblas_use_threads(int threads) {
  openblas_set_num_threads(threads);
}

}  // namespace cmeter::cpu
