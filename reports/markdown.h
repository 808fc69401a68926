// The Markdown view of a report (`cmeter report md`, `cmeter run --format md`): the same content as the
// terminal view as a document for a pull request or a wiki, plus the method, validation and declared
// peaks behind each figure. Deterministic: the same report always gives the same text (golden-tested).
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_markdown(const LoadedReport& report);

}  // namespace cmeter::reports
