"""Command-line behaviour of every tool: the bad-input matrix (exit 2, one
"error:" line, nothing on stdout, nothing loaded into the kernel), the
boundary values that must be accepted, --help, --version, and the exit code
without privileges."""

import os
import pwd
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from harness import (SOURCE_DIR, BpfTestCase, assert_no_bpf_left, bpf_snapshot, cgroup2_root, next_bpf_ids,
                     parse_json_lines, tool_path, validate_record)

TOOLS = ("execsnoop", "opensnoop")
# Filters each tool offers beyond the common ones.
PID_FLAGS = {"execsnoop": ("-p", "--pid", "-P", "--ppid"), "opensnoop": ("-p", "--pid", "-t", "--tid")}
EXIT_TIMEOUT = 10.0


def free_pid():
    limit = int(Path("/proc/sys/kernel/pid_max").read_text())
    return next(str(p) for p in range(limit - 1, 1, -1) if not os.path.exists(f"/proc/{p}"))


def free_uid():
    return next(str(u) for u in range(4_000_000_000, 4_000_001_000) if not _has_uid(u))


def _has_uid(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def cgroup_v1_dir():
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] == "cgroup":
            return fields[1]
    return None


def bad_inputs(tool, regular_file):
    """(description, argv) of every invalid command line for tool."""
    pid_values = ["abc", "-1", "0", "", "1.5", "0x10", "+5", " 5", "12abc",
                  "99999999999999999999", "4294967297", free_pid()]
    cases = []
    for flag in PID_FLAGS[tool]:
        cases += [(f"{flag} {v!r}", [flag, v]) for v in pid_values]
    for v in ["-1", "", "1e3", "4294967295", "4294967296", "99999999999999999999",
              "no-such-user-snoopkit", "0x10", " 5", "+5"]:
        cases.append((f"-u {v!r}", ["-u", v]))
    if tool == "execsnoop":
        for v in ["0", "2147483648", "-1", "abc", "", "3.5", "99999999999999999999", "0x3c",
                  " 5", "5 ", "+5"]:
            cases.append((f"--max-args {v!r}", ["--max-args", v]))
        for v in ["0", "61441", "-1", "abc", "", "3.5", "99999999999999999999", "0x10", " 5"]:
            cases.append((f"--max-bytes {v!r}", ["--max-bytes", v]))
        cases.append(("-l ''", ["-l", ""]))
    for v in ["0", "-1", "-0", "abc", "", "nan", "inf", "1e30", "99999999999999999999", "0x10",
              " 1", "1 ", "+1", "1e1", ".5", "1."]:
        cases.append((f"--duration {v!r}", ["--duration", v]))
    cases.append(("-d '0x10'", ["-d", "0x10"]))
    for v in ["0", "10001", "-5", "abc", "", "1.5", "99999999999999999999", "0x10", " 5", "5 ",
              "+5"]:
        cases.append((f"--latency {v!r}", ["--latency", v]))
    for v in ["0", "abc", "", "-1", "1.5M", "4096X", "2G", "1025M", "1T", "99999999999999999999999"]:
        cases.append((f"--buffer-size {v!r}", ["--buffer-size", v]))
    for v in ["a" * 16, "\u00e9" * 8, "x" * 300, ""]:  # "\u00e9" * 8: 8 characters, 16 bytes
        cases.append((f"-n {v!r}", ["-n", v]))
    cases += [
        ("-c nonexistent", ["-c", "/nonexistent/snoopkit-cgroup"]),
        ("-c regular file", ["-c", regular_file]),
        ("-c empty", ["-c", ""]),
        ("-c not a cgroup", ["-c", "/tmp"]),
    ]
    v1 = cgroup_v1_dir()
    if v1:
        cases.append(("-c cgroup v1 directory", ["-c", v1]))
    cases += [
        ("unknown long option", ["--bogus"]),
        ("unknown short option", ["-Z"]),
        ("positional argument", ["extra"]),
        ("positional arguments", ["1", "2", "3"]),
        ("missing value", ["--json", "-p"]),
    ]
    return cases


