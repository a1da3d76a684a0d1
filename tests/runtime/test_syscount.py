"""Runtime tests for syscount: the real tool, real BPF, and children this
test owns that make a known number of system calls. Most runs filter on the
child's pid (known before it acts: it waits for a line on stdin first)."""

import json
import os
import platform
import pwd
import signal
import subprocess
import sys
import time
import uuid

from harness import (BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, skip,
                     tool_path)

NOBODY = 65534


def has_uid(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False

N = 2000  # getppid() calls per child: far above any background noise of the child itself
GETPPID_NR = {"x86_64": 110, "aarch64": 173}.get(platform.machine())

# The child: prints its pid, waits for a line, then runs its ops and exits.
CHILD = r"""
import json, os, sys
ops = json.loads(sys.argv[1])
print(os.getpid(), flush=True)
sys.stdin.readline()
for op in ops:
    if op["op"] == "comm":
        with open("/proc/self/comm", "w") as f:
            f.write(op["name"])
    elif op["op"] == "cgroup":
        with open(os.path.join(op["path"], "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    elif op["op"] == "getppid":
        for _ in range(op["n"]):
            os.getppid()
    elif op["op"] == "enoent":
        for _ in range(op["n"]):
            try:
                os.open(op["path"], os.O_RDONLY)
            except FileNotFoundError:
                pass
"""

# Names the kernel's syscall events use where the UAPI name (ours) differs.
KERNEL_ALIASES = {"newstat": "stat", "newfstat": "fstat", "newlstat": "lstat",
                  "newuname": "uname", "sendfile64": "sendfile", "umount": "umount2"}


def python_for(user):
    """An interpreter user can run (ours may live under /root)."""
    if user is None:
        return sys.executable
    return next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                 if os.access(p, os.X_OK)), sys.executable)


