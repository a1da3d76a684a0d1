"""Runtime tests for killsnoop: the real tool, real BPF, kill(2), tkill(2)
and tgkill(2) calls made by a child this test owns (script_child.py). Most
runs filter on the child's pid (the sender), known before it acts."""

import os
import platform
import shutil
import signal
import sys
import uuid

from harness import BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, has_control_bytes
from script_child import ScriptChild

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
EPERM, ESRCH, EINVAL = 1, 3, 22
SLEEP = shutil.which("sleep")
SYS_TKILL = {"x86_64": 200, "aarch64": 130}.get(platform.machine())


def by_time(recs):
    """Records in kernel time order: the perf buffer is per CPU, so a thread
    that moved between CPUs can have its events read out of order."""
    return sorted(recs, key=lambda r: int(r["ktime_ns"]))


def free_pid():
    limit = int(open("/proc/sys/kernel/pid_max").read())
    return next(p for p in range(limit - 1, 1, -1) if not os.path.exists(f"/proc/{p}"))


# Every kind of call: to a process, to a process group, an existence check,
# a missing target, an invalid signal, tkill(2) and tgkill(2) to itself.
CALLS = f"""
import subprocess
signal.signal(signal.SIGUSR2, lambda *a: None)
gc = subprocess.Popen([{SLEEP!r}, "30"], start_new_session=True)
report(grandchild=gc.pid, tid=threading.get_native_id(), missing=MISSING)
def call(tag, fn):
    try:
        fn()
        report(tag=tag, errno=0)
    except OSError as e:
        report(tag=tag, errno=e.errno)
call("exists", lambda: os.kill(gc.pid, 0))
call("invalid", lambda: os.kill(gc.pid, 1000))
call("missing", lambda: os.kill(MISSING, signal.SIGTERM))
if TKILL is not None:
    report(tag="tkill", errno=-syscall(TKILL, threading.get_native_id(), signal.SIGUSR2))
call("tgkill", lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR2))
call("group", lambda: os.killpg(gc.pid, signal.SIGTERM))
gc.wait()
"""


def calls():
    return f"MISSING = {free_pid()}\nTKILL = {SYS_TKILL}\n" + CALLS


