// cmeter: the command-line entry point. Every subcommand lives in its own file and registers itself
// the same way (register_<name> in cli/common.h); main parses and runs the one selected. Exit codes:
// 0 ok/PASS, 1 criteria FAIL, 2 usage or input error, 3 incomplete (see docs/cli.md).
#include <cmeter/plugin_abi.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/common.h"

#include "core/util/version.h"

namespace cmeter::cli {
// certify.cpp (declared here, not in common.h, so adding it rebuilt only this file; move it there with
// the next change to common.h).
Subcommand register_certify(CLI::App& app);
}  // namespace cmeter::cli

int main(int argc, char** argv) {
  using namespace cmeter::cli;
  CLI::App app{"cmeter: compute metering for CPUs, GPUs and NPUs through one plugin ABI"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("cmeter {} (plugin ABI {}.{})", cmeter::tool_version(),
                                                CMTR_ABI_MAJOR, CMTR_ABI_MINOR));
  const std::vector<Subcommand> subcommands = {
      register_devices(app),      register_topo(app),   register_run(app),    register_report(app),
      register_compare(app),      register_keygen(app), register_plugin(app), register_worker(app),
      register_check_worker(app), register_certify(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? cmeter::kExitOk : cmeter::kExitUsage;
  }
  const std::vector<std::string> args(argv, argv + argc);
  for (const auto& sub : subcommands)
    if (*sub.app) return sub.run(args);
  return cmeter::kExitUsage;
}
