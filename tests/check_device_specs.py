#!/usr/bin/env python3
"""Checks the declared device specs (profiles/devices/*.yaml): each file against
device-specs.schema.json, then what a schema cannot say: every figure's source is one the file lists,
its unit is the key's unit (FLOP/s for float rates, OP/s for i8, B, B/s, W), values are in a sane range
for the unit, SKU names are unique across files, and a PCI id belongs to one SKU only. `--self-test`
plants an unsourced figure, a wrong unit and a duplicate SKU and requires each to be caught."""
import copy
import glob
import json
import os
import sys

import jsonschema
import yaml

UNITS = {"mem.bytes": "B", "peak.mem.bytes_per_s": "B/s", "peak.link.bytes_per_s": "B/s", "tdp.w": "W"}
RANGES = {"FLOP/s": (1e9, 1e17), "OP/s": (1e9, 1e17), "B": (1e8, 1e13), "B/s": (1e9, 1e14), "W": (1, 5000)}


def expected_unit(key):
    if key.startswith("peak.flops.i8"):
        return "OP/s"
    if key.startswith("peak.flops."):
        return "FLOP/s"
    return UNITS[key]


def problems_in(docs, schema):
    """docs: {file name: parsed YAML}. Returns one line per problem."""
    out = []
    seen_sku, seen_pci = {}, {}
    validator = jsonschema.Draft7Validator(schema)
    for name, doc in sorted(docs.items()):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        out += [f"{name}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors]
        if errors:
            continue
        for sku in doc["skus"]:
            label = f"{name}: {sku['sku']}"
            if sku["sku"] in seen_sku:
                out.append(f"{label}: SKU also defined in {seen_sku[sku['sku']]}")
            seen_sku[sku["sku"]] = name
            for pci in sku["match"]["pci_ids"]:
                if pci in seen_pci:
                    out.append(f"{label}: PCI id {pci} also matches {seen_pci[pci]}")
                seen_pci[pci] = sku["sku"]
            if not sku["match"]["names"] and not sku["match"]["pci_ids"]:
                out.append(f"{label}: matches nothing (no names, no PCI ids)")
            for key, fig in sku["figures"].items():
                if fig["source"] not in doc["sources"]:
                    out.append(f"{label}: {key}: source '{fig['source']}' is not in the file's sources")
                if fig["unit"] != expected_unit(key):
                    out.append(f"{label}: {key}: unit {fig['unit']}, expected {expected_unit(key)}")
                low, high = RANGES[fig["unit"]]
                if not low <= fig["value"] <= high:
                    out.append(f"{label}: {key}: {fig['value']} {fig['unit']} outside [{low:g}, {high:g}]")
    return out


def load(root):
    folder = os.path.join(root, "profiles", "devices")
    with open(os.path.join(folder, "device-specs.schema.json")) as f:
        schema = json.load(f)
    docs = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        with open(path) as f:
            docs[os.path.basename(path)] = yaml.safe_load(f)
    return docs, schema


def self_test(docs, schema):
    base = next(iter(sorted(docs)))
    cases = []
    unsourced = copy.deepcopy(docs)
    first = unsourced[base]["skus"][0]
    key = next(iter(first["figures"]))
    first["figures"][key]["source"] = "nowhere"
    cases.append(("unsourced figure", unsourced, "is not in the file's sources"))
    missing = copy.deepcopy(docs)
    del missing[base]["skus"][0]["figures"][key]["source"]
    cases.append(("figure without source", missing, "'source' is a required property"))
    wrong_unit = copy.deepcopy(docs)
    any_source = next(iter(docs[base]["sources"]))
    wrong_unit[base]["skus"][0]["figures"]["tdp.w"] = {"value": 700, "unit": "B/s", "source": any_source}
    cases.append(("wrong unit", wrong_unit, "expected W"))
    duplicate = copy.deepcopy(docs)
    duplicate["zz-copy.yaml"] = copy.deepcopy(docs[base])
    cases.append(("duplicate SKU", duplicate, "SKU also defined in"))
    sparse = copy.deepcopy(docs)
    sparse[base]["skus"][0]["figures"]["peak.flops.f16.sparse"] = {"value": 1e15, "unit": "FLOP/s",
                                                                     "source": any_source}
    cases.append(("unknown key (sparse rate)", sparse, "does not match"))
    failed = 0
    for label, planted, expect in cases:
        found = problems_in(planted, schema)
        if not any(expect in line for line in found):
            print(f"self-test FAILED: {label} not caught (expected '{expect}'); got {found[:3]}")
            failed += 1
        else:
            print(f"self-test ok: {label}")
    return failed


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [a for a in sys.argv[1:] if a != "--self-test"]
    if args:
        root = args[0]
    docs, schema = load(root)
    if not docs:
        print("no spec files found")
        return 1
    problems = problems_in(docs, schema)
    for line in problems:
        print(line)
    skus = sum(len(d.get("skus", [])) for d in docs.values())
    figures = sum(len(s.get("figures", {})) for d in docs.values() for s in d.get("skus", []))
    print(f"{len(docs)} files, {skus} SKUs, {figures} figures, {len(problems)} problems")
    failed = self_test(docs, schema) if "--self-test" in sys.argv else 0
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
