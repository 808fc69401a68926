#!/usr/bin/env python3
"""Include floors: no folder of core/ imports a folder that is not below it.

The core is a house of floors (docs/architecture.md, "Floors"). A file in core/<folder>/ may include
headers of its own folder and of folders on a LOWER floor, never of a folder on its own floor or above.
That rules out import loops between folders for good. The order is declared here, in FLOORS (lowest
first; folders on one line share a floor and may not include each other); docs/architecture.md shows
the same list. A new folder must be added to FLOORS, or this check fails naming it.

Usage: check_include_floors.py [CORE_DIR]   (default: core/ beside this script's parent)
       check_include_floors.py --self-test  (plants a loop in a scratch tree and expects a failure)
Exit status 0 when every include stands on a lower floor, 1 otherwise (each offending line is named).
"""
import pathlib
import re
import sys

FLOORS = [
    ["util"],                          # no domain: results, subprocess, files, clocks, hashing
    ["validate"],                      # no domain: dtypes, half floats, tolerances, references
    ["model"],                         # plain data: results, devices, plugin rows, key/values, headlines
    ["models"],                        # host side of the model workloads: config, weights, reference, scenarios
    ["profile"],                       # YAML -> validated Profile (cases, stats settings, criteria)
    ["plugin", "topology", "report"],  # ABI host; hwloc; journal, summary, criteria, report build
    ["measure"],                       # measurement loop, stop rules, statistics, telemetry
    ["workloads"],                     # gemm, stream, transfer, fma_peak, launch_latency
    ["isolation"],                     # worker parent and child, their protocol
    ["run", "conformance"],            # plan, resume, execute a run; plugin check
    ["cluster"],                       # MPI: node names, per-case barrier, report gather, collective
]

INCLUDE = re.compile(r'^\s*#\s*include\s*"core/([A-Za-z0-9_]+)/')
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".c", ".in"}


def floor_of():
    floors = {}
    for level, folders in enumerate(FLOORS):
        for folder in folders:
            floors[folder] = level
    return floors


def check(core_dir: pathlib.Path) -> list:
    floors = floor_of()
    problems = []
    for path in sorted(core_dir.rglob("*")):
        if not path.is_file() or path.suffix not in SOURCE_SUFFIXES:
            continue
        rel = path.relative_to(core_dir)
        if len(rel.parts) < 2:
            continue  # files directly in core/ (none today) belong to no floor
        folder = rel.parts[0]
        if folder not in floors:
            problems.append(f"core/{rel}: folder '{folder}' is on no floor; add it to FLOORS in {__file__}")
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) == folder:
                continue
            target = m.group(1)
            if target not in floors:
                problems.append(f"core/{rel}:{number}: includes core/{target}/, a folder on no floor")
            elif floors[target] >= floors[folder]:
                where = "its own floor" if floors[target] == floors[folder] else "a floor above"
                problems.append(
                    f"core/{rel}:{number}: {folder} (floor {floors[folder]}) includes core/{target}/ "
                    f"on {where} (floor {floors[target]})")
    return problems


def self_test() -> int:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        core = pathlib.Path(tmp)
        (core / "model").mkdir()
        (core / "plugin").mkdir()
        (core / "model" / "a.h").write_text('#include "core/util/result.h"\n')
        (core / "plugin" / "b.h").write_text('#include "core/model/a.h"\n')
        if check(core):
            print("self-test: a clean tree was flagged", check(core))
            return 1
        (core / "model" / "a.h").write_text('#include "core/plugin/b.h"\n')  # model -> plugin: upward
        (core / "plugin" / "c.h").write_text('#include "core/topology/t.h"\n')  # same floor
        (core / "attic").mkdir()
        (core / "attic" / "d.h").write_text("")  # a folder on no floor
        found = check(core)
        want = ["core/model/a.h:1", "core/plugin/c.h:1", "core/attic/d.h"]
        missing = [w for w in want if not any(f.startswith(w) for f in found)]
        if missing or len(found) != len(want):
            print("self-test: expected failures for", want, "got", found)
            return 1
    print("check_include_floors: self-test passed (planted loops are caught)")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    core_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1] / "core"
    if not core_dir.is_dir():
        print(f"check_include_floors: {core_dir} is not a directory", file=sys.stderr)
        return 2
    problems = check(core_dir)
    for p in problems:
        print(p)
    if problems:
        print(f"check_include_floors: {len(problems)} include(s) break the floors (order: "
              + " < ".join("/".join(f) for f in FLOORS) + ")")
        return 1
    print("check_include_floors: every core/ include stands on a lower floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
