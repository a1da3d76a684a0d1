"""The suite one kernel runs: which hooks and transport each tool picks, then
the runtime tests, each with the transport it asks for.

It is the VM's payload (tests/vm/init starts it) and, for the host row of the
matrix, runs on the host as it is. Every finding is one line on stdout,
`SNOOPKIT-RESULT <json>`, which tests/vm/run_matrix.py parses from the serial
console; `SNOOPKIT-LOG` lines are for people; `SNOOPKIT-DONE` ends the run.

    python3 guest.py --config CONFIG.json
    python3 guest.py --unittest MODULE [TESTS...] --transport perf --json-out F

The second form is internal: it runs one test module like tests/runtime/run.py
(same exit codes: 0, 1, 77) and also writes each test's outcome as JSON.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import unittest

READY = re.compile(r"ready: (\d+) programs attached via (.+?) \((.*)\);")


def emit(kind, **fields):
    print("SNOOPKIT-RESULT " + json.dumps({"kind": kind, **fields}, sort_keys=True), flush=True)


def log(msg):
    for line in str(msg).splitlines() or [""]:
        print("SNOOPKIT-LOG " + line, flush=True)


def _exists(path):
    return os.path.exists(path)


def kernel_facts():
    """What the running kernel offers, independent of what the tools choose."""
    facts = {"release": os.uname().release, "btf": _exists("/sys/kernel/btf/vmlinux"),
             "kprobes": _exists("/sys/bus/event_source/devices/kprobe/type"),
             "uprobes": _exists("/sys/bus/event_source/devices/uprobe/type")}
    try:
        out = subprocess.run(["bpftool", "-j", "feature", "probe", "kernel"], capture_output=True,
                             text=True, timeout=120).stdout
        f = json.loads(out)
        pt, mt = f.get("program_types", {}), f.get("map_types", {})
        facts.update(ring_buffer=mt.get("have_ringbuf_map_type"),
                     fentry=pt.get("have_tracing_prog_type"),
                     raw_tracepoint=pt.get("have_raw_tracepoint_prog_type"),
                     kprobe_prog=pt.get("have_kprobe_prog_type"))
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        facts["bpftool_error"] = str(e)
    facts["uptime_s"] = _uptime()
    return facts


def probe_tool(bin_dir, tool, perf, timeout=120):
    """Runs the tool for a moment; returns the hooks and transport its ready line names."""
    argv = [os.path.join(bin_dir, tool), "--json", "--duration", "1"] + (["--perf-buffer"] if perf else [])
    res = {"tool": tool, "requested": "perf buffer" if perf else "default", "ok": False}
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, errors="backslashreplace")
    except subprocess.TimeoutExpired:
        res["error"] = f"no exit within {timeout} s"
        return res
    res["seconds"] = round(time.monotonic() - start, 2)
    res["exit"] = p.returncode
    m = READY.search(p.stderr)
    if m:
        res["programs"] = int(m.group(1))
        res["transport"] = m.group(2)
        res["hooks"] = dict(kv.split("=", 1) for kv in m.group(3).split() if "=" in kv)
    res["ok"] = bool(m) and p.returncode == 0
    if p.returncode == 2 and not m:
        # A usage error: the tool needs arguments (bpfload OBJECT) or has no
        # such option (--perf-buffer on a histogram tool). Not a kernel matter.
        last = p.stderr.strip().splitlines()[-1:] or [""]
        res.update(ok=True, applicable=False, note="not started here: " + last[0][:200])
        return res
    if not res["ok"]:
        res["error"] = p.stderr[-3000:]
    elif "warning" in p.stderr:
        res["warnings"] = [l for l in p.stderr.splitlines() if "warning" in l][:10]
    return res


def run_group(argv, timeout, **kw):
    """Runs argv in a session of its own; on timeout kills the whole group
    (the tools a hung test started too). Returns (exit or None, output, timed_out)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True, **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        timed_out = True
    try:
        os.killpg(p.pid, signal.SIGKILL)  # whatever the module left running
    except ProcessLookupError:
        pass
    return (None if timed_out else p.returncode), out.decode("utf-8", "backslashreplace"), timed_out


def run_module(cfg, run):
    """Runs one test module in a child (as run.py would); returns its result record."""
    here = os.path.abspath(__file__)
    runtime = os.path.join(cfg["source_dir"], "tests", "runtime")
    out_json = os.path.join("/tmp", f"snoopkit-{run['module']}-{run['transport']}-{os.getpid()}.json")
    argv = [sys.executable, here, "--unittest", run["module"], *run.get("tests", []),
            "--transport", run["transport"], "--json-out", out_json]
    for pattern in run.get("exclude", []):
        argv += ["--exclude", pattern]
    env = dict(os.environ, SNOOPKIT_BIN_DIR=cfg["bin_dir"], SNOOPKIT_SOURCE_DIR=cfg["source_dir"],
               PYTHONUNBUFFERED="1")
    if cfg.get("ci"):
        env["CI"] = "true"
    else:
        env.pop("CI", None)
    rec = {"module": run["module"], "transport": run["transport"],
           "subset": bool(run.get("tests")), "exclude": run.get("exclude", []), "tests": []}
    start = time.monotonic()
    rec["exit"], output, timed_out = run_group(argv, cfg.get("module_timeout", 600), cwd=runtime, env=env)
    if timed_out:
        rec["error"] = f"timed out after {cfg.get('module_timeout', 600)} s"
    rec["seconds"] = round(time.monotonic() - start, 1)
    try:
        with open(out_json) as f:
            rec["tests"] = json.load(f)
        os.unlink(out_json)
    except (OSError, ValueError):
        pass
    for t in rec["tests"]:
        if t["outcome"] == "running":  # the test the module hung in
            t.update(outcome="error", detail=rec.get("error", "the module ended inside this test"))
    if rec["exit"] not in (0, 77):
        rec["output_tail"] = output[-4000:]
    return rec


