"""Runtime tests for oomkill: a real OOM kill, provoked safely. The victim is
a child this test owns, confined to a memory cgroup of its own with a small
limit (32 MiB), where it allocates until the kernel's memory-cgroup OOM
killer kills it. Only the tasks of that cgroup are candidates, so nothing
else on the host is at risk; the cgroup is removed afterwards."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from harness import (BpfTestCase, Tool, assert_no_bpf_left, bpf_snapshot, cgroup2_root, skip,
                     tool_path)

LIMIT = 32 << 20

# Waits for a line (the test moves it into the cgroup meanwhile), then
# allocates and touches 1 MiB at a time until killed.
HOG = r"""
import os, sys
print(os.getpid(), flush=True)
sys.stdin.readline()
hog = []
while True:
    hog.append(b"\1" * (1 << 20))
"""


def memory_cgroup_parent():
    """A directory where a memory cgroup with a limit can be made: cgroup v1's
    memory hierarchy, or cgroup v2 with the memory controller; else None."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] == "cgroup" and "memory" in fields[3].split(","):
            return Path(fields[1]), "v1"
    root = cgroup2_root()
    if root and "memory" in (root / "cgroup.subtree_control").read_text().split():
        return root, "v2"
    return None, None


class MemoryCgroup:
    """A fresh memory cgroup limited to LIMIT bytes, removed on exit."""

    def __init__(self, test):
        parent, self.version = memory_cgroup_parent()
        if parent is None:
            skip("no memory cgroup controller to confine an OOM kill to (v1 memory, or v2 "
                 "with memory in cgroup.subtree_control)")
        self.path = parent / f"snoopkit-oom-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.test = test

    def __enter__(self):
        self.path.mkdir()
        try:
            if self.version == "v1":
                (self.path / "memory.limit_in_bytes").write_text(str(LIMIT))
                swap = self.path / "memory.memsw.limit_in_bytes"
                if swap.exists():  # no escape into swap either
                    swap.write_text(str(LIMIT))
            else:
                (self.path / "memory.max").write_text(str(LIMIT))
                (self.path / "memory.swap.max").write_text("0")
        except OSError:
            self.path.rmdir()
            raise
        return self

    def add(self, pid):
        (self.path / "cgroup.procs").write_text(str(pid))

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


class OomkillTest(BpfTestCase):

    def provoke(self, cg):
        """Runs the hog in cg until the OOM killer kills it; returns its pid."""
        hog = subprocess.Popen([sys.executable, "-S", "-c", HOG], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (hog.poll() is None and hog.kill(), hog.wait()))
        pid = int(hog.stdout.readline())
        cg.add(pid)
        hog.stdin.write(b"go\n")
        hog.stdin.flush()
        self.assertEqual(hog.wait(60), -signal.SIGKILL, "the hog was not OOM-killed")
        return pid

    def wait_for(self, tool, type_, pid, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recs = tool.records(type_, pid=pid)
            if recs:
                return recs
            time.sleep(0.05)
        return []

    def test_oom_kill_names_the_victim(self):
        with MemoryCgroup(self) as cg:
            with Tool("oomkill", "--json") as tool:
                pid = self.provoke(cg)
                recs = self.wait_for(tool, "oom_kill", pid)
            tool.assert_clean_exit(self)
        self.assertEqual(len(recs), 1, tool.records())
        rec = recs[0]
        # The hog's own allocation triggered the kill of the only candidate.
        self.assertEqual(rec["trigger_pid"], pid)
        self.assertEqual(rec["trigger_comm"], os.path.basename(sys.executable)[:15])
        if "comm" in rec:
            self.assertEqual(rec["comm"], rec["trigger_comm"])
        if "anon_rss_kb" in rec:  # the tracepoint of 2024 kernels on
            # Charged to the cgroup: what it allocated after the move, at
            # most LIMIT; its interpreter's start-up memory stayed outside.
            self.assertGreater(rec["anon_rss_kb"], 16 << 10)
            self.assertLess(rec["anon_rss_kb"], 4 * (LIMIT >> 10))
            self.assertEqual(rec["uid"], 0)
        if "total_pages" in rec:  # fentry, kprobe: the memcg limit
            self.assertEqual(rec["total_pages"], LIMIT // os.sysconf("SC_PAGE_SIZE"))
        self.assertRegex(rec["loadavg"], r"^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+$")

    def test_text_line(self):
        with MemoryCgroup(self) as cg:
            with Tool("oomkill") as tool:
                pid = self.provoke(cg)
                deadline = time.monotonic() + 5
                while f"OOM kill of PID {pid}".encode() not in tool.stdout:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            tool.assert_clean_exit(self)
        lines = [l for l in tool.stdout.decode().splitlines() if f"OOM kill of PID {pid} " in l]
        self.assertEqual(len(lines), 1, tool.stdout)
        self.assertRegex(lines[0], rf'^\d\d:\d\d:\d\d Triggered by PID {pid} \("python[^"]*"\), '
                                   rf'OOM kill of PID {pid} \("[^"]*"\), .*loadavg: [\d. /]+$')

    def test_trigger_filter(self):
        # The kill is triggered by the hog: a filter on another PID hides it.
        with MemoryCgroup(self) as cg:
            with Tool("oomkill", "--json", "-p", os.getpid()) as tool:
                pid = self.provoke(cg)
                time.sleep(0.5)
            tool.assert_clean_exit(self)
        self.assertEqual(tool.records("oom_kill", pid=pid), [])
        with MemoryCgroup(self) as cg:
            with Tool("oomkill", "--json", "-n", "python") as tool:
                pid = self.provoke(cg)
                recs = self.wait_for(tool, "oom_kill", pid)
            tool.assert_clean_exit(self)
        self.assertEqual(len(recs), 1)

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        with Tool("oomkill", "--json") as tool:
            time.sleep(0.2)
        tool.assert_clean_exit(self)
        self.assertTrue(tool.held["prog"], tool.held)
        assert_no_bpf_left(self, before, tool.held)
        self.assertIn("oom_kill=", tool.stderr)

    def test_no_header_line(self):
        with Tool("oomkill") as tool:
            time.sleep(0.2)
        tool.assert_clean_exit(self)
        self.assertEqual(tool.stdout, b"")
