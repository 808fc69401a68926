// A small JSON Schema (draft-07 subset) checker, so that cmeter checks every report it reads against
// the very schema file the tests validate with (reports/schema/report-v1.schema.json, compiled in).
// It never throws and never recurses deeper than the schema itself (plus a fixed guard), so garbage
// input yields error messages, not crashes.
//
// Keywords honoured: $ref (local "#/definitions/..."), type, enum, const, properties, required,
// additionalProperties (false or a schema), items (one schema), minimum, maximum, minLength, minItems,
// maxItems, anyOf.
// Annotation keywords (title, description, $schema, $id, definitions) are skipped; `pattern` and
// `format` are not checked here (the Python validator in the tests checks them).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmeter {

struct SchemaCheckOptions {
  // Newer minor versions of a schema may add members: accept members the schema does not know.
  bool allow_unknown_members = false;
  size_t max_errors = 8;
};

// Errors of `document` against `schema` (empty when it conforms), each "path: what is wrong", where
// path looks like `results[3].metrics[0].statistics.median` (`$` for the document itself).
std::vector<std::string> check_against_schema(const nlohmann::json& schema, const nlohmann::json& document,
                                              const SchemaCheckOptions& options = {});

// Keywords used in `schema` that check_against_schema does not know (neither checks nor skips), so a
// test can make sure the compiled-in schema only uses what is honoured.
std::vector<std::string> unknown_schema_keywords(const nlohmann::json& schema);

// The JSON text of reports/schema/report-v1.schema.json, compiled in (generated at configure time).
const std::string& report_schema_v1_text();
// The parsed schema (parsed once; a null json if the compiled-in text were ever malformed).
const nlohmann::json& report_schema_v1();

}  // namespace cmeter
