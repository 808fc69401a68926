// The words and figures of an LLM inference result (schema 1.1, core/report/inference_view.h) shared by
// every renderer, so the terminal, Markdown, HTML and CSV views say the same thing the same way: model
// in human units, times in milliseconds, the Server rate with its bounds, MFU/MBU with what they are
// measured against, energy per token or why there is none, the accuracy verdict and the op paths.
// A figure the report does not have is "n/a", never 0.
#pragma once

#include <string>
#include <vector>

#include "core/report/inference_view.h"

namespace cmeter::reports {

// 1.24B, 124M, 8.03B, 950K, 12 (parameters; 3 significant digits).
std::string format_count(double count);
// Seconds as milliseconds without the unit: whole ms from 100 ms ("2000"), else 3 significant digits
// ("12.3", "0.0412"); "n/a" when unknown.
std::string format_ms(double seconds);
// "p50 / p90 / p99" in milliseconds (format_ms each).
std::string percentiles_ms(const Percentiles& p);
// "llm-1b (1.24B parameters, bf16)".
std::string model_text(const InferenceView& v);
// "llm-1b: 16 layers, hidden 2048, 32 heads (8 KV heads, head dim 64), FFN 8192, vocab 32000, tied lm_head".
std::string model_shape_text(const InferenceView& v);
// "16 queries, 128 prompt + 64 output tokens each, batch up to 8, 12.5 s" (the report holds the totals:
// per query where they divide by the queries, else "... tokens in all").
std::string workload_text(const InferenceView& v);
// Server: "2.6 query/s offered (2.5 query/s served) with TTFT p99 <= 2000 ms and TPOT p99 <= 100 ms (6
// probes)", the offered rate first as in the `server_qps` metric; "none: no probed rate met ..." when
// no rate met the bounds; "" for other scenarios.
std::string server_text(const InferenceView& v);
// One Server search probe's outcome: "within bounds", or what failed it ("TTFT p99 over the bound",
// "TPOT p99 over the bound", "did not keep up: TTFT grew 2.31 s per s"), joined by "; "; prefixed
// "re-run: " for a probe at a rate probed before (the confirmation of a pass). `step` must be an
// element of s.search.
std::string search_step_outcome(const ServerResult& s, const ServerSearchStep& step);
// The same without the re-run prefix.
std::string search_step_result(const ServerResult& s, const ServerSearchStep& step);
// "41.2% of peak.flops.bf16" / "n/a (no declared peak)".
std::string mfu_text(const InferenceView& v);
// "63.0% of measured STREAM triad" / "n/a".
std::string mbu_text(const InferenceView& v);
// "0.123 J/token" / "n/a (no energy telemetry)".
std::string energy_text(const InferenceView& v);
// "passed" or "FAILED".
std::string accuracy_verdict(const InferenceView& v);
// "4096 tokens checked, logit NMSE max 1.2e-05, top-1 agreement 100.0% on 4000 clear-margin tokens,
// KL mean 3e-06, audit 16 queries 0 mismatches[, first divergence: layer 0 rope]".
std::string accuracy_numbers(const InferenceView& v);
// "attention=composed, gemm=openblas-sgemm, ...".
std::string op_paths_text(const InferenceView& v);

}  // namespace cmeter::reports