def run_gtest(cfg, name):
    """Runs a GoogleTest binary of the build (the load tests) as a module."""
    binary = os.path.join(cfg["bin_dir"], "tests", name)
    out_json = f"/tmp/snoopkit-{name}-{os.getpid()}.json"
    env = dict(os.environ)
    env.pop("CI", None)
    if cfg.get("ci"):
        env["CI"] = "true"
    rec = {"module": name, "transport": "default", "subset": False, "exclude": [], "tests": []}
    start = time.monotonic()
    rec["exit"], output, timed_out = run_group([binary, f"--gtest_output=json:{out_json}"],
                                               cfg.get("module_timeout", 600), env=env)
    if timed_out:
        rec["error"] = f"timed out after {cfg.get('module_timeout', 600)} s"
    rec["seconds"] = round(time.monotonic() - start, 1)
    try:
        with open(out_json) as f:
            report = json.load(f)
        for suite in report.get("testsuites", []):
            for t in suite.get("testsuite", []):
                fails = t.get("failures", [])
                outcome = ("fail" if fails else "skip" if t.get("result") == "SKIPPED" else "pass")
                rec["tests"].append({"id": f"{name}.{suite['name']}.{t['name']}", "outcome": outcome,
                                     "detail": "\n".join(f.get("failure", "") for f in fails)[-1500:]})
    except (OSError, ValueError, KeyError):
        pass
    if rec["exit"] != 0:
        rec["output_tail"] = output[-4000:]
    return rec


def run_exec(cfg):
    """--exec: one shell command instead of the suite, for debugging on a kernel."""
    env = dict(os.environ, PATH=cfg["bin_dir"] + ":" + os.environ.get("PATH", "/usr/bin:/usr/sbin"),
               SNOOPKIT_BIN_DIR=cfg["bin_dir"], SNOOPKIT_SOURCE_DIR=cfg["source_dir"])
    log(f"$ {cfg['exec']}")
    code, out, timed_out = run_group(["sh", "-c", cfg["exec"]], cfg.get("module_timeout", 600),
                                     cwd=os.path.join(cfg["source_dir"], "tests", "runtime"), env=env)
    log(out)
    log(f"exit {code}{' (timed out)' if timed_out else ''}")
    emit("exec", command=cfg["exec"], exit=code, output=out[-20000:])
    emit("done", uptime_s=_uptime())
    print("SNOOPKIT-DONE", flush=True)
    return 0


def run_config(path):
    with open(path) as f:
        cfg = json.load(f)
    # Test binaries may have the build directory's host path compiled in
    # (load_tests looks for its objects there): make that path lead here too.
    host_bin = cfg.get("host_bin_dir")
    if host_bin and host_bin != cfg["bin_dir"] and not os.path.exists(host_bin):
        os.makedirs(os.path.dirname(host_bin), exist_ok=True)
        os.symlink(cfg["bin_dir"], host_bin)
    if cfg.get("exec"):
        return run_exec(cfg)
    log(f"suite '{cfg.get('label', '?')}' on {os.uname().release}: "
        f"{len(cfg['runs'])} module runs, tools {' '.join(cfg['tools'])}")
    emit("kernel", **kernel_facts())
    probes = []
    for tool in cfg["tools"]:
        for perf in (False, True):
            dflt = probes[-1] if perf else None
            if perf and dflt.get("applicable") is False:
                r = dict(dflt, requested="perf buffer")
            elif perf and dflt["ok"] and dflt.get("transport") not in ("ring buffer", "perf buffer"):
                # Histogram tools aggregate in BPF maps: they have no event transport.
                r = {"tool": tool, "requested": "perf buffer", "ok": True, "applicable": False,
                     "transport": dflt.get("transport"), "hooks": dflt.get("hooks", {}),
                     "note": f"no event transport: {tool} reports through {dflt.get('transport')}"}
            else:
                r = probe_tool(cfg["bin_dir"], tool, perf)
            probes.append(r)
            emit("probe", **r)
            if r.get("applicable") is False:
                log(f"{tool} ({r['requested']}): n/a, {r['note']}")
                continue
            log(f"{tool} ({r['requested']}): " + (
                f"{r.get('transport')} ({' '.join(f'{k}={v}' for k, v in r.get('hooks', {}).items())})"
                if r["ok"] else "FAILED: " + r.get("error", "")))
    # The load tests first: every skeleton against this kernel's verifier is
    # what only a VM can check, and they take well under a minute there.
    for name in cfg.get("gtests", []):
        if not os.access(os.path.join(cfg["bin_dir"], "tests", name), os.X_OK):
            log(f"{name}: not built; not run")
            continue
        log(f"running {name}")
        rec = run_gtest(cfg, name)
        log(f"{name}: exit {rec['exit']} in {rec['seconds']} s, {len(rec['tests'])} tests")
        if rec.get("output_tail"):
            log(rec["output_tail"])
        emit("module", **rec)
    transports = {p["tool"]: p.get("transport") for p in probes if p["requested"] == "default"}
    for run in cfg["runs"]:
        tool = run["module"].removeprefix("test_")
        if (run["transport"] == "perf" and tool in transports and
                transports[tool] not in ("ring buffer", "perf buffer")):
            log(f"{run['module']}: no perf buffer pass: {tool} has no event transport to switch")
            continue
        log(f"running {run['module']} ({run['transport']}"
            f"{', ' + str(len(run['tests'])) + ' tests' if run.get('tests') else ''})")
        rec = run_module(cfg, run)
        counts = {}
        for t in rec["tests"]:
            counts[t["outcome"]] = counts.get(t["outcome"], 0) + 1
        log(f"{run['module']} ({run['transport']}): exit {rec['exit']} in {rec['seconds']} s {counts}")
        if rec.get("output_tail"):
            log(rec["output_tail"])
        emit("module", **rec)
    emit("done", uptime_s=_uptime())
    print("SNOOPKIT-DONE", flush=True)
    return 0


