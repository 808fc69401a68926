// The terminal view of a report (`cmeter report show`, and the summary `cmeter run` prints: one view,
// so both print a report the same way): facts, then per device the headline figures first (in the
// headline catalogue's order), then every case with its status (coloured only when `colour` is set,
// i.e. stdout is a terminal), node totals, criteria and plugins that failed to load.
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_terminal(const LoadedReport& report, bool colour);
// One finished case as `cmeter run` shows it while running: "ok 1.23 TFLOP/s ±1.2%  (reason)".
std::string render_case_outcome(const CaseResult& result, bool colour);

}  // namespace cmeter::reports
