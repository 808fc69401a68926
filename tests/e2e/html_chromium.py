#!/usr/bin/env python3
"""The HTML report in a real browser: headless Chromium, networking off, no console messages.

Why this file exists: the HTML report must open offline as one file, and its charts must render. This
renders a fixed real report with `cmeter report html`, loads it in headless Chromium inside a network
namespace with no interfaces (`unshare -rn`, when the kernel allows; always with every host name
resolving to nothing and a dead proxy), and checks: no console message at all (the page runs no
script; a blocked fetch or a CSP refusal would log one), the chart elements exist in the DOM Chromium
built, and a screenshot is taken. A control page with a console error and a network fetch proves the
detection works. The LLM inference fixture (schema 1.1) is loaded the same way: no console message,
its latency CDFs and tokens/s bars in the DOM. Usage: html_chromium.py CMETER SOURCE_DIR [SCREENSHOT_OUT.png]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

CMETER, SOURCE = sys.argv[1:3]
SCREENSHOT_OUT = sys.argv[3] if len(sys.argv) > 3 else None
REPORT = os.path.join(SOURCE, "tests", "fixtures", "reports", "cpu-quick.json")
# Schema 1.1: LLM inference results (latency CDFs, tokens/s bars, detail tables).
LLM_REPORT = os.path.join(SOURCE, "tests", "fixtures", "reports", "inference-run.json")


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("SKIP: no chromium installed (scripts/setup.sh installs it)")
    sys.exit(77)


def offline_prefix():
    try:
        if subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0:
            return ["unshare", "-rn"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    print("note: unshare -rn not permitted here; relying on host-resolver rules and a dead proxy")
    return []


def chromium(args, page, profile_dir):
    cmd = offline_prefix() + [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu",
                              "--no-first-run", "--disable-extensions", "--disable-background-networking",
                              f"--user-data-dir={profile_dir}",
                              "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
                              "--proxy-bypass-list=<-loopback>",
                              "--enable-logging=stderr", "--log-level=0"] + args + ["file://" + page]
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS="disabled:")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    check(proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def console_messages(stderr):
    # Chromium's own pages (chrome://, e.g. "Slow network is detected" from its omnibox on a loaded
    # machine) log to the same stream; only messages from the page under test count.
    return [line for line in stderr.splitlines()
            if (":CONSOLE" in line or "Uncaught" in line) and "source: chrome://" not in line]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "report.html")
        proc = subprocess.run([CMETER, "report", "html", REPORT, "-o", page], capture_output=True, text=True)
        check(proc.returncode == 0, f"cmeter report html: {proc.stderr}")

        # The control page: a console error and a fetch must both be seen, or the check proves nothing.
        control = os.path.join(tmp, "control.html")
        with open(control, "w") as f:
            f.write('<!DOCTYPE html><html><head><meta charset="utf-8">'
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\">"
                    '<title>control</title></head><body><img src="http://example.com/x.png">'
                    '<script>console.error("control-error")</script></body></html>')
        messages = console_messages(chromium(["--dump-dom"], control, os.path.join(tmp, "p0")).stderr)
        check(any("control-error" in m for m in messages), f"control: console errors are detected: {messages}")
        check(any("example.com" in m for m in messages), f"control: a network fetch is detected: {messages}")

        proc = chromium(["--dump-dom"], page, os.path.join(tmp, "p1"))
        messages = console_messages(proc.stderr)
        check(not messages, "the report page logs nothing to the console:\n  " + "\n  ".join(messages))
        dom = proc.stdout
        charts = re.findall(r'<svg[^>]*class="chart ([a-z -]+)"', dom)
        print(f"charts in the DOM: {charts}")
        check(any(c.startswith("bars") for c in charts), "per-metric bar charts rendered")
        check("gemm-scaling" in charts, "GEMM throughput vs size chart rendered")
        check("roofline" in charts, "roofline chart rendered")
        check(len(re.findall(r'<rect class="bar"', dom)) >= 5, "bars drawn")
        check(len(re.findall(r'class="error-bar"', dom)) >= 5, "CI error bars drawn")
        check('class="roof bandwidth"' in dom and 'class="roof ceiling' in dom, "roofline slope and ceilings drawn")
        check('<table class="results">' in dom, "the numbers are also a table")

        llm_page = os.path.join(tmp, "llm.html")
        proc = subprocess.run([CMETER, "report", "html", LLM_REPORT, "-o", llm_page], capture_output=True, text=True)
        check(proc.returncode == 0, f"cmeter report html (inference): {proc.stderr}")
        proc = chromium(["--dump-dom"], llm_page, os.path.join(tmp, "p3"))
        messages = console_messages(proc.stderr)
        check(not messages, "the inference report page logs nothing to the console:\n  " + "\n  ".join(messages))
        dom = proc.stdout
        charts = re.findall(r'<svg[^>]*class="chart ([a-z -]+)"', dom)
        print(f"charts in the inference page's DOM: {charts}")
        check(charts.count("cdf") == 2, "a latency CDF per device rendered")
        check("bars llm-tokens" in charts, "tokens/s bars rendered")
        check(len(re.findall(r'class="cdf-line"', dom)) == 5, "a CDF line per counted result")
        check('<table class="inference">' in dom and '<table class="server-search">' in dom,
              "the inference figures and the Server search are tables")

        shot = os.path.join(tmp, "report.png")
        proc = chromium([f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars"], page,
                        os.path.join(tmp, "p2"))
        messages = console_messages(proc.stderr)
        check(not messages, "no console messages while taking the screenshot:\n  " + "\n  ".join(messages))
        check(os.path.exists(shot), "screenshot written")
        with open(shot, "rb") as f:
            png = f.read()
        check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, f"screenshot is a non-trivial PNG ({len(png)} bytes)")
        if SCREENSHOT_OUT:
            shutil.copyfile(shot, SCREENSHOT_OUT)
            print(f"screenshot copied to {SCREENSHOT_OUT}")
    print("PASS: html_chromium")


main()
