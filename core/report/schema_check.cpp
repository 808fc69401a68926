// Draft-07 subset checker over nlohmann::json; see schema_check.h for the keywords honoured.
#include "core/report/schema_check.h"

#include <cctype>
#include <set>

#include <fmt/format.h>

namespace cmeter {
namespace detail {
// Defined in the configure-generated report_schema_text.cpp (core/CMakeLists.txt).
extern const unsigned char kReportSchemaV1Bytes[];
extern const unsigned long kReportSchemaV1Size;
}  // namespace detail

namespace {

constexpr int kMaxDepth = 64;  // schema nesting is far below this; $ref cycles stop here

const char* type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

bool has_type(const nlohmann::json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

// A short, bounded rendering of a value for messages.
std::string brief(const nlohmann::json& v) {
  std::string s = v.is_structured() ? std::string(type_name(v))
                                    : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string member_path(const std::string& path, const std::string& key) {
  bool plain = !key.empty();
  for (char c : key) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  std::string shown =
      plain ? key : nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!plain) return fmt::format("{}[{}]", path, shown);
  return path == "$" ? shown : fmt::format("{}.{}", path, shown);
}

class Checker {
 public:
  Checker(const nlohmann::json& root, const SchemaCheckOptions& options) : root_(root), options_(options) {}

  void check(const nlohmann::json& schema, const nlohmann::json& v, const std::string& path, int depth) {
    if (full()) return;
    if (depth > kMaxDepth) return add(path, "schema nesting too deep (a $ref cycle?)");
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) add(path, "no value is allowed here");
      return;
    }
    if (!schema.is_object()) return;
    if (auto ref = schema.find("$ref"); ref != schema.end()) {
      const nlohmann::json* target = resolve(*ref);
      if (target == nullptr) return add(path, fmt::format("schema has an unresolvable $ref {}", brief(*ref)));
      check(*target, v, path, depth + 1);
    }
    if (auto t = schema.find("type"); t != schema.end() && !type_ok(*t, v)) {
      return add(path, fmt::format("expected {}, got {}", describe_type(*t), type_name(v)));
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v)
      return add(path, fmt::format("expected {}, got {}", brief(*c), brief(v)));
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& option : *e) found = found || option == v;
      if (!found) {
        std::vector<std::string> options;
        for (const auto& option : *e) options.push_back(brief(option));
        return add(path, fmt::format("expected one of {}, got {}", fmt::join(options, ", "), brief(v)));
      }
    }
    if (auto m = schema.find("minimum"); m != schema.end() && m->is_number() && v.is_number()) {
      if (v.get<double>() < m->get<double>())
        add(path, fmt::format("{} is below the minimum {}", brief(v), brief(*m)));
    }
    if (auto m = schema.find("maximum"); m != schema.end() && m->is_number() && v.is_number()) {
      if (v.get<double>() > m->get<double>())
        add(path, fmt::format("{} is above the maximum {}", brief(v), brief(*m)));
    }
    if (v.is_array()) {
      if (auto m = schema.find("minItems");
          m != schema.end() && m->is_number_unsigned() && v.size() < m->get<uint64_t>())
        add(path, fmt::format("{} items, fewer than the minimum {}", v.size(), m->get<uint64_t>()));
      if (auto m = schema.find("maxItems");
          m != schema.end() && m->is_number_unsigned() && v.size() > m->get<uint64_t>())
        add(path, fmt::format("{} items, more than the maximum {}", v.size(), m->get<uint64_t>()));
    }
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number_unsigned() && v.is_string()) {
      if (v.get_ref<const std::string&>().size() < m->get<uint64_t>())
        add(path, fmt::format("string shorter than {} characters", m->get<uint64_t>()));
    }
    if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array())
      check_any_of(*any, v, path, depth);
    if (v.is_object()) check_object(schema, v, path, depth);
    if (v.is_array()) {
      if (auto items = schema.find("items"); items != schema.end()) {
        size_t i = 0;
        for (const auto& item : v) {
          if (full()) break;
          check(*items, item, fmt::format("{}[{}]", path, i++), depth + 1);
        }
      }
    }
  }

  std::vector<std::string> errors;

 private:
  bool full() const { return errors.size() >= options_.max_errors; }
  void add(const std::string& path, const std::string& message) {
    if (!full()) errors.push_back(fmt::format("{}: {}", path, message));
  }

  const nlohmann::json* resolve(const nlohmann::json& ref) const {
    if (!ref.is_string()) return nullptr;
    const std::string& s = ref.get_ref<const std::string&>();
    const std::string prefix = "#/definitions/";
    if (s.rfind(prefix, 0) != 0 || !root_.is_object()) return nullptr;
    auto defs = root_.find("definitions");
    if (defs == root_.end() || !defs->is_object()) return nullptr;
    auto it = defs->find(s.substr(prefix.size()));
    return it == defs->end() ? nullptr : &*it;
  }

  static bool type_ok(const nlohmann::json& type, const nlohmann::json& v) {
    if (type.is_string()) return has_type(v, type.get<std::string>());
    if (type.is_array()) {
      for (const auto& t : type)
        if (t.is_string() && has_type(v, t.get<std::string>())) return true;
      return false;
    }
    return true;
  }
  static std::string describe_type(const nlohmann::json& type) {
    if (type.is_string()) return type.get<std::string>();
    std::vector<std::string> names;
    if (type.is_array())
      for (const auto& t : type)
        if (t.is_string()) names.push_back(t.get<std::string>());
    return fmt::format("{}", fmt::join(names, " or "));
  }

  // The type a branch asks for (following one $ref), to pick which branch's errors to show.
  std::string branch_type(const nlohmann::json& branch) const {
    const nlohmann::json* b = &branch;
    if (b->is_object() && b->contains("$ref")) {
      const nlohmann::json* target = resolve((*b)["$ref"]);
      if (target != nullptr) b = target;
    }
    if (b->is_object()) {
      auto t = b->find("type");
      if (t != b->end() && t->is_string()) return t->get<std::string>();
    }
    return "";
  }

  void check_any_of(const nlohmann::json& branches, const nlohmann::json& v, const std::string& path,
                    int depth) {
    std::vector<std::string> best;
    std::vector<std::string> wanted;
    for (const auto& branch : branches) {
      Checker sub(root_, options_);
      sub.check(branch, v, path, depth + 1);
      if (sub.errors.empty()) return;
      std::string t = branch_type(branch);
      wanted.push_back(t.empty() ? "another shape" : t);
      if (!t.empty() && has_type(v, t)) best = sub.errors;  // the branch of the value's own type
    }
    if (!best.empty()) {
      for (auto& e : best)
        if (!full()) errors.push_back(std::move(e));
    } else {
      add(path, fmt::format("expected {}, got {}", fmt::join(wanted, " or "), type_name(v)));
    }
  }

  void check_object(const nlohmann::json& schema, const nlohmann::json& v, const std::string& path,
                    int depth) {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    auto p = schema.find("properties");
    const nlohmann::json& props = (p != schema.end() && p->is_object()) ? *p : kEmpty;
    if (auto req = schema.find("required"); req != schema.end() && req->is_array()) {
      for (const auto& name : *req)
        if (name.is_string() && !v.contains(name.get<std::string>()))
          add(path, fmt::format("missing member '{}'", name.get<std::string>()));
    }
    auto additional = schema.find("additionalProperties");
    for (auto it = v.begin(); it != v.end() && !full(); ++it) {
      auto known = props.find(it.key());
      if (known != props.end()) {
        check(*known, it.value(), member_path(path, it.key()), depth + 1);
      } else if (additional != schema.end()) {
        if (additional->is_boolean()) {
          if (!additional->get<bool>() && !options_.allow_unknown_members)
            add(path, fmt::format("unknown member '{}'", it.key()));
        } else {
          check(*additional, it.value(), member_path(path, it.key()), depth + 1);
        }
      }
    }
  }

  const nlohmann::json& root_;
  const SchemaCheckOptions& options_;
};

