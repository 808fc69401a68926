// Profile YAML -> Profile, with validation. A profile is hand-written, so every mistake we can find
// without a device is reported at once, each as `file:line:column: message` naming the bad key or
// value, in file order: syntax, schema, unknown or duplicate keys, wrong types, out-of-range
// statistics, sweeps, duplicate case ids, and criteria that name no case. yaml-cpp throws; nothing
// here lets an exception escape.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <utility>

#include <fmt/ranges.h>

#include "core/models/llm_config.h"
#include "core/models/training.h"
#include "core/profile/profile.h"
#include "core/util/sha256.h"

namespace cmeter::profile {
namespace {

constexpr std::string_view kTopKeys[] = {"schema", "name",  "version",  "description",
                                         "stats",  "cases", "criteria", "execution"};
constexpr std::string_view kCaseKeys[] = {"id", "workload", "params", "sweep", "devices", "stats"};
constexpr std::string_view kCriterionKeys[] = {"id",         "metric",    "devices",
                                               "comparison", "threshold", "relative_to"};
constexpr std::string_view kComparisons[] = {">=", ">", "<=", "<"};
constexpr std::string_view kSummaryPrefix = "summary.";
constexpr size_t kMaxCasesPerSweep = 10000;
constexpr size_t kMaxErrorsShown = 50;

// The statistics keys, bound to their StatsSettings members (exactly one of the two is set).
struct StatsField {
  std::string_view name;
  int StatsSettings::*int_member = nullptr;
  double StatsSettings::*double_member = nullptr;
};
constexpr StatsField kStatsFields[] = {
    {"warmup_min_runs", &StatsSettings::warmup_min_runs, nullptr},
    {"warmup_min_s", nullptr, &StatsSettings::warmup_min_s},
    {"sample_min_s", nullptr, &StatsSettings::sample_min_s},
    {"min_samples", &StatsSettings::min_samples, nullptr},
    {"min_s", nullptr, &StatsSettings::min_s},
    {"noise", nullptr, &StatsSettings::noise},
    {"max_s", nullptr, &StatsSettings::max_s},
    {"rotation_sets", &StatsSettings::rotation_sets, nullptr},
    {"timeout_s", nullptr, &StatsSettings::timeout_s},
};
// The longest duration a stats setting may ask for (seconds).
constexpr double kMaxDurationS = 86400;
constexpr std::string_view kStatsKeys[] = {"warmup_min_runs", "warmup_min_s",  "sample_min_s",
                                           "min_samples",     "min_s",         "noise",
                                           "max_s",           "rotation_sets", "timeout_s"};

// Edit distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "; did you mean 'x'?" when one candidate is close to `word`, else "".
template <class Range>
std::string suggestion(std::string_view word, const Range& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;  // at most a third of it is wrong
  for (const auto& candidate : candidates) {
    const std::string_view c = candidate;
    // A truncated name ('relative' for 'relative_to') is close whatever its length.
    const bool prefix = word.size() >= 3 && (c.starts_with(word) || word.starts_with(c));
    const size_t d = prefix ? 1 : edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best.empty() ? std::string() : fmt::format("; did you mean '{}'?", best);
}

bool is_quoted(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

const char* kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool is_integer_text(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// [-+]? (digits [. digits*] | . digits) ([eE] [-+]? digits)?  -- finite decimal floats only.
bool is_float_text(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// A scalar's value: quoted scalars are strings; plain ones resolve as YAML 1.2's core schema does for
// true/false, integers and decimal floats, anything else is a string. nullopt: a number out of range.
std::optional<ParamValue> resolve_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (is_quoted(node)) return ParamValue(text);
  if (text == "true" || text == "True" || text == "TRUE") return ParamValue(true);
  if (text == "false" || text == "False" || text == "FALSE") return ParamValue(false);
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  if (is_integer_text(text)) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return ParamValue(value);
  }
  if (is_float_text(text)) {
    double value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
      return std::nullopt;
    }
    return ParamValue(value);
  }
  return ParamValue(text);
}

// One key: value pair of a mapping.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  // Where to point at the value: a missing value (`key:`) has no position of its own.
  YAML::Mark value_mark() const { return value.IsNull() ? key_node.Mark() : value.Mark(); }
};

const Entry* find(const std::vector<Entry>& entries, std::string_view key) {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

// The text of the first `key: <scalar>` of a mapping, without reporting anything (used to name a
// case or criterion in the messages about its other keys).
std::optional<std::string> peek_scalar(const YAML::Node& map, std::string_view key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      if (it->second.IsScalar() && !it->second.Scalar().empty()) return it->second.Scalar();
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool valid_case_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '+';
  });
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; });
}

