"""Runtime tests for bpfload: the real tool on the test objects built from
tests/bpfload/*.bpf.c, real BPF, and children this test starts. Assertions
are only about records of the test's own children: the trace pipe and the
tracepoints see the whole host."""

import base64
import os
import sys
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from harness import (BIN_DIR, BpfTestCase, Tool, assert_no_bpf_left, bpf_snapshot, next_bpf_ids,
                     parse_json_lines, pipeline_exit_codes, tool_path, validate_record)

TRUE = "/bin/true" if os.path.exists("/bin/true") else shutil.which("true")
OBJECTS = BIN_DIR / "tests" / "bpfload"
EVENT = struct.Struct("<II16s")  # struct bpfload_test_event in bpfload_test.bpf.c
MAGIC = b"test"


def tracing_instances():
    """The names in tracefs' instances directory (tracefs is one tree
    wherever it is mounted: mounted here in a private namespace if needed)."""
    out = subprocess.run(["unshare", "-m", "sh", "-c",
                          "d=/sys/kernel/tracing; [ -d $d/instances ] || mount -t tracefs nodev $d; "
                          "ls $d/instances"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return out.split()


def obj(name):
    """A test object; fails (never skips) when the build lacks it."""
    path = OBJECTS / f"{name}.bpf.o"
    if not path.exists():
        raise AssertionError(f"{path} is missing: build first (target bpfload_test_objects)")
    return str(path)


def run_child(*args):
    """Runs TRUE (an execve the test owns) to completion; returns its pid."""
    p = subprocess.Popen([TRUE, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    p.wait(30)
    return p.pid


def run(*args, timeout=60):
    """Runs bpfload to completion: (exit code, stdout bytes, stderr text)."""
    p = subprocess.run([tool_path("bpfload"), *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def elf_section_sizes(path):
    """{section name: size} of an ELF64 little-endian file, read directly."""
    data = Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = sections[shstrndx][4]
    sizes = {}
    for name_off, _, _, _, _, size in sections:
        end = data.index(b"\0", strtab_off + name_off)
        sizes[data[strtab_off + name_off:end].decode()] = size
    return sizes


def elf_section(path, wanted):
    """(offset, size) of section wanted in an ELF64 little-endian file."""
    data = Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = sections[shstrndx][4]
    for name_off, _, _, _, offset, size in sections:
        end = data.index(b"\0", strtab_off + name_off)
        if data[strtab_off + name_off:end].decode() == wanted:
            return offset, size
    raise AssertionError(f"{path} has no section {wanted}")


def with_first_member_type(path, type_id):
    """The object's bytes with the first struct member in .BTF set to type_id."""
    data = bytearray(Path(path).read_bytes())
    btf, _ = elf_section(path, ".BTF")
    hdr_len, type_off, type_len = struct.unpack_from("<III", data, btf + 4)
    pos = btf + hdr_len + type_off
    trailer = {1: 4, 3: 12, 14: 4, 17: 4}  # fixed trailers; the others are per vlen
    per_vlen = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    while pos < btf + hdr_len + type_off + type_len:
        _, info, _ = struct.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        if kind == 4 and vlen:
            struct.pack_into("<I", data, pos + 16, type_id)
            return bytes(data)
        pos += 12 + trailer.get(kind, 0) + per_vlen.get(kind, 0) * vlen
    raise AssertionError(f"{path}: no struct with members in .BTF")


def decode_event(data):
    magic, pid, comm = EVENT.unpack(data)
    return magic.to_bytes(4, "little"), pid, comm.split(b"\0", 1)[0]


def error_lines(stderr):
    return [l for l in stderr.splitlines() if "error:" in l]


def kernel_has_kprobes():
    # What the tool's own probe checks (the kprobe PMU, or tracefs kprobe_events).
    return (os.path.exists("/sys/bus/event_source/devices/kprobe/type")
            or os.path.exists("/sys/kernel/tracing/kprobe_events")
            or os.path.exists("/sys/kernel/debug/tracing/kprobe_events"))


class BpfloadTest(BpfTestCase):

    def ringbuf_records(self, t, map_name, pid):
        """The JSON ringbuf records of map_name whose event is pid's, decoded."""
        out = []
        for r in t.records("ringbuf", map=map_name):
            raw = bytes.fromhex(r["data_hex"])
            self.assertEqual(raw, base64.b64decode(r["data_base64"], validate=True))
            self.assertEqual(r["size"], len(raw))
            if len(raw) == EVENT.size and decode_event(raw)[1] == pid:
                out.append(decode_event(raw))
        return out

    # --- --list ---

    def test_list_programs_and_maps(self):
        path = obj("bpfload_test")
        # Nothing of the object is loaded: between two probes of our own,
        # ids advance by one each for ours, one each for the runtime's
        # feature probes (ring buffer support), and none for the object's
        # four maps and two programs. Another BPF user may take ids too.
        for attempt in range(5):
            ids_before = next_bpf_ids()
            rc, out, err = run("--list", path)
            ids_after = next_bpf_ids()
            if ids_after[0] - ids_before[0] <= 2 and ids_after[1] - ids_before[1] <= 2:
                break
            time.sleep(0.1 * attempt)
        else:
            self.fail(f"--list loaded the object: ids {ids_before} -> {ids_after}")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("ready:", err)
        text = out.decode()
        progs_part, maps_part = text.split("\n\n")
        progs = [l.split() for l in progs_part.splitlines()]
        maps = [l.split() for l in maps_part.splitlines()]
        self.assertEqual(progs[0], ["PROGRAM", "SECTION", "TYPE", "INSNS", "LOAD", "ATTACH"])
        sizes = elf_section_sizes(path)
        tp, raw = "tracepoint/syscalls/sys_enter_execve", "raw_tp/sched_process_exec"
        self.assertEqual(progs[1:], [
            ["on_execve", tp, "tracepoint", str(sizes[tp] // 8), "yes", "tracepoint",
             "syscalls:sys_enter_execve"],
            ["on_exec_done", raw, "raw_tracepoint", str(sizes[raw] // 8), "yes", "raw_tp",
             "sched_process_exec"],
        ])
        self.assertEqual(maps[0], ["MAP", "TYPE", "KEY", "VALUE", "MAX_ENTRIES", "FLAGS"])
        by_name = {m[0]: m[1:] for m in maps[1:]}
        self.assertEqual(by_name["events"], ["ringbuf", "0", "0", "262144", "0x0"])
        self.assertEqual(by_name["exec_events"], ["ringbuf", "0", "0", "65536", "0x0"])
        self.assertEqual(by_name["counts"], ["hash", "4", "8", "1024", "0x0"])
        # The format string of bpf_printk lives in the object's .rodata.
        rodata = [m for m in maps[1:] if m[0].endswith(".rodata")]
        self.assertEqual(len(rodata), 1, maps)
        self.assertEqual(rodata[0][1], "array")

    def test_list_marks_programs_not_loaded_and_kinds(self):
        rc, out, err = run("--list", "--program", "on_exec_done", obj("bpfload_test"))
        self.assertEqual(rc, 0, err)
        loads = {l.split()[0]: l.split()[4] for l in out.decode().split("\n\n")[0].splitlines()[1:]}
        self.assertEqual(loads, {"on_execve": "no", "on_exec_done": "yes"})

        rc, out, err = run("--list", obj("mixed"))
        self.assertEqual(rc, 0, err)
        rows = {l.split()[0]: l.split(None, 5)[5] for l in out.decode().split("\n\n")[0].splitlines()[1:]}
        self.assertEqual(rows, {
            "good_tp": "tracepoint syscalls:sys_enter_execve",
            "missing_tp": "tracepoint syscalls:sys_enter_snoopkit_no_such_call",
            "kp_unlinkat": "kprobe do_unlinkat",
            "sock_filter": "not auto-attached",
        })

    # --- streaming ---

    def test_stream_text(self):
        with Tool("bpfload", obj("bpfload_test")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        self.assertIn("ready: 2 programs attached via ring buffers events, exec_events and the "
                      "bpf_trace_printk event (on_execve=tracepoint on_exec_done=raw_tp); Ctrl-C to end",
                      t.stderr)
        lines = t.stdout.decode("utf-8").splitlines()
        printk = [l.split(None, 5) for l in lines
                  if l.startswith("printk ") and l.endswith(f"bpfload-test execve pid={pid}")]
        self.assertEqual(len(printk), 1, lines[:50])
        kind, ts, comm, tid, cpu, message = printk[0]
        self.assertRegex(ts, r"^\d+\.\d{6}$")
        self.assertEqual(tid, str(pid))
        self.assertRegex(cpu, r"^\[\d{3}\]$")
        ring = {}
        for l in lines:
            f = l.split()
            if len(f) == 4 and f[0] == "ringbuf" and f[2] == str(EVENT.size):
                magic, rpid, rcomm = decode_event(bytes.fromhex(f[3]))
                if rpid == pid:
                    ring.setdefault(f[1], []).append((magic, rcomm))
        self.assertEqual(ring.get("exec_events"), [(MAGIC, b"true")], lines[:50])
        self.assertEqual(len(ring.get("events", [])), 1, lines[:50])
        self.assertEqual(ring["events"][0][0], MAGIC)

    def test_stream_json(self):
        with Tool("bpfload", "--json", obj("bpfload_test")) as t:
            pid = run_child("a")
            pid2 = run_child("b")
        t.assert_clean_exit(self)
        for p in (pid, pid2):
            with self.subTest(pid=p):
                msgs = [r for r in t.records("printk", pid=p)
                        if r["message"] == f"bpfload-test execve pid={p}"]
                self.assertEqual(len(msgs), 1, t.records("printk")[:20])
                self.assertRegex(msgs[0]["ts"], r"^\d+\.\d+$")
                self.assertIsInstance(msgs[0]["cpu"], int)
                self.assertTrue(msgs[0]["comm"])
                [(magic, _, _)] = self.ringbuf_records(t, "events", p)
                self.assertEqual(magic, MAGIC)
                self.assertEqual(self.ringbuf_records(t, "exec_events", p), [(MAGIC, p, b"true")])
        summary = t.records("summary")[0]
        self.assertEqual(summary["lost"], 0)
        self.assertEqual(summary["events"], summary["printed"])
        self.assertGreaterEqual(summary["printed"], 6)

    def test_hex_dump(self):
        with Tool("bpfload", "--hex", "--map", "exec_events", obj("bpfload_test")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        want = (MAGIC + struct.pack("<I", pid) + b"true").hex()
        at = [i for i, l in enumerate(lines) if l.startswith("ringbuf exec_events") and want in l]
        self.assertEqual(len(at), 1, lines[:40])
        i = at[0]
        self.assertEqual(lines[i - 1], "", "a record with a dump starts with an empty line")
        self.assertRegex(lines[i + 1], r"^  00000000  74 65 73 74 [0-9a-f ]+ \|test.{4}true\.{4}\|$")
        self.assertRegex(lines[i + 2], r"^  00000010  00 00 00 00 00 00 00 00 +\|\.{8}\|$")
        self.assertFalse(any(l.startswith("ringbuf events") for l in lines), "--map not honoured")

    def test_program_and_map_filters(self):
        with Tool("bpfload", "--json", "--program", "on_exec_done", obj("bpfload_test")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        self.assertIn("ready: 1 programs attached via ring buffers events, exec_events "
                      "(on_exec_done=raw_tp)", t.stderr)
        self.assertEqual(t.records("printk"), [], "the trace pipe was read without bpf_printk()")
        self.assertEqual(self.ringbuf_records(t, "exec_events", pid), [(MAGIC, pid, b"true")])
        self.assertEqual(self.ringbuf_records(t, "events", pid), [])

        with Tool("bpfload", "--json", "--map", "events", obj("bpfload_test")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        self.assertEqual({r["map"] for r in t.records("ringbuf")}, {"events"})
        self.assertEqual(len(self.ringbuf_records(t, "events", pid)), 1)

    def test_buffer_size_resizes_ring_buffers(self):
        with Tool("bpfload", "-v", "--buffer-size", "8K", obj("bpfload_test")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        self.assertRegex(t.stderr, r"debug: events +ringbuf +0 +0 +8192 ")
        self.assertRegex(t.stderr, r"debug: exec_events +ringbuf +0 +0 +8192 ")
        self.assertRegex(t.stderr, r"debug: counts +hash +4 +8 +1024 ")
        self.assertIn(f"pid={pid}".encode(), t.stdout)

    def test_duration_and_closed_pipe_exit_0(self):
        start = time.monotonic()
        rc, out, err = run("--json", "-d", "1", obj("bpfload_test"))
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - start, 15)
        recs = parse_json_lines(out)
        self.assertEqual(recs[-1]["type"], "summary")
        for r in recs:
            validate_record(r)

        tool_status, head_status, out, err = pipeline_exit_codes(
            [tool_path("bpfload"), "--json", obj("bpfload_test")])
        self.assertEqual(tool_status, 0, f"bpfload | head -1: exited {tool_status}; stderr:\n{err}")
        self.assertEqual(out.count(b"\n"), 1)
        [rec] = parse_json_lines(out)
        validate_record(rec)
        self.assertIn(rec["type"], ("printk", "ringbuf"))

    # --- stop signals and what is left behind ---

    def test_stop_signals_exit_0_and_leave_nothing(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                before = bpf_snapshot()
                t = Tool("bpfload", "--json", obj("bpfload_test"), stop_signal=sig)
                with t:
                    self.assertGreaterEqual(len(t.held["prog"]), 2, t.held)
                    run_child()
                t.assert_clean_exit(self)
                self.assertIn(f"received {sig.name[3:]}", t.stderr)
                assert_no_bpf_left(self, before, t.held)

    def test_sigkill_leaves_nothing(self):
        before = bpf_snapshot()
        t = Tool("bpfload", obj("bpfload_test")).start()
        held = t.held
        t.kill()
        assert_no_bpf_left(self, before, held)

    def test_no_attach_loads_then_exits(self):
        before = bpf_snapshot()
        rc, out, err = run("--no-attach", obj("bpfload_test"))
        self.assertEqual(rc, 0, err)
        self.assertIn("loaded 2 programs; nothing attached (--no-attach)", err)
        self.assertEqual(out, b"")
        self.assertNotIn("ready:", err)
        assert_no_bpf_left(self, before, {"prog": set(), "link": set()})

    # --- the verifier says no ---

    def test_rejected_object_prints_verifier_log(self):
        before = bpf_snapshot()
        rc, out, err = run(obj("rejected"))
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        self.assertIn("the verifier's log for program 'out_of_bounds'", err)
        log = [l.strip() for l in err.splitlines() if l.startswith("    ")]
        self.assertTrue(log and len(log) <= 20, err)
        failing = [l for l in log if re.match(r"^\d+: \([0-9a-f]{2}\) r\d = \*\(u64 \*\)\(r\d \+64\)$", l)]
        self.assertEqual(len(failing), 1, f"no failing instruction in the log tail:\n{err}")
        self.assertTrue(any("invalid access to map value" in l for l in log), err)
        [error] = error_lines(err)
        index = failing[0].split(":")[0]
        self.assertTrue(error.startswith("bpfload: error: load program 'out_of_bounds' "
                                         "(tracepoint/syscalls/sys_enter_execve): the verifier "
                                         f"rejected instruction {index} "), error)
        self.assertIn("invalid access to map value, value_size=8 off=64 size=8", error)
        self.assertTrue(error.endswith("Permission denied"), error)
        self.assertNotIn("ready:", err)
        assert_no_bpf_left(self, before, {"prog": set(), "link": set()})

    def test_rejected_object_full_log_with_v(self):
        rc, _, err = run("-v", obj("rejected"))
        self.assertEqual(rc, 1, err)
        log = [l.strip() for l in err.splitlines() if l.startswith("    ")]
        self.assertTrue(any(l.startswith("0: ") for l in log), "-v: the log from instruction 0")
        self.assertTrue(any(l.startswith("processed ") for l in log), err)
        self.assertIn("libbpf: prog 'out_of_bounds': BPF program load failed", err)
        self.assertEqual(len(error_lines(err)), 1, err)

    # --- what this kernel cannot attach ---

    def test_unsupported_programs_fail_the_run(self):
        before = bpf_snapshot()
        rc, out, err = run(obj("mixed"))
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        [error] = error_lines(err)
        self.assertIn("program 'missing_tp' (tracepoint/syscalls/sys_enter_snoopkit_no_such_call): "
                      "this kernel has no tracepoint syscalls:sys_enter_snoopkit_no_such_call", error)
        if kernel_has_kprobes():
            self.assertNotIn("kp_unlinkat", error)
        else:
            self.assertIn("program 'kp_unlinkat' (kprobe/do_unlinkat): this kernel has no kprobes",
                          error)
        self.assertNotIn("good_tp", error)
        self.assertIn("hint: pass --skip-unsupported", err)
        assert_no_bpf_left(self, before, {"prog": set(), "link": set()})

    def test_skip_unsupported_runs_the_rest(self):
        before = bpf_snapshot()
        with Tool("bpfload", "--json", "--skip-unsupported", obj("mixed")) as t:
            pid = run_child()
        t.assert_clean_exit(self)
        warnings = [l for l in t.stderr.splitlines() if "warning:" in l]
        self.assertTrue(any("'missing_tp'" in w and "not loaded (--skip-unsupported)" in w
                            for w in warnings), t.stderr)
        self.assertTrue(any("'sock_filter' (socket): loaded but not attached" in w
                            for w in warnings), t.stderr)
        ready = next(l for l in t.stderr.splitlines() if "ready:" in l)
        if kernel_has_kprobes():
            self.assertIn("2 programs attached via the bpf_trace_printk event (good_tp=tracepoint "
                          "kp_unlinkat=kprobe)", ready)
        else:
            self.assertIn("1 programs attached via the bpf_trace_printk event (good_tp=tracepoint)", ready)
            self.assertTrue(any("'kp_unlinkat'" in w and "no kprobes" in w for w in warnings),
                            t.stderr)
        msgs = [r["message"] for r in t.records("printk", pid=pid)]
        self.assertIn(f"bpfload-mixed execve pid={pid}", msgs)
        assert_no_bpf_left(self, before, t.held)

    # --- bad command lines: exit 2, nothing loaded ---

    def test_bad_objects_and_options_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            text = Path(d) / "text.o"
            text.write_text("not an object\n")
            cases = [
                ("missing file", [f"{d}/missing.bpf.o"], "No such file or directory"),
                ("directory", [d], "is not a regular file"),
                ("text file", [str(text)], "is not an ELF file"),
                ("x86 ELF", [TRUE], "an ELF file for another machine"),
                ("no object", [], "OBJECT is required"),
                ("unknown program", ["--program", "nope", obj("bpfload_test")], "no such program"),
                ("unknown map", ["--map", "nope", obj("bpfload_test")], "no such map"),
                ("not a ring buffer", ["--map", "counts", obj("bpfload_test")],
                 "only ring buffers are streamed"),
                ("--hex with --json", ["--hex", "--json", obj("bpfload_test")], "--hex"),
                ("--list with --json", ["--list", "--json", obj("bpfload_test")], "--list"),
                ("--perf-buffer", ["--perf-buffer", obj("bpfload_test")], "--perf-buffer"),
            ]
            for desc, args, why in cases:
                with self.subTest(case=desc):
                    for attempt in range(5):  # another BPF user may take ids in between
                        ids_before = next_bpf_ids()
                        rc, out, err = run(*args)
                        if next_bpf_ids() == (ids_before[0] + 1, ids_before[1] + 1):
                            break
                        time.sleep(0.1 * attempt)
                    else:
                        self.fail(f"{desc}: BPF maps or programs were created")
                    self.assertEqual(rc, 2, f"{desc}: exit {rc}; stderr:\n{err}")
                    self.assertEqual(out, b"")
                    [error] = error_lines(err)
                    self.assertTrue(error.startswith("bpfload: error: "), error)
                    self.assertIn(why, error)

    def test_broken_bpf_object_exits_1(self):
        """An ELF header for the BPF machine, but no object libbpf can read."""
        with tempfile.TemporaryDirectory() as d:
            broken = Path(d) / "broken.bpf.o"
            broken.write_bytes(Path(obj("bpfload_test")).read_bytes()[:200])
            rc, out, err = run(str(broken))
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        [error] = error_lines(err)
        self.assertIn("open BPF object", error)

    # --- hostile objects and files ---

    def test_corrupt_btf_in_object_is_one_error(self):
        """libbpf 1.1 trusts BTF type ids: a map definition whose member type
        points past the last type crashed --list (SIGSEGV) before the check."""
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "bad.bpf.o"
            bad.write_bytes(with_first_member_type(obj("bpfload_test"), 0x7ffffff0))
            rc, out, err = run("--list", bad)
            self.assertEqual(rc, 1, err)
            self.assertEqual(out, b"")
            [error] = error_lines(err)
            self.assertIn("has invalid BTF: type", error)
            self.assertIn("refers to type 2147483632, past the last type", error)

    def test_any_byte_of_btf_changed_never_crashes(self):
        data = Path(obj("bpfload_test")).read_bytes()
        btf, size = elf_section(obj("bpfload_test"), ".BTF")
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "bad.bpf.o"
            for at in range(btf, btf + size, max(1, size // 48)):
                with self.subTest(offset=at):
                    bad.write_bytes(data[:at] + b"\xcc" + data[at + 1:])
                    rc, _, err = run("--list", bad)
                    self.assertIn(rc, (0, 1), err)  # a signal is negative
                    if rc == 1:
                        self.assertEqual(len(error_lines(err)), 1, err)

    def test_fifo_as_object_is_refused_at_once(self):
        with tempfile.TemporaryDirectory() as d:
            fifo = Path(d) / "f.bpf.o"
            os.mkfifo(fifo)
            rc, out, err = run("--list", fifo, timeout=20)
        self.assertEqual(rc, 2, err)
        [error] = error_lines(err)
        self.assertIn("is not a regular file (a FIFO)", error)

    def test_hostile_section_name_is_escaped(self):
        rc, out, err = run(obj("hostile"))
        self.assertEqual(rc, 1, err)
        self.assertFalse(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err), repr(err))
        [error] = error_lines(err)
        self.assertIn("'kp_hostile' (kprobe/x\\x1b]0;owned\\x07\\x1b[2J)", error)

    def test_printk_message_imitating_a_whole_record_stays_one_record(self):
        """A message holding '\n' and then a complete, well-formed trace pipe
        line with another pid and comm: bpfload reads bpf_printk() as trace
        events, one sample per call, so it stays in its message."""
        forged = "            sshd-1       [000] d..31  12345.678901: bpf_trace_printk: forged"
        path = "b\n" + forged
        with tempfile.TemporaryDirectory() as d:
            with Tool("bpfload", "--json", "--skip-unsupported", obj("hostile")) as t:
                dir_fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.unlink(path, dir_fd=dir_fd)
                except FileNotFoundError:
                    pass
                finally:
                    os.close(dir_fd)
        t.assert_clean_exit(self)
        self.assertIn("via the bpf_trace_printk event", t.stderr)
        mine = [r for r in t.records("printk") if "forged" in r["message"]]
        self.assertEqual([(r["pid"], r["message"]) for r in mine],
                         [(os.getpid(), f"bpfload-hostile unlink {path}")])
        self.assertFalse([r for r in t.records("printk") if r["pid"] == 1 or r["comm"] == "sshd"])
        self.assertRegex(mine[0]["ts"], r"^[0-9]+\.[0-9]{6}$")
        self.assertEqual(mine[0]["comm"], "python3")
        # bpfload's tracing instance is gone with it.
        self.assertNotIn(f"snoopkit-bpfload-{t.proc.pid}", tracing_instances())

    def test_printk_events_dropped_by_a_full_buffer_are_counted(self):
        """bpfload stopped while a program prints far more than its
        instance's buffer holds: the kernel drops the oldest events, and
        bpfload reports how many, in-band and in the summary."""
        n = 150000
        with tempfile.TemporaryDirectory() as d:
            target = os.path.join(d, "storm")
            with Tool("bpfload", "--json", "--skip-unsupported", obj("hostile")) as t:
                t.proc.send_signal(signal.SIGSTOP)
                try:
                    subprocess.run([sys.executable, "-c",
                                    "import os, sys\n"
                                    "fd = os.open(os.path.dirname(sys.argv[1]), os.O_RDONLY)\n"
                                    "for _ in range(int(sys.argv[2])):\n"
                                    "    try: os.unlink(sys.argv[1], dir_fd=fd)  # unlinkat(2)\n"
                                    "    except FileNotFoundError: pass\n", target, str(n)],
                                   check=True, timeout=120)
                finally:
                    t.proc.send_signal(signal.SIGCONT)
        t.assert_clean_exit(self)
        got = len([r for r in t.records("printk") if r["message"].endswith(target)])
        lost = t.records("lost")
        summary = t.records("summary")[-1]
        self.assertTrue(lost, f"no lost record; {got} of {n} printed; {summary}")
        self.assertEqual(summary["lost"], lost[-1]["lost_total"])
        self.assertEqual(lost[-1]["lost_total"], sum(r["lost"] for r in lost))
        self.assertGreater(summary["lost"], 0)
        self.assertLess(got, n)
        # Every event is printed or counted (others' bpf_printk() may be among the lost).
        self.assertGreaterEqual(got + summary["lost"], n)

    def test_tracing_instance_of_a_killed_bpfload_is_removed_by_the_next(self):
        killed = Tool("bpfload", "--json", "--skip-unsupported", obj("hostile")).start()
        name = f"snoopkit-bpfload-{killed.proc.pid}"
        self.assertIn(name, tracing_instances())
        killed.proc.kill()
        killed.proc.wait()
        self.assertIn(name, tracing_instances(), "SIGKILL cannot clean up")
        with Tool("bpfload", "--json", "--skip-unsupported", obj("hostile")) as t:
            self.assertNotIn(name, tracing_instances())
            self.assertIn(f"snoopkit-bpfload-{t.proc.pid}", tracing_instances())
        t.assert_clean_exit(self)
        self.assertNotIn(f"snoopkit-bpfload-{t.proc.pid}", tracing_instances())

    def test_printk_lines_after_a_newline_stay_in_their_message(self):
        """A message holding '\\n' and a line that is no record header: that
        line continues the message; it never becomes a record of its own."""
        with tempfile.TemporaryDirectory() as d:
            with Tool("bpfload", "--json", "--skip-unsupported", obj("hostile")) as t:
                path = "a\nnot a trace pipe line"
                dir_fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.unlink(path, dir_fd=dir_fd)  # unlinkat(2), what the program traces
                except FileNotFoundError:
                    pass
                finally:
                    os.close(dir_fd)
        t.assert_clean_exit(self)
        self.assertFalse(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", t.stderr), repr(t.stderr))
        self.assertIn("'kp_hostile' (kprobe/x\\x1b]0;owned\\x07\\x1b[2J)", t.stderr)
        msgs = [r["message"] for r in t.records("printk", pid=os.getpid())]
        self.assertIn(f"bpfload-hostile unlink {path}", msgs)
        self.assertFalse([r for r in t.records("printk") if r["message"].startswith("not a trace")])
        self.assertNotIn("skipped a trace pipe line", t.stderr)
