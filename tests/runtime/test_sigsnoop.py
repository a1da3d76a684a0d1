"""Runtime tests for sigsnoop: the real tool, real BPF, signals sent by a
child this test owns (script_child.py). Most runs filter on the child's pid:
the sender is the task that generates the signal."""

import os
import shutil
import signal
import sys
import uuid

from harness import BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, has_control_bytes
from script_child import ScriptChild

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
SI_USER, SI_TKILL = 0, -6
DELIVERED, IGNORED = 0, 1
ESRCH = 3
SLEEP = shutil.which("sleep")

# Signals the child sends: SIGUSR1 to itself while ignoring it; SIGTERM to a
# sleeping grandchild; SIGUSR2 to its own main thread (tgkill); real-time 34
# to itself (handled); SIGTERM to a pid that does not exist (only kill(2) sees it).
SENDS = f"""
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.signal(signal.SIGUSR2, lambda *a: None)
signal.signal(34, lambda *a: None)
import subprocess
gc = subprocess.Popen([{SLEEP!r}, "30"])
# Popen may return (vfork) before exec has renamed the grandchild: wait for its name.
while open(f"/proc/{{gc.pid}}/comm").read() != "sleep\\n":
    time.sleep(0.005)
report(grandchild=gc.pid)
os.kill(os.getpid(), signal.SIGUSR1)
os.kill(gc.pid, signal.SIGTERM)
gc.wait()
signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR2)
os.kill(os.getpid(), 34)
try:
    os.kill({{missing}}, signal.SIGTERM)
except ProcessLookupError:
    report(esrch=1)
"""


def by_time(recs):
    """Records in kernel time order: the perf buffer is per CPU, so a thread
    that moved between CPUs can have its events read out of order."""
    return sorted(recs, key=lambda r: int(r["ktime_ns"]))


def sent(recs):
    """The records of the signals SENDS sends, without the SIGCHLD that the
    child's own exit sends to this test (checked in check_signals)."""
    return [r for r in recs if r["sig"] != signal.SIGCHLD]


def free_pid():
    limit = int(open("/proc/sys/kernel/pid_max").read())
    return next(p for p in range(limit - 1, 1, -1) if not os.path.exists(f"/proc/{p}"))


def sends():
    return SENDS.replace("{missing}", str(free_pid()))