// Records where each YAML document starts; parses without building nodes.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

using Marks = std::map<std::string, YAML::Mark, std::less<>>;

struct Diagnostic {
  int line = 0;
  int column = 0;
  std::string text;
};

struct SweepAxis {
  std::string key;
  std::vector<std::pair<std::string, ParamValue>> values;  // as written, and resolved
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Result<Profile> parse(std::string_view text);

 private:
  template <class... Args>
  void error(const YAML::Mark& mark, fmt::format_string<Args...> format, Args&&... args) {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    diagnostics_.push_back(
        {line, column,
         fmt::format("{}:{}:{}: {}", file_, line, column, fmt::format(format, std::forward<Args>(args)...))});
  }

  SourceLocation location(const YAML::Mark& mark) const {
    return SourceLocation{file_, mark.is_null() ? 1 : mark.line + 1, mark.is_null() ? 1 : mark.column + 1};
  }

  std::vector<Entry> entries(const YAML::Node& map, const std::string& context,
                             std::optional<std::span<const std::string_view>> allowed);
  void require(const YAML::Node& map, const std::vector<Entry>& entries, std::string_view key,
               const std::string& context);

  bool expect_map(const Entry& e, const std::string& context);
  bool expect_list(const Entry& e, const std::string& context);
  std::optional<std::string> get_string(const Entry& e, const std::string& context);
  std::optional<int64_t> get_integer(const Entry& e, const std::string& context);
  std::optional<double> get_number(const Entry& e, const std::string& context);

  void parse_stats(const Entry& e, const std::string& context, StatsSettings& stats, Marks& marks);
  void check_stats(const StatsSettings& stats, const Marks& marks, const std::string& context);
  // A case: its keys into one Case and its sweep axes, then the cases they expand to.
  void parse_case(const YAML::Node& node, size_t index, const StatsSettings& defaults, Profile& profile);
  void parse_case_id(const Entry& e, const std::string& context, Case& c);
  void parse_case_workload(const Entry& e, const std::string& context, Case& c);
  void parse_case_devices(const Entry& e, const std::string& context, Case& c);
  void parse_case_params(const Entry& e, const std::string& context, Case& c);
  void parse_sweep(const Entry& e, const std::string& context, std::vector<SweepAxis>& axes);
  void check_inference_case(const Entry* params, const Entry* sweep, const std::string& context,
                            const Case& c);
  std::optional<SweepAxis> parse_sweep_axis(const Entry& s, const std::string& context);
  void expand_sweep(const YAML::Node& node, const std::string& context, const Case& base,
                    const std::vector<SweepAxis>& axes, Profile& profile);
  void parse_criterion(const YAML::Node& node, size_t index, Profile& profile);

  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  std::map<std::string, SourceLocation> case_ids_;     // every case id defined, after sweeps
  std::map<std::string, std::string> sweep_examples_;  // swept base id -> its first case id
  std::set<std::string> broken_case_ids_;              // base ids of cases that failed to load
  std::map<std::string, SourceLocation> criterion_ids_;
};

std::vector<Entry> Parser::entries(const YAML::Node& map, const std::string& context,
                                   std::optional<std::span<const std::string_view>> allowed) {
  std::vector<Entry> out;
  Marks seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: `it->` is a proxy that dies here
    if (!key_node.IsScalar() || key_node.Scalar().empty()) {
      error(key_node.Mark(), "a key {} must be a plain name, got {}", context, kind_name(key_node));
      continue;
    }
    const std::string& key = key_node.Scalar();
    const auto [first, inserted] = seen.emplace(key, key_node.Mark());
    if (!inserted) {
      error(key_node.Mark(), "duplicate key '{}' {} (first at line {}, column {})", key, context,
            first->second.line + 1, first->second.column + 1);
      continue;
    }
    if (allowed && std::find(allowed->begin(), allowed->end(), key) == allowed->end()) {
      error(key_node.Mark(), "unknown key '{}' {} (expected one of: {}){}", key, context,
            fmt::join(*allowed, ", "), suggestion(key, *allowed));
      continue;
    }
    out.push_back(Entry{key, key_node, it->second});
  }
  return out;
}