class Child:
    """A gated child running ops; .pid is known before it acts."""

    def __init__(self, test, ops, user=None):
        kw = dict(user=user, group=user, extra_groups=[]) if user is not None else {}
        self.proc = subprocess.Popen([python_for(user), "-S", "-c", CHILD, json.dumps(ops)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", **kw)
        test.addCleanup(self.kill)
        self.pid = int(self.proc.stdout.readline())

    def run(self, timeout=60):
        """Releases the child and waits for it to finish its ops."""
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout)
        if self.proc.returncode != 0:
            raise AssertionError(f"child {self.pid} exited {self.proc.returncode}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def syscall_rows(tool):
    """{name or nr: summed count} over every syscount record."""
    rows = {}
    for rec in tool.records("syscount"):
        for row in rec["syscalls"]:
            key = row.get("syscall", row["nr"])
            rows[key] = rows.get(key, 0) + row["count"]
    return rows


class SyscountTest(BpfTestCase):

    def traced(self, ops, *args, user=None, filter_pid=True):
        """Runs a gated child under syscount (filtered on its pid); returns (tool, child)."""
        child = Child(self, ops, user=user)
        pid_args = ("-p", child.pid) if filter_pid else ()
        with Tool("syscount", *args, *pid_args) as tool:
            child.run()
        tool.assert_clean_exit(self)
        return tool, child

    def test_counts_getppid_by_name(self):
        tool, child = self.traced([{"op": "getppid", "n": N}], "--json")
        [rec] = tool.records("syscount")
        rows = {r.get("syscall"): r for r in rec["syscalls"]}
        self.assertIn("getppid", rows, rec)
        self.assertGreaterEqual(rows["getppid"]["count"], N)
        if GETPPID_NR is not None:
            self.assertEqual(rows["getppid"]["nr"], GETPPID_NR)
        self.assertTrue(all("syscall" in r for r in rec["syscalls"]), "a name did not resolve")
        self.assertNotIn("total_ns", rows["getppid"])
        # Sorted by count; total covers every syscall, shown or not.
        counts = [r["count"] for r in rec["syscalls"]]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertGreaterEqual(rec["total"], sum(counts))
        self.assertLessEqual(len(rec["syscalls"]), 10)
        self.assertGreaterEqual(rec["entries"], len(rec["syscalls"]))
        summary = tool.records("summary")[0]
        self.assertEqual(summary["events"], rec["total"])
        self.assertEqual(summary["printed"], 1)

    def test_latency_mode(self):
        tool, _ = self.traced([{"op": "getppid", "n": N}], "--json", "-L", "-T", "50")
        [rec] = tool.records("syscount")
        totals = [int(r["total_ns"]) for r in rec["syscalls"]]
        self.assertEqual(totals, sorted(totals, reverse=True), "-L sorts by total time")
        [row] = [r for r in rec["syscalls"] if r.get("syscall") == "getppid"]
        self.assertGreaterEqual(row["count"], N)
        self.assertGreater(int(row["total_ns"]), 0)
        tool, _ = self.traced([{"op": "getppid", "n": N}], "--json", "-L", "-T", "1")
        self.assertEqual(len(tool.records("syscount")[0]["syscalls"]), 1)

    def test_latency_text_columns(self):
        tool, _ = self.traced([{"op": "getppid", "n": N}], "-L", "-T", "50")
        lines = tool.stdout.decode().splitlines()
        header = next(i for i, l in enumerate(lines) if l.startswith("SYSCALL"))
        self.assertRegex(lines[header - 1], r"^\[\d\d:\d\d:\d\d\]$")
        self.assertEqual(lines[header].split(None, 2), ["SYSCALL", "COUNT", "TIME (us)"])
        [row] = [l for l in lines if l.split()[:1] == ["getppid"]]
        name, count, time_us = row.split()
        self.assertGreaterEqual(int(count), N)
        self.assertRegex(time_us, r"^\d+\.\d{3}$")
        # Numbers are right-aligned under their headers.
        self.assertEqual(len(row), len(lines[header]))

    def test_by_process(self):
        tool, child = self.traced([{"op": "getppid", "n": N}], "--json", "-P")
        [rec] = tool.records("syscount")
        self.assertNotIn("syscalls", rec)
        [mine] = [r for r in rec["processes"] if r["pid"] == child.pid]
        self.assertGreaterEqual(mine["count"], N)
        self.assertEqual(mine["comm"], os.path.basename(sys.executable)[:15])
        self.assertEqual({r["pid"] for r in rec["processes"]}, {child.pid})

    def test_failures_and_errno_filters(self):
        missing = f"/nonexistent-snoopkit-{uuid.uuid4().hex}"
        ops = [{"op": "getppid", "n": N}, {"op": "enoent", "path": missing, "n": 300}]
        for args in (("-x",), ("-e", "ENOENT"), ("-e", "2")):
            with self.subTest(args=args):
                tool, _ = self.traced(ops, "--json", *args)
                rows = syscall_rows(tool)
                self.assertNotIn("getppid", rows, "a successful call was counted")
                self.assertGreaterEqual(rows.get("openat", 0), 300, rows)
        tool, _ = self.traced(ops, "--json", "-e", "EACCES")
        self.assertNotIn("openat", syscall_rows(tool))

    def test_interval_and_count_end_the_run(self):
        child = Child(self, [{"op": "getppid", "n": N}])
        tool = Tool("syscount", "--json", "-p", child.pid, "0.4", "3").start()
        child.run()
        try:
            rc = tool.wait(20)
        finally:
            tool.kill()
        self.assertEqual(rc, 0, tool.stderr)
        recs = tool.records()
        self.assertEqual([r["type"] for r in recs], ["syscount"] * 3 + ["summary"])
        self.assertIn("3 reports printed", tool.stderr)
        self.assertGreaterEqual(syscall_rows(tool).get("getppid", 0), N)
        # Reports are about 0.4 s apart.
        t = [int(r["ktime_ns"]) for r in recs[:3]]
        for a, b in zip(t, t[1:]):
            self.assertGreater(b - a, 300_000_000)

    def test_interval_flag(self):
        with Tool("syscount", "--json", "-i", "0.3", "-p", os.getpid()) as tool:
            time.sleep(1.1)
        tool.assert_clean_exit(self)
        self.assertGreaterEqual(len(tool.records("syscount")), 3)

    # --- filters: each with a child that must be counted and one that must not ---

    def test_uid_filter(self):
        theirs = Child(self, [{"op": "getppid", "n": N}], user=NOBODY)
        mine = Child(self, [{"op": "getppid", "n": N}])
        with Tool("syscount", "--json", "-P", "-u", NOBODY, "-T", "1000") as tool:
            theirs.run()
            mine.run()
        tool.assert_clean_exit(self)
        pids = {r["pid"]: r["count"] for rec in tool.records("syscount") for r in rec["processes"]}
        self.assertGreaterEqual(pids.get(theirs.pid, 0), N)
        self.assertNotIn(mine.pid, pids)

    def test_name_filter(self):
        name = f"skc{uuid.uuid4().hex[:8]}"
        inside = Child(self, [{"op": "comm", "name": name}, {"op": "getppid", "n": N}])
        outside = Child(self, [{"op": "getppid", "n": N}])
        with Tool("syscount", "--json", "-P", "-n", name[3:10], "-T", "1000") as tool:
            inside.run()
            outside.run()
        tool.assert_clean_exit(self)
        procs = [r for rec in tool.records("syscount") for r in rec["processes"]]
        self.assertIn(inside.pid, {r["pid"] for r in procs})
        self.assertNotIn(outside.pid, {r["pid"] for r in procs})
        self.assertTrue(all(name[3:10] in r["comm"] or r["pid"] == inside.pid for r in procs))

    def test_cgroup_filter(self):
        with Cgroup() as cg:
            inside = Child(self, [{"op": "cgroup", "path": str(cg.path)}, {"op": "getppid", "n": N}])
            outside = Child(self, [{"op": "getppid", "n": N}])
            with Tool("syscount", "--json", "-P", "-c", cg.path, "-T", "1000") as tool:
                inside.run()
                outside.run()
            tool.assert_clean_exit(self)
        procs = {r["pid"]: r["count"] for rec in tool.records("syscount") for r in rec["processes"]}
        self.assertGreaterEqual(procs.get(inside.pid, 0), N)
        self.assertNotIn(outside.pid, procs)

    # --- the syscall table ---

    def test_table_names_every_syscall_of_this_kernel(self):
        out = subprocess.run([tool_path("syscount"), "-l"], capture_output=True, check=True,
                             timeout=10).stdout.decode()
        ours = {line.split()[1] for line in out.splitlines()}
        listing = subprocess.run(
            ["unshare", "-m", "sh", "-c",
             "mount -t tracefs t /sys/kernel/tracing 2>/dev/null; ls /sys/kernel/tracing/events/syscalls"],
            capture_output=True, timeout=10).stdout.decode().split()
        events = {n[len("sys_enter_"):] for n in listing if n.startswith("sys_enter_")}
        if not events:
            skip("cannot list this kernel's syscall events (tracefs)")
        missing = {KERNEL_ALIASES.get(e, e) for e in events} - ours
        self.assertEqual(missing, set(), "syscalls this kernel has and the table lacks")

    def test_list_reports_write_errors(self):
        for args in (["-l"], ["--help"], ["--version"]):
            with self.subTest(args=args), open("/dev/full", "wb") as full:
                res = subprocess.run([tool_path("syscount"), *args], stdout=full,
                                     stderr=subprocess.PIPE, timeout=10)
                err = res.stderr.decode()
                self.assertEqual(res.returncode, 1, err)
                self.assertEqual(err.splitlines(),
                                 ["syscount: error: write to stdout: No space left on device"])

    # --- output and lifecycle ---

    def test_unknown_option_values_are_usage_errors(self):
        for args in (["-e", "EBOGUS"], ["-T", "0"], ["0"], ["1", "0"], ["-i", "nan"],
                     ["-i", "1", "2", "3"], ["-i", "1", "2"], ["-T", "0x10"], ["-T", " 5"],
                     ["-T", ""], ["-e", ""], ["-e", " 2"], ["1", "0x2"], ["0x1"], ["1", "2", "3"]):
            res = subprocess.run([tool_path("syscount"), *args], capture_output=True, timeout=10)
            self.assertEqual(res.returncode, 2, f"{args}: {res.stderr}")
            self.assertEqual(res.stdout, b"")
            self.assertEqual(len([l for l in res.stderr.splitlines() if b"error:" in l]), 1,
                             f"{args}: {res.stderr}")

    def test_numeric_uid_without_passwd_entry(self):
        uid = next(u for u in range(4_000_000_000, 4_000_001_000) if not has_uid(u))
        with Tool("syscount", "--json", "-u", uid) as tool:
            pass
        tool.assert_clean_exit(self)
        self.assertEqual(tool.records()[-1]["type"], "summary")

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        with Tool("syscount", "--json", "-L", "-P") as tool:
            time.sleep(0.3)
        tool.assert_clean_exit(self)
        self.assertTrue(tool.held["prog"], tool.held)
        assert_no_bpf_left(self, before, tool.held)

    def test_sigterm_prints_the_last_report(self):
        child = Child(self, [{"op": "getppid", "n": N}])
        tool = Tool("syscount", "--json", "-p", child.pid, stop_signal=signal.SIGTERM).start()
        child.run()
        tool.stop()
        tool.assert_clean_exit(self)
        self.assertGreaterEqual(syscall_rows(tool).get("getppid", 0), N)
