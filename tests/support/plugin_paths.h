// Paths of the test-only plugins the unit tests load (stub variants and fault plugins), from the
// build's CMETER_TEST_PLUGIN_DIR, so every test names them one way.
#pragma once

#include <string>

namespace cmeter::test_support {

inline std::string test_plugin(const std::string& name) {
  return std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-" + name + ".so";
}
inline std::string fault_plugin(const std::string& name) {
  return std::string(CMETER_TEST_PLUGIN_DIR) + "/../fault-plugins/libcmeter-" + name + ".so";
}

}  // namespace cmeter::test_support
