// Alignment, verdicts, normalisations and difference warnings for `cmeter compare`.
#include "core/report/compare.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "core/report/report.h"

namespace cmeter {
namespace {

std::string side_label(size_t i) {
  return i < 26 ? std::string(1, static_cast<char>('A' + i)) : fmt::format("R{}", i + 1);
}

std::string canonical_params(const KeyValues& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : ",") + k + "=" + to_display(v);
  return out;
}

std::string json_brief(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Members of two JSON objects that differ: "key: a vs b".
std::vector<std::string> object_differences(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  std::set<std::string> keys;
  if (a.is_object())
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
  if (b.is_object())
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    const nlohmann::json va = a.is_object() && a.contains(k) ? a[k] : nlohmann::json("(unset)");
    const nlohmann::json vb = b.is_object() && b.contains(k) ? b[k] : nlohmann::json("(unset)");
    if (va != vb) out.push_back(fmt::format("{} {} vs {}", k, json_brief(va), json_brief(vb)));
  }
  return out;
}

std::optional<double> avg_power_w(const CaseResult* r) {
  if (r == nullptr || !r->telemetry.is_object()) return std::nullopt;
  auto it = r->telemetry.find("avg_power_w");
  if (it == r->telemetry.end() || !it->is_number()) return std::nullopt;
  double w = it->get<double>();
  return std::isfinite(w) && w > 0 ? std::optional<double>(w) : std::nullopt;
}

const CaseResult* find_case(const LoadedReport& r, const std::string& device, const std::string& case_id) {
  for (const auto& c : r.results)
    if (c.device == device && c.case_id == case_id) return &c;
  return nullptr;
}

// What one report contributes to one row, before verdicts.
struct Entry {
  CompareCell cell;
  const CaseResult* result = nullptr;  // the case behind the figure (power for per-watt)
};

struct RowBuilder {
  CompareRow row;
  std::vector<std::optional<Entry>> entries;
};

void finish_row(CompareRow& row) {
  if (row.cells.empty()) return;
  CompareCell& base = row.cells[0];
  if (base.present) base.verdict = CompareVerdict::kBaseline;
  for (size_t i = 1; i < row.cells.size(); ++i) {
    CompareCell& c = row.cells[i];
    if (!c.present) {
      c.verdict = CompareVerdict::kMissing;
      continue;
    }
    if (!base.present || !base.counted || !c.counted) {
      c.verdict = CompareVerdict::kNotComparable;
      if (c.note.empty())
        c.note = !base.present ? "no baseline" : !base.counted ? "baseline " + base.status : c.status;
      continue;
    }
    if (base.value != 0 && std::isfinite(base.value) && std::isfinite(c.value))
      c.ratio = c.value / base.value;
    c.verdict = judge({base.value, base.low, base.high}, {c.value, c.low, c.high}, row.higher_is_better);
    if (c.verdict == CompareVerdict::kNotComparable && c.note.empty()) c.note = "no confidence interval";
  }
}

// A table normalised by a per-cell divisor (power or price); rows where no divisor is known for any
// report, or whose metric is lower-is-better, are dropped.
CompareTable normalise(const CompareTable& raw,
                       const std::vector<std::vector<std::optional<double>>>& headline_div,
                       const std::vector<std::vector<std::optional<double>>>& case_div,
                       const std::vector<std::vector<std::optional<double>>>& inference_div,
                       const std::string& name, const std::string& unit_suffix,
                       const std::string& missing_note) {
  CompareTable out;
  out.normalisation = name;
  auto apply = [&](const std::vector<CompareRow>& rows,
                   const std::vector<std::vector<std::optional<double>>>& div,
                   std::vector<CompareRow>& into) {
    for (size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r].higher_is_better) continue;
      bool any = false;
      CompareRow row = rows[r];
      row.unit += unit_suffix;
      for (size_t i = 0; i < row.cells.size(); ++i) {
        CompareCell& c = row.cells[i];
        c.ratio.reset();
        c.efficiency.reset();
        if (!c.present) continue;
        const auto& d = div[r][i];
        if (!d) {
          c.counted = false;
          c.note = missing_note;
          continue;
        }
        any = true;
        c.value /= *d;
        c.low /= *d;
        c.high /= *d;
      }
      if (!any) continue;
      finish_row(row);
      into.push_back(std::move(row));
    }
  };
  apply(raw.headlines, headline_div, out.headlines);
  apply(raw.cases, case_div, out.cases);
  apply(raw.inference, inference_div, out.inference);
  return out;
}

