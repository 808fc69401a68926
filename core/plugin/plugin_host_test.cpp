// Tests for plugin discovery and loading: every loader failure mode (through the test plugins in
// plugins/testing) is a row with its reason, never a crash; devices get <plugin>:<index> ids.
#include "core/plugin/plugin_host.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace cmeter {
namespace {

const std::string kDir = CMETER_TEST_PLUGIN_DIR;

const PluginRow* row_named(const PluginHost& host, const std::string& name) {
  for (const auto& r : host.plugins())
    if (r.name == name) return &r;
  return nullptr;
}

TEST_CASE("plugin host: every loader failure is a row with its reason") {
  DiscoveryOptions options;
  options.plugin_dirs = {kDir};
  options.use_environment = false;
  auto host = PluginHost::load(discover_plugins(options));
  struct Expect {
    const char* name;
    const char* reason;
  };
  for (Expect e :
       {Expect{"badmajor", "plugin ABI major 2"}, Expect{"smallapi", "smaller than the ABI 1.0 table"},
        Expect{"nullinit", "returned NULL"}, Expect{"initfails", "stub: no device driver found"},
        Expect{"nosymbol", "no symbol cmeter_plugin_get_api"},
        Expect{"needsmissing", "libcmeter_vanishing.so: cannot open shared object file"},
        Expect{"notaplugin", "invalid ELF header"}}) {
    CAPTURE(e.name);
    const PluginRow* row = row_named(*host, e.name);
    REQUIRE(row != nullptr);
    CHECK_FALSE(row->loaded);
    CHECK(row->error.find(e.reason) != std::string::npos);
  }
  const PluginRow* stub = row_named(*host, "stub");
  REQUIRE(stub != nullptr);
  CHECK(stub->loaded);
  CHECK(stub->abi_major == 1);
  CHECK(stub->sha256.size() == 64);
  CHECK(host->any_failed());
  bool found = false;
  for (const auto& d : host->devices()) found = found || d.id() == "stub:0";
  CHECK(found);
}

TEST_CASE("plugin host: explicit files come first and duplicates load once") {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {kDir + "/libcmeter-stub.so", kDir + "/libcmeter-stub.so"};
  auto d = discover_plugins(options);
  CHECK(d.files.size() == 1);
  CHECK(d.searched_dirs.empty());  // explicit files replace the default directories
  auto host = PluginHost::load(d);
  REQUIRE(host->devices().size() == 1);
  CHECK(host->devices()[0].id() == "stub:0");
  CHECK(get_string(host->devices()[0].attributes(), "name").value_or("") == "cmeter stub device");
}

TEST_CASE("plugin host: CMETER_PLUGINS and CMETER_PLUGIN_PATH are honoured") {
  setenv("CMETER_PLUGIN_PATH", "/nonexistent-dir", 1);
  setenv("CMETER_PLUGINS", (kDir + "/libcmeter-toofast.so").c_str(), 1);
  DiscoveryOptions options;
  auto d = discover_plugins(options);
  unsetenv("CMETER_PLUGIN_PATH");
  unsetenv("CMETER_PLUGINS");
  REQUIRE(d.files.size() == 1);
  CHECK(d.files[0].find("toofast") != std::string::npos);
  REQUIRE(d.searched_dirs.size() == 1);
  CHECK(d.searched_dirs[0] == "/nonexistent-dir");
}

TEST_CASE("plugin host: a missing file is a row, not a crash") {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {"/nonexistent/libcmeter-ghost.so"};
  auto host = PluginHost::load(discover_plugins(options));
  REQUIRE(host->plugins().size() == 1);
  CHECK_FALSE(host->plugins()[0].loaded);
  CHECK(host->plugins()[0].error.find("cannot load") != std::string::npos);
}

}  // namespace
}  // namespace cmeter
