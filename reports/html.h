// The HTML view of a report (`cmeter report html`, `cmeter run --format html`): one self-contained
// file (inline CSS and SVG, no script that runs, no font or network fetch) with headline cards, charts
// generated in C++ (bars per metric and device with CI error bars, GEMM throughput vs size per dtype,
// a roofline per device), every number again as tables, and the report JSON embedded inert
// (<script type="application/json" id="cmeter-report-data">) so the page carries its data.
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_html(const LoadedReport& report);

// Shared page frame (also used by the comparison page): doctype, head with inline CSS, body.
std::string html_page(const std::string& title, const std::string& body);
// JSON text safe inside a <script> element (no "</" or "<!--" sequences).
std::string json_for_script(const std::string& json_text);

}  // namespace cmeter::reports
