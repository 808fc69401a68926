// The words, tables and chart of a training result (schema 1.2, core/model/training_result.h) shared by
// the terminal, Markdown and HTML renderers, so each says the same thing: the model and its precision,
// how many runs reached the target, time to quality as the olympic mean with its spread, MFU against
// what, then each run with its logged seed, steps, device and host quality and trajectory check; the
// HTML adds the quality curves. A figure the report does not have is "n/a", never 0.
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

// "mlp-tiny (18.4K parameters, bf16): 3/3 runs reached eval NMSE <= 0.05; time to quality 1.23 s
// (olympic mean), spread 12.0%, MFU 3.1% of peak.flops.bf16".
std::string training_summary(const TrainingResult& t);
// "run 1, seed 0x…: 1.20 s, 320 steps, quality 0.0461 (host 0.0459), trajectory p90 3.1e-04 passed".
std::string training_run_text(const TrainingRun& run, double target);
// The sections: terminal (one device), Markdown and HTML (every device); "" without training results.
std::string training_terminal(const LoadedReport& r, const std::string& device);
std::string training_markdown(const LoadedReport& r);
std::string training_html(const LoadedReport& r);

}  // namespace cmeter::reports
