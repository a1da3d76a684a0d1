"""Runtime tests for opensnoop: the real tool, real BPF, workloads this test
owns (tests/runtime/workload.py children). Assertions are only about events
of the test's own children; most runs filter on the child's pid (known
before it acts, thanks to the workload's gate) to keep system noise out."""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fullpath_cases import FullPathCases
from harness import (BpfTestCase, Cgroup, Tool, Workload, assert_no_bpf_left, bpf_snapshot,
                     decode_bytes, has_control_bytes, hexb, parse_json_lines, pipeline_exit_codes,
                     run_workload, skip, tool_path, validate_record)

NOBODY = 65534
ENOENT, EACCES, ENAMETOOLONG, ENOSYS = 2, 13, 36, 38
AT_FDCWD = -100
PYTHON_COMM = os.path.basename(sys.executable)[:15]

HOSTILE_NAMES = {
    "newline": b"nl\nname",
    "esc": b"esc\x1b[31mred\x1b[0m",
    "quotes": b"q\"uo'te",
    "backslash": b"back\\slash",
    "invalid": b"inv\xff\xfe",
    "u2028": "sep\u2028para".encode(),
    "emoji": "\U0001F600".encode(),
    "c1_bidi": "\u009b\u202e".encode(),
    "long255": b"L" * 255,
}


def marker():
    return f"sk{uuid.uuid4().hex[:10]}"


def open_op(path, tag, **kw):
    return {"op": "open", "path": hexb(path), "tag": tag, **kw}


class GatedRun:
    """A workload gated before its first op, traced by a tool filtered on its
    pid (or on what extra_args say): start, release, collect.

        with GatedRun(self, ops, "--json") as g: ...  g.tool, g.workload
    """

    def __init__(self, test, ops, *tool_args, filter_flag="-p", thread=False):
        self.ops = ([{"op": "thread", "ops": [{"op": "gate"}] + ops}] if thread
                    else [{"op": "gate"}] + ops)
        self.test, self.tool_args, self.filter_flag, self.thread = test, tool_args, filter_flag, thread

    def __enter__(self):
        self.workload = w = Workload(self.ops)
        self.test.addCleanup(lambda: (w.proc.kill(), w.proc.wait()))
        gate = w.next_result()
        if self.thread:
            gate = w.next_result()
        target = gate["tid"] if self.filter_flag == "-t" else gate["pid"]
        self.tool = Tool("opensnoop", *self.tool_args, self.filter_flag, target).start()
        w.release()
        w.finish()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.tool.stop()
        else:
            self.tool.kill()
        return False


