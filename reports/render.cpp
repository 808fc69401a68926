// Dispatch from a format name to its renderer.
#include "reports/render.h"

#include "reports/csv.h"
#include "reports/html.h"
#include "reports/markdown.h"

namespace cmeter::reports {

Result<std::string> render_report_as(const LoadedReport& report, std::string_view format) {
  if (format == "md") return render_markdown(report);
  if (format == "html") return render_html(report);
  if (format == "csv") return render_csv(report);
  return make_error(ErrorCode::kInvalidArgument, "unknown format '{}' ({}; comma-separated)", format,
                    kReportFileFormats);
}

Result<std::vector<RenderedFile>> render_report_files(const LoadedReport& report, std::string_view format) {
  auto text = render_report_as(report, format);
  if (!text) return text.error();
  std::vector<RenderedFile> files = {{std::string(format), std::move(*text)}};
  if (format == "csv" && !report.inference.empty())
    files.push_back({"inference.csv", render_inference_csv(report)});
  return files;
}

}  // namespace cmeter::reports