class SigsnoopTest(BpfTestCase):

    def traced(self, code, *tool_args, **child_kw):
        """A child gated before code, traced by sigsnoop -p CHILD: returns (tool, child)."""
        child = ScriptChild(self, code, **child_kw)
        with Tool("sigsnoop", *tool_args, "-p", child.pid) as t:
            child.run()
        return t, child

    def check_signals(self, *transport):
        t, c = self.traced(sends(), "--json", *transport)
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        gc = c.result("grandchild")["grandchild"]
        recs = by_time(t.records("signal"))
        self.assertTrue(all((r["pid"], r["tid"], r["uid"], r["comm"]) == (c.pid, c.pid, 0, PYTHON_COMM)
                            for r in recs), recs)
        # Its exit, last, sends SIGCHLD to us (ignored unless we have a handler).
        chld = recs.pop()
        self.assertEqual((chld["sig"], chld["signal"], chld["tpid"], chld["si_code"], chld["group"]),
                         (17, "SIGCHLD", os.getpid(), 1, True))
        self.assertIn(chld["result_name"], ("delivered", "ignored"))
        got = [(r["sig"], r["signal"], r["tpid"], r["si_code"], r["group"], r["result"], r["result_name"])
               for r in recs]
        self.assertEqual(got, [
            (10, "SIGUSR1", c.pid, SI_USER, True, IGNORED, "ignored"),
            (15, "SIGTERM", gc, SI_USER, True, DELIVERED, "delivered"),
            (12, "SIGUSR2", c.pid, SI_TKILL, False, DELIVERED, "delivered"),
            (34, "SIG34", c.pid, SI_USER, True, DELIVERED, "delivered"),
        ])
        self.assertEqual([r["tcomm"] for r in recs], [PYTHON_COMM, "sleep", PYTHON_COMM, PYTHON_COMM])

    def test_signals_ring_buffer(self):
        self.check_signals()

    def test_signals_perf_buffer(self):
        self.check_signals("--perf-buffer")

    # --- filters and modes ---

    def test_failed_only(self):
        t, c = self.traced(sends(), "--json", "-x")
        t.assert_clean_exit(self)
        self.assertEqual([(r["sig"], r["result_name"]) for r in sent(t.records("signal"))],
                         [(10, "ignored")])
        self.assertTrue(all(r["result"] != DELIVERED for r in t.records("signal")))

    def test_signal_filter(self):
        for spec in ("TERM", "15", "sigterm"):
            with self.subTest(spec=spec):
                t, c = self.traced(sends(), "--json", "-s", spec)
                t.assert_clean_exit(self)
                self.assertEqual([(r["sig"], r["tpid"]) for r in t.records("signal")],
                                 [(15, c.result("grandchild")["grandchild"])])

    def test_kill_only_prints_kill_records(self):
        t, c = self.traced(sends(), "--json", "-k")
        t.assert_clean_exit(self)
        self.assertIn("kill=tracepoint", t.stderr)
        self.assertEqual(t.records("signal"), [])
        kills = by_time(t.records("kill"))
        got = [(r["syscall"], r["sig"], r["ret"]) for r in kills]
        # kill(2) only: not the pthread_kill (tgkill), but the failed call too.
        self.assertEqual(got, [("kill", 10, 0), ("kill", 15, 0), ("kill", 34, 0), ("kill", 15, -ESRCH)])
        self.assertEqual(kills[1]["tpid"], c.result("grandchild")["grandchild"])

    def test_kill_only_failed(self):
        t, c = self.traced(sends(), "--json", "-k", "-x")
        t.assert_clean_exit(self)
        self.assertEqual([(r["sig"], r["ret"]) for r in t.records("kill")], [(15, -ESRCH)])

    def test_uid_filter(self):
        code = "signal.signal(signal.SIGUSR1, signal.SIG_IGN); os.kill(os.getpid(), signal.SIGUSR1)"
        with Tool("sigsnoop", "--json", "-u", NOBODY, "-s", "USR1") as t:
            nobody = ScriptChild(self, code, user=NOBODY)
            root = ScriptChild(self, code)
            nobody.run(), root.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["uid"], r["sig"]) for r in t.records("signal", pid=nobody.pid)],
                         [(NOBODY, 10)])
        self.assertEqual(t.records("signal", pid=root.pid), [])

    def test_comm_filter(self):
        name = f"sks{uuid.uuid4().hex[:8]}"
        code = ("open('/proc/self/comm', 'w').write({!r}); signal.signal(signal.SIGUSR1, signal.SIG_IGN); "
                "os.kill(os.getpid(), signal.SIGUSR1)")
        with Tool("sigsnoop", "--json", "--comm", name[2:9], "-s", "USR1") as t:
            inside = ScriptChild(self, code.format(name))
            outside = ScriptChild(self, code.format("sk-other"))
            inside.run(), outside.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["comm"], r["tcomm"]) for r in t.records("signal", pid=inside.pid)],
                         [(name, name)])
        self.assertEqual(t.records("signal", pid=outside.pid), [])

    def test_cgroup_filter(self):
        code = "signal.signal(signal.SIGUSR1, signal.SIG_IGN); os.kill(os.getpid(), signal.SIGUSR1)"
        with Cgroup() as cg:
            join = f"open({str(cg.path / 'cgroup.procs')!r}, 'w').write(str(os.getpid())); "
            with Tool("sigsnoop", "--json", "-c", cg.path, "-s", "USR1") as t:
                inside = ScriptChild(self, join + code)
                outside = ScriptChild(self, code)
                inside.run(), outside.run()
            t.assert_clean_exit(self)
        self.assertEqual(len(t.records("signal", pid=inside.pid)), 1)
        self.assertEqual(t.records("signal", pid=outside.pid), [])

    # --- text output ---

    def test_text_columns_with_names(self):
        for args, sigs in ((("-n",), ["SIGUSR1", "SIGTERM", "SIGUSR2", "SIG34"]),
                           ((), ["10", "15", "12", "34"])):
            with self.subTest(args=args):
                t, c = self.traced(sends(), *args)
                t.assert_clean_exit(self)
                self.assertFalse(has_control_bytes(t.stdout))
                lines = t.stdout.decode().splitlines()
                self.assertEqual(lines[0].split(), ["TIME", "PID", "COMM", "SIG", "TPID", "RESULT"])
                rows = [l.split() for l in lines[1:] if l.split()[3] not in ("17", "SIGCHLD")]
                # Sorted: text has no kernel time to order by, and per-CPU perf
                # buffers (the VM matrix's --perf-buffer pass) may interleave.
                self.assertEqual(sorted((r[3], r[5]) for r in rows),
                                 sorted(zip(sigs, ["1", "0", "0", "0"])))
                self.assertEqual({(r[1], r[2]) for r in rows}, {(str(c.pid), PYTHON_COMM)})
                self.assertRegex(rows[0][0], r"^\d\d:\d\d:\d\d$")

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        child = ScriptChild(self, sends())
        t = Tool("sigsnoop", "--json", "-p", child.pid, stop_signal=signal.SIGTERM)
        with t:
            child.run()
        t.assert_clean_exit(self)
        recs = t.records()
        self.assertEqual(len(sent(t.records("signal"))), 4)
        self.assertEqual(recs[-1]["printed"], len(t.records("signal")))
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
