// Build facts from core/CMakeLists.txt (compile definitions on this file only, so a new commit
// rebuilds one file, not the core).
#include "core/util/version.h"

#ifndef CMETER_VERSION
#define CMETER_VERSION "0.0.0"
#endif
#ifndef CMETER_GIT_SHA
#define CMETER_GIT_SHA "unknown"
#endif
#ifndef CMETER_GIT_DIRTY
#define CMETER_GIT_DIRTY 0
#endif
#ifndef CMETER_BUILD_TYPE
#define CMETER_BUILD_TYPE "unknown"
#endif

namespace cmeter {

const char* tool_version() {
  return CMETER_VERSION;
}

const char* build_git_sha() {
  return CMETER_GIT_SHA;
}

bool build_git_dirty() {
  return CMETER_GIT_DIRTY != 0;
}

const char* build_type() {
  return CMETER_BUILD_TYPE;
}

}  // namespace cmeter
