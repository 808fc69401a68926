// Figures, escaping and padded text tables for the renderers.
#include "reports/format.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace cmeter::reports {

std::string format_quantity(double value, const std::string& unit) {
  if (!std::isfinite(value)) return "n/a";
  if (unit == "s") {
    double a = std::fabs(value);
    if (a == 0) return "0 s";
    if (a < 1e-6) return fmt::format("{:.3g} ns", value * 1e9);
    if (a < 1e-3) return fmt::format("{:.3g} us", value * 1e6);
    if (a < 1) return fmt::format("{:.3g} ms", value * 1e3);
    return fmt::format("{:.3g} s", value);
  }
  static const char* kPrefixes[] = {"", "K", "M", "G", "T", "P", "E"};
  int i = 0;
  double v = value;
  while (std::fabs(v) >= 999.5 && i < 6) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, kPrefixes[i], unit);
}

std::string format_ci_percent(double median, double low, double high) {
  if (!std::isfinite(median) || !std::isfinite(low) || !std::isfinite(high) || median == 0) return "";
  return fmt::format("±{:.1f}%", 50 * (high - low) / std::fabs(median));
}

std::string format_interval(double median, double low, double high, const std::string& unit) {
  (void)median;
  if (!std::isfinite(low) || !std::isfinite(high)) return "";
  return fmt::format("[{}, {}]", format_quantity(low, unit), format_quantity(high, unit));
}

std::string format_percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "n/a";
  return fmt::format("{:.{}f}%", 100 * fraction, decimals);
}

std::string format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (bytes >= 1024 && i < 5) {
    bytes /= 1024;
    ++i;
  }
  return fmt::format("{:.3g} {}", bytes, kUnits[i]);
}

std::string format_exact(double value) {
  if (!std::isfinite(value)) return "";
  return fmt::format("{}", value);
}

std::string params_text(const KeyValues& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : " ") + k + "=" + to_display(v);
  return out;
}

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_markdown(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else if (c == '*' || c == '_' || c == '`' || c == '<' || c == '[' || c == ']')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

size_t display_width(const std::string& text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {  // skip an ANSI sequence up to its final letter
      while (i < text.size() && !std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

std::vector<std::string> wrap_words(const std::string& text, size_t width) {
  std::vector<std::string> lines(1);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!lines.back().empty() && display_width(lines.back()) + 1 + display_width(word) > width)
      lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
  }
  return lines;
}

std::string TextTable::render(const std::string& indent) const {
  std::vector<size_t> widths(headers.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  };
  widen(headers);
  for (const auto& row : rows) widen(row);
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = indent;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      std::string pad(widths[i] - std::min(widths[i], display_width(cell)), ' ');
      bool right = i < right_aligned.size() && right_aligned[i];
      bool last = i + 1 == widths.size();
      out += right ? pad + cell : (last ? cell : cell + pad);
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string colour_word(const std::string& word, bool colour) {
  if (!colour) return word;
  const char* code = "31";
  if (word == "ok" || word == "PASS" || word == "faster" || word == "loaded" || word == "baseline")
    code = word == "baseline" ? "1" : "32";
  else if (word == "noisy" || word == "INCOMPLETE" || word == "INCONCLUSIVE" || word == "same within noise")
    code = "33";
  else if (word == "unsupported" || word == "missing" || word == "not comparable")
    code = "90";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, word);
}

}  // namespace cmeter::reports
