// The worker's side of plugin isolation: what `cmeter __worker --plugin FILE` runs. It loads the one
// plugin in this (child) process, reports its row and devices to the parent, then runs the cases the
// parent sends, one at a time, binding its thread where the parent says, and answers each with the
// CaseResult. If the plugin crashes or hangs, only this process is lost (core/isolation/worker_host.h).
#pragma once

#include <string>

namespace cmeter::run {

// Serves the parent on stdin/stdout (framed JSON). Returns the process exit code: 0 after a shutdown
// request or when the parent goes away, 2 when the channel is unusable.
int worker_main(const std::string& plugin_path);

}  // namespace cmeter::run
