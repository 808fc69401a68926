// Text helpers shared by the report renderers: figures with SI prefixes and units, interval widths,
// escaping for Markdown, HTML and CSV, and a plain-text table that pads by display width (so UTF-8
// and terminal colours do not break the columns).
#pragma once

#include <string>
#include <vector>

#include "core/model/key_values.h"

namespace cmeter::reports {

// 1.23 TFLOP/s, 25.3 GB/s, 4.10 us; "n/a" when not finite.
std::string format_quantity(double value, const std::string& unit);
// "±1.2%": half the interval width relative to the median; "" when unknown.
std::string format_ci_percent(double median, double low, double high);
// "[1.21, 1.25] TFLOP/s" with the prefix of the median.
std::string format_interval(double median, double low, double high, const std::string& unit);
std::string format_percent(double fraction, int decimals = 1);
std::string format_bytes(double bytes);  // 23.5 GiB
// Shortest round-trip form of a number (for CSV and data attributes); "" when not finite.
std::string format_exact(double value);
std::string params_text(const KeyValues& params);

std::string escape_html(const std::string& text);
std::string escape_markdown(const std::string& text);  // for table cells: pipes escaped, newlines as spaces
std::string csv_field(const std::string& text);

// Number of terminal columns `text` takes (UTF-8 code points, ANSI colour sequences skipped).
size_t display_width(const std::string& text);

// `text` broken at spaces into lines of at most `width` columns (a longer word gets a line of its
// own); one empty line for empty text.
std::vector<std::string> wrap_words(const std::string& text, size_t width);

struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right_aligned;  // per column; missing = left
  std::vector<std::vector<std::string>> rows;
  // Renders with two spaces between columns, each line indented by `indent`.
  std::string render(const std::string& indent = "  ") const;
};

// Terminal colour for a status or verdict word (ok/PASS green, noisy/INCOMPLETE yellow, unsupported grey,
// faster green, slower red, the rest red); returns the text unchanged when colour is off.
std::string colour_word(const std::string& word, bool colour);

}  // namespace cmeter::reports
