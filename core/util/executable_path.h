// Where this executable lives: workers re-execute it, and plugins and profiles are found beside it
// (<exe>/../lib/cmeter/plugins, <exe>/../share/cmeter/profiles).
#pragma once

#include <string>

namespace cmeter {

// readlink /proc/self/exe; "/proc/self/exe" itself when that fails (still executable).
std::string self_executable_path();
// The directory holding this executable; "." when unknown.
std::string self_executable_dir();

}  // namespace cmeter
