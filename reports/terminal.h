// The terminal view of a report (`cmeter report show`): facts, then per device the headline figures
// first, then every case with its status (coloured only when `colour` is set, i.e. stdout is a
// terminal), node totals, criteria and plugins that failed to load.
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_terminal(const LoadedReport& report, bool colour);

}  // namespace cmeter::reports
