"""Runtime tests for runqlat: the real tool, real BPF, and children this test
owns whose threads ping-pong over pipes, so that they block and are woken a
known number of times. Each thread reports how often it blocked
(voluntary_ctxt_switches) while traced: every such block ends with a wake-up
and a run-queue wait, so the histograms must count at least that many."""

import json
import os
import subprocess
import sys
import time
import uuid

from harness import (BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, parse_json_lines,
                     pipeline_exit_codes, tool_path, validate_record)

NOBODY = 65534
ROUNDS = 400

# The child: prints its pid, waits for a line, runs its ops, prints one JSON
# result per ping-pong thread: {"tid", "blocked"} (voluntary switches).
CHILD = r"""
import json, os, sys, threading
ops = json.loads(sys.argv[1])
print(os.getpid(), flush=True)
sys.stdin.readline()

def switches():
    with open("/proc/thread-self/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])

def player(n, rd, wr, first, out):
    before = switches()
    for _ in range(n):
        if first:
            os.write(wr, b"x")
            os.read(rd, 1)
        else:
            os.read(rd, 1)
            os.write(wr, b"x")
    out.append({"tid": threading.get_native_id(), "blocked": switches() - before})

for op in ops:
    if op["op"] == "comm":
        with open("/proc/self/comm", "w") as f:
            f.write(op["name"])
    elif op["op"] == "cgroup":
        with open(os.path.join(op["path"], "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    elif op["op"] == "pingpong":
        a, b = os.pipe(), os.pipe()
        out = []
        ts = [threading.Thread(target=player, args=(op["n"], b[0], a[1], True, out)),
              threading.Thread(target=player, args=(op["n"], a[0], b[1], False, out))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for r in out:
            print(json.dumps(r), flush=True)
"""


