// The tool's version and build facts, defined once: the CMake project version, the build type and the
// git commit with its dirty flag (read at build time) reach only core/util/version.cpp, and every
// other file (--version, reports, plugin check) asks here.
#pragma once

namespace cmeter {

// "0.1.0": project(cmeter VERSION ...) in the top-level CMakeLists.txt.
const char* tool_version();
// Short commit hash the binary was built from, "unknown" outside a git checkout.
const char* build_git_sha();
// The checkout had uncommitted changes to tracked files when built.
bool build_git_dirty();
// CMAKE_BUILD_TYPE, e.g. "RelWithDebInfo".
const char* build_type();

}  // namespace cmeter
