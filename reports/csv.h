// The CSV view of a report (`cmeter report csv`): one row per result × metric (a result without
// metrics, e.g. unsupported or failed, still gets one row), full-precision numbers, RFC 4180 quoting,
// for spreadsheets. The header names every column with its unit convention. LLM inference results
// (schema 1.1) also get a CSV of their own (`cmeter report csv --inference`, `report.inference.csv`
// from `run --format csv`): one row per result with its flat figures (seconds, per second, fractions).
#pragma once

#include <string>

#include "core/report/report_reader.h"

namespace cmeter::reports {

std::string render_csv(const LoadedReport& report);
// One row per result with an `inference` member: model, scenario, tokens/s, latency/TTFT/TPOT
// p50/p90/p99 in seconds, Server rate and bounds, MFU/MBU with their sources, J/token, accuracy, op
// paths (`op=impl` joined by `;`). Empty figures where the report has none; just the header when the
// report has no inference result.
std::string render_inference_csv(const LoadedReport& report);

}  // namespace cmeter::reports