// The figures of an inference result that `compare` aligns, each from the result's metric (median
// with its 95% CI) where it has one, else from the inference member (no CI: a ratio, no verdict).
struct InferenceFigure {
  const char* key;
  const char* label;
  const char* unit;
  bool higher_is_better;
  const char* metric;  // the metrics[] entry whose median and CI give the figure; "" = none
  double (*value)(const InferenceView&);
};

const std::vector<InferenceFigure>& inference_figures() {
  static const std::vector<InferenceFigure> kFigures = {
      {"output_tokens_per_s", "output tokens/s", "tok/s", true, "output_tokens_per_s",
       [](const InferenceView& v) { return v.output_tokens_per_s; }},
      {"prompt_tokens_per_s", "prompt tokens/s", "tok/s", true, "prompt_tokens_per_s",
       [](const InferenceView& v) { return v.prompt_tokens_per_s; }},
      {"server_qps", "Server rate", "query/s", true, "server_qps",
       [](const InferenceView& v) { return v.server ? v.server->achieved_qps : NAN; }},
      {"latency_p50_s", "latency p50", "s", false, "latency_s",
       [](const InferenceView& v) { return v.latency_s.p50; }},
      {"latency_p90_s", "latency p90", "s", false, "",
       [](const InferenceView& v) { return v.latency_s.p90; }},
      {"latency_p99_s", "latency p99", "s", false, "",
       [](const InferenceView& v) { return v.latency_s.p99; }},
      {"ttft_p50_s", "TTFT p50", "s", false, "ttft_s", [](const InferenceView& v) { return v.ttft_s.p50; }},
      {"ttft_p90_s", "TTFT p90", "s", false, "", [](const InferenceView& v) { return v.ttft_s.p90; }},
      {"ttft_p99_s", "TTFT p99", "s", false, "", [](const InferenceView& v) { return v.ttft_s.p99; }},
      {"tpot_p50_s", "TPOT p50", "s", false, "tpot_s", [](const InferenceView& v) { return v.tpot_s.p50; }},
      {"tpot_p90_s", "TPOT p90", "s", false, "", [](const InferenceView& v) { return v.tpot_s.p90; }},
      {"tpot_p99_s", "TPOT p99", "s", false, "", [](const InferenceView& v) { return v.tpot_s.p99; }},
      {"joules_per_token", "energy per token", "J/token", false, "",
       [](const InferenceView& v) { return v.joules_per_token.value_or(NAN); }},
  };
  return kFigures;
}

}  // namespace

std::string_view to_string(CompareVerdict verdict) {
  switch (verdict) {
    case CompareVerdict::kBaseline:
      return "baseline";
    case CompareVerdict::kFaster:
      return "faster";
    case CompareVerdict::kSlower:
      return "slower";
    case CompareVerdict::kSame:
      return "same within noise";
    case CompareVerdict::kNotComparable:
      return "not comparable";
    case CompareVerdict::kMissing:
      return "missing";
  }
  return "missing";
}

CompareVerdict judge(const Interval& baseline, const Interval& other, bool higher_is_better) {
  for (double v : {baseline.low, baseline.high, other.low, other.high})
    if (!std::isfinite(v)) return CompareVerdict::kNotComparable;
  if (baseline.low > baseline.high || other.low > other.high) return CompareVerdict::kNotComparable;
  if (other.low > baseline.high) return higher_is_better ? CompareVerdict::kFaster : CompareVerdict::kSlower;
  if (other.high < baseline.low) return higher_is_better ? CompareVerdict::kSlower : CompareVerdict::kFaster;
  return CompareVerdict::kSame;
}