class KillsnoopTest(BpfTestCase):

    def traced(self, code, *tool_args, **child_kw):
        """A child gated before code, traced by killsnoop -p CHILD: returns (tool, child)."""
        child = ScriptChild(self, code, **child_kw)
        with Tool("killsnoop", *tool_args, "-p", child.pid) as t:
            child.run()
        return t, child

    def check_calls(self, *transport):
        t, c = self.traced(calls(), "--json", *transport)
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        gc, tid = c.result("grandchild")["grandchild"], c.result("grandchild")["tid"]
        err = {r["tag"]: r["errno"] for r in c.results if "tag" in r}
        self.assertEqual((err["exists"], err["invalid"], err["missing"], err["tgkill"], err["group"]),
                         (0, EINVAL, ESRCH, 0, 0))
        recs = by_time(t.records("kill"))
        self.assertTrue(all((r["pid"], r["tid"], r["uid"], r["comm"]) == (c.pid, c.pid, 0, PYTHON_COMM)
                            for r in recs), recs)
        got = [(r["syscall"], r["tpid"], r["ttid"], r["sig"], r["signal"], r["ret"]) for r in recs]
        missing = c.result("missing")["missing"]
        want = [("kill", gc, 0, 0, "", 0),
                ("kill", gc, 0, 1000, "", -EINVAL),
                ("kill", missing, 0, 15, "SIGTERM", -ESRCH)]
        if SYS_TKILL is not None:
            self.assertEqual(err["tkill"], 0)
            want.append(("tkill", 0, tid, 12, "SIGUSR2", 0))
        want += [("tgkill", c.pid, tid, 12, "SIGUSR2", 0),
                 ("kill", -gc, 0, 15, "SIGTERM", 0)]
        self.assertEqual(got, want)

    def test_calls_ring_buffer(self):
        self.check_calls()

    def test_calls_perf_buffer(self):
        self.check_calls("--perf-buffer")

    # --- filters: each with an event that must pass and one that must not ---

    def test_failed_only(self):
        t, c = self.traced(calls(), "--json", "-x")
        t.assert_clean_exit(self)
        self.assertEqual([(r["sig"], r["ret"]) for r in by_time(t.records("kill"))],
                         [(1000, -EINVAL), (15, -ESRCH)])

    def test_signal_filter(self):
        for spec in ("USR2", "12", "SIGUSR2"):
            with self.subTest(spec=spec):
                t, c = self.traced(calls(), "--json", "-s", spec)
                t.assert_clean_exit(self)
                want = (["tkill"] if SYS_TKILL is not None else []) + ["tgkill"]
                self.assertEqual([r["syscall"] for r in by_time(t.records("kill"))], want)
        t, c = self.traced(calls(), "--json", "-s", "0")
        t.assert_clean_exit(self)
        self.assertEqual([(r["sig"], r["signal"]) for r in t.records("kill")], [(0, "")])

    def test_tid_filter(self):
        code = ("def body():\n"
                "    report(thread=threading.get_native_id()); time.sleep(0.3)\n"
                "    os.kill(os.getpid(), 0)\n"
                "t = threading.Thread(target=body); t.start()\n"
                "os.kill(os.getpid(), 0); t.join()\n")
        child = ScriptChild(self, code)
        # The thread's tid is unknown before it starts: trace the main thread only.
        with Tool("killsnoop", "--json", "--tid", child.pid) as t:
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["pid"], r["tid"]) for r in t.records("kill")], [(child.pid, child.pid)])
        self.assertNotEqual(child.result("thread")["thread"], child.pid)

    def test_uid_filter(self):
        code = "os.kill(os.getpid(), 0)"
        with Tool("killsnoop", "--json", "-u", NOBODY) as t:
            nobody = ScriptChild(self, code, user=NOBODY)
            root = ScriptChild(self, code)
            nobody.run(), root.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["uid"], r["tpid"], r["ret"]) for r in t.records("kill", pid=nobody.pid)],
                         [(NOBODY, nobody.pid, 0)])
        self.assertEqual(t.records("kill", pid=root.pid), [])
        self.assertEqual({r["uid"] for r in t.records("kill")}, {NOBODY})

    def test_comm_filter(self):
        name = f"skk{uuid.uuid4().hex[:8]}"
        code = "open('/proc/self/comm', 'w').write({!r}); os.kill(os.getpid(), 0)"
        with Tool("killsnoop", "--json", "--comm", name[2:9]) as t:
            inside = ScriptChild(self, code.format(name))
            outside = ScriptChild(self, code.format("sk-other"))
            inside.run(), outside.run()
        t.assert_clean_exit(self)
        self.assertEqual([r["comm"] for r in t.records("kill", pid=inside.pid)], [name])
        self.assertEqual(t.records("kill", pid=outside.pid), [])

    def test_cgroup_filter(self):
        with Cgroup() as cg:
            join = f"open({str(cg.path / 'cgroup.procs')!r}, 'w').write(str(os.getpid())); "
            with Tool("killsnoop", "--json", "-c", cg.path) as t:
                inside = ScriptChild(self, join + "os.kill(os.getpid(), 0)")
                outside = ScriptChild(self, "os.kill(os.getpid(), 0)")
                inside.run(), outside.run()
            t.assert_clean_exit(self)
        self.assertEqual(len(t.records("kill", pid=inside.pid)), 1)
        self.assertEqual(t.records("kill", pid=outside.pid), [])

    # --- text output ---

    def test_text_columns(self):
        t, c = self.traced(calls(), "-n")
        t.assert_clean_exit(self)
        self.assertFalse(has_control_bytes(t.stdout))
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "PID", "COMM", "SIG", "TPID", "RESULT"])
        rows = [l.split() for l in lines[1:]]
        gc, tid = c.result("grandchild")["grandchild"], c.result("grandchild")["tid"]
        want = [["0", str(gc), "0"], ["1000", str(gc), str(-EINVAL)],
                ["SIGTERM", str(c.result("missing")["missing"]), str(-ESRCH)]]
        if SYS_TKILL is not None:
            want.append(["SIGUSR2", str(tid), "0"])
        want += [["SIGUSR2", str(tid), "0"], ["SIGTERM", str(-gc), "0"]]
        # Sorted: text has no kernel time to order by (see by_time).
        self.assertEqual(sorted(r[3:] for r in rows), sorted(want))
        self.assertEqual({(r[1], r[2]) for r in rows}, {(str(c.pid), PYTHON_COMM)})
        self.assertRegex(rows[0][0], r"^\d\d:\d\d:\d\d$")

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        child = ScriptChild(self, "os.kill(os.getpid(), 0)")
        t = Tool("killsnoop", "--json", "-p", child.pid, stop_signal=signal.SIGTERM)
        with t:
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual(len(t.records("kill")), 1)
        self.assertEqual(t.records()[-1]["printed"], 1)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
