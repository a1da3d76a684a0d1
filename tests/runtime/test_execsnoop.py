"""Runtime tests for execsnoop: the real tool, real BPF, workloads this test
owns. Assertions are only about events of the test's own children."""

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from harness import (BIN_DIR, BpfTestCase, Cgroup, Tool, Workload, assert_no_bpf_left, bpf_snapshot,
                     decode_bytes, decode_bytes_list, has_control_bytes, hexb, parse_json_lines,
                     pipeline_exit_codes, run_workload, tool_path, validate_record)

TRUE = "/bin/true" if os.path.exists("/bin/true") else shutil.which("true")
FORKEXEC = BIN_DIR / "tests" / "forkexec"
NOBODY = 65534

# Every byte class a terminal, a JSON reader or a line-based tool might trip on.
HOSTILE_ARGV = [
    b"\xffargv0\n",                      # argv[0] itself, not the file executed
    b"new\nline",
    b"\x1b[31mred\x1b[0m",
    b"say \"hi\" 'there'",
    b"back\\slash\\",
    b"\xff\xfe",
    "sep\u2028para\u2029".encode(),
    "\U0001F600 emoji".encode(),
    b"tab\tcr\r\x07bell\x7fdel",
    "\u0085c1\u009bcsi".encode(),       # C1 controls, well-formed UTF-8
    "\u202eevil".encode(),               # bidi override
    b"\xed\xa0\x80surrogate",           # UTF-8-encoded surrogate: ill-formed
    b"\xc0\xafoverlong",
    b"cut\xe2\x82",                      # truncated sequence at the end
]


def marker():
    return f"sk{uuid.uuid4().hex[:10]}"


