// Build facts from core/CMakeLists.txt: the version and build type as compile definitions on this file
// only, the commit from git_version.h, which core/util/git_version.cmake rewrites at build time when
// the commit or its dirty flag changes (so a new commit rebuilds one file, not the core).
#include "core/util/version.h"

#if __has_include("git_version.h")
#include "git_version.h"
#endif

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