def _uptime():
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except OSError:
        return None


# --- one module, run as run.py runs it, recording each test's outcome ---

class RecordingResult(unittest.TextTestResult):
    """Records each outcome, and writes them all after every test, so that a
    module killed on a hang still reports what ran (the hung test last, as
    "running")."""
    outcomes = []
    json_out = None

    @classmethod
    def save(cls, running=None):
        if not cls.json_out:
            return
        items = cls.outcomes + ([{"id": running, "outcome": "running", "detail": ""}] if running else [])
        with open(cls.json_out + ".tmp", "w") as f:
            json.dump(items, f)
        os.replace(cls.json_out + ".tmp", cls.json_out)

    def startTest(self, test):
        super().startTest(test)
        RecordingResult.save(running=test.id())

    def stopTest(self, test):
        super().stopTest(test)
        RecordingResult.save()

    def _add(self, test, outcome, detail=""):
        RecordingResult.outcomes.append({"id": test.id(), "outcome": outcome, "detail": detail[-1500:]})

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add(test, "pass", "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add(test, "fail", "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._add(subtest, "fail" if failed else "error", self._exc_info_to_string(err, test))


def force_perf_buffer():
    """Makes every harness.Tool run with --perf-buffer (the transport pass)."""
    import harness
    original = harness.Tool.__init__

    def init(self, name, *args, **kw):
        original(self, name, *args, **kw)
        flags = {"--perf-buffer", "-h", "--help", "-V", "--version"}
        if not flags & set(self.argv):
            at = self.argv.index(harness.tool_path(name)) + 1
            self.argv.insert(at, "--perf-buffer")

    harness.Tool.__init__ = init


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def unittest_main(module, tests, transport, json_out, exclude=()):
    sys.path.insert(0, os.getcwd())
    RecordingResult.json_out = json_out
    if transport == "perf":
        force_perf_buffer()
    names = [f"{module}.{n}" for n in tests] or [module]
    try:
        suite = unittest.defaultTestLoader.loadTestsFromNames(names)
        if exclude:
            suite = unittest.TestSuite(t for t in _flatten(suite)
                                       if not any(p in t.id() for p in exclude))
    except Exception:
        traceback.print_exc()
        RecordingResult.outcomes.append({"id": module, "outcome": "error",
                                         "detail": traceback.format_exc()[-1500:]})
        suite = None
    if suite is not None:
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=RecordingResult)
        result = runner.run(suite)
    RecordingResult.save()
    if suite is None:
        return 1
    from run import exit_code  # tests/runtime/run.py (cwd is on sys.path): one policy
    return exit_code(result)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config")
    ap.add_argument("--unittest", metavar="MODULE")
    ap.add_argument("tests", nargs="*")
    ap.add_argument("--transport", default="default", choices=["default", "perf"])
    ap.add_argument("--json-out")
    ap.add_argument("--exclude", action="append", default=[],
                    help="leave out tests whose id contains this")
    a = ap.parse_args()
    if a.unittest:
        return unittest_main(a.unittest, a.tests, a.transport, a.json_out, a.exclude)
    if not a.config:
        ap.error("--config or --unittest is required")
    try:
        return run_config(a.config)
    except Exception:
        log("guest suite crashed:\n" + traceback.format_exc())
        emit("crash", detail=traceback.format_exc()[-3000:])
        print("SNOOPKIT-DONE", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