# Other tools' own options, under the same rule (decimal only, never empty,
# no stray arguments): (tool, args).
OTHER_BAD_INPUTS = [
    ("syscount", ["-i", "1", "2", "3"]),
    ("syscount", ["-T", "0x10"]),
    ("syscount", ["-T", ""]),
    ("syscount", ["-u", ""]),
    ("runqlat", ["1", "0x2"]),
    ("runqlat", [" 1"]),
    ("runqlat", ["1", "2", "3"]),
    ("biolatency", ["-d", ""]),
    ("biolatency", ["-d", "snoopkit-no-such-disk"]),
    ("biosnoop", ["-d", ""]),
    ("biosnoop", ["-d", "snoopkit-no-such-disk"]),
    ("biosnoop", ["0x10"]),
    ("killsnoop", ["-s", ""]),
    ("killsnoop", ["-s", " 9"]),
    ("sigsnoop", ["-s", ""]),
    ("sigsnoop", ["-s", "0x9"]),
    ("bindsnoop", ["-P", ""]),
    ("bindsnoop", ["-P", "0x50"]),
    ("tcpconnect", ["-P", " 80"]),
    ("mountsnoop", ["--latency", "0x10"]),
    ("tcplife", ["-L", "99999"]),
    ("tcplife", ["-D", ""]),
    ("tcpstates", ["-L", "0x50"]),
    ("tcpstates", ["-D", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"]),
]


def run_until_ready_or_exit(argv, timeout=EXIT_TIMEOUT):
    """Runs argv; returns (exit code, stdout, stderr, became_ready). A tool
    that wrongly accepts its input gets to "ready:" and is killed there."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err, out, ready = [], [], threading.Event()

    def read_err():
        for line in iter(p.stderr.readline, b""):
            err.append(line)
            if b"ready:" in line:
                ready.set()

    threads = [threading.Thread(target=read_err, daemon=True),
               threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    while p.poll() is None and not ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    if p.poll() is None:
        p.kill()
    rc = p.wait()
    for t in threads:
        t.join(5)
    return rc, b"".join(out), b"".join(err).decode("utf-8", "replace"), ready.is_set()


class BadInputTest(BpfTestCase):

    def setUp(self):
        super().setUp()
        fd, self.regular_file = tempfile.mkstemp(prefix="snoopkit-cli-")
        os.close(fd)
        self.addCleanup(os.unlink, self.regular_file)

    def check_matrix(self, tool):
        before = bpf_snapshot()
        for desc, args in bad_inputs(tool, self.regular_file):
            with self.subTest(tool=tool, case=desc):
                self.check_rejected(tool, args)
        assert_no_bpf_left(self, before, {"prog": set(), "link": set()})

    def check_rejected(self, tool, args):
        # Map and program ids are handed out in order: if nothing is created
        # between two probes, the second pair is the first plus one. Another
        # BPF user on the machine can break that, hence the retries.
        for attempt in range(5):
            ids_before = next_bpf_ids()
            rc, out, err, ready = run_until_ready_or_exit([tool_path(tool), *args])
            ids_after = next_bpf_ids()
            if ready or ids_after == (ids_before[0] + 1, ids_before[1] + 1):
                break
            time.sleep(0.1 * attempt)
        self.assertFalse(ready, f"accepted: {tool} {args} started tracing; stderr:\n{err}")
        self.assertEqual(rc, 2, f"{tool} {args}: exit {rc}; stderr:\n{err}")
        self.assertEqual(out, b"", f"{tool} {args}: wrote to stdout")
        errors = [l for l in err.splitlines() if "error:" in l]
        self.assertEqual(len(errors), 1, f"{tool} {args}: want exactly one error line, got:\n{err}")
        self.assertTrue(errors[0].startswith(f"{tool}: error: "), errors[0])
        self.assertNotIn("ready:", err)
        self.assertEqual(ids_after, (ids_before[0] + 1, ids_before[1] + 1),
                         f"{tool} {args}: BPF maps or programs were created (ids {ids_before} -> {ids_after})")

    def test_execsnoop_rejects_bad_input(self):
        self.check_matrix("execsnoop")

    def test_opensnoop_rejects_bad_input(self):
        self.check_matrix("opensnoop")

    def test_other_tools_reject_bad_input(self):
        before = bpf_snapshot()
        for tool, args in OTHER_BAD_INPUTS:
            with self.subTest(tool=tool, args=args):
                self.check_rejected(tool, args)
        assert_no_bpf_left(self, before, {"prog": set(), "link": set()})


class AcceptedInputTest(BpfTestCase):
    """Boundary values just inside the limits: the tool must run (and stop at --duration)."""

    def check(self, tool, cases):
        for args in cases:
            with self.subTest(tool=tool, args=args):
                argv = [tool_path(tool), "--json", "--duration", "0.3", *args]
                res = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
                self.assertEqual(res.returncode, 0, f"{args}: stderr:\n{res.stderr.decode()}")
                recs = parse_json_lines(res.stdout)
                for r in recs:
                    validate_record(r)
                self.assertEqual(recs[-1]["type"], "summary")

    def common_cases(self):
        return [["--latency", "1"], ["--latency", "10000"], ["--buffer-size", "4096"],
                ["--buffer-size", "4K"], ["--buffer-size", "5000"], ["--buffer-size", "64M"],
                ["-u", "0"], ["-u", "root"], ["-u", free_uid()], ["-u", "4294967294"], ["-n", "x" * 15], ["-p", "1"], ["-c", str(cgroup2_root())],
                ["--perf-buffer"]]

    def test_execsnoop_accepts_boundaries(self):
        self.check("execsnoop", self.common_cases() + [["--max-args", "1"], ["--max-args", "61"],
                                                       ["--max-args", "060"],
                                                       ["--max-args", "2147483647"],
                                                       ["--max-bytes", "1"], ["--max-bytes", "61440"],
                                                       ["-x", "--max-bytes", "61440"],
                                                       ["-P", "1"], ["-l", "x"],
                                                       ["--latency", "010"]])

    def test_opensnoop_accepts_boundaries(self):
        self.check("opensnoop", self.common_cases() + [["-t", "1"], ["-x", "-e", "-T", "-U"]])


class StartUpWorkTest(BpfTestCase):
    """Start-up reads only what a tool's events need: the task context's
    struct offsets (a pass over the kernel's BTF) only for the tools whose
    events carry it, the ones that offer --container."""

    def test_task_context_offsets_only_where_events_carry_them(self):
        tools = sorted(p.stem for p in (SOURCE_DIR / "tools").glob("*.cpp") if p.stem != "bpfload")
        with_context = []
        for tool in tools:
            with self.subTest(tool=tool):
                helps = subprocess.run([tool_path(tool), "--help"], capture_output=True, text=True,
                                       timeout=30).stdout
                res = subprocess.run([tool_path(tool), "-v", "--json", "--duration", "0.2"],
                                     capture_output=True, text=True, timeout=60,
                                     stdin=subprocess.DEVNULL)
                self.assertEqual(res.returncode, 0, res.stderr)
                read = "task context: struct offsets read" in res.stderr
                self.assertEqual(read, "--container" in helps, res.stderr[-2000:])
                if read:
                    with_context.append(tool)
        self.assertIn("execsnoop", with_context)
        self.assertNotIn("syscount", with_context)


class HelpVersionTest(unittest.TestCase):
    """--help and --version need no privileges and load nothing."""

    def test_help(self):
        for tool in TOOLS:
            for flag in ("--help", "-h"):
                with self.subTest(tool=tool, flag=flag):
                    res = subprocess.run([tool_path(tool), flag], capture_output=True, timeout=10)
                    self.assertEqual(res.returncode, 0)
                    self.assertEqual(res.stderr, b"")
                    text = res.stdout.decode()
                    self.assertIn(f"Usage: {tool} [OPTIONS]", text)
                    for opt in ("--json", "--duration", "--perf-buffer", "--pid", "--uid", "--cgroup"):
                        self.assertIn(opt, text)

    def test_version(self):
        for tool in TOOLS:
            for flag in ("--version", "-V"):
                with self.subTest(tool=tool, flag=flag):
                    res = subprocess.run([tool_path(tool), flag], capture_output=True, timeout=10)
                    self.assertEqual(res.returncode, 0)
                    self.assertEqual(res.stderr, b"")
                    self.assertRegex(res.stdout.decode(), rf"^{tool} \(snoopkit\) \d+\.\d+\.\d+\S*\n$")


class PrivilegeTest(BpfTestCase):
    """Without privileges: exit 1 with an error line and a hint, nothing on stdout."""

    def test_unprivileged_exits_1_with_hint(self):
        for tool in TOOLS:
            with self.subTest(tool=tool):
                res = subprocess.run([tool_path(tool), "--json"], capture_output=True, timeout=30,
                                     user=65534, group=65534, extra_groups=[], stdin=subprocess.DEVNULL)
                err = res.stderr.decode()
                self.assertEqual(res.returncode, 1, err)
                self.assertEqual(res.stdout, b"")
                self.assertRegex(err, rf"(?m)^{tool}: error: ")
                self.assertRegex(err, rf"(?m)^{tool}: hint: ")

    def test_usage_errors_come_before_privilege_checks(self):
        """A bad command line is exit 2 for anyone: it is checked before
        anything that needs privileges."""
        tmp = tempfile.gettempdir()
        for tool in TOOLS:
            for flag in PID_FLAGS[tool][::2]:
                for value in ("abc", "0", ""):
                    self.check_usage_unprivileged(tool, [flag, value])
            for value in ("no-such-user-snoopkit", "-1", ""):
                self.check_usage_unprivileged(tool, ["-u", value])
            self.check_usage_unprivileged(tool, ["-c", tmp])
            self.check_usage_unprivileged(tool, ["--buffer-size", "2G"])
        # Tools' own option checks come before privileges too.
        for tool, args in OTHER_BAD_INPUTS:
            self.check_usage_unprivileged(tool, args)

    def check_usage_unprivileged(self, tool, args):
        with self.subTest(tool=tool, args=args):
            res = subprocess.run([tool_path(tool), *args], capture_output=True, timeout=30,
                                 user=65534, group=65534, extra_groups=[], stdin=subprocess.DEVNULL)
            self.assertEqual(res.returncode, 2, res.stderr.decode())
            self.assertEqual(res.stdout, b"")


if __name__ == "__main__":
    unittest.main()