class OpensnoopTest(FullPathCases, BpfTestCase):
    TOOL, TYPE = "opensnoop", "open"
    CALL = """
def call(tag, path, dfd=None):
    try:
        os.close(os.open(path, os.O_RDONLY, dir_fd=dfd))
        report(tag=tag, errno=0)
    except OSError as e:
        report(tag=tag, errno=e.errno)
"""

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-open-"))
        self.tmp.chmod(0o755)
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def file(self, name):
        """A readable file in the test's directory; returns its path as bytes."""
        path = os.fsencode(self.tmp) + b"/" + (name if isinstance(name, bytes) else name.encode())
        Path(os.fsdecode(path)).write_text("x")
        os.chmod(path, 0o644)
        return path

    def opens(self, tool, path, **match):
        """Open records for path (exact bytes), optionally matching fields."""
        return [r for r in tool.records("open", **match) if decode_bytes(r, "path") == path]

    # --- paths round-trip, fds match ---

    def check_path_roundtrip(self, *transport):
        paths = {tag: self.file(name) for tag, name in HOSTILE_NAMES.items()}
        paths["missing"] = os.fsencode(self.tmp) + b"/missing-" + marker().encode()
        paths["long300"] = os.fsencode(self.tmp) + b"/" + b"M" * 300  # longer than NAME_MAX
        ops = [open_op(p, tag) for tag, p in paths.items()]
        with GatedRun(self, ops, "--json", *transport) as g:
            pass
        t, w = g.tool, g.workload
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        for tag, path in paths.items():
            with self.subTest(path=tag):
                recs = self.opens(t, path, pid=w.pid)
                self.assertEqual(len(recs), 1, f"{path!r}: {recs}")
                r, res = recs[0], w.result(tag)
                self.assertEqual(r["ret"], res["fd"] if "fd" in res else -res["errno"])
                self.assertEqual((r["syscall"], r["dfd"], r["tid"], r["uid"], r["comm"], r["path_truncated"]),
                                 ("openat", AT_FDCWD, w.pid, 0, PYTHON_COMM, False))
                self.assertEqual(r["flags"] & 3, os.O_RDONLY)
                if tag in ("invalid",):
                    self.assertIn("path_b64", r)
        self.assertGreaterEqual(w.result("emoji")["fd"], 0)
        self.assertEqual(w.result("missing")["errno"], ENOENT)
        self.assertEqual(w.result("long300")["errno"], ENAMETOOLONG)
        self.assertEqual(self.opens(t, paths["missing"])[0]["ret"], -ENOENT)
        self.assertEqual(self.opens(t, paths["long300"])[0]["ret"], -ENAMETOOLONG)
        self.assertNotIn("\u2028".encode(), t.stdout)

    def test_path_roundtrip_ring_buffer(self):
        self.check_path_roundtrip()

    def test_path_roundtrip_perf_buffer(self):
        self.check_path_roundtrip("--perf-buffer")

    def test_relative_open_reports_dfd(self):
        self.file("rel")
        with GatedRun(self, [open_op("rel", "rel", dir=hexb(str(self.tmp)))], "--json") as g:
            pass
        g.tool.assert_clean_exit(self)
        res = g.workload.result("rel")
        [r] = self.opens(g.tool, b"rel", pid=g.workload.pid)
        self.assertEqual((r["ret"], r["dfd"]), (res["fd"], res["dfd"]))
        self.assertGreaterEqual(r["dfd"], 0)

    def test_flags_and_mode(self):
        path = os.fsencode(self.tmp) + b"/created"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC
        with GatedRun(self, [open_op(path, "c", flags=flags, mode=0o640)], "--json", "-e") as g:
            pass
        g.tool.assert_clean_exit(self)
        [r] = self.opens(g.tool, path, pid=g.workload.pid)
        self.assertEqual(r["flags"] & flags, flags)
        self.assertEqual(r["mode"], 0o640)
        self.assertEqual(r["ret"], g.workload.result("c")["fd"])

    def test_path_longer_than_4095_bytes_is_truncated(self):
        path = os.fsencode(self.tmp) + b"/" + b"d/" * 2500  # 5000+ bytes: ENAMETOOLONG
        with GatedRun(self, [open_op(path, "long")], "--json") as g:
            pass
        g.tool.assert_clean_exit(self)
        self.assertEqual(g.workload.result("long")["errno"], ENAMETOOLONG)
        recs = [r for r in g.tool.records("open", pid=g.workload.pid) if r["path_truncated"]]
        self.assertEqual(len(recs), 1, g.tool.records("open", pid=g.workload.pid))
        self.assertEqual(decode_bytes(recs[0], "path"), path[:4095])
        self.assertEqual(recs[0]["ret"], -ENAMETOOLONG)

    # --- losses ---

    def check_lost_counted_exactly(self, *transport):
        """A stopped reader and a tiny buffer: every open is either printed or
        counted in a lost record, and the summary agrees."""
        n = 2000
        path = self.file("burst")
        w = Workload([{"op": "gate"}, open_op(path, "burst", repeat=n)])
        self.addCleanup(lambda: (w.proc.kill(), w.proc.wait()))
        w.next_result()
        t = Tool("opensnoop", "--json", "--buffer-size", "4K", *transport, "-p", w.pid).start()
        try:
            os.kill(t.pid, signal.SIGSTOP)
            w.release()
            w.finish()
        finally:
            os.kill(t.pid, signal.SIGCONT)
        t.stop()
        t.assert_clean_exit(self)
        recs = t.records()
        opens = [r for r in recs if r["type"] == "open"]
        lost = [r for r in recs if r["type"] == "lost"]
        summary = recs[-1]
        self.assertTrue(lost, "no lost record although the reader was stopped")
        self.assertEqual(lost[-1]["lost_total"], sum(r["lost"] for r in lost))
        self.assertEqual(summary["lost"], lost[-1]["lost_total"])
        self.assertEqual(w.result("burst")["opened"], n)
        self.assertEqual((summary["events"], summary["printed"]), (len(opens), len(opens)))
        self.assertEqual(len(opens) + summary["lost"], n)
        self.assertEqual({decode_bytes(r, "path") for r in opens}, {path})

    def test_lost_counted_exactly_ring_buffer(self):
        self.check_lost_counted_exactly()

    def test_lost_counted_exactly_perf_buffer(self):
        self.check_lost_counted_exactly("--perf-buffer")

    def check_nothing_lost_while_starting(self, *transport):
        """Opens that run through the tool's start-up (load, attach, reader
        created) at a modest rate: none of them may be counted lost. A
        reader created after attach would make the perf buffer drop, and
        count, every event in between."""
        path = self.file("steady")
        code = ("import os,sys,time\n"
                "sys.stdout.write('go\\n'); sys.stdout.flush()\n"
                "end = time.monotonic() + 30\n"
                "while time.monotonic() < end:\n"
                "    os.close(os.open(sys.argv[1], os.O_RDONLY)); time.sleep(0.00005)\n")
        opener = subprocess.Popen([sys.executable, "-c", code, path], stdout=subprocess.PIPE)
        self.addCleanup(lambda: (opener.kill(), opener.wait()))
        self.assertEqual(opener.stdout.readline(), b"go\n")
        t = Tool("opensnoop", "--json", *transport, "-p", opener.pid).start()
        time.sleep(0.5)
        t.stop()
        t.assert_clean_exit(self)
        summary = t.records("summary")[-1]
        opens = self.opens(t, path, pid=opener.pid)
        self.assertGreater(len(opens), 50, "the opener was not traced")
        self.assertEqual(t.records("lost"), [])
        self.assertEqual(summary["lost"], 0, summary)

    def test_nothing_lost_while_starting_ring_buffer(self):
        self.check_nothing_lost_while_starting()

    def test_nothing_lost_while_starting_perf_buffer(self):
        self.check_nothing_lost_while_starting("--perf-buffer")

    # --- other syscalls ---

    def test_openat2(self):
        path = self.file("via-openat2")
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
        ops = [{"op": "openat2", "path": hexb(path), "flags": flags, "resolve": 0x04, "tag": "ok"},
               {"op": "openat2", "path": hexb(path + b".new"), "flags": os.O_WRONLY | os.O_CREAT,
                "mode": 0o600, "tag": "create"}]
        with GatedRun(self, ops, "--json") as g:
            pass
        g.tool.assert_clean_exit(self)
        if g.workload.result("ok").get("errno") == ENOSYS:
            skip("this kernel has no openat2(2)")
        [r] = self.opens(g.tool, path, pid=g.workload.pid)
        self.assertEqual((r["syscall"], r["ret"], r["dfd"], r["flags"], r["mode"]),
                         ("openat2", g.workload.result("ok")["fd"], AT_FDCWD, flags, 0))
        [r] = self.opens(g.tool, path + b".new", pid=g.workload.pid)
        self.assertEqual((r["syscall"], r["ret"], r["flags"], r["mode"]),
                         ("openat2", g.workload.result("create")["fd"], os.O_WRONLY | os.O_CREAT, 0o600))

    def test_openat2_flags_beyond_32_bits_stay_exact(self):
        """open_how.flags is 64 bits from user memory; the kernel refuses the
        call (EINVAL) but the event is still printed, and every JSON number
        must stay exact for readers that use doubles (jq)."""
        path = self.file("bad-flags")
        flags = (1 << 60) | os.O_WRONLY
        with GatedRun(self, [{"op": "openat2", "path": hexb(path), "flags": flags, "tag": "bad"}],
                      "--json") as g:
            pass
        g.tool.assert_clean_exit(self)  # validates every record against open.v1.json
        if g.workload.result("bad").get("errno") == ENOSYS:
            skip("this kernel has no openat2(2)")
        [r] = self.opens(g.tool, path, pid=g.workload.pid)
        self.assertEqual((r["syscall"], r["ret"]), ("openat2", -22))
        self.assertEqual(r["flags"] & 0xFFFFFFFF, os.O_WRONLY)
        self.assertEqual(int(float(r["flags"])), r["flags"])

    def test_open_syscall(self):
        if platform.machine() != "x86_64":
            skip(f"open(2) is not a syscall on {platform.machine()}")
        path = self.file("via-open")
        with GatedRun(self, [{"op": "sys_open", "path": hexb(path), "flags": os.O_RDONLY, "tag": "o"}],
                      "--json") as g:
            pass
        g.tool.assert_clean_exit(self)
        [r] = self.opens(g.tool, path, pid=g.workload.pid)
        self.assertEqual((r["syscall"], r["ret"], r["dfd"], r["flags"]),
                         ("open", g.workload.result("o")["fd"], AT_FDCWD, os.O_RDONLY))

    # --- filters: each with an event that must pass and one that must not ---

    def test_failed_only(self):
        ok, missing = self.file("exists"), os.fsencode(self.tmp) + b"/missing"
        with GatedRun(self, [open_op(ok, "ok"), open_op(missing, "missing")], "--json", "-x") as g:
            pass
        g.tool.assert_clean_exit(self)
        self.assertGreaterEqual(g.workload.result("ok")["fd"], 0)
        self.assertEqual([r["ret"] for r in self.opens(g.tool, missing)], [-ENOENT])
        self.assertEqual(self.opens(g.tool, ok), [])
        self.assertTrue(all(r["ret"] < 0 for r in g.tool.records("open")))

    def test_pid_filter(self):
        mine, other = self.file(marker()), self.file(marker())
        with GatedRun(self, [open_op(mine, "mine")], "--json") as g:
            control = run_workload([open_op(other, "other")])
        g.tool.assert_clean_exit(self)
        self.assertEqual(len(self.opens(g.tool, mine, pid=g.workload.pid)), 1)
        self.assertEqual(self.opens(g.tool, other), [])
        self.assertEqual(g.tool.records("open", pid=control.pid), [])
        self.assertEqual({r["pid"] for r in g.tool.records("open")}, {g.workload.pid})

    def test_tid_filter(self):
        in_thread, in_main = self.file(marker()), self.file(marker())
        # The gate and the first open run in a thread; the main thread opens after it.
        ops = [open_op(in_thread, "thread")]
        g = GatedRun(self, ops, "--json", filter_flag="-t", thread=True)
        g.ops.append(open_op(in_main, "main"))
        with g:
            pass
        g.tool.assert_clean_exit(self)
        tid = g.workload.results[0]["tid"]
        self.assertNotEqual(tid, g.workload.pid)
        self.assertEqual([(r["pid"], r["tid"]) for r in self.opens(g.tool, in_thread)], [(g.workload.pid, tid)])
        self.assertEqual(self.opens(g.tool, in_main), [])
        self.assertEqual({r["tid"] for r in g.tool.records("open")}, {tid})

    def test_uid_filter(self):
        theirs, mine = self.file(marker()), self.file(marker())
        with Tool("opensnoop", "--json", "-u", NOBODY) as t:
            nobody = run_workload([open_op(theirs, "n")], user=NOBODY)
            root = run_workload([open_op(mine, "r")])
        t.assert_clean_exit(self)
        self.assertGreaterEqual(nobody.result("n")["fd"], 0)
        self.assertEqual([r["uid"] for r in self.opens(t, theirs, pid=nobody.pid)], [NOBODY])
        self.assertEqual(self.opens(t, mine), [])
        self.assertEqual(t.records("open", pid=root.pid), [])
        self.assertEqual({r["uid"] for r in t.records("open")}, {NOBODY})

    def test_name_filter(self):
        name = f"skn{uuid.uuid4().hex[:8]}"
        inside, outside = self.file(marker()), self.file(marker())
        with Tool("opensnoop", "--json", "-n", name[2:9]) as t:
            run_workload([{"op": "comm", "name": name}, open_op(inside, "in")])
            run_workload([{"op": "comm", "name": "sk-other"}, open_op(outside, "out")])
        t.assert_clean_exit(self)
        self.assertEqual([r["comm"] for r in self.opens(t, inside)], [name])
        self.assertEqual(self.opens(t, outside), [])
        self.assertTrue(all(name[2:9] in r["comm"] for r in t.records("open")))

    def test_cgroup_filter(self):
        inside, outside = self.file(marker()), self.file(marker())
        with Cgroup() as cg:
            with Tool("opensnoop", "--json", "-c", cg.path) as t:
                w = run_workload([{"op": "cgroup", "path": str(cg.path)}, open_op(inside, "in")])
                control = run_workload([open_op(outside, "out")])
            t.assert_clean_exit(self)
        self.assertEqual([r["pid"] for r in self.opens(t, inside)], [w.pid])
        self.assertEqual(self.opens(t, outside), [])
        self.assertEqual(t.records("open", pid=control.pid), [])

    # --- text output ---

    # A thread keeps the pid half of its task context (vpid, vtid, pidns)
    # between events; the cgroup and the mount namespace are read each time.
    THREAD_EXEC = r"""
import ctypes, json, os, sys, threading
d = sys.argv[1]
def ns(kind):
    return os.stat(f"/proc/self/ns/{kind}").st_ino
def touch(name):
    os.close(os.open(os.path.join(d, name), os.O_RDONLY | os.O_CREAT, 0o644))
if len(sys.argv) > 2:  # after the thread's exec
    touch("after-exec")
    mnt = ns("mnt")
    if ctypes.CDLL(None, use_errno=True).unshare(0x00020000) != 0:  # CLONE_NEWNS
        sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
    touch("new-mntns")
    print(json.dumps({"pid": os.getpid(), "tid": threading.get_native_id(),
                      "mntns": [mnt, ns("mnt")], "pidns": ns("pid")}), flush=True)
    sys.exit(0)
touch("main")
def thread():
    touch("thread")
    print(json.dumps({"thread_tid": threading.get_native_id()}), flush=True)
    os.execv(sys.executable, [sys.executable, __file__, d, "again"])
threading.Thread(target=thread).start()
threading.Event().wait()
"""

    def test_task_context_per_thread_and_after_exec_from_a_thread(self):
        script = self.tmp / "thread_exec.py"
        script.write_text(self.THREAD_EXEC)
        with Tool("opensnoop", "--json") as t:
            p = subprocess.run([sys.executable, str(script), os.fsdecode(self.tmp)],
                               capture_output=True, text=True, timeout=60)
        t.assert_clean_exit(self)
        self.assertEqual(p.returncode, 0, p.stderr)
        first, last = [json.loads(line) for line in p.stdout.splitlines()]
        pid, thread_tid = last["pid"], first["thread_tid"]
        self.assertNotEqual(thread_tid, pid)
        self.assertEqual(last["tid"], pid)  # the exec made the thread the leader

        def one(name):
            [r] = self.opens(t, os.fsencode(self.tmp) + b"/" + name.encode(), pid=pid)
            return r
        main, thread, after, moved = (one(n) for n in ("main", "thread", "after-exec", "new-mntns"))
        host_pidns = os.stat("/proc/self/ns/pid").st_ino
        for r in (main, thread, after, moved):
            self.assertEqual((r["vpid"], r["pidns"]), (pid, host_pidns), r)
        self.assertEqual([(r["tid"], r["vtid"]) for r in (main, thread, after, moved)],
                         [(pid, pid), (thread_tid, thread_tid), (pid, pid), (pid, pid)])
        self.assertEqual(last["pidns"], host_pidns)
        self.assertEqual([after["mntns"], moved["mntns"]], last["mntns"])
        self.assertNotEqual(after["mntns"], moved["mntns"])
        self.assertEqual(len({main["cgroup_id"], after["cgroup_id"], moved["cgroup_id"]}), 1)

    def test_text_mode_escapes_control_bytes(self):
        m = marker()
        path = self.file(f"{m}\nFORGED{m} 0 0 \x1b[2J\x07".encode() + b"\xff\r")
        missing = os.fsencode(self.tmp) + b"/missing-" + m.encode()
        with GatedRun(self, [open_op(path, "p"), open_op(missing, "m")], "-e", "-U", "-T") as g:
            pass
        t = g.tool
        t.assert_clean_exit(self)
        out = t.stdout
        self.assertFalse(has_control_bytes(out), f"raw control bytes in text output: {out!r}")
        lines = out.decode().split("\n")
        self.assertEqual(lines[0].split(), ["TIME(s)", "UID", "PID", "COMM", "FD", "ERR", "FLAGS", "PATH"])
        mine = [l for l in lines if f"FORGED{m}" in l]
        self.assertEqual(len(mine), 1, f"the path forged a line: {mine!r}")
        self.assertFalse(any(l.startswith("FORGED") for l in lines))
        for escaped in ("\\x0a", "\\x1b[2J", "\\x07", "\\xff", "\\x0d"):
            self.assertIn(escaped, mine[0])
        cols = mine[0].split(None, 7)
        self.assertRegex(cols[0], r"^\d+\.\d{6}$")
        self.assertEqual(cols[1:4], ["0", str(g.workload.pid), PYTHON_COMM])
        self.assertEqual(cols[4:6], [str(g.workload.result("p")["fd"]), "0"])
        self.assertRegex(cols[6], r"^[0-7]{8}$")
        [miss] = [l.split(None, 7) for l in lines if f"missing-{m}" in l]
        self.assertEqual(miss[4:6], ["-1", str(ENOENT)])

    def test_text_header_default(self):
        with GatedRun(self, [open_op(self.file("h"), "h")]) as g:
            pass
        g.tool.assert_clean_exit(self)
        self.assertEqual(g.tool.stdout.decode().split("\n")[0].split(), ["PID", "COMM", "FD", "ERR", "PATH"])

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        path = self.file(marker())
        with GatedRun(self, [open_op(path, "p")], "--json") as g:
            g.tool.stop_signal = signal.SIGTERM
        t = g.tool
        t.assert_clean_exit(self)
        self.assertEqual(len(self.opens(t, path)), 1)
        recs = t.records()
        self.assertEqual(recs[-1]["printed"], len([r for r in recs if r["type"] == "open"]))
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)

    def test_closed_pipe_exits_zero(self):
        tool_status, head_status, out, err = pipeline_exit_codes([tool_path("opensnoop"), "--json"])
        self.assertEqual(tool_status, 0, f"opensnoop | head -1: opensnoop exited {tool_status}; stderr:\n{err}")
        self.assertEqual(head_status, 0)
        [rec] = parse_json_lines(out)
        validate_record(rec)
        self.assertEqual(rec["type"], "open")
