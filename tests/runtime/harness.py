"""Shared helpers for the runtime tests: start a real tool, wait until it is
attached, let the test run a workload it owns, stop the tool, and check what
it printed (strict JSON, the schema in docs/schema: records.py) and what it
left behind in the kernel (kernel.py).

Environment: SNOOPKIT_BIN_DIR (the build directory with the tools),
SNOOPKIT_SOURCE_DIR (the project root, for docs/schema), CI ("true": a test
that would be skipped fails instead).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

# Re-exported: tests import everything they need from here.
from kernel import (assert_no_bpf_left, bpf_ids_held_by, bpf_snapshot, cgroup2_root,  # noqa: F401
                    next_bpf_ids)
from records import (decode_bytes, decode_bytes_list, iter_json_lines, parse_json_lines,  # noqa: F401
                     validate_record)

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("SNOOPKIT_SOURCE_DIR", HERE.parent.parent))
BIN_DIR = Path(os.environ.get("SNOOPKIT_BIN_DIR", SOURCE_DIR / "build"))
WORKLOAD = HERE / "workload.py"

READY_TIMEOUT = 30.0  # seconds from start to the "ready:" line
STOP_TIMEOUT = 15.0  # seconds from the stop signal to exit


def in_ci():
    """True under CI=true, where a skipped BPF test is a failure."""
    return os.environ.get("CI") == "true"


def skip(reason):
    """Skips the current test with reason; under CI=true fails it instead."""
    if in_ci():
        raise AssertionError(f"CI=true, so this is a failure, not a skip: {reason}")
    raise unittest.SkipTest(reason)


def tool_path(name):
    """The built tool binary; fails (never skips) when the build lacks it."""
    path = BIN_DIR / name
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is missing: build first (SNOOPKIT_BIN_DIR={BIN_DIR})")
    return str(path)


_bpf_state = None


def require_bpf():
    """Skips (fails under CI=true) unless this process can load BPF programs
    and the kernel has BTF; the reason says what is missing."""
    global _bpf_state
    if _bpf_state is None:
        reason = ""
        if os.geteuid() != 0:
            reason = "runtime tests need root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)"
        elif not os.path.exists("/sys/kernel/btf/vmlinux"):
            reason = "the kernel exposes no BTF (/sys/kernel/btf/vmlinux)"
        else:
            try:
                next_bpf_ids()
            except OSError as e:
                reason = f"BPF is unavailable here: bpf(2) failed with {e}"
        _bpf_state = reason
    if _bpf_state:
        skip(_bpf_state)


# --- the tool under test ---

class Tool:
    """A running tool. As a context manager: starts it, waits for "ready:" on
    stderr, runs the with-body (the workload), then stops it with a signal.

        with Tool("execsnoop", "--json") as t:
            ...workload...
        t.returncode, t.stdout (bytes), t.stderr (str), t.records()

    prefix: argv words put before the tool (e.g. an unshare wrapper that
    execs it, so the pid stays the tool's).
    spool: a binary file the stdout pipe is drained into instead of memory
    (storms write hundreds of MB); t.stdout is then empty.
    """

    def __init__(self, name, *args, prefix=(), stop_signal=signal.SIGINT, env=None, spool=None):
        self.name = name
        self.argv = [*prefix, tool_path(name), *map(str, args)]
        self.stop_signal = stop_signal
        self.env = env
        self.proc = None
        self.returncode = None
        self.held = {"prog": set(), "link": set()}
        self._out = bytearray()
        self._spool = spool
        self._err = []
        self._ready = threading.Event()
        self._lock = threading.Lock()

    def start(self, ready_timeout=READY_TIMEOUT, wait_ready=True):
        """Starts the tool; with wait_ready, returns once it has attached."""
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env)
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()
        if not wait_ready:
            return self
        deadline = time.monotonic() + ready_timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                what = (f"exited with {self.proc.returncode}" if self.proc.poll() is not None
                        else f"not ready after {ready_timeout} s")
                self.kill()
                raise AssertionError(f"{' '.join(self.argv)}: {what}; stderr:\n{self.stderr}")
        self.held = bpf_ids_held_by(self.proc.pid)
        return self

    def _read_out(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            if self._spool:
                self._spool.write(chunk)
                continue
            with self._lock:
                self._out += chunk

    def _read_err(self):
        for line in iter(self.proc.stderr.readline, b""):
            text = line.decode("utf-8", "backslashreplace")
            self._err.append(text)
            if "ready:" in text:
                self._ready.set()

    @property
    def pid(self):
        return self.proc.pid

    @property
    def stdout(self):
        with self._lock:
            return bytes(self._out)

    @property
    def stderr(self):
        return "".join(self._err)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the tool to exit by itself; kills it and fails on timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit within {timeout} s; stderr:\n{self.stderr}")
        for t in self._threads:
            t.join(5)
        if self._spool:
            self._spool.flush()
        return self.returncode

    def stop(self, sig=None, timeout=STOP_TIMEOUT):
        """Sends the stop signal and waits for exit; returns the exit code."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig or self.stop_signal)
            self.wait(timeout)
        return self.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        elif self.returncode is None:
            self.kill()
        return False

    def records(self, type_=None, **match):
        """Every stdout record, strictly parsed and schema-checked; optionally
        only those of type_ whose fields equal the keyword arguments."""
        recs = parse_json_lines(self.stdout)
        for rec in recs:
            validate_record(rec)
        return [r for r in recs
                if (type_ is None or r["type"] == type_) and all(r.get(k) == v for k, v in match.items())]

    def assert_clean_exit(self, test):
        """Exit code 0, and in JSON mode a summary as the last record."""
        test.assertEqual(self.returncode, 0, f"{self.name} exited {self.returncode}; stderr:\n{self.stderr}")
        if "--json" in self.argv or "-j" in self.argv:
            recs = self.records()
            test.assertTrue(recs, "no JSON output at all")
            test.assertEqual(recs[-1]["type"], "summary", f"last record is not the summary: {recs[-1]}")
            test.assertEqual(sum(r["type"] == "summary" for r in recs), 1, "more than one summary")


# --- workloads the test owns ---

def hexb(b):
    return (b if isinstance(b, bytes) else os.fsencode(b)).hex()


class Workload:
    """A Python child (tests/runtime/workload.py) that runs a list of ops and
    reports each result as a JSON line. Its pid is known before it acts: with
    a "gate" op it stops and waits until release() is called.

    Ops are dicts, bytes values hex-encoded (see workload.py).
    """

    def __init__(self, ops, user=None):
        kw, python = {}, sys.executable
        if user is not None:  # done in C in the child: safe with our threads
            kw = dict(user=user, group=user, extra_groups=[])
            # Our interpreter may live where that user cannot reach (/root/.pyenv).
            python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                           if os.access(p, os.X_OK) and os.stat(p).st_mode & 0o001), python)
        self.proc = subprocess.Popen([python, "-S", str(WORKLOAD), json.dumps(ops)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", **kw)
        self.results = []

    @property
    def pid(self):
        return self.proc.pid

    def next_result(self, timeout=30):
        """The next result line (dict), e.g. the gate's {"op":"gate","pid":..,"tid":..}."""
        line = _readline(self.proc.stdout, timeout)
        if not line:
            self.proc.kill()
            raise AssertionError(f"workload ended early (exit {self.proc.wait()}); results {self.results}")
        res = json.loads(line)
        self.results.append(res)
        return res

    def release(self):
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def finish(self, timeout=30):
        """Waits for exit; returns every result (gate results included)."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.results += [json.loads(l) for l in out.splitlines()]
        return self.results

    def result(self, tag):
        """The result of the op with this tag."""
        for r in self.results:
            if r.get("tag") == tag:
                return r
        raise AssertionError(f"workload has no result tagged {tag!r}: {self.results}")


def _readline(stream, timeout):
    box = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"workload said nothing for {timeout} s")
    return box[0]


def run_workload(ops, user=None, timeout=30):
    """Runs ops to completion; returns the Workload (pid, results)."""
    w = Workload(ops, user=user)
    w.finish(timeout)
    return w


def has_control_bytes(data):
    """True if data holds a byte a terminal would act on (C0 other than
    newline, DEL, or UTF-8 C1 controls) or is not valid UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)


class Cgroup:
    """A fresh cgroup v2 directory, removed on exit (after its tasks end)."""

    def __init__(self):
        root = cgroup2_root()
        if root is None:
            skip("no cgroup v2 hierarchy is mounted")
        self.path = root / f"snoopkit-test-{os.getpid()}-{time.monotonic_ns()}"

    def __enter__(self):
        self.path.mkdir()
        return self

    def __exit__(self, *exc):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.path.rmdir()
                return False
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def pipeline_exit_codes(tool_argv, workload_cmd="/bin/true", timeout=60):
    """Runs `tool ... | head -1` under bash -o pipefail while a loop keeps
    running workload_cmd; returns (tool status, head status, head's output, tool stderr)."""
    script = r'''
set -o pipefail
( while :; do {workload}; sleep 0.02; done ) &
loop=$!
"$@" 2>"$ERRFILE" | head -1 >"$OUTFILE"
status=("${{PIPESTATUS[@]}}")
kill $loop; wait $loop 2>/dev/null
echo "${{status[0]}} ${{status[1]}}"
'''.format(workload=workload_cmd)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, ERRFILE=f"{d}/err", OUTFILE=f"{d}/out")
        res = subprocess.run(["bash", "-c", script, "pipeline", *tool_argv], env=env,
                             capture_output=True, timeout=timeout)
        tool_status, head_status = map(int, res.stdout.split())
        return tool_status, head_status, Path(f"{d}/out").read_bytes(), Path(f"{d}/err").read_text()


class BpfTestCase(unittest.TestCase):
    """Base class: every test needs BPF (skips, or fails under CI=true)."""

    def setUp(self):
        require_bpf()
