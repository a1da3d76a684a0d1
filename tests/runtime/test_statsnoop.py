"""Runtime tests for statsnoop: the real tool, real BPF, stat-family calls
made by a child this test owns (script_child.py), on files in the test's own
directory. Most runs filter on the child's pid, known before it acts."""

import os
import platform
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

from fullpath_cases import FullPathCases
from harness import (BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, decode_bytes,
                     has_control_bytes, skip)
from script_child import ScriptChild

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
ENOENT, ENAMETOOLONG = 2, 36
AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH = -100, 0x100, 0x1000
STATX_BASIC_STATS = 0x7FF
# Raw syscall numbers for the calls glibc no longer makes itself.
SYS = {"x86_64": {"stat": 4, "lstat": 6, "newfstatat": 262, "statx": 332, "statfs": 137},
       "aarch64": {"newfstatat": 79, "statx": 291, "statfs": 43}}.get(platform.machine(), {})

HOSTILE_NAMES = {
    "newline": b"nl\nname",
    "esc": b"esc\x1b[31mred\x1b[0m",
    "quotes": b"q\"uo'te",
    "invalid": b"inv\xff\xfe",
    "u2028": "sep\u2028para".encode(),
    "emoji": "\U0001F600".encode(),
    "long255": b"L" * 255,
}

# A helper the child gets: a stat through os, reported with its errno.
STAT_HELPER = """
def stat(tag, path, fn=os.stat):
    try:
        fn(bytes.fromhex(path))
        report(tag=tag, errno=0)
    except OSError as e:
        report(tag=tag, errno=e.errno)
"""


def marker():
    return f"sk{uuid.uuid4().hex[:10]}"


