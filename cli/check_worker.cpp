// The hidden worker process `cmeter plugin check` starts (core/conformance): runs checks in a child so
// that a crashing or hanging plugin fails a check instead of ending the suite. Not for people.
#include "cli/common.h"
#include "core/conformance/plugin_checker.h"

namespace cmeter::cli {

Subcommand register_check_worker(CLI::App& app) {
  auto* cmd = app.add_subcommand(conformance::kWorkerCommand, "Conformance worker (internal)");
  cmd->group("");  // hidden from --help
  return {cmd, [](const std::vector<std::string>&) { return conformance::run_check_worker(); }};
}

}  // namespace cmeter::cli
