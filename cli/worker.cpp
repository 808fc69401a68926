// `cmeter __worker --plugin FILE`: hidden; cmeter starts itself this way to run one plugin in a child
// process (core/isolation/worker_main.h). Not for people: it speaks framed JSON on stdin/stdout.
#include <memory>

#include "cli/common.h"
#include "core/isolation/worker_main.h"
#include "core/isolation/worker_protocol.h"

namespace cmeter::cli {

Subcommand register_worker(CLI::App& app) {
  auto plugin_path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(worker::kWorkerCommand, "Internal: serve one plugin as a worker process");
  cmd->group("");  // hidden from --help
  cmd->add_option("--plugin", *plugin_path, "Plugin file")->required();
  return {cmd, [plugin_path](const std::vector<std::string>&) { return run::worker_main(*plugin_path); }};
}

}  // namespace cmeter::cli
