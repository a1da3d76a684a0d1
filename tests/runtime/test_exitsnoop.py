"""Runtime tests for exitsnoop: the real tool, real BPF, children this test
owns (script_child.py) that exit with a code, are killed by a signal or dump
core. Most runs filter on the child's pid, known before it acts."""

import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from harness import (BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot,
                     has_control_bytes, skip)
from script_child import ScriptChild

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
SYS_EXIT = {"x86_64": 60, "aarch64": 93}.get(platform.machine())


def unique_comm():
    return f"skx{uuid.uuid4().hex[:8]}"


class ExitsnoopTest(BpfTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-exit-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def traced(self, code, *tool_args, kill_with=None, **child_kw):
        """A child gated before code, traced by exitsnoop -p CHILD: returns (tool, child)."""
        child = ScriptChild(self, code, **child_kw)
        with Tool("exitsnoop", *tool_args, "-p", child.pid) as t:
            if kill_with:
                os.kill(child.pid, kill_with)
                child.finish()
            else:
                child.run()
        return t, child

    def exits(self, tool, **match):
        return tool.records("exit", **match)

    # --- how a process ends ---

    def check_exit_code(self, *transport):
        start = time.monotonic_ns()
        t, c = self.traced("time.sleep(0.3); sys.exit(3)", "--json", *transport)
        elapsed = time.monotonic_ns() - start
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        self.assertEqual(c.returncode, 3)
        [r] = self.exits(t)
        self.assertEqual((r["pid"], r["tid"], r["ppid"], r["uid"], r["comm"]),
                         (c.pid, c.pid, os.getpid(), 0, PYTHON_COMM))
        self.assertEqual((r["status"], r["exit_code"], r["sig"], r["signal"], r["core_dumped"],
                          r["process_exit"]), (3 << 8, 3, 0, "", False, True))
        self.assertGreaterEqual(int(r["age_ns"]), 300_000_000)
        self.assertLessEqual(int(r["age_ns"]), elapsed)

    def test_exit_code_ring_buffer(self):
        self.check_exit_code()

    def test_exit_code_perf_buffer(self):
        self.check_exit_code("--perf-buffer")

    def test_killed_by_sigkill(self):
        t, c = self.traced("", "--json", kill_with=signal.SIGKILL)
        t.assert_clean_exit(self)
        self.assertEqual(c.returncode, -signal.SIGKILL)
        [r] = self.exits(t, pid=c.pid)
        self.assertEqual((r["status"], r["exit_code"], r["sig"], r["signal"], r["core_dumped"]),
                         (9, 0, 9, "SIGKILL", False))

    def test_killed_by_own_sigterm(self):
        t, c = self.traced("os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)", "--json")
        t.assert_clean_exit(self)
        self.assertEqual(c.returncode, -signal.SIGTERM)
        [r] = self.exits(t, pid=c.pid)
        self.assertEqual((r["sig"], r["signal"], r["exit_code"]), (15, "SIGTERM", 0))

    def test_core_dump(self):
        # Only where the core lands in the child's cwd (our temporary directory):
        # a pipe or an absolute pattern would hand it to the host. Never change the pattern.
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
        if pattern.startswith("|") or "/" in pattern or not pattern:
            skip(f"core_pattern {pattern!r} would not write the core into the test's directory")
        self.tmp.chmod(0o777)
        code = ("import resource; resource.setrlimit(resource.RLIMIT_CORE, "
                "(resource.RLIM_INFINITY, resource.RLIM_INFINITY)); os.abort()")
        t, c = self.traced(code, "--json", cwd=self.tmp)
        t.assert_clean_exit(self)
        self.assertEqual(c.returncode, -signal.SIGABRT)
        [r] = self.exits(t, pid=c.pid)
        cores = list(self.tmp.iterdir())
        for f in cores:
            f.unlink()
        self.assertEqual((r["sig"], r["signal"]), (6, "SIGABRT"))
        self.assertEqual(r["core_dumped"], bool(cores), f"core files: {cores}")
        if cores:
            self.assertEqual(r["status"], 0x80 | 6)
        else:
            skip("the kernel dumped no core here (RLIMIT_CORE hard limit or fs.suid_dumpable)")

    # --- threads ---

    THREADS = ("t = threading.Thread(target=lambda: report(thread=threading.get_native_id())); "
               "t.start(); t.join(); sys.exit(0)")

    def test_process_exit_only_by_default(self):
        t, c = self.traced(self.THREADS, "--json")
        t.assert_clean_exit(self)
        # One record for the process: from whichever thread ended last (the
        # thread may still be on its way out when the main thread exits).
        [r] = self.exits(t)
        self.assertEqual((r["pid"], r["comm"], r["exit_code"], r["process_exit"]),
                         (c.pid, PYTHON_COMM, 0, True))
        self.assertIn(r["tid"], (c.pid, c.result("thread")["thread"]))

    def test_threaded_reports_every_thread(self):
        t, c = self.traced(self.THREADS, "--json", "-T")
        t.assert_clean_exit(self)
        thread = c.result("thread")["thread"]
        recs = {r["tid"]: r for r in self.exits(t, pid=c.pid)}
        self.assertEqual(set(recs), {thread, c.pid})
        self.assertEqual([r["process_exit"] for r in recs.values()].count(True), 1)
        self.assertEqual(recs[thread]["exit_code"], 0)
        # With -T the age is the thread's own: it started after the process.
        self.assertLess(int(recs[thread]["age_ns"]), int(recs[c.pid]["age_ns"]))

    # The main thread ends alone with exit(2), not exit_group(2); another thread
    # goes on, renames itself and ends with its own exit(2) code.
    LONE_EXIT = """
def body():
    time.sleep(0.3)
    open(f"/proc/self/task/{threading.get_native_id()}/comm", "w").write("sk-last")
    syscall(SYS_EXIT, 5)
threading.Thread(target=body).start()
syscall(SYS_EXIT, 7)
"""

    def lone_exit(self, *args):
        if SYS_EXIT is None:
            skip(f"no exit(2) syscall number for {platform.machine()}")
        return self.traced(f"SYS_EXIT = {SYS_EXIT}\n" + self.LONE_EXIT, "--json", *args)

    def test_process_status_is_what_wait_gets(self):
        t, c = self.lone_exit()
        t.assert_clean_exit(self)
        # Kernels with synchronize_group_exit() make the last exit(2) the
        # process's status (5); older ones report the leader's (7).
        self.assertIn(c.returncode, (5, 7))
        [r] = self.exits(t)
        self.assertNotEqual(r["tid"], c.pid)  # the last thread
        self.assertEqual((r["exit_code"], r["status"], r["comm"], r["process_exit"]),
                         (c.returncode, c.returncode << 8, PYTHON_COMM, True))

    def test_threaded_status_is_each_threads_own(self):
        t, c = self.lone_exit("-T")
        t.assert_clean_exit(self)
        got = sorted((r["tid"] == c.pid, r["exit_code"], r["comm"], r["process_exit"])
                     for r in self.exits(t))
        self.assertEqual(got, [(False, 5, "sk-last", True), (True, 7, PYTHON_COMM, False)])

    # --- filters: each with an event that must pass and one that must not ---

    def test_failed_only(self):
        name = unique_comm()
        setname = f"open('/proc/self/comm', 'w').write({name!r}); "
        with Tool("exitsnoop", "--json", "-x", "-n", name) as t:
            ok = ScriptChild(self, setname + "sys.exit(0)")
            bad = ScriptChild(self, setname + "sys.exit(5)")
            killed = ScriptChild(self, setname + "report(ready=1); time.sleep(30)")
            ok.run(), bad.run()
            killed.release()
            killed.proc.stdout.readline()
            os.kill(killed.pid, signal.SIGKILL)
            killed.finish()
        t.assert_clean_exit(self)
        self.assertEqual(self.exits(t, pid=ok.pid), [])
        self.assertEqual([r["exit_code"] for r in self.exits(t, pid=bad.pid)], [5])
        self.assertEqual([r["signal"] for r in self.exits(t, pid=killed.pid)], ["SIGKILL"])
        self.assertTrue(all(r["status"] != 0 for r in self.exits(t)))

    def test_pid_filter(self):
        child = ScriptChild(self, "sys.exit(1)")
        with Tool("exitsnoop", "--json", "-p", child.pid) as t:
            control = ScriptChild(self, "sys.exit(2)")
            control.run()
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual([r["exit_code"] for r in self.exits(t, pid=child.pid)], [1])
        self.assertEqual({r["pid"] for r in self.exits(t)}, {child.pid})

    def test_uid_filter(self):
        with Tool("exitsnoop", "--json", "-u", NOBODY) as t:
            nobody = ScriptChild(self, "sys.exit(4)", user=NOBODY)
            root = ScriptChild(self, "sys.exit(4)")
            nobody.run(), root.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["uid"], r["exit_code"]) for r in self.exits(t, pid=nobody.pid)],
                         [(NOBODY, 4)])
        self.assertEqual(self.exits(t, pid=root.pid), [])
        self.assertEqual({r["uid"] for r in self.exits(t)}, {NOBODY})

    def test_name_filter(self):
        name = unique_comm()
        with Tool("exitsnoop", "--json", "-n", name[2:9]) as t:
            inside = ScriptChild(self, f"open('/proc/self/comm', 'w').write({name!r})")
            outside = ScriptChild(self, "open('/proc/self/comm', 'w').write('sk-other')")
            inside.run(), outside.run()
        t.assert_clean_exit(self)
        self.assertEqual([r["comm"] for r in self.exits(t, pid=inside.pid)], [name])
        self.assertEqual(self.exits(t, pid=outside.pid), [])
        self.assertTrue(all(name[2:9] in r["comm"] for r in self.exits(t)))

    def test_cgroup_filter(self):
        with Cgroup() as cg:
            join = f"open({str(cg.path / 'cgroup.procs')!r}, 'w').write(str(os.getpid())); "
            with Tool("exitsnoop", "--json", "-c", cg.path) as t:
                inside = ScriptChild(self, join + "sys.exit(6)")
                outside = ScriptChild(self, "sys.exit(6)")
                inside.run(), outside.run()
            t.assert_clean_exit(self)
        self.assertEqual([r["exit_code"] for r in self.exits(t, pid=inside.pid)], [6])
        self.assertEqual(self.exits(t, pid=outside.pid), [])

    # --- text output ---

    def test_text_columns(self):
        name = unique_comm()
        setname = f"open('/proc/self/comm', 'w').write({name!r}); "
        with Tool("exitsnoop", "-t", "-n", name) as t:
            coded = ScriptChild(self, setname + "sys.exit(3)")
            killed = ScriptChild(self, setname + "report(ready=1); time.sleep(30)")
            coded.run()
            killed.release()
            killed.proc.stdout.readline()
            os.kill(killed.pid, signal.SIGKILL)
            killed.finish()
        t.assert_clean_exit(self)
        self.assertFalse(has_control_bytes(t.stdout))
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE"])
        rows = {int(l.split()[2]): l.split(None, 6) for l in lines[1:]}
        for pid, code in ((coded.pid, "code 3"), (killed.pid, "signal 9 (SIGKILL)")):
            row = rows[pid]
            self.assertRegex(row[0], r"^\d\d:\d\d:\d\d$")
            self.assertEqual(row[1:5], [name, str(pid), str(os.getpid()), str(pid)])
            self.assertRegex(row[5], r"^\d+\.\d\d$")
            self.assertEqual(row[6], code)

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        child = ScriptChild(self, "sys.exit(9)")
        t = Tool("exitsnoop", "--json", "-p", child.pid, stop_signal=signal.SIGTERM)
        with t:
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual(len(self.exits(t, pid=child.pid)), 1)
        recs = t.records()
        self.assertEqual(recs[-1]["printed"], len(self.exits(t)))
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
