// The CSV view of a report (`cmeter report csv`): one row per result × metric (a result without
// metrics, e.g. unsupported or failed, still gets one row), full-precision numbers, RFC 4180 quoting,
// for spreadsheets. The header names every column with its unit convention.
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_csv(const LoadedReport& report);

}  // namespace cmeter::reports
