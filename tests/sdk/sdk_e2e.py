#!/usr/bin/env python3
"""SDK tests: the template builds out of tree against an installed SDK and is checked; the .deb
packages build, unpack into a scratch root, and give a working cmeter that finds its plugins.

Why this file exists: a vendor never builds inside our tree. These tests do what the vendor does:
install the SDK (`cmake --install --component dev`), configure the template against it alone, and run
`cmeter plugin check` on the result; and for packaging, `cpack -G DEB`, `dpkg -x` and run.

Usage: sdk_e2e.py template CMETER BUILD_DIR SOURCE_DIR
       sdk_e2e.py packaging BUILD_DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        fail(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def cmake_cache(build, key):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split("=", 1)[1].strip()
    return ""


def test_template(cmeter, build, source):
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "sdk")
        run(["cmake", "--install", build, "--component", "dev", "--prefix", prefix])
        for path in ["include/cmeter/plugin_abi.h", "include/cmeter/plugin_sdk.hpp", "include/cmeter/plugin_ops.hpp",
                     "include/cmeter/plugin_client.hpp", "include/cmeter/plugin_adapter.hpp",
                     "share/cmake/cmeter/cmeterConfig.cmake", "share/cmake/cmeter/cmeterConfigVersion.cmake",
                     "share/cmake/cmeter/cmeterTargets.cmake", "share/cmeter/plugin-template/CMakeLists.txt"]:
            check(os.path.isfile(os.path.join(prefix, path)), f"installed SDK lacks {path}")
        # Out of tree: a copy of the template, configured against the installed prefix only.
        src = os.path.join(tmp, "template")
        shutil.copytree(os.path.join(source, "plugins/template"), src)
        out = os.path.join(tmp, "build")
        cmd = ["cmake", "-S", src, "-B", out, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release",
               "-DCMAKE_COMPILE_WARNING_AS_ERROR=ON"]
        if os.path.exists("/usr/bin/ninja"):
            cmd += ["-G", "Ninja"]
        launcher = cmake_cache(build, "CMAKE_CXX_COMPILER_LAUNCHER")
        if launcher:
            cmd.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}")
        run(cmd)
        run(["cmake", "--build", out, "-j2"])
        plugin = os.path.join(out, "libcmeter-template.so")
        check(os.path.isfile(plugin), "template built libcmeter-template.so")
        # A major the SDK does not have is refused by find_package (SameMajorVersion).
        with open(os.path.join(src, "CMakeLists.txt")) as f:
            text = f.read()
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write(text.replace("find_package(cmeter 1 REQUIRED)", "find_package(cmeter 2 REQUIRED)"))
        bad = subprocess.run(["cmake", "-S", src, "-B", os.path.join(tmp, "bad2"), f"-DCMAKE_PREFIX_PATH={prefix}"],
                             capture_output=True, text=True)
        check(bad.returncode != 0, "find_package(cmeter 2) must fail against a 1.x SDK")
        # The checker: the template is a complete reference device, so the quick level passes with nothing
        # unimplemented (the full level runs on the in-tree build: ctest conformance_template_full).
        json_path = os.path.join(tmp, "report.json")
        proc = subprocess.run([cmeter, "plugin", "check", plugin, "--level", "quick", "--json", json_path, "-q"],
                              capture_output=True, text=True, timeout=300)
        print(proc.stdout)
        check(proc.returncode == 0, f"template check exit {proc.returncode}, expected 0 (conformant)\n{proc.stderr}")
        with open(json_path) as f:
            report = json.load(f)
        checks = {c["id"]: c for c in report["checks"]}
        check(report["summary"]["fail"] == 0, "template: no FAIL")
        check(report["summary"]["unimplemented"] == 0, "template: nothing unimplemented")
        check(report["summary"]["verdict"] == "conformant", f"template: {report['summary']['verdict']}")
        check(report["run"]["workers_started"] == 1, "template: no crash (one worker)")
        for cid in ["plugin.load", "memory.round_trip", "memory.host_pinned", "op.gemm.v1.f32", "op.fma_peak.v1.f32",
                    "op.stream.v1.f64", "op.copy.v1", "op.noop.v1", "op.inference_set", "op.rmsnorm.v1.f32"]:
            check(checks[cid]["status"] == "PASS", f"template: {cid} {checks[cid]['status']}: {checks[cid]['reason']}")
        print("template: built out of tree against the installed SDK; check --level quick exit 0 (conformant)")


def test_packaging(build):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "debs")
        run(["cpack", "-G", "DEB", "-B", out], cwd=build)
        debs = sorted(glob.glob(os.path.join(out, "*.deb")))
        names = {}
        for deb in debs:
            fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends"]).stdout
            info = dict(line.split(": ", 1) for line in fields.strip().splitlines() if ": " in line)
            names[info["Package"]] = info
            print(f"  {os.path.basename(deb)}: {info}")
        for required in ["cmeter", "cmeter-dev", "cmeter-plugin-cpu"]:
            check(required in names, f"package {required} built ({sorted(names)})")
        for name, info in names.items():
            if name.startswith("cmeter-plugin-"):
                check(f"cmeter (= {names['cmeter']['Version']})" in info.get("Depends", ""),
                      f"{name} depends on the same cmeter")
        check(names["cmeter-dev"]["Architecture"] == "all", "cmeter-dev is arch-independent")
        check("libc6" in names["cmeter"].get("Depends", ""), "cmeter has shlib dependencies")
        root = os.path.join(tmp, "root")
        for deb in debs:
            run(["dpkg", "-x", deb, root])
        cmeter = os.path.join(root, "usr/bin/cmeter")
        check(os.path.isfile(cmeter), "usr/bin/cmeter installed")
        check(os.path.isfile(os.path.join(root, "usr/include/cmeter/plugin_abi.h")), "SDK header installed")
        check(os.path.isfile(os.path.join(root, "usr/share/cmake/cmeter/cmeterConfig.cmake")), "CMake package")
        check(glob.glob(os.path.join(root, "usr/share/cmeter/profiles/*.yaml")), "profiles installed")
        env = {k: v for k, v in os.environ.items() if k not in ("CMETER_PLUGINS", "CMETER_PLUGIN_PATH")}
        proc = run([cmeter, "devices", "--json"], env=env)
        listing = json.loads(proc.stdout)
        plugins = {p["name"]: p for p in listing["plugins"]}
        loaded = lambda row: row.get("status") == "loaded" or row.get("loaded") is True
        check("cpu" in plugins and loaded(plugins["cpu"]), f"installed cmeter finds its CPU plugin: {plugins}")
        for name, row in plugins.items():
            check(loaded(row) or "opencl" in name or "cuda" in name, f"plugin {name} loads: {row}")
        expected_dir = os.path.realpath(os.path.join(root, "usr/lib/cmeter/plugins"))
        for p in listing["plugins"]:
            check(os.path.realpath(os.path.dirname(p["path"])) == expected_dir,
                  f"plugin {p['path']} comes from the unpacked root")
        check(any(d["id"] == "cpu:0" for d in listing["devices"]), "cpu:0 listed")
        proc = subprocess.run([cmeter, "plugin", "check", os.path.join(expected_dir, "libcmeter-cpu.so"), "--only",
                               "abi.*", "-q"], capture_output=True, text=True, env=env)
        check(proc.returncode == 0, f"the installed cmeter checks its installed plugin: {proc.stdout}{proc.stderr}")
        print(f"packaging: {len(debs)} packages; unpacked cmeter lists {sorted(plugins)} from {expected_dir}")


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "template":
        test_template(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 3 and sys.argv[1] == "packaging":
        test_packaging(sys.argv[2])
    else:
        print(__doc__)
        return 2
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
