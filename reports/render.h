// One entry point for the file forms of a report (`cmeter report md|html|csv` and `cmeter run
// --format`), so the format names and their renderers are listed once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/report/report_reader.h"
#include "core/util/result.h"

namespace cmeter::reports {

// The format names render_report_as accepts, comma-separated, for help and error texts.
inline constexpr std::string_view kReportFileFormats = "md,html,csv";

// The report as Markdown ("md"), self-contained HTML ("html") or CSV ("csv"); an error naming the
// known formats for any other name.
Result<std::string> render_report_as(const LoadedReport& report, std::string_view format);

struct RenderedFile {
  std::string extension;  // "md", "html", "csv", "inference.csv"
  std::string text;
};
// The files `cmeter run --format` writes for one format: the report in that format, and for "csv"
// also the inference CSV when the report has LLM inference results.
Result<std::vector<RenderedFile>> render_report_files(const LoadedReport& report, std::string_view format);

}  // namespace cmeter::reports