def run_child(argv, executable=TRUE, **kw):
    """Runs argv (bytes or str items) as a direct child; returns its pid."""
    p = subprocess.Popen(argv, executable=executable, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    p.wait(30)
    return p.pid


def btf_file(types, strings):
    """Raw BTF in this machine's byte order: the header, then the type
    records (bytes), then the strings (bytes, starting with NUL)."""
    return struct.pack("=HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) \
        + types + strings


def btf_type(kind, name_off, size_or_type, vlen=0, trailer=()):
    return struct.pack("=III", name_off, kind << 24 | vlen, size_or_type) + \
        struct.pack(f"={len(trailer)}I", *trailer)


def argvs(recs):
    return [decode_bytes_list(r, "argv") for r in recs]


class ExecsnoopTest(BpfTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-exec-"))
        self.tmp.chmod(0o755)
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def execs(self, tool, pid, **match):
        return tool.records("exec", pid=pid, **match)

    # --- arguments round-trip, on both transports ---

    def check_argv_roundtrip(self, *transport):
        with Tool("execsnoop", "--json", *transport) as t:
            pid = run_child(HOSTILE_ARGV)
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        recs = self.execs(t, pid)
        self.assertEqual(len(recs), 1, recs)
        r = recs[0]
        self.assertEqual(decode_bytes_list(r, "argv"), HOSTILE_ARGV)
        self.assertIn("argv_b64", r)
        self.assertEqual(decode_bytes(r, "filename"), TRUE.encode())
        self.assertEqual((r["ret"], r["syscall"], r["tid"], r["ppid"], r["uid"], r["comm"]),
                         (0, "execve", pid, os.getpid(), 0, "true"))
        self.assertEqual((r["argv_truncated"], r["arg_truncated"], r["filename_truncated"]),
                         (False, False, False))
        # U+2028/2029 end a line in JavaScript: they must come escaped.
        self.assertNotIn("\u2028".encode(), t.stdout)
        self.assertNotIn("\u2029".encode(), t.stdout)

    def test_argv_roundtrip_ring_buffer(self):
        self.check_argv_roundtrip()

    def test_argv_roundtrip_perf_buffer(self):
        self.check_argv_roundtrip("--perf-buffer")

    def test_empty_arguments(self):
        """Empty strings are arguments too, and must not end the capture."""
        argv = [b"true", b"", b"middle", b"", b"last", b""]
        with Tool("execsnoop", "--json") as t:
            pid = run_child(argv)
        t.assert_clean_exit(self)
        [r] = self.execs(t, pid)
        self.assertEqual((decode_bytes_list(r, "argv"), r["argv_truncated"]), (argv, False))

    def test_hostile_filename_and_comm(self):
        name = b"sk\xff\x1b[1m\nlong-name-" + marker().encode()
        link = os.fsencode(self.tmp) + b"/" + name
        os.symlink(TRUE, link)
        with Tool("execsnoop", "--json") as t:
            pid = run_child([b"argv0"], executable=link)
        t.assert_clean_exit(self)
        recs = self.execs(t, pid)
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual(decode_bytes(recs[0], "filename"), link)
        self.assertIn("filename_b64", recs[0])
        # The kernel names the task after the file's base name, cut to 15 bytes.
        self.assertEqual(decode_bytes(recs[0], "comm"), name[:15])
        self.assertIn("comm_b64", recs[0])

    def test_execveat(self):
        m = marker()
        with Tool("execsnoop", "--json") as t:
            w = run_workload([{"op": "fexec", "path": hexb(TRUE), "argv": [hexb("true"), hexb(m)]}])
        t.assert_clean_exit(self)
        recs = [r for r in self.execs(t, w.pid) if r["argv"] == ["true", m]]
        self.assertEqual(len(recs), 1, t.records("exec", pid=w.pid))
        self.assertEqual((recs[0]["syscall"], recs[0]["ret"], recs[0]["comm"]), ("execveat", 0, "true"))

    def test_exec_from_a_non_leader_thread(self):
        """A successful exec from a secondary thread: the kernel gives the
        thread the leader's pid (de_thread), so the exit handler runs with a
        different tid from the entry handler. The exec must still be shown."""
        m = marker()
        with Tool("execsnoop", "--json") as t:
            w = run_workload([{"op": "thread", "ops": [
                {"op": "exec", "path": hexb(TRUE), "argv": [hexb("true"), hexb(m)]}]}])
        t.assert_clean_exit(self)
        self.assertNotEqual(w.results[0]["tid"], w.pid)
        recs = [r for r in self.execs(t, w.pid) if m in r["argv"]]
        self.assertEqual([(r["argv"], r["ret"]) for r in recs], [(["true", m], 0)],
                         f"exec from thread {w.results[0]['tid']} of {w.pid} not reported")

    # --- text output ---

    def test_text_mode_escapes_control_bytes(self):
        m = marker()
        forged = f"FORGED{m} 1 1 0 /bin/sh".encode()
        argv = [b"true", m.encode() + b"\n" + forged, b"\x1b[2J\x1b]0;title\x07", b"\xff\xfe",
                "\u009b\u202e".encode(), b"\r\x08"]
        with Tool("execsnoop") as t:
            pid = run_child(argv)
        t.assert_clean_exit(self)
        out = t.stdout
        self.assertFalse(has_control_bytes(out), f"raw control bytes in text output: {out!r}")
        mine = [l for l in out.split(b"\n") if m.encode() in l]
        self.assertEqual(len(mine), 1, f"the argument forged a line: {mine!r}")
        self.assertIn(str(pid).encode(), mine[0].split())
        self.assertFalse(any(l.startswith(b"FORGED") for l in out.split(b"\n")))
        for escaped in (b"\\x0a", b"\\x1b[2J", b"\\x07", b"\\xff\\xfe", b"\\xc2\\x9b", b"\\xe2\\x80\\xae",
                        b"\\x0d\\x08"):
            self.assertIn(escaped, mine[0])

    def test_text_header_and_columns(self):
        m = marker()
        with Tool("execsnoop") as t:
            run_child(["true", m])
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["PCOMM", "PID", "PPID", "RET", "ARGS"])

        with Tool("execsnoop", "-T", "-t", "-U", "-q") as t:
            pid = run_child(["true", m, "two words"])
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "TIME(s)", "UID", "PCOMM", "PID", "PPID", "RET", "ARGS"])
        mine = [l.split(None, 7) for l in lines[1:] if m in l]
        self.assertEqual(len(mine), 1, lines)
        cols = mine[0]
        self.assertRegex(cols[0], r"^\d\d:\d\d:\d\d$")
        self.assertRegex(cols[1], r"^\d+\.\d{6}$")
        self.assertEqual(cols[2:7], ["0", "true", str(pid), str(os.getpid()), "0"])
        self.assertEqual(cols[7], f'"{TRUE}" "{m}" "two words"')

    # --- failed execs ---

    def failing_execs(self, m):
        missing = self.tmp / "no-such-program"
        noexec = self.tmp / "not-executable"
        noexec.write_text("#!/bin/sh\n")
        noexec.chmod(0o644)
        return missing, noexec, [
            {"op": "exec", "tag": "enoent", "path": hexb(str(missing)), "argv": [hexb("missing"), hexb(m)]},
            {"op": "exec", "tag": "eacces", "path": hexb(str(noexec)), "argv": [hexb("noexec"), hexb(m)]},
            {"op": "exec", "path": hexb(TRUE), "argv": [hexb("true"), hexb(m)]},
        ]

    def test_failed_execs_shown_with_x(self):
        m = marker()
        missing, noexec, ops = self.failing_execs(m)
        with Tool("execsnoop", "--json", "-x") as t:
            w = run_workload(ops)
        t.assert_clean_exit(self)
        self.assertEqual(w.result("enoent")["errno"], 2)
        self.assertEqual(w.result("eacces")["errno"], 13)
        by_file = {decode_bytes(r, "filename"): r for r in self.execs(t, w.pid)}
        self.assertEqual(by_file[bytes(missing)]["ret"], -2)
        self.assertEqual(by_file[bytes(missing)]["argv"], ["missing", m])
        self.assertEqual(by_file[bytes(noexec)]["ret"], -13)
        self.assertEqual(by_file[TRUE.encode()]["ret"], 0)

    def test_failed_execs_hidden_without_x(self):
        m = marker()
        missing, noexec, ops = self.failing_execs(m)
        with Tool("execsnoop", "--json") as t:
            w = run_workload(ops)
        t.assert_clean_exit(self)
        recs = self.execs(t, w.pid)
        self.assertEqual([r["argv"] for r in recs if m in r["argv"]], [["true", m]])
        self.assertTrue(all(r["ret"] == 0 for r in t.records("exec")))

    # --- truncation ---

    def test_max_args_truncates(self):
        with Tool("execsnoop", "--json", "--max-args", "3") as t:
            over = run_child(["true", "a", "b", "c", "d"])
            exact = run_child(["true", "a", "b"])
        t.assert_clean_exit(self)
        [r] = self.execs(t, over)
        self.assertEqual((r["argv"], r["argv_truncated"]), (["true", "a", "b"], True))
        [r] = self.execs(t, exact)
        self.assertEqual((r["argv"], r["argv_truncated"]), (["true", "a", "b"], False))

    def test_max_args_60_with_more_arguments(self):
        """The old ceiling: --max-args 60 never flagged a 61st argument."""
        argv = [b"true"] + [b"a%d" % i for i in range(70)]
        missing = self.tmp / "missing"
        with Tool("execsnoop", "--json", "-x", "--max-args", "60") as t:
            over = run_child(argv[:61])
            exact = run_child(argv[:60])
            w = run_workload([{"op": "exec", "path": hexb(str(missing)), "argv": [hexb(a) for a in argv]}])
        t.assert_clean_exit(self)
        [r] = self.execs(t, over)
        self.assertEqual((decode_bytes_list(r, "argv"), r["argv_truncated"], r["arg_truncated"]),
                         (argv[:60], True, False))
        [r] = self.execs(t, exact)
        self.assertEqual((decode_bytes_list(r, "argv"), r["argv_truncated"]), (argv[:60], False))
        [r] = [r for r in self.execs(t, w.pid) if r["ret"] == -2]
        # A failed exec's argv is read pointer by pointer, at most
        # EXECSNOOP_FAILED_ARGS (16) items: the rest is flagged, not lost silently.
        self.assertEqual((decode_bytes_list(r, "argv"), r["argv_truncated"]), (argv[:16], True))

    def check_long_argument(self, *transport):
        """No per-argument limit: a 3,000-byte argument comes whole."""
        long_arg = bytes(ord("a") + i % 26 for i in range(3000))
        with Tool("execsnoop", "--json", *transport) as t:
            pid = run_child([b"true", long_arg, b"after"])
        t.assert_clean_exit(self)
        [r] = self.execs(t, pid)
        self.assertEqual(decode_bytes_list(r, "argv"), [b"true", long_arg, b"after"])
        self.assertEqual((r["argv_truncated"], r["arg_truncated"]), (False, False))

    def test_long_argument_ring_buffer(self):
        self.check_long_argument()

    def test_long_argument_perf_buffer(self):
        self.check_long_argument("--perf-buffer")

    def check_over_budget(self, *transport):
        """A command line past the default budget (32 KiB, NULs included)
        is cut there: the argument the cut falls in is kept in part
        (arg_truncated), those after it are dropped (argv_truncated)."""
        argv = [b"true"] + [bytes([ord("a") + i % 26]) * 999 for i in range(40)]
        flat = b"".join(a + b"\0" for a in argv)[:32768]
        *whole, part = flat.split(b"\0")
        with Tool("execsnoop", "--json", *transport) as t:
            pid = run_child(argv)
        t.assert_clean_exit(self)
        [r] = self.execs(t, pid)
        self.assertTrue(part)  # the cut falls inside an argument
        self.assertEqual(decode_bytes_list(r, "argv"), whole + [part])
        self.assertEqual((r["argv_truncated"], r["arg_truncated"]), (True, True))

    def test_over_budget_ring_buffer(self):
        self.check_over_budget()

    def test_over_budget_perf_buffer(self):
        self.check_over_budget("--perf-buffer")

    def test_budget_flags_are_exact(self):
        """--max-bytes 64, at each side of the edge, for a successful exec
        (read from the new program's memory) and a failed one (read through
        the caller's argv)."""
        a = b"A"
        cases = {  # argv: (argv shown, argv_truncated, arg_truncated)
            "fits": ([b"true", a * 58], [b"true", a * 58], False, False),  # 64 bytes exactly
            "one over": ([b"true", a * 59], [b"true", a * 59], False, True),
            "next dropped": ([b"true", a * 58, b"b"], [b"true", a * 58], True, False),
            "both": ([b"true", a * 100, b"after"], [b"true", a * 59], True, True),
        }
        missing = self.tmp / "missing"
        with Tool("execsnoop", "--json", "-x", "--max-bytes", "64") as t:
            pids = {k: run_child(v[0]) for k, v in cases.items()}
            w = run_workload([{"op": "exec", "tag": k, "path": hexb(str(missing)),
                               "argv": [hexb(x) for x in v[0]]} for k, v in cases.items()])
        t.assert_clean_exit(self)
        failed = [r for r in self.execs(t, w.pid) if r["ret"] == -2]
        self.assertEqual(len(failed), len(cases), failed)
        for (k, (_, shown, dropped, cut)), r_failed in zip(cases.items(), failed):
            [r_ok] = self.execs(t, pids[k])
            for exec_, r in (("ok", r_ok), ("failed", r_failed)):
                with self.subTest(exec=exec_, case=k):
                    self.assertEqual((decode_bytes_list(r, "argv"), r["argv_truncated"], r["arg_truncated"]),
                                     (shown, dropped, cut))

    def path_of_length(self, n, leaf=b"p"):
        """A path of exactly n bytes under self.tmp ending in a file name
        made of leaf (its directories made)."""
        base = os.fsencode(self.tmp) + b"/"
        left = n - len(base)
        parts = []
        while left > 101:
            parts.append(b"d" * 99)
            left -= 100
        parts.append(leaf * left)
        path = base + b"/".join(parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.assertEqual(len(path), n)
        return path

    def test_filename_truncated_only_past_255_bytes(self):
        """A 255-byte name fits the 256-byte field (its NUL included): no
        flag, for a successful exec and for a failed one."""
        found = {n: self.path_of_length(n) for n in (255, 256, 300)}
        for path in found.values():
            os.symlink(TRUE, path)
        missing = {n: self.path_of_length(n, b"m") for n in (255, 256)}
        with Tool("execsnoop", "--json", "-x") as t:
            pids = {n: run_child([b"true", str(n).encode()], executable=p) for n, p in found.items()}
            w = run_workload([{"op": "exec", "tag": str(n), "path": hexb(p), "argv": [hexb("x")]}
                              for n, p in missing.items()])
        t.assert_clean_exit(self)
        for n, path in found.items():
            with self.subTest(length=n, exec="ok"):
                [r] = self.execs(t, pids[n])
                self.assertEqual((decode_bytes(r, "filename"), r["filename_truncated"], r["ret"]),
                                 (path[:255], n > 255, 0))
        failed = [r for r in self.execs(t, w.pid) if r["ret"] == -2]
        self.assertEqual([(decode_bytes(r, "filename"), r["filename_truncated"]) for r in failed],
                         [(p[:255], n > 255) for n, p in missing.items()])

    # --- fork + exec of string literals ---

    def check_fork_execl(self, *transport):
        """Right after fork, a child has not touched the program's constant
        pages: the filename and argv literals it execs are not resident
        when exec(2) is entered. They must come whole all the same, and a
        failed exec whose memory cannot be read says so."""
        with Tool("execsnoop", "--json", "-x", *transport) as t:
            out = subprocess.run([str(FORKEXEC), "ok", "missing", "badargv", "badname"],
                                 capture_output=True, check=True, timeout=30).stdout
        t.assert_clean_exit(self)
        runs = {mode: (int(pid), int(status)) for mode, pid, status in
                (line.split() for line in out.decode().splitlines())}
        # An unreadable argv with a missing file: newer kernels open the
        # file first (ENOENT), Linux 6.1 counts the arguments first (EFAULT).
        badargv = runs["badargv"][1]
        self.assertIn(badargv, (-2, -14))
        self.assertEqual({m: s for m, (_, s) in runs.items()},
                         {"ok": 0, "missing": -2, "badargv": badargv, "badname": -14})
        want = {  # filename, argv, ret, argv_unreadable, filename_unreadable
            "ok": ("/bin/sh", ["sh", "-c", "exit 0"], 0, False, False),
            "missing": ("/nonexistent/forkexec-target", ["forkexec-target", "-c", "exit 0"], -2,
                        False, False),
            "badargv": ("/nonexistent/forkexec-badargv", [], badargv, True, False),
            "badname": ("", [], -14, True, True),
        }
        for mode, (pid, _) in runs.items():
            with self.subTest(mode=mode):
                recs = self.execs(t, pid)
                self.assertEqual(len(recs), 1, recs)
                r = recs[0]
                got = (r["filename"], r["argv"], r["ret"], r["argv_unreadable"], r["filename_unreadable"])
                if mode == "badname" and r["argv"]:
                    # The kernel stops at the filename: the argv literal
                    # is readable only if its page happens to be resident.
                    want[mode] = ("", ["forkexec-badname"], -14, False, True)
                self.assertEqual(got, want[mode])
                self.assertEqual((r["argv_truncated"], r["arg_truncated"], r["filename_truncated"]),
                                 (False, False, False))

    def test_fork_execl_ring_buffer(self):
        self.check_fork_execl()

    def test_fork_execl_perf_buffer(self):
        self.check_fork_execl("--perf-buffer")

    def test_script_argv_is_what_the_interpreter_got(self):
        """A successful exec's argv is read from the new program's memory:
        for a script, the kernel's command line for its interpreter."""
        script = self.tmp / "script.sh"
        script.write_text("#!/bin/sh -e\nexit 0\n")
        script.chmod(0o755)
        m = marker()
        with Tool("execsnoop", "--json") as t:
            pid = run_child(["argv0", m], executable=str(script))
        t.assert_clean_exit(self)
        [r] = self.execs(t, pid)
        self.assertEqual((r["filename"], r["argv"]), (str(script), ["/bin/sh", "-e", str(script), m]))

    # --- filters: each with an event that must pass and one that must not ---

    def test_uid_filter(self):
        m = marker()
        with Tool("execsnoop", "--json", "-u", str(NOBODY)) as t:
            nobody = run_child(["true", m], user=NOBODY, group=NOBODY, extra_groups=[])
            root = run_child(["true", m])
        t.assert_clean_exit(self)
        recs = self.execs(t, nobody)
        self.assertEqual([(r["argv"], r["uid"]) for r in recs], [(["true", m], NOBODY)])
        self.assertEqual(self.execs(t, root), [])
        self.assertEqual({r["uid"] for r in t.records("exec")}, {NOBODY})

    def test_name_filter(self):
        m = marker()
        prog = self.tmp / f"skn{uuid.uuid4().hex[:8]}"
        shutil.copy(TRUE, prog)
        with Tool("execsnoop", "--json", "-n", prog.name[2:9]) as t:
            inside = run_child(["renamed", m], executable=str(prog))
            outside = run_child(["true", m])
        t.assert_clean_exit(self)
        self.assertEqual([(r["comm"], r["argv"]) for r in self.execs(t, inside)], [(prog.name, ["renamed", m])])
        self.assertEqual(self.execs(t, outside), [])
        self.assertTrue(all(prog.name[2:9] in r["comm"] for r in t.records("exec")))

    def test_line_filter_matches_arguments_not_comm(self):
        needle = f"skl{uuid.uuid4().hex[:8]}"
        prog = self.tmp / needle  # its comm contains the needle, its arguments do not
        shutil.copy(TRUE, prog)
        with Tool("execsnoop", "--json", "-l", needle) as t:
            inside = run_child(["true", f"x{needle}y"])
            outside = run_child(["plain", "arg"], executable=str(prog))
        t.assert_clean_exit(self)
        self.assertEqual([r["argv"] for r in self.execs(t, inside)], [["true", f"x{needle}y"]])
        self.assertEqual(self.execs(t, outside), [])
        for r in t.records("exec"):
            self.assertTrue(any(needle in a for a in r["argv"]), r)
        summary = t.records("summary")[0]
        self.assertGreaterEqual(summary["events"], summary["printed"] + 1)  # dropped in user space

    def test_ppid_filter(self):
        m = marker()
        with Tool("execsnoop", "--json", "-P", str(os.getpid())) as t:
            child = run_child(["true", m, "child"])
            w = run_workload([{"op": "spawn", "argv": [hexb(TRUE), hexb(m), hexb("grandchild")]}])
        t.assert_clean_exit(self)
        grandchild = w.results[0]["pid"]
        self.assertEqual([r["argv"] for r in self.execs(t, child)], [["true", m, "child"]])
        self.assertEqual(self.execs(t, grandchild), [])
        self.assertEqual({r["ppid"] for r in t.records("exec")}, {os.getpid()})

    def test_pid_filter(self):
        m = marker()
        w = Workload([{"op": "gate"}, {"op": "exec", "path": hexb(TRUE), "argv": [hexb("true"), hexb(m)]}])
        try:
            w.next_result()
            with Tool("execsnoop", "--json", "-p", w.pid) as t:
                w.release()
                w.finish()
                other = run_child(["true", m])
        finally:
            w.proc.kill()
            w.proc.wait()
        t.assert_clean_exit(self)
        self.assertEqual([r["argv"] for r in self.execs(t, w.pid)], [["true", m]])
        self.assertEqual(self.execs(t, other), [])
        self.assertEqual({r["pid"] for r in t.records("exec")}, {w.pid})

    def test_cgroup_filter(self):
        m = marker()
        with Cgroup() as cg:
            with Tool("execsnoop", "--json", "-c", cg.path) as t:
                w = run_workload([{"op": "cgroup", "path": str(cg.path)},
                                  {"op": "exec", "path": hexb(TRUE), "argv": [hexb("true"), hexb(m)]}])
                outside = run_child(["true", m])
            t.assert_clean_exit(self)
        self.assertEqual([r["argv"] for r in self.execs(t, w.pid)], [["true", m]])
        self.assertEqual(self.execs(t, outside), [])

    # --- the record stream as a whole ---

    def test_every_record_matches_schema(self):
        m = marker()
        _, _, ops = self.failing_execs(m)
        with Tool("execsnoop", "--json", "-x") as t:
            run_workload(ops)
            run_child(HOSTILE_ARGV)
        t.assert_clean_exit(self)
        recs = t.records()  # parses strictly and validates every record
        self.assertTrue({r["type"] for r in recs} <= {"exec", "lost", "summary"})
        summary = recs[-1]
        execs = [r for r in recs if r["type"] == "exec"]
        self.assertEqual(summary["printed"], len(execs))
        self.assertGreaterEqual(summary["events"], summary["printed"])
        self.assertEqual(summary["lost"], sum(r["lost"] for r in recs if r["type"] == "lost"))
        self.assertTrue(any(r["ret"] < 0 for r in execs))

    # --- the parent pid: task_struct offsets read from the BTF file ---

    def test_btf_copy_gives_the_parent_pid(self):
        """--btf is the file the parent pid's offsets are read from: a copy
        of the kernel's BTF works like the kernel's own."""
        copy = self.tmp / "vmlinux.btf"
        copy.write_bytes(Path("/sys/kernel/btf/vmlinux").read_bytes())
        m = marker()
        with Tool("execsnoop", "--json", "--btf", copy) as t:
            pid = run_child(["true", m])
        t.assert_clean_exit(self)
        recs = self.execs(t, pid)
        self.assertEqual([(r["argv"], r["ppid"]) for r in recs], [(["true", m], os.getpid())])

    def test_btf_without_the_offsets_fails_cleanly(self):
        """Valid BTF (libbpf's check passes) that does not say where
        task_struct keeps real_parent and tgid: one error line naming the
        file, exit 1, no output; never a run with wrong parent pids."""
        strings = b"\0int\0task_struct\0real_parent\0pid\0"
        int_type = btf_type(1, 1, 4, trailer=(32,))  # INT "int", id 1
        cases = {
            "no struct task_struct": btf_file(int_type + btf_type(7, 5, 0), strings),  # FWD only
            "struct task_struct has no member tgid": btf_file(
                int_type + btf_type(2, 0, 0) +  # id 2: void *
                btf_type(4, 5, 64, vlen=2, trailer=(17, 2, 64, 29, 1, 96)),  # real_parent, pid
                strings),
        }
        for want, data in cases.items():
            with self.subTest(want=want):
                path = self.tmp / "partial.btf"
                path.write_bytes(data)
                res = subprocess.run([tool_path("execsnoop"), "--json", "--btf", str(path)],
                                     capture_output=True, timeout=60)
                err = res.stderr.decode(errors="replace")
                self.assertEqual(res.returncode, 1, err)
                self.assertEqual(res.stdout, b"")
                errors = [l for l in err.splitlines() if "error:" in l]
                self.assertEqual(len(errors), 1, err)
                # The file lacks mm_struct too: one pass over it may name either gap.
                self.assertTrue(want in errors[0] or "no struct mm_struct" in errors[0], errors[0])
                self.assertIn(str(path), errors[0])
                self.assertNotIn("ready:", err)

    # --- lifecycle ---

    def check_stop(self, sig):
        m = marker()
        before = bpf_snapshot()
        with Tool("execsnoop", "--json", stop_signal=sig) as t:
            held = t.held
            pid = run_child(["true", m])
        t.assert_clean_exit(self)
        # Events queued before the signal are drained, not dropped.
        self.assertEqual([r["argv"] for r in self.execs(t, pid)], [["true", m]])
        n = int(re.search(r"ready: (\d+) programs", t.stderr).group(1))
        self.assertEqual(len(held["prog"]), n, f"fds held: {held}")
        # 0 links before Linux 5.15, where perf-event attachments are not BPF links.
        self.assertIn(len(held["link"]), (0, n), f"fds held: {held}")
        assert_no_bpf_left(self, before, held)

    def test_sigint_exits_clean(self):
        self.check_stop(signal.SIGINT)

    def test_sigterm_exits_clean(self):
        self.check_stop(signal.SIGTERM)

    def test_sighup_exits_clean(self):
        self.check_stop(signal.SIGHUP)

    def test_closed_pipe_exits_zero(self):
        tool_status, head_status, out, err = pipeline_exit_codes([tool_path("execsnoop"), "--json"])
        self.assertEqual(tool_status, 0, f"execsnoop | head -1: execsnoop exited {tool_status}; stderr:\n{err}")
        self.assertEqual(head_status, 0)
        self.assertEqual(out.count(b"\n"), 1)
        [rec] = parse_json_lines(out)
        validate_record(rec)
        self.assertEqual(rec["type"], "exec")

    def test_duration_exits_by_itself(self):
        m = marker()
        t = Tool("execsnoop", "--json", "-d", "2")
        start = time.monotonic()
        t.start()
        pid = run_child(["true", m])
        t.wait(timeout=20)
        elapsed = time.monotonic() - start
        t.assert_clean_exit(self)
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertLess(elapsed, 10.0)
        self.assertEqual(len(self.execs(t, pid)), 1)
        self.assertTrue(1900 <= t.records("summary")[0]["elapsed_ms"] <= 4000, t.records("summary"))

    def test_works_without_tracefs_mounted(self):
        script = ("umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing 2>/dev/null; "
                  "if grep -q ' tracefs ' /proc/self/mounts; then echo 'tracefs still mounted' >&2; exit 99; fi; "
                  'exec "$@"')
        m = marker()
        prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
        with Tool("execsnoop", "--json", prefix=prefix) as t:
            pid = run_child(["true", m])
        t.assert_clean_exit(self)
        self.assertEqual([r["argv"] for r in self.execs(t, pid)], [["true", m]])

    def test_tracefs_mount_stays_private(self):
        def tracefs_mounts(pid="self"):
            return [l for l in Path(f"/proc/{pid}/mounts").read_text().splitlines() if " tracefs " in l]
        host_before = tracefs_mounts()
        with Tool("execsnoop", "--json") as t:
            host_during = tracefs_mounts()
            tool_mounts = tracefs_mounts(t.pid)
        t.assert_clean_exit(self)
        self.assertEqual(host_during, host_before, "the tool's tracefs mount leaked into the host namespace")
        self.assertTrue(tool_mounts, "the tool runs without any tracefs mount")
        self.assertEqual(tracefs_mounts(), host_before)
