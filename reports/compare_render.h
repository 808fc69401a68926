// Renderings of a comparison (`cmeter compare`): terminal (verdicts coloured on a terminal), Markdown
// and a self-contained HTML page with ratio bars. Each shows the reports (A = baseline, B, ...), the
// warnings, then per table (as measured, per watt, per price) the headline rows and the case rows.
#pragma once

#include <string>

#include "core/report/compare.h"

namespace cmeter::reports {

std::string render_comparison_terminal(const Comparison& comparison, bool colour);
std::string render_comparison_markdown(const Comparison& comparison);
std::string render_comparison_html(const Comparison& comparison);

}  // namespace cmeter::reports