class Child:
    """A gated child; .pid is known before it acts, .results after run()."""

    def __init__(self, test, ops, user=None):
        python = sys.executable
        kw = {}
        if user is not None:
            kw = dict(user=user, group=user, extra_groups=[])
            python = next(p for p in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable)
                          if os.access(p, os.X_OK))
        self.proc = subprocess.Popen([python, "-S", "-c", CHILD, json.dumps(ops)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", **kw)
        test.addCleanup(self.kill)
        self.pid = int(self.proc.stdout.readline())
        self.results = []

    def run(self, timeout=60):
        out, _ = self.proc.communicate(b"go\n", timeout=timeout)
        if self.proc.returncode != 0:
            raise AssertionError(f"child {self.pid} exited {self.proc.returncode}")
        self.results = [json.loads(line) for line in out.splitlines()]
        return self

    @property
    def blocked(self):
        return sum(r["blocked"] for r in self.results)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def pingpong(n=ROUNDS):
    return {"op": "pingpong", "n": n}


def total(recs):
    return sum(r["total"] for r in recs)


class RunqlatTest(BpfTestCase):

    def check_buckets(self, rec):
        buckets = rec["buckets"]
        self.assertEqual(sum(b["count"] for b in buckets), rec["total"])
        for i, b in enumerate(buckets):
            self.assertEqual((b["low"], b["high"]), (0, 1) if i == 0 else (2 ** i, 2 ** (i + 1) - 1))
        if buckets:
            self.assertGreater(buckets[-1]["count"], 0, "trailing empty buckets")

    def test_pid_filter_counts_every_wakeup(self):
        child = Child(self, [pingpong()])
        other = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-p", child.pid) as tool:
            child.run()
            other.run()
        tool.assert_clean_exit(self)
        [rec] = tool.records("runqlat")
        self.check_buckets(rec)
        self.assertEqual(rec["unit"], "usecs")
        self.assertGreater(child.blocked, ROUNDS // 2, child.results)
        self.assertGreaterEqual(rec["total"], child.blocked)
        # The other child woke as often, and was not counted: far fewer samples.
        self.assertLess(rec["total"], child.blocked + other.blocked)
        self.assertEqual(tool.records("summary")[0]["events"], rec["total"])

    def test_per_process(self):
        child = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-P") as tool:
            child.run()
        tool.assert_clean_exit(self)
        recs = tool.records("runqlat")
        [mine] = [r for r in recs if r["pid"] == child.pid]
        self.check_buckets(mine)
        self.assertGreaterEqual(mine["total"], child.blocked)
        self.assertEqual(mine["comm"], os.path.basename(sys.executable)[:15])
        self.assertEqual(len({r["pid"] for r in recs}), len(recs), "one histogram per process")

    def test_per_thread(self):
        child = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-L", "-p", child.pid) as tool:
            child.run()
        tool.assert_clean_exit(self)
        by_tid = {r["tid"]: r for r in tool.records("runqlat")}
        for res in child.results:
            self.assertIn(res["tid"], by_tid)
            self.assertGreaterEqual(by_tid[res["tid"]]["total"], res["blocked"])

    def test_per_pid_namespace(self):
        child = Child(self, [pingpong()])
        ns = os.stat(f"/proc/{child.pid}/ns/pid").st_ino
        with Tool("runqlat", "--json", "--pidnss", "-p", child.pid) as tool:
            child.run()
        tool.assert_clean_exit(self)
        [rec] = tool.records("runqlat")
        self.assertEqual(rec["pidns"], ns)
        self.assertGreaterEqual(rec["total"], child.blocked)

    def test_milliseconds(self):
        child = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-m", "-p", child.pid) as tool:
            child.run()
        tool.assert_clean_exit(self)
        [rec] = tool.records("runqlat")
        self.assertEqual(rec["unit"], "msecs")
        self.assertGreaterEqual(rec["total"], child.blocked)

    def test_interval_and_count_end_the_run(self):
        child = Child(self, [pingpong()])
        tool = Tool("runqlat", "--json", "-p", child.pid, "0.3", "4").start()
        child.run()
        try:
            self.assertEqual(tool.wait(20), 0, tool.stderr)
        finally:
            tool.kill()
        recs = tool.records()
        # An interval without wake-ups still gets its (empty) histogram.
        self.assertEqual([r["type"] for r in recs], ["runqlat"] * 4 + ["summary"])
        for rec in recs[:4]:
            self.check_buckets(rec)
        self.assertIn("4 reports printed", tool.stderr)

    def test_text_histogram_per_process(self):
        child = Child(self, [pingpong()])
        with Tool("runqlat", "-P", "-T", "-p", child.pid) as tool:
            child.run()
        tool.assert_clean_exit(self)
        lines = tool.stdout.decode().splitlines()
        [label] = [l for l in lines if " pid = " in l]
        self.assertRegex(label, rf"^\d\d:\d\d:\d\d pid = {child.pid} python")
        header = lines.index(label) + 1
        self.assertRegex(lines[header], r"^ {5}usecs {15}: count    distribution$")
        bars = lines[header + 1:]
        self.assertRegex(bars[0], r"^ {9}0 -> 1 {10}: \d+ +\|[* ]{40}\|$")
        counted = sum(int(l.split(":")[1].split()[0]) for l in bars if "->" in l)
        self.assertGreaterEqual(counted, child.blocked)
        self.assertTrue(any("*" * 40 in l for l in bars), "the largest bucket has a full bar")

    # --- filters on the task that waited ---

    def test_uid_filter(self):
        theirs = Child(self, [pingpong()], user=NOBODY)
        mine = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-P", "-u", NOBODY) as tool:
            theirs.run()
            mine.run()
        tool.assert_clean_exit(self)
        pids = {r["pid"]: r["total"] for r in tool.records("runqlat")}
        self.assertGreaterEqual(pids.get(theirs.pid, 0), theirs.blocked)
        self.assertNotIn(mine.pid, pids)

    def test_name_filter(self):
        name = f"skq{uuid.uuid4().hex[:8]}"
        inside = Child(self, [{"op": "comm", "name": name}, pingpong()])
        outside = Child(self, [pingpong()])
        with Tool("runqlat", "--json", "-L", "-n", name[3:10]) as tool:
            inside.run()
            outside.run()
        tool.assert_clean_exit(self)
        recs = tool.records("runqlat")
        tids = {r["tid"]: r for r in recs}
        for res in inside.results:  # threads inherit the name set before they start
            self.assertGreaterEqual(tids[res["tid"]]["total"], res["blocked"])
        for res in outside.results:
            self.assertNotIn(res["tid"], tids)
        self.assertTrue(all(name[3:10] in r["comm"] for r in recs))

    def test_cgroup_filter(self):
        with Cgroup() as cg:
            inside = Child(self, [{"op": "cgroup", "path": str(cg.path)}, pingpong()])
            outside = Child(self, [pingpong()])
            with Tool("runqlat", "--json", "-P", "-c", cg.path) as tool:
                inside.run()
                outside.run()
            tool.assert_clean_exit(self)
        pids = {r["pid"]: r["total"] for r in tool.records("runqlat")}
        self.assertGreaterEqual(pids.get(inside.pid, 0), inside.blocked)
        self.assertNotIn(outside.pid, pids)

    # --- lifecycle ---

    def test_bad_arguments_are_usage_errors(self):
        for args in (["0"], ["-1"], ["1", "0"], ["x"], ["-P", "-L"], ["--pidnss", "-P"]):
            res = subprocess.run([tool_path("runqlat"), *args], capture_output=True, timeout=10)
            self.assertEqual(res.returncode, 2, f"{args}: {res.stderr}")
            self.assertEqual(res.stdout, b"")

    def test_duration_ends_with_the_last_report(self):
        tool = Tool("runqlat", "--json", "-d", "0.5").start()
        try:
            self.assertEqual(tool.wait(10), 0, tool.stderr)
        finally:
            tool.kill()
        self.assertEqual([r["type"] for r in tool.records()], ["runqlat", "summary"])
        self.assertIn("duration elapsed", tool.stderr)

    def test_closed_pipe_exits_zero(self):
        status, head, out, err = pipeline_exit_codes([tool_path("runqlat"), "--json", "0.1"])
        self.assertEqual(status, 0, f"runqlat | head -1: runqlat exited {status}; stderr:\n{err}")
        self.assertEqual(head, 0)
        [rec] = parse_json_lines(out)
        validate_record(rec)
        self.assertEqual(rec["type"], "runqlat")

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        with Tool("runqlat", "--json", "-L") as tool:
            time.sleep(0.3)
        tool.assert_clean_exit(self)
        self.assertTrue(tool.held["prog"], tool.held)
        assert_no_bpf_left(self, before, tool.held)