void collect_unknown(const nlohmann::json& schema, std::set<std::string>& out, int depth) {
  static const std::set<std::string> kKnown = {
      "$ref",        "type",     "enum",     "const",     "properties", "required",    "additionalProperties",
      "items",       "minimum",  "anyOf",    "minLength", "title",      "description", "$schema",
      "maximum",     "minItems", "maxItems", "$id",       "$comment",   "pattern",     "format",
      "definitions", "default",  "examples"};
  if (depth > kMaxDepth || !schema.is_object()) return;
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    if (!kKnown.count(it.key())) out.insert(it.key());
    const std::string& k = it.key();
    if (k == "properties" || k == "definitions") {
      if (it->is_object())
        for (const auto& sub : *it) collect_unknown(sub, out, depth + 1);
    } else if (k == "additionalProperties" || k == "items") {
      collect_unknown(*it, out, depth + 1);
    } else if (k == "anyOf" && it->is_array()) {
      for (const auto& sub : *it) collect_unknown(sub, out, depth + 1);
    }
  }
}

}  // namespace

std::vector<std::string> check_against_schema(const nlohmann::json& schema, const nlohmann::json& document,
                                              const SchemaCheckOptions& options) {
  Checker checker(schema, options);
  checker.check(schema, document, "$", 0);
  return std::move(checker.errors);
}

std::vector<std::string> unknown_schema_keywords(const nlohmann::json& schema) {
  std::set<std::string> out;
  collect_unknown(schema, out, 0);
  return {out.begin(), out.end()};
}

const std::string& report_schema_v1_text() {
  static const std::string text(reinterpret_cast<const char*>(detail::kReportSchemaV1Bytes),
                                detail::kReportSchemaV1Size);
  return text;
}

const nlohmann::json& report_schema_v1() {
  static const nlohmann::json schema = [] {
    auto parsed = nlohmann::json::parse(report_schema_v1_text(), nullptr, false);
    return parsed.is_discarded() ? nlohmann::json(nullptr) : parsed;
  }();
  return schema;
}

}  // namespace cmeter
