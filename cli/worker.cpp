// `cmeter __worker --plugin FILE`: hidden; cmeter starts itself this way to run one plugin in a child
// process (core/isolation/worker_main.h). Not for people: it speaks framed JSON on stdin/stdout.
#include "cli/common.h"
#include "core/isolation/worker_main.h"
#include "core/isolation/worker_protocol.h"

namespace cmeter::cli {

CLI::App* add_worker_command(CLI::App& app, std::string& plugin_path) {
  auto* cmd = app.add_subcommand(worker::kWorkerCommand, "Internal: serve one plugin as a worker process");
  cmd->group("");  // hidden from --help
  cmd->add_option("--plugin", plugin_path, "Plugin file")->required();
  return cmd;
}

int run_worker(const std::string& plugin_path) {
  return run::worker_main(plugin_path);
}

}  // namespace cmeter::cli