class StatsnoopTest(FullPathCases, BpfTestCase):
    TOOL, TYPE = "statsnoop", "stat"
    CALL = """
def call(tag, path, dfd=None):
    try:
        os.stat(path, dir_fd=dfd)
        report(tag=tag, errno=0)
    except OSError as e:
        report(tag=tag, errno=e.errno)
"""

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-stat-"))
        self.tmp.chmod(0o755)
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def file(self, name):
        path = os.fsencode(self.tmp) + b"/" + (name if isinstance(name, bytes) else name.encode())
        Path(os.fsdecode(path)).write_text("x")
        os.chmod(path, 0o644)
        return path

    def traced(self, code, *tool_args, **child_kw):
        child = ScriptChild(self, STAT_HELPER + code, **child_kw)
        with Tool("statsnoop", *tool_args, "-p", child.pid) as t:
            child.run()
        return t, child

    def stats(self, tool, path, **match):
        return [r for r in tool.records("stat", **match) if decode_bytes(r, "path") == path]

    # --- paths round-trip, results match ---

    def check_paths(self, *transport):
        paths = {tag: self.file(name) for tag, name in HOSTILE_NAMES.items()}
        paths["missing"] = os.fsencode(self.tmp) + b"/missing-" + marker().encode()
        paths["long300"] = os.fsencode(self.tmp) + b"/" + b"M" * 300
        code = "".join(f"stat({tag!r}, {p.hex()!r})\n" for tag, p in paths.items())
        t, c = self.traced(code, "--json", *transport)
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        errs = {r["tag"]: r["errno"] for r in c.results if "tag" in r}
        self.assertEqual((errs["missing"], errs["long300"], errs["emoji"]), (ENOENT, ENAMETOOLONG, 0))
        for tag, path in paths.items():
            with self.subTest(path=tag):
                [r] = self.stats(t, path, pid=c.pid)
                self.assertEqual(r["ret"], -errs[tag])
                # glibc's stat() is newfstatat(AT_FDCWD, path, buf, 0) since 2.33; stat(2) before.
                self.assertIn(r["syscall"], ("stat", "newfstatat"))
                self.assertEqual((r["dfd"], r["flags"], r["mask"], r["tid"], r["uid"], r["comm"],
                                  r["path_truncated"]), (AT_FDCWD, 0, 0, c.pid, 0, PYTHON_COMM, False))
                if tag == "invalid":
                    self.assertIn("path_b64", r)
        self.assertNotIn("\u2028".encode(), t.stdout)

    def test_paths_ring_buffer(self):
        self.check_paths()

    def test_paths_perf_buffer(self):
        self.check_paths("--perf-buffer")

    def test_each_syscall(self):
        if not SYS:
            skip(f"no syscall numbers for {platform.machine()}")
        path, rel = self.file("target"), b"target"
        code = f"""
buf = ctypes.create_string_buffer(4096)
p = ctypes.c_char_p(bytes.fromhex({path.hex()!r}))
dfd = os.open({str(self.tmp)!r}, os.O_RDONLY | os.O_DIRECTORY)
report(dfd=dfd)
calls = {SYS!r}
if "stat" in calls:
    report(tag="stat", ret=syscall(calls["stat"], p, buf))
    report(tag="lstat", ret=syscall(calls["lstat"], p, buf))
report(tag="newfstatat", ret=syscall(calls["newfstatat"], ctypes.c_int(dfd), ctypes.c_char_p({rel!r}), buf,
                                     ctypes.c_int({AT_SYMLINK_NOFOLLOW})))
report(tag="fstat", ret=syscall(calls["newfstatat"], ctypes.c_int(dfd), ctypes.c_char_p(b""), buf,
                                ctypes.c_int({AT_EMPTY_PATH})))
report(tag="statx", ret=syscall(calls["statx"], ctypes.c_int({AT_FDCWD}), p, ctypes.c_int(0),
                                ctypes.c_uint({STATX_BASIC_STATS}), buf))
report(tag="statfs", ret=syscall(calls["statfs"], p, buf))
"""
        t, c = self.traced(code, "--json")
        t.assert_clean_exit(self)
        dfd = c.result("dfd")["dfd"]
        rets = {r["tag"]: r["ret"] for r in c.results if "tag" in r}
        self.assertTrue(all(v == 0 for v in rets.values()), rets)
        got = {(r["syscall"], decode_bytes(r, "path"), r["dfd"], r["flags"], r["mask"], r["ret"])
               for r in t.records("stat", pid=c.pid)}
        want = {("newfstatat", rel, dfd, AT_SYMLINK_NOFOLLOW, 0, 0),
                ("newfstatat", b"", dfd, AT_EMPTY_PATH, 0, 0),
                ("statx", path, AT_FDCWD, 0, STATX_BASIC_STATS, 0),
                ("statfs", path, AT_FDCWD, 0, 0, 0)}
        if "stat" in SYS:
            want |= {("stat", path, AT_FDCWD, 0, 0, 0), ("lstat", path, AT_FDCWD, 0, 0, 0)}
        self.assertEqual(got, want)

    # --- filters: each with an event that must pass and one that must not ---

    def test_failed_only(self):
        ok, missing = self.file("exists"), os.fsencode(self.tmp) + b"/missing"
        t, c = self.traced(f"stat('ok', {ok.hex()!r})\nstat('missing', {missing.hex()!r})\n",
                           "--json", "-x")
        t.assert_clean_exit(self)
        self.assertEqual(c.result("tag")["errno"], 0)
        self.assertEqual([r["ret"] for r in self.stats(t, missing)], [-ENOENT])
        self.assertEqual(self.stats(t, ok), [])
        self.assertTrue(all(r["ret"] < 0 for r in t.records("stat")))

    def test_pid_filter(self):
        mine, other = self.file(marker()), self.file(marker())
        child = ScriptChild(self, STAT_HELPER + f"stat('m', {mine.hex()!r})")
        with Tool("statsnoop", "--json", "-p", child.pid) as t:
            control = ScriptChild(self, STAT_HELPER + f"stat('o', {other.hex()!r})")
            control.run(), child.run()
        t.assert_clean_exit(self)
        self.assertEqual(len(self.stats(t, mine, pid=child.pid)), 1)
        self.assertEqual(self.stats(t, other), [])
        self.assertEqual({r["pid"] for r in t.records("stat")}, {child.pid})

    def test_uid_filter(self):
        theirs, mine = self.file(marker()), self.file(marker())
        with Tool("statsnoop", "--json", "-u", NOBODY) as t:
            nobody = ScriptChild(self, STAT_HELPER + f"stat('n', {theirs.hex()!r})", user=NOBODY)
            root = ScriptChild(self, STAT_HELPER + f"stat('r', {mine.hex()!r})")
            nobody.run(), root.run()
        t.assert_clean_exit(self)
        self.assertEqual([r["uid"] for r in self.stats(t, theirs, pid=nobody.pid)], [NOBODY])
        self.assertEqual(self.stats(t, mine), [])
        self.assertEqual({r["uid"] for r in t.records("stat")}, {NOBODY})

    def test_name_filter(self):
        name = f"skt{uuid.uuid4().hex[:8]}"
        inside, outside = self.file(marker()), self.file(marker())
        setname = "open('/proc/self/comm', 'w').write({!r})\n"
        with Tool("statsnoop", "--json", "-n", name[2:9]) as t:
            a = ScriptChild(self, STAT_HELPER + setname.format(name) + f"stat('i', {inside.hex()!r})")
            b = ScriptChild(self, STAT_HELPER + setname.format("sk-other") + f"stat('o', {outside.hex()!r})")
            a.run(), b.run()
        t.assert_clean_exit(self)
        self.assertEqual([r["comm"] for r in self.stats(t, inside)], [name])
        self.assertEqual(self.stats(t, outside), [])

    def test_cgroup_filter(self):
        inside, outside = self.file(marker()), self.file(marker())
        with Cgroup() as cg:
            join = f"open({str(cg.path / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
            with Tool("statsnoop", "--json", "-c", cg.path) as t:
                a = ScriptChild(self, STAT_HELPER + join + f"stat('i', {inside.hex()!r})")
                b = ScriptChild(self, STAT_HELPER + f"stat('o', {outside.hex()!r})")
                a.run(), b.run()
            t.assert_clean_exit(self)
        self.assertEqual([r["pid"] for r in self.stats(t, inside)], [a.pid])
        self.assertEqual(self.stats(t, outside), [])

    # --- text output ---

    def test_text_escapes_control_bytes(self):
        m = marker()
        path = self.file(f"{m}\nFORGED{m} 0 0 \x1b[2J\x07".encode() + b"\xff\r")
        missing = os.fsencode(self.tmp) + b"/missing-" + m.encode()
        t, c = self.traced(f"stat('p', {path.hex()!r})\nstat('m', {missing.hex()!r})\n", "-t", "-U")
        t.assert_clean_exit(self)
        out = t.stdout
        self.assertFalse(has_control_bytes(out), f"raw control bytes in text output: {out!r}")
        lines = out.decode().split("\n")
        self.assertEqual(lines[0].split(), ["TIME(s)", "UID", "PID", "COMM", "RET", "ERR", "PATH"])
        mine = [l for l in lines if f"FORGED{m}" in l]
        self.assertEqual(len(mine), 1, f"the path forged a line: {mine!r}")
        for escaped in ("\\x0a", "\\x1b[2J", "\\x07", "\\xff", "\\x0d"):
            self.assertIn(escaped, mine[0])
        cols = mine[0].split(None, 6)
        self.assertRegex(cols[0], r"^\d+\.\d{6}$")
        self.assertEqual(cols[1:6], ["0", str(c.pid), PYTHON_COMM, "0", "0"])
        [miss] = [l.split(None, 6) for l in lines if f"missing-{m}" in l]
        self.assertEqual(miss[4:6], ["-1", str(ENOENT)])

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        path = self.file(marker())
        child = ScriptChild(self, STAT_HELPER + f"stat('p', {path.hex()!r})")
        t = Tool("statsnoop", "--json", "-p", child.pid, stop_signal=signal.SIGTERM)
        with t:
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual(len(self.stats(t, path)), 1)
        self.assertEqual(t.records()[-1]["printed"], len(t.records("stat")))
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)

    def test_full_path_of_fstat_is_the_file(self):
        """fstat() is newfstatat(fd, "", AT_EMPTY_PATH): its full path is the fd's file."""
        path = self.file("fs")
        child = ScriptChild(self, f"fd = os.open({os.fsdecode(path)!r}, os.O_RDONLY)\nos.stat(fd)\n"
                                  "report(fd=fd)\n")
        with Tool("statsnoop", "--json", "-F", "-p", child.pid) as t:
            child.run()
        t.assert_clean_exit(self)
        fd = child.result("fd")["fd"]
        [r] = [r for r in t.records("stat", pid=child.pid, dfd=fd) if decode_bytes(r, "path") == b""]
        self.assertEqual((decode_bytes(r, "full_path"), r["full_path_truncated"]), (path, False))