Result<PriceSpec> parse_price(std::string_view text) {
  auto eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return make_error(ErrorCode::kInvalidArgument, "--price '{}': expected DEVICE=AMOUNT, e.g. cuda:0=30000",
                      text);
  PriceSpec spec;
  spec.device = std::string(text.substr(0, eq));
  std::string amount(text.substr(eq + 1));
  size_t used = 0;
  try {
    spec.amount = std::stod(amount, &used);
  } catch (...) {
    used = 0;
  }
  if (used != amount.size() || !std::isfinite(spec.amount) || spec.amount <= 0)
    return make_error(ErrorCode::kInvalidArgument, "--price '{}': the amount '{}' is not a positive number",
                      text, amount);
  return spec;
}

Result<Comparison> compare_reports(const std::vector<LoadedReport>& reports, const CompareOptions& options) {
  if (reports.size() < 2)
    return make_error(ErrorCode::kInvalidArgument, "compare needs at least two reports");
  Comparison out;
  const size_t n = reports.size();
  out.aligned_by_position = true;
  for (const auto& r : reports) out.aligned_by_position = out.aligned_by_position && r.devices.size() == 1;
  for (size_t i = 0; i < n; ++i) {
    const auto& r = reports[i];
    CompareSide side{side_label(i),
                     r.source,
                     r.host.hostname,
                     r.run.id,
                     r.tool.version,
                     r.run.profile_name + " " + r.run.profile_version,
                     {}};
    for (const auto& d : r.devices) side.devices.push_back(d.id);
    out.sides.push_back(std::move(side));
  }
  auto slot = [&](const std::string& device) {
    return out.aligned_by_position ? std::string("(the device)") : device;
  };

  // --- Differences worth a warning -------------------------------------------------------------
  for (size_t i = 0; i < n; ++i)
    if (report_digest(reports[i].json) != reports[i].digest)
      out.warnings.push_back(
          fmt::format("{} ({}): the recorded digest does not match the content (changed after it "
                      "was written; `cmeter report verify` says more)",
                      side_label(i), reports[i].source));
  const LoadedReport& base = reports[0];
  for (size_t i = 1; i < n; ++i) {
    const LoadedReport& r = reports[i];
    const std::string who =
        fmt::format("{} ({}) vs {} ({})", side_label(0), base.source, side_label(i), r.source);
    auto tool_text = [](const ReportTool& t) {
      return fmt::format("{} {}{} {}", t.version, t.git_sha, t.git_dirty ? "-dirty" : "", t.build_type);
    };
    if (tool_text(base.tool) != tool_text(r.tool))
      out.warnings.push_back(fmt::format("tool versions differ: {}: cmeter {} vs {}", who,
                                         tool_text(base.tool), tool_text(r.tool)));
    if (base.run.profile_name != r.run.profile_name || base.run.profile_version != r.run.profile_version)
      out.warnings.push_back(fmt::format("profiles differ: {}: {} {} vs {} {}", who, base.run.profile_name,
                                         base.run.profile_version, r.run.profile_name,
                                         r.run.profile_version));
    else if (base.run.profile_sha256 != r.run.profile_sha256)
      out.warnings.push_back(fmt::format("profile {} {} has different contents (sha256 {} vs {}): {}",
                                         base.run.profile_name, base.run.profile_version,
                                         base.run.profile_sha256.substr(0, 12),
                                         r.run.profile_sha256.substr(0, 12), who));
    if (auto diffs = object_differences(base.run.settings, r.run.settings); !diffs.empty())
      out.warnings.push_back(fmt::format("run settings differ: {}: {}", who, fmt::join(diffs, "; ")));
    if (base.version.minor != r.version.minor)
      out.warnings.push_back(
          fmt::format("schema versions differ: {}: {} vs {}", who, base.version.text, r.version.text));
  }
  if (out.aligned_by_position) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(side_label(i) + " " + reports[i].devices[0].id);
    std::set<std::string> distinct;
    for (const auto& r : reports) distinct.insert(r.devices[0].id);
    if (distinct.size() > 1)
      out.warnings.push_back(
          fmt::format("each report has one device; comparing {}", fmt::join(ids, " with ")));
  }

  // --- Headline rows ---------------------------------------------------------------------------
  CompareTable raw;
  std::map<std::string, size_t> headline_index;
  std::vector<std::vector<const CaseResult*>> headline_cases;
  for (size_t i = 0; i < n; ++i) {
    for (const auto& s : reports[i].summaries) {
      for (const auto& h : s.metrics) {
        std::string key = slot(s.device) + "|" + h.key;
        auto [it, added] = headline_index.emplace(key, raw.headlines.size());
        if (added) {
          CompareRow row;
          row.label = h.label;
          row.metric = h.key;
          row.unit = h.unit;
          row.device_slot = slot(s.device);
          // From the catalogue (a split key such as `llm_single_stream_tpot_s@llm-1b` has no unit
          // suffix to guess from); keys a newer cmeter added: guessed from the name.
          if (const HeadlineRule* rule = find_headline_rule(h.key))
            row.higher_is_better = rule->higher_is_better;
          else
            row.higher_is_better = h.key.size() < 2 || h.key.substr(h.key.size() - 2) != "_s" ||
                                   h.key.find("_per_s") != std::string::npos;
          row.cells.resize(n);
          raw.headlines.push_back(std::move(row));
          headline_cases.emplace_back(n, nullptr);
        }
        CompareCell& c = raw.headlines[it->second].cells[i];
        if (c.present) continue;
        c.present = true;
        c.device = s.device;
        c.status = h.noisy ? "noisy" : "ok";
        c.counted = true;
        c.value = h.value;
        c.low = h.ci95_low;
        c.high = h.ci95_high;
        c.efficiency = h.efficiency;
        if (h.noisy) c.note = "noisy";
        headline_cases[it->second][i] = find_case(reports[i], s.device, h.case_id);
      }
    }
  }

  // --- Case rows (primary metric of each result) -------------------------------------------------
  std::map<std::string, size_t> case_index;
  std::vector<std::vector<const CaseResult*>> row_cases;
  std::map<std::string, std::pair<std::string, std::string>> params_by_case;  // case id|slot -> params, side
  std::set<std::string> params_warned;
  std::map<std::string, std::vector<std::string>> settings_diffs;  // difference -> cases
  for (size_t i = 0; i < n; ++i) {
    std::map<std::string, int> seen;
    for (const auto& r : reports[i].results) {
      const std::string params = canonical_params(r.params);
      const std::string metric = r.metrics.empty() ? std::string() : r.metrics.front().name;
      std::string key = r.workload + "|" + params + "|" + slot(r.device);
      key += fmt::format("#{}", seen[key]++);
      // Same case id, different params: say so (they cannot be aligned).
      const std::string id_key = r.case_id + "|" + slot(r.device);
      if (auto p = params_by_case.find(id_key); p == params_by_case.end()) {
        params_by_case[id_key] = {params, side_label(i)};
      } else if (p->second.first != params && params_warned.insert(id_key).second) {
        out.warnings.push_back(
            fmt::format("case '{}' has different params in {} ({}) and {} ({}); not aligned", r.case_id,
                        p->second.second, p->second.first, side_label(i), params));
      }
      auto [it, added] = case_index.emplace(key, raw.cases.size());
      if (added) {
        CompareRow row;
        row.label = r.case_id;
        row.workload = r.workload;
        row.params = params;
        row.device_slot = slot(r.device);
        row.cells.resize(n);
        raw.cases.push_back(std::move(row));
        row_cases.emplace_back(n, nullptr);
      }
      CompareRow& row = raw.cases[it->second];
      if (!r.metrics.empty() && row.metric.empty()) {
        row.metric = metric;
        row.unit = r.metrics.front().unit;
        row.higher_is_better = r.metrics.front().higher_is_better;
      }
      CompareCell& c = row.cells[i];
      c.present = true;
      c.device = r.device;
      c.status = std::string(to_string(r.status));
      c.counted = counts_in_summary(r.status) && !r.metrics.empty();
      if (r.status == CaseStatus::kNoisy) c.note = "noisy";
      if (const Metric* m = row.metric.empty() ? nullptr : r.metric(row.metric)) {
        c.value = m->stats.median;
        c.low = m->stats.ci_low;
        c.high = m->stats.ci_high;
      } else {
        c.counted = false;
      }
      row_cases[it->second][i] = &r;
      if (i > 0 && row_cases[it->second][0] != nullptr) {
        for (const auto& d : object_differences(row_cases[it->second][0]->method.settings, r.method.settings))
          settings_diffs[fmt::format("{} vs {}: {}", side_label(0), side_label(i), d)].push_back(r.case_id);
      }
    }
  }
  // --- Inference rows (results with an `inference` member): aligned by case id, model and scenario --
  std::map<std::string, size_t> inference_index;  // slot|case id|model|scenario -> first row
  std::vector<std::vector<const CaseResult*>> inference_cases;
  std::vector<std::vector<const InferenceView*>> inference_views;  // per row (figure) and report
  for (size_t i = 0; i < n; ++i) {
    for (const auto& v : reports[i].inference) {
      if (v.result_index >= reports[i].results.size()) continue;
      const CaseResult& r = reports[i].results[v.result_index];
      const std::string key = fmt::format("{}|{}|{}|{}", slot(r.device), r.case_id, v.model.name, v.scenario);
      auto [it, added] = inference_index.emplace(key, raw.inference.size());
      if (added) {
        for (const auto& f : inference_figures()) {
          CompareRow row;
          row.label = fmt::format("{} {}", r.case_id, f.label);
          row.workload = r.workload;
          row.params = fmt::format("model={} scenario={}", v.model.name, v.scenario);
          row.device_slot = slot(r.device);
          row.metric = f.key;
          row.unit = f.unit;
          row.higher_is_better = f.higher_is_better;
          row.cells.resize(n);
          raw.inference.push_back(std::move(row));
          inference_cases.emplace_back(n, nullptr);
          inference_views.emplace_back(n, nullptr);
        }
      }
      for (size_t f = 0; f < inference_figures().size(); ++f) {
        const InferenceFigure& figure = inference_figures()[f];
        const size_t row_at = it->second + f;
        CompareCell& c = raw.inference[row_at].cells[i];
        if (c.present) continue;  // the same case twice in one report: the first counts
        c.present = true;
        c.device = r.device;
        c.status = std::string(to_string(r.status));
        if (r.status == CaseStatus::kNoisy) c.note = "noisy";
        const Metric* m = *figure.metric == '\0' ? nullptr : r.metric(figure.metric);
        if (m != nullptr) {
          c.value = m->stats.median;
          c.low = m->stats.ci_low;
          c.high = m->stats.ci_high;
        } else {
          c.value = figure.value(v);
          c.low = c.high = NAN;  // no interval: a ratio, and "not comparable" as the verdict
        }
        c.counted = counts_in_summary(r.status) && std::isfinite(c.value);
        if (counts_in_summary(r.status) && !std::isfinite(c.value)) c.note = "not measured";
        inference_cases[row_at][i] = &r;
        inference_views[row_at][i] = &v;
      }
    }
  }
  // Figures no report has (the Server rate outside Server, energy without telemetry): no row.
  {
    std::vector<CompareRow> kept;
    std::vector<std::vector<const CaseResult*>> kept_cases;
    std::vector<std::vector<const InferenceView*>> kept_views;
    for (size_t r = 0; r < raw.inference.size(); ++r) {
      bool any = false;
      for (const auto& c : raw.inference[r].cells) any = any || (c.present && std::isfinite(c.value));
      if (!any) continue;
      kept.push_back(std::move(raw.inference[r]));
      kept_cases.push_back(std::move(inference_cases[r]));
      kept_views.push_back(std::move(inference_views[r]));
    }
    raw.inference = std::move(kept);
    inference_cases = std::move(kept_cases);
    inference_views = std::move(kept_views);
  }

  for (const auto& [diff, cases] : settings_diffs)
    out.warnings.push_back(fmt::format("statistics settings differ ({}) for {} case(s), e.g. {}", diff,
                                       cases.size(), cases.front()));
  for (auto& row : raw.headlines) finish_row(row);
  for (auto& row : raw.cases) finish_row(row);
  for (auto& row : raw.inference) finish_row(row);

  // --- Normalisations ----------------------------------------------------------------------------
  std::vector<CompareTable> extra;
  if (options.per_watt) {
    bool any_power = false;
    auto power_of = [&](const std::vector<std::vector<const CaseResult*>>& cases) {
      std::vector<std::vector<std::optional<double>>> div(cases.size(),
                                                          std::vector<std::optional<double>>(n));
      for (size_t r = 0; r < cases.size(); ++r)
        for (size_t i = 0; i < n; ++i) {
          div[r][i] = avg_power_w(cases[r][i]);
          any_power = any_power || div[r][i].has_value();
        }
      return div;
    };
    auto hd = power_of(headline_cases);
    auto cd = power_of(row_cases);
    auto id = power_of(inference_cases);
    // Inference: output tokens per joule from the workload's own energy per token (measured over the
    // scenario, not an average power times a rate), one row per aligned result that has it.
    std::vector<CompareRow> per_joule;
    for (size_t r = 0; r < raw.inference.size(); ++r) {
      if (raw.inference[r].metric != "joules_per_token") continue;
      CompareRow row = raw.inference[r];
      row.label =
          row.label.substr(0, row.label.size() - std::string("energy per token").size()) + "tokens per joule";
      row.metric = "tokens_per_j";
      row.unit = "tok/J";
      row.higher_is_better = true;
      for (size_t i = 0; i < n; ++i) {
        CompareCell& c = row.cells[i];
        c.ratio.reset();
        c.verdict = CompareVerdict::kMissing;
        if (!c.present) continue;
        const InferenceView* v = inference_views[r][i];
        if (v == nullptr || !v->joules_per_token || *v->joules_per_token <= 0) {
          c.counted = false;
          c.value = NAN;
          c.note = "no energy per token";
          continue;
        }
        c.value = 1 / *v->joules_per_token;
        c.low = c.high = NAN;
      }
      finish_row(row);
      per_joule.push_back(std::move(row));
    }
    if (!any_power && per_joule.empty()) {
      out.warnings.push_back(
          "--per-watt: no result in these reports has power telemetry (telemetry.avg_power_w) or energy per "
          "token");
    } else {
      CompareTable t = normalise(raw, hd, cd, id, "per watt", "/W", "no power telemetry");
      for (auto& row : per_joule) t.inference.push_back(std::move(row));
      extra.push_back(std::move(t));
    }
  }
  if (!options.prices.empty()) {
    std::set<size_t> used;
    auto price = [&](size_t report, const std::string& device) -> std::optional<double> {
      for (size_t p = 0; p < options.prices.size(); ++p) {
        const PriceSpec& spec = options.prices[p];
        if (spec.device == device || spec.device == fmt::format("{}/{}", report + 1, device) ||
            (!reports[report].device_name(device).empty() &&
             spec.device == reports[report].device_name(device))) {
          used.insert(p);
          return spec.amount;
        }
      }
      return std::nullopt;
    };
    auto prices_of = [&](const std::vector<CompareRow>& rows) {
      std::vector<std::vector<std::optional<double>>> div(rows.size(), std::vector<std::optional<double>>(n));
      for (size_t r = 0; r < rows.size(); ++r)
        for (size_t i = 0; i < n; ++i)
          if (rows[r].cells[i].present) div[r][i] = price(i, rows[r].cells[i].device);
      return div;
    };
    auto hd = prices_of(raw.headlines);
    auto cd = prices_of(raw.cases);
    auto id = prices_of(raw.inference);
    for (size_t p = 0; p < options.prices.size(); ++p)
      if (!used.count(p))
        out.warnings.push_back(fmt::format(
            "--price {}: matches no device (use a device id, its name, or N/id)", options.prices[p].device));
    extra.push_back(normalise(raw, hd, cd, id, "per price", " per price unit", "no price given"));
  }
  out.tables.push_back(std::move(raw));
  for (auto& t : extra) out.tables.push_back(std::move(t));
  return out;
}

}  // namespace cmeter
