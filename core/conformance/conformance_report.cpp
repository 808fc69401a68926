// Verdict, exit code and the three renderings (JSON, Markdown, terminal) of a conformance report.
#include "core/conformance/conformance_report.h"

#include "core/util/exit_codes.h"

#include <fmt/format.h>

namespace cmeter::conformance {
namespace {

// Markdown table cells: no pipes or newlines.
std::string cell(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string status_label(const CheckResult& r) {
  if (r.status != CheckStatus::kSkip) return to_string(r.status);
  return fmt::format("SKIP ({})", to_string(r.skip_kind));
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kConformant:
      return "conformant";
    case Verdict::kNonConformant:
      return "non-conformant";
    case Verdict::kIncomplete:
      return "incomplete";
  }
  return "?";
}

Tally tally(const ConformanceReport& report) {
  Tally t;
  for (const auto& c : report.checks) {
    if (c.status == CheckStatus::kPass) ++t.pass;
    if (c.status == CheckStatus::kFail) ++t.fail;
    if (c.status == CheckStatus::kSkip) ++t.skip;
    if (c.status == CheckStatus::kSkip && c.skip_kind == SkipKind::kUnimplemented) ++t.unimplemented;
    if (c.status == CheckStatus::kSkip && c.skip_kind == SkipKind::kBlocked) ++t.blocked;
  }
  return t;
}

Verdict verdict(const ConformanceReport& report) {
  const Tally t = tally(report);
  if (t.fail > 0) return Verdict::kNonConformant;
  if (t.unimplemented > 0 || t.blocked > 0 || t.pass == 0) return Verdict::kIncomplete;
  return Verdict::kConformant;
}

int exit_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::kConformant:
      return kExitOk;
    case Verdict::kNonConformant:
      return kExitFail;
    case Verdict::kIncomplete:
      return kExitIncomplete;
  }
  return kExitFail;
}

nlohmann::json to_json(const ConformanceReport& r) {
  const Tally t = tally(r);
  const Verdict v = verdict(r);
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) checks.push_back(to_json(c));
  return {
      {"schema", kReportSchema},
      {"plugin",
       {{"path", r.plugin_path},
        {"sha256", r.plugin_sha256},
        {"name", r.plugin_name},
        {"abi", fmt::format("{}.{}", r.abi_major, r.abi_minor)},
        {"attributes", cmeter::to_json(r.plugin_attributes)},
        {"device_count", r.device_count}}},
      {"device",
       {{"index", r.device_index},
        {"id", r.device_id},
        {"attributes", cmeter::to_json(r.device_attributes)}}},
      {"run",
       {{"level", r.level},
        {"executor", r.executor},
        {"workers_started", r.workers_started},
        {"cmeter_version", r.cmeter_version},
        {"host_abi", r.host_abi},
        {"started_utc", r.started_utc},
        {"duration_s", r.duration_s}}},
      {"summary",
       {{"pass", t.pass},
        {"fail", t.fail},
        {"skip", t.skip},
        {"unimplemented", t.unimplemented},
        {"blocked", t.blocked},
        {"verdict", to_string(v)},
        {"exit_code", exit_code(v)}}},
      {"checks", checks},
  };
}

std::string to_markdown(const ConformanceReport& r) {
  const Tally t = tally(r);
  const Verdict v = verdict(r);
  std::string out;
  out += fmt::format("# Conformance report: {}\n\n", r.plugin_name.empty() ? r.plugin_path : r.plugin_name);
  out += fmt::format("**Verdict: {}** — {} PASS, {} FAIL, {} SKIP ({} unimplemented); exit code {}.\n\n",
                     to_string(v), t.pass, t.fail, t.skip, t.unimplemented, exit_code(v));
  out += "| | |\n|---|---|\n";
  out += fmt::format("| plugin file | `{}` |\n", cell(r.plugin_path));
  out += fmt::format("| sha256 | `{}` |\n", r.plugin_sha256.empty() ? "-" : r.plugin_sha256);
  out += fmt::format("| plugin ABI | {}.{} (host speaks {}) |\n", r.abi_major, r.abi_minor, r.host_abi);
  for (const char* key : {"plugin.name", "plugin.version", "plugin.vendor", "plugin.status"})
    if (auto it = r.plugin_attributes.find(key); it != r.plugin_attributes.end())
      out += fmt::format("| {} | {} |\n", key, cell(to_display(it->second)));
  out += fmt::format("| device | {} (index {} of {}) |\n", r.device_id.empty() ? "-" : r.device_id,
                     r.device_index, r.device_count);
  if (auto it = r.device_attributes.find("name"); it != r.device_attributes.end())
    out += fmt::format("| device name | {} |\n", cell(to_display(it->second)));
  out += fmt::format("| level | {} |\n| executor | {} ({} worker process(es)) |\n", r.level, r.executor,
                     r.workers_started);
  out += fmt::format("| cmeter | {} |\n| started | {} |\n| duration | {:.1f} s |\n\n", r.cmeter_version,
                     r.started_utc, r.duration_s);
  out += "| check | status | reason | time |\n|---|---|---|---|\n";
  for (const auto& c : r.checks)
    out +=
        fmt::format("| `{}` | {} | {} | {:.2f} s |\n", c.id, status_label(c), cell(c.reason), c.duration_s);
  out += "\n## Details\n";
  for (const auto& c : r.checks) {
    out += fmt::format("\n### `{}` — {}\n\n{}: {}\n", c.id, cell(c.title), status_label(c), c.reason);
    if (!c.details.empty()) {
      out += "\n";
      for (const auto& d : c.details) out += fmt::format("- {}\n", cell(d));
    }
  }
  return out;
}

std::string to_terminal(const ConformanceReport& r, bool color) {
  const Tally t = tally(r);
  const Verdict v = verdict(r);
  auto paint = [&](const std::string& text, CheckStatus s) {
    if (!color) return text;
    const char* code = s == CheckStatus::kPass   ? "\033[32m"
                       : s == CheckStatus::kFail ? "\033[31m"
                                                 : "\033[33m";
    return fmt::format("{}{}\033[0m", code, text);
  };
  std::string out = fmt::format("Conformance of {} ({}, ABI {}.{}), device {}, level {}\n",
                                r.plugin_name.empty() ? "(not loaded)" : r.plugin_name, r.plugin_path,
                                r.abi_major, r.abi_minor, r.device_id.empty() ? "-" : r.device_id, r.level);
  for (const auto& c : r.checks) {
    std::string label = fmt::format("{:<22}", status_label(c));
    out += fmt::format("  {} {:<28} {}\n", paint(label, c.status), c.id, c.reason);
    if (c.status == CheckStatus::kFail)
      for (const auto& d : c.details) out += fmt::format("  {:<22} {:<28}   {}\n", "", "", d);
  }
  out += fmt::format("{} PASS, {} FAIL, {} SKIP ({} unimplemented): {} (exit {})\n", t.pass, t.fail, t.skip,
                     t.unimplemented, to_string(v), exit_code(v));
  return out;
}

}  // namespace cmeter::conformance
