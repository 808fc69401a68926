// The exit codes every cmeter subcommand uses (docs/cli.md, "Exit codes"), defined once so that
// scripts and labs can rely on them across `run`, `report`, `compare`, `plugin check`, ...
#pragma once

namespace cmeter {

// Success: every case valid and criteria PASS (run), a report written or verified, a plugin conformant.
inline constexpr int kExitOk = 0;
// The thing checked failed: a criterion FAILed (run), a signature or digest does not verify
// (report verify), a conformance check FAILed (plugin check).
inline constexpr int kExitFail = 1;
// Usage or input error: bad option, bad profile or report file, unknown device, strict plugin failure.
inline constexpr int kExitUsage = 2;
// Incomplete: some case failed, crashed, timed out or was invalid/implausible, or a criterion or check
// could not be evaluated.
inline constexpr int kExitIncomplete = 3;

}  // namespace cmeter
