"""Validation of cmeter reports against reports/schema/report-v1.schema.json (JSON Schema draft-07).

Why this file exists: every report the test suite produces is checked against the published schema
with an independent validator (python3-jsonschema), so the schema and the writer cannot drift apart.
Used by cli_e2e.py, reports_e2e.py and html_chromium.py.
"""
import json
import os

import jsonschema

_SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reports", "schema",
                            "report-v1.schema.json")
_validator = None


def schema_validator():
    global _validator
    if _validator is None:
        with open(_SCHEMA_PATH) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        _validator = jsonschema.Draft7Validator(schema)
    return _validator


def schema_errors(report):
    """Messages for every way `report` departs from the schema (empty when it conforms)."""
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
            for e in schema_validator().iter_errors(report)]


def validate_schema(report, where="report"):
    """Raises AssertionError naming each schema violation of `report`."""
    errors = schema_errors(report)
    if errors:
        raise AssertionError(f"{where} does not conform to report-v1.schema.json:\n  " + "\n  ".join(errors[:10]))