void Parser::require(const YAML::Node& map, const std::vector<Entry>& entries, std::string_view key,
                     const std::string& context) {
  // A key present but rejected (duplicate, wrong type) was reported already; only report absence.
  if (find(entries, key) != nullptr) return;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return;
  }
  error(map.Mark(), "missing required key '{}' {}", key, context);
}

bool Parser::expect_map(const Entry& e, const std::string& context) {
  if (e.value.IsMap()) return true;
  error(e.value_mark(), "'{}' {} must be a mapping, got {}", e.key, context, kind_name(e.value));
  return false;
}

bool Parser::expect_list(const Entry& e, const std::string& context) {
  if (e.value.IsSequence()) return true;
  error(e.value_mark(), "'{}' {} must be a list, got {}", e.key, context, kind_name(e.value));
  return false;
}

std::optional<std::string> Parser::get_string(const Entry& e, const std::string& context) {
  if (!e.value.IsScalar()) {
    error(e.value_mark(), "'{}' {} must be a string, got {}", e.key, context, kind_name(e.value));
    return std::nullopt;
  }
  if (e.value.Scalar().empty()) {
    error(e.value_mark(), "'{}' {} must not be empty", e.key, context);
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<int64_t> Parser::get_integer(const Entry& e, const std::string& context) {
  if (e.value.IsScalar()) {
    const std::optional<ParamValue> v = resolve_scalar(e.value);
    if (v && std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
    if (!v) {
      error(e.value_mark(), "'{}' {} is out of range: {}", e.key, context, e.value.Scalar());
      return std::nullopt;
    }
    error(e.value_mark(), "'{}' {} must be an integer, got {}'{}'", e.key, context,
          is_quoted(e.value) ? "the string " : "", e.value.Scalar());
    return std::nullopt;
  }
  error(e.value_mark(), "'{}' {} must be an integer, got {}", e.key, context, kind_name(e.value));
  return std::nullopt;
}

std::optional<double> Parser::get_number(const Entry& e, const std::string& context) {
  if (e.value.IsScalar()) {
    const std::optional<ParamValue> v = resolve_scalar(e.value);
    if (v && std::holds_alternative<int64_t>(*v)) return static_cast<double>(std::get<int64_t>(*v));
    if (v && std::holds_alternative<double>(*v)) return std::get<double>(*v);
    if (!v) {
      error(e.value_mark(), "'{}' {} is out of range: {}", e.key, context, e.value.Scalar());
      return std::nullopt;
    }
    error(e.value_mark(), "'{}' {} must be a number, got {}'{}'", e.key, context,
          is_quoted(e.value) ? "the string " : "", e.value.Scalar());
    return std::nullopt;
  }
  error(e.value_mark(), "'{}' {} must be a number, got {}", e.key, context, kind_name(e.value));
  return std::nullopt;
}

void Parser::parse_stats(const Entry& e, const std::string& context, StatsSettings& stats, Marks& marks) {
  if (!expect_map(e, context)) return;
  const std::string stats_context = context == "at the top level"
                                        ? std::string("in the profile's stats")
                                        : fmt::format("in the stats of {}", context.substr(3));
  for (const Entry& field : entries(e.value, stats_context, std::span(kStatsKeys))) {
    const auto* spec = std::find_if(std::begin(kStatsFields), std::end(kStatsFields),
                                    [&](const StatsField& f) { return f.name == field.key; });
    if (spec->int_member != nullptr) {
      const std::optional<int64_t> v = get_integer(field, stats_context);
      if (!v) continue;
      if (*v < INT_MIN || *v > INT_MAX) {
        error(field.value_mark(), "'{}' {} is out of range: {}", field.key, stats_context, *v);
        continue;
      }
      stats.*(spec->int_member) = static_cast<int>(*v);
    } else {
      const std::optional<double> v = get_number(field, stats_context);
      if (!v) continue;
      stats.*(spec->double_member) = *v;
    }
    marks[field.key] = field.value_mark();
  }
  check_stats(stats, marks, stats_context);
}

// Checks the effective settings; reports only problems involving a key set at this level (`marks`),
// so a case does not repeat the profile's own errors.
void Parser::check_stats(const StatsSettings& s, const Marks& marks, const std::string& context) {
  auto set_here = [&](std::string_view key) -> const YAML::Mark* {
    const auto it = marks.find(key);
    return it == marks.end() ? nullptr : &it->second;
  };
  // Every duration is finite and at most a day, so the watchdog (timeout_s, or a multiple of the
  // budget) always fires within a bounded time whatever a profile says.
  for (std::string_view key : {"warmup_min_s", "sample_min_s", "min_s", "max_s", "timeout_s"}) {
    const auto* spec = std::find_if(std::begin(kStatsFields), std::end(kStatsFields),
                                    [&](const StatsField& f) { return f.name == key; });
    const double value = s.*(spec->double_member);
    if (const YAML::Mark* m = set_here(key); m && key != "max_s" && !(value >= 0)) {
      error(*m, "'{}' {} must not be negative, got {}", key, context, value);
    } else if (m && value > kMaxDurationS) {
      error(*m, "'{}' {} must be at most {} s (a day), got {}", key, context, kMaxDurationS, value);
    }
  }
  if (const YAML::Mark* m = set_here("warmup_min_runs"); m && s.warmup_min_runs < 0) {
    error(*m, "'warmup_min_runs' {} must not be negative, got {}", context, s.warmup_min_runs);
  }
  if (const YAML::Mark* m = set_here("min_samples"); m && s.min_samples < 1) {
    error(*m, "'min_samples' {} must be at least 1, got {}", context, s.min_samples);
  }
  if (const YAML::Mark* m = set_here("noise"); m && !(s.noise > 0 && s.noise < 1)) {
    error(*m, "'noise' {} must be between 0 and 1 (exclusive), got {}", context, s.noise);
  }
  if (const YAML::Mark* m = set_here("rotation_sets"); m && s.rotation_sets < 2) {
    error(*m, "'rotation_sets' {} must be at least 2, got {}", context, s.rotation_sets);
  }
  const YAML::Mark* max_mark = set_here("max_s");
  if (max_mark && !(s.max_s > 0)) {
    error(*max_mark, "'max_s' {} must be positive, got {}", context, s.max_s);
  } else if (s.min_s >= 0 && s.max_s < s.min_s) {
    const YAML::Mark* m = max_mark != nullptr ? max_mark : set_here("min_s");
    if (m != nullptr) {
      error(*m, "'max_s' ({}) {} must be at least 'min_s' ({})", s.max_s, context, s.min_s);
    }
  }
}

void Parser::parse_case(const YAML::Node& node, size_t index, const StatsSettings& defaults,
                        Profile& profile) {
  const std::optional<std::string> peeked_id = peek_scalar(node, "id");
  const std::string context =
      peeked_id ? fmt::format("in case '{}'", *peeked_id) : fmt::format("in case #{}", index + 1);
  if (!node.IsMap()) {
    error(node.Mark(), "case #{} must be a mapping with id, workload, params..., got {}", index + 1,
          kind_name(node));
    return;
  }
  const size_t errors_before = diagnostics_.size();
  const std::vector<Entry> keys = entries(node, context, std::span(kCaseKeys));
  require(node, keys, "id", context);
  require(node, keys, "workload", context);

  Case base;
  base.stats = defaults;
  base.where = location(node.Mark());
  std::vector<SweepAxis> axes;
  const Entry* params_entry = nullptr;
  const Entry* sweep_entry = nullptr;
  for (const Entry& e : keys) {
    if (e.key == "params") params_entry = &e;
    if (e.key == "sweep") sweep_entry = &e;
    if (e.key == "id") {
      parse_case_id(e, context, base);
    } else if (e.key == "workload") {
      parse_case_workload(e, context, base);
    } else if (e.key == "devices") {
      parse_case_devices(e, context, base);
    } else if (e.key == "stats") {
      Marks marks;
      parse_stats(e, context, base.stats, marks);
    } else if (e.key == "params") {
      parse_case_params(e, context, base);
    } else if (e.key == "sweep") {
      parse_sweep(e, context, axes);
    }
  }
  if ((base.workload == "inference" || base.workload == "training") && diagnostics_.size() == errors_before)
    check_inference_case(params_entry, sweep_entry, context, base);

  if (diagnostics_.size() != errors_before) {
    if (peeked_id) broken_case_ids_.insert(*peeked_id);
    return;
  }
  expand_sweep(node, context, base, axes, profile);
}

// The inference and training workloads' params are checked here (models/llm_config.h,
// models/training.h), so a bad model config or scenario names its file:line:column before anything runs.
void Parser::check_inference_case(const Entry* params, const Entry* sweep, const std::string& context,
                                  const Case& c) {
  const size_t errors_before = diagnostics_.size();
  const bool training = c.workload == "training";
  auto check = training ? models::check_training_param : models::check_inference_param;
  if (params != nullptr && params->value.IsMap()) {
    for (const auto& kv : params->value) {
      const std::optional<ParamValue> v = resolve_scalar(kv.second);
      if (!v) continue;
      if (std::string problem = check(kv.first.Scalar(), *v); !problem.empty())
        error(kv.second.Mark(), "{} {}", problem, context);
    }
  }
  if (sweep != nullptr && sweep->value.IsMap()) {
    for (const auto& axis : sweep->value) {
      if (!axis.second.IsSequence()) continue;
      for (const YAML::Node& item : axis.second) {
        const std::optional<ParamValue> v = resolve_scalar(item);
        if (!v) continue;
        if (std::string problem = check(axis.first.Scalar(), *v); !problem.empty())
          error(item.Mark(), "{} {}", problem, context);
      }
    }
  }
  if (diagnostics_.size() != errors_before || sweep != nullptr) return;
  KeyValues values(c.params.begin(), c.params.end());
  Status config;
  if (training) {
    if (auto r = models::train_settings_from_params(values); !r) config = r.error();
  } else if (auto r = models::config_from_params(values); !r) {
    config = r.error();
  }
  if (!config)
    error(params != nullptr ? params->value_mark() : YAML::Mark::null_mark(), "{} {}", config.error().message,
          context);
}

void Parser::parse_case_id(const Entry& e, const std::string& context, Case& c) {
  std::optional<std::string> id = get_string(e, context);
  if (!id) return;
  if (!valid_case_id(*id)) {
    error(e.value_mark(), "case id '{}' may hold only letters, digits and '-', '_', '.', '+'", *id);
  } else if (*id == "summary") {
    error(e.value_mark(), "case id 'summary' is reserved (criteria use 'summary.<key>')");
  } else {
    c.id = *id;
  }
}

void Parser::parse_case_workload(const Entry& e, const std::string& context, Case& c) {
  std::optional<std::string> workload = get_string(e, context);
  if (!workload) return;
  const auto& known = known_workloads();
  if (std::find(known.begin(), known.end(), *workload) == known.end()) {
    error(e.value_mark(), "unknown workload '{}' {} (known: {}){}", *workload, context,
          fmt::join(known, ", "), suggestion(*workload, known));
  } else {
    c.workload = *workload;
  }
}

void Parser::parse_case_devices(const Entry& e, const std::string& context, Case& c) {
  std::optional<std::string> devices = get_string(e, context);
  if (!devices) return;
  if (has_space(*devices)) {
    error(e.value_mark(), "'devices' {} must be a selector such as 'cpu:*', got '{}'", context, *devices);
  } else {
    c.devices = *devices;
  }
}

void Parser::parse_case_params(const Entry& e, const std::string& context, Case& c) {
  if (!expect_map(e, context)) return;
  const std::string params_context = fmt::format("in the params of {}", context.substr(3));
  for (const Entry& p : entries(e.value, params_context, std::nullopt)) {
    if (!p.value.IsScalar()) {
      error(p.value_mark(), "param '{}' {} must be a scalar (bool, number or string), got {}", p.key, context,
            kind_name(p.value));
      continue;
    }
    if (std::optional<ParamValue> v = resolve_scalar(p.value)) {
      c.params[p.key] = std::move(*v);
    } else {
      error(p.value_mark(), "param '{}' {} is out of range: {}", p.key, context, p.value.Scalar());
    }
  }
}

void Parser::parse_sweep(const Entry& e, const std::string& context, std::vector<SweepAxis>& axes) {
  if (!expect_map(e, context)) return;
  const std::string sweep_context = fmt::format("in the sweep of {}", context.substr(3));
  const std::vector<Entry> sweep = entries(e.value, sweep_context, std::nullopt);
  if (e.value.size() == 0) error(e.value_mark(), "'sweep' {} is empty", context);
  for (const Entry& s : sweep)
    if (std::optional<SweepAxis> axis = parse_sweep_axis(s, context)) axes.push_back(std::move(*axis));
}

// One key of a sweep: its list of distinct scalar values (empty optional when none is usable).
std::optional<SweepAxis> Parser::parse_sweep_axis(const Entry& s, const std::string& context) {
  if (!s.value.IsSequence()) {
    error(s.value_mark(), "sweep '{}' {} must be a list of values, got {}", s.key, context,
          kind_name(s.value));
    return std::nullopt;
  }
  if (s.value.size() == 0) {
    error(s.value_mark(), "sweep '{}' {} has no values", s.key, context);
    return std::nullopt;
  }
  SweepAxis axis{s.key, {}};
  for (const YAML::Node& item : s.value) {
    if (!item.IsScalar()) {
      error(item.IsNull() ? s.value_mark() : item.Mark(),
            "sweep '{}' {}: every value must be a scalar (bool, number or string), got {}", s.key, context,
            kind_name(item));
      continue;
    }
    const std::optional<ParamValue> v = resolve_scalar(item);
    if (!v) {
      error(item.Mark(), "sweep '{}' {}: value out of range: {}", s.key, context, item.Scalar());
      continue;
    }
    const std::string& text = item.Scalar();
    const bool repeated = std::any_of(axis.values.begin(), axis.values.end(),
                                      [&](const auto& other) { return other.first == text; });
    if (repeated) {
      error(item.Mark(), "sweep '{}' {} lists '{}' twice", s.key, context, text);
      continue;
    }
    axis.values.emplace_back(text, *v);
  }
  if (axis.values.empty()) return std::nullopt;
  return axis;
}

// The cases of `base` over the Cartesian product of the axes (the sweep's first key varying slowest),
// each with a unique id; `base` itself when there is no sweep.
void Parser::expand_sweep(const YAML::Node& node, const std::string& context, const Case& base,
                          const std::vector<SweepAxis>& axes, Profile& profile) {
  size_t count = 1;
  for (const SweepAxis& axis : axes) {
    count *= axis.values.size();
    if (count > kMaxCasesPerSweep) {
      error(node.Mark(), "the sweep {} expands to more than {} cases", context, kMaxCasesPerSweep);
      broken_case_ids_.insert(base.id);
      return;
    }
  }

  std::vector<size_t> at(axes.size(), 0);
  for (size_t n = 0; n < count; ++n) {
    Case c = base;
    if (!axes.empty()) {
      std::vector<std::string> parts;
      for (size_t a = 0; a < axes.size(); ++a) {
        const auto& [text, value] = axes[a].values[at[a]];
        c.params[axes[a].key] = value;
        parts.push_back(fmt::format("{}={}", axes[a].key, text));
      }
      c.id = fmt::format("{}[{}]", base.id, fmt::join(parts, ","));
      if (n == 0) sweep_examples_.emplace(base.id, c.id);
    }
    const auto [first, inserted] = case_ids_.emplace(c.id, c.where);
    if (!inserted) {
      error(node.Mark(), "duplicate case id '{}' (first defined at {})", c.id, to_string(first->second));
    } else {
      profile.cases.push_back(std::move(c));
    }
    for (size_t a = axes.size(); a-- > 0;) {  // odometer: last key fastest
      if (++at[a] < axes[a].values.size()) break;
      at[a] = 0;
    }
  }
}

void Parser::parse_criterion(const YAML::Node& node, size_t index, Profile& profile) {
  const std::optional<std::string> peeked_id = peek_scalar(node, "id");
  const std::string context =
      peeked_id ? fmt::format("in criterion '{}'", *peeked_id) : fmt::format("in criterion #{}", index + 1);
  if (!node.IsMap()) {
    error(node.Mark(), "criterion #{} must be a mapping with id, metric, comparison, threshold, got {}",
          index + 1, kind_name(node));
    return;
  }
  const size_t errors_before = diagnostics_.size();
  const std::vector<Entry> keys = entries(node, context, std::span(kCriterionKeys));
  for (std::string_view key : {"id", "metric", "comparison", "threshold"}) require(node, keys, key, context);

  Criterion c;
  c.where = location(node.Mark());
  const Entry* threshold_entry = nullptr;
  for (const Entry& e : keys) {
    if (e.key == "id") {
      if (std::optional<std::string> id = get_string(e, context)) {
        const auto [first, inserted] = criterion_ids_.emplace(*id, location(e.value_mark()));
        if (!inserted) {
          error(e.value_mark(), "duplicate criterion id '{}' (first defined at {})", *id,
                to_string(first->second));
        }
        c.id = *id;
      }
    } else if (e.key == "metric") {
      const std::optional<std::string> metric = get_string(e, context);
      if (!metric) continue;
      c.metric = *metric;
      const size_t dot = metric->rfind('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == metric->size()) {
        error(e.value_mark(), "metric '{}' {} must be '<case id>.<metric>' or 'summary.<key>'", *metric,
              context);
        continue;
      }
      if (metric->starts_with(kSummaryPrefix)) continue;
      const std::string case_id = metric->substr(0, dot);
      if (case_ids_.count(case_id) != 0) continue;
      const std::string base_id = case_id.substr(0, case_id.find('['));
      if (broken_case_ids_.count(base_id) != 0) continue;  // that case's own errors are reported
      std::string hint;
      if (const auto swept = sweep_examples_.find(case_id); swept != sweep_examples_.end()) {
        hint = fmt::format("; '{}' is a sweep: name one of its cases, e.g. '{}'", case_id, swept->second);
      } else {
        std::vector<std::string> ids;
        for (const auto& [id, where] : case_ids_) ids.push_back(id);
        hint = suggestion(case_id, ids);
      }
      error(e.value_mark(), "metric '{}' {} names case '{}', which this profile does not define{}", *metric,
            context, case_id, hint);
    } else if (e.key == "devices") {
      if (std::optional<std::string> devices = get_string(e, context)) {
        if (has_space(*devices)) {
          error(e.value_mark(), "'devices' {} must be a selector such as 'cpu:*', got '{}'", context,
                *devices);
        } else {
          c.devices = *devices;
        }
      }
    } else if (e.key == "comparison") {
      if (std::optional<std::string> comparison = get_string(e, context)) {
        if (std::find(std::begin(kComparisons), std::end(kComparisons), *comparison) ==
            std::end(kComparisons)) {
          error(e.value_mark(), "unknown comparison '{}' {} (expected one of: {})", *comparison, context,
                fmt::join(kComparisons, ", "));
        } else {
          c.comparison = *comparison;
        }
      }
    } else if (e.key == "threshold") {
      if (std::optional<double> threshold = get_number(e, context)) {
        c.threshold = *threshold;
        threshold_entry = &e;
      }
    } else if (e.key == "relative_to") {
      if (std::optional<std::string> key = get_string(e, context)) {
        if (has_space(*key)) {
          error(e.value_mark(),
                "'relative_to' {} must be a device attribute key such as "
                "'peak.flops.f32', got '{}'",
                context, *key);
        } else {
          c.relative_to = *key;
        }
      }
    }
  }
  if (threshold_entry != nullptr && !c.relative_to.empty() && c.threshold <= 0) {
    error(threshold_entry->value_mark(), "'threshold' {} is a fraction of '{}' and must be positive, got {}",
          context, c.relative_to, c.threshold);
  }
  if (diagnostics_.size() == errors_before) profile.criteria.push_back(std::move(c));
}

Result<Profile> Parser::parse(std::string_view text) {
  Profile profile;
  profile.path = file_;
  profile.sha256 = sha256_hex(text);

  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
    // Count the documents with a bounded loop: yaml-cpp 0.7's LoadAll can loop forever (and eat all
    // memory) on malformed input such as a leading ',' (jbeder/yaml-cpp#1040, fixed after 0.7).
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    DocumentCounter counter;
    for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
    }
    if (counter.starts.size() > 1) {
      if (counter.starts[1].pos == counter.starts[0].pos) {  // the parser made no progress
        error(counter.starts[0], "YAML syntax error: unexpected token");
      } else {
        error(counter.starts[1], "a profile file holds one YAML document; this is a second one");
      }
    }
  } catch (const YAML::ParserException& e) {
    error(e.mark, "YAML syntax error: {}", e.msg);
  }
  if (diagnostics_.empty()) {
    if (root.IsNull()) {
      error(YAML::Mark::null_mark(), "empty profile (expected a mapping with schema, name, version, cases)");
    } else if (!root.IsMap()) {
      error(root.Mark(), "a profile must be a mapping (schema, name, version, cases...), got {}",
            kind_name(root));
    }
  }

  // The schema first: under another schema the other keys may mean something else.
  if (diagnostics_.empty()) {
    std::optional<Entry> schema;
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == "schema") {
        schema = Entry{"schema", it->first, it->second};
        break;
      }
    }
    if (!schema) {
      error(root.Mark(), "missing required key 'schema' at the top level (this cmeter reads schema {})",
            kSchemaVersion);
    } else if (std::optional<int64_t> version = get_integer(*schema, "at the top level")) {
      if (*version != kSchemaVersion) {
        error(schema->value_mark(), "unsupported profile schema {}; this cmeter reads schema {}", *version,
              kSchemaVersion);
      }
    }
  }

  if (diagnostics_.empty()) {
    const std::string top = "at the top level";
    const std::vector<Entry> keys = entries(root, top, std::span(kTopKeys));
    for (std::string_view key : {"name", "version", "cases"}) require(root, keys, key, top);
    if (const Entry* e = find(keys, "name")) profile.name = get_string(*e, top).value_or("");
    if (const Entry* e = find(keys, "version")) profile.version = get_string(*e, top).value_or("");
    if (const Entry* e = find(keys, "description")) {
      if (!e->value.IsNull()) profile.description = get_string(*e, top).value_or("");
    }
    if (const Entry* e = find(keys, "stats")) {
      Marks marks;
      parse_stats(*e, top, profile.stats, marks);
    }
    if (const Entry* e = find(keys, "execution")) {
      profile.execution = get_string(*e, top).value_or("sequential");
      if (profile.execution != "sequential" && profile.execution != "concurrent" &&
          profile.execution != "both")
        error(e->value_mark(),
              "'execution' is '{}'; it is 'sequential' (devices one after another), 'concurrent' (each "
              "case on all devices at once) or 'both' (each case on each device alone, then on all at once)",
              profile.execution);
    }
    if (const Entry* e = find(keys, "cases"); e != nullptr && expect_list(*e, top)) {
      if (e->value.size() == 0) error(e->value_mark(), "'cases' is empty: a profile needs at least one case");
      size_t index = 0;
      for (const YAML::Node& node : e->value) parse_case(node, index++, profile.stats, profile);
    }
    if (const Entry* e = find(keys, "criteria"); e != nullptr && !e->value.IsNull() && expect_list(*e, top)) {
      size_t index = 0;
      for (const YAML::Node& node : e->value) parse_criterion(node, index++, profile);
    }
  }

  if (diagnostics_.empty()) return profile;
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  std::vector<std::string> lines;
  for (const Diagnostic& d : diagnostics_) {
    if (lines.size() == kMaxErrorsShown) {
      lines.push_back(fmt::format("... and {} more", diagnostics_.size() - kMaxErrorsShown));
      break;
    }
    lines.push_back(d.text);
  }
  return make_error(ErrorCode::kInvalidArgument, "{}", fmt::join(lines, "\n"));
}

}  // namespace

Result<Profile> load_string(std::string_view yaml_text, const std::string& file_name_for_errors) {
  try {
    return Parser(file_name_for_errors).parse(yaml_text);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "{}:{}:{}: {}", file_name_for_errors,
                      e.mark.is_null() ? 1 : e.mark.line + 1, e.mark.is_null() ? 1 : e.mark.column + 1,
                      e.msg);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, "{}: cannot load profile: {}", file_name_for_errors, e.what());
  }
}

}  // namespace cmeter::profile
