// The tool's version and build facts, defined once: the CMake project version (and the git commit,
// its dirty flag and the build type) reach only core/util/version.cpp, as compile definitions, and
// every other file (--version, reports, plugin check) asks here.
#pragma once

namespace cmeter {

// "0.1.0": project(cmeter VERSION ...) in the top-level CMakeLists.txt.
const char* tool_version();
// Short commit hash the binary was built from, "unknown" outside a git checkout.
const char* build_git_sha();
// The checkout had uncommitted changes to tracked files when configured.
bool build_git_dirty();
// CMAKE_BUILD_TYPE, e.g. "RelWithDebInfo".
const char* build_type();

}  // namespace cmeter
