"""Reliability under faults: privileges, BTF, signals at random moments,
SIGKILL, event storms, output faults and a soak. Each test owns its workload
and checks exact accounting (generated = received + reported lost) for it."""

import fcntl
import json
import os
import random
import select
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (BIN_DIR, BpfTestCase, Tool, assert_no_bpf_left, bpf_ids_held_by,
                     bpf_snapshot, iter_json_lines, parse_json_lines, tool_path, validate_record)

OPENSTORM = BIN_DIR / "tests" / "openstorm"
# Under ASan the allocator keeps freed memory in quarantine, so RSS says
# nothing about the tool's own footprint: the memory bounds are checked in
# the plain build (scripts/test.sh sets this for its sanitizer stage).
SANITIZED = os.environ.get("SNOOPKIT_SANITIZED") == "1"
NOBODY = 65534


def rss_kib(pid):
    """Resident set size of pid in KiB, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Storm:
    """tests/openstorm: opens one path from N threads for a set time; its
    pid is known before it starts, and it reports exactly how many opens."""

    def __init__(self, path, threads, seconds, rate=0):
        self.proc = subprocess.Popen([str(OPENSTORM), path, str(threads), str(seconds), str(rate)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pid = json.loads(self.proc.stdout.readline())["pid"]

    def go(self):
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def finish(self, timeout=120):
        out, _ = self.proc.communicate(timeout=timeout)
        return json.loads(out.splitlines()[-1])["opens"]


def run_plain(argv, timeout=60, **kw):
    return subprocess.run(argv, capture_output=True, timeout=timeout, **kw)


class EnvironmentFaults(BpfTestCase):
    """Missing privileges or BTF: one clear error line, a hint, exit 1,
    nothing loaded."""

    def assert_fails_cleanly(self, argv, hint_words):
        before = bpf_snapshot()
        res = run_plain(argv)
        err = res.stderr.decode(errors="replace")
        self.assertEqual(res.returncode, 1, err)
        self.assertEqual(res.stdout, b"")
        errors = [l for l in err.splitlines() if "error:" in l]
        self.assertEqual(len(errors), 1, err)
        hints = [l for l in err.splitlines() if "hint:" in l]
        self.assertEqual(len(hints), 1, err)
        for w in hint_words:
            self.assertIn(w, hints[0])
        after = bpf_snapshot()
        self.assertEqual(after["prog"] - before["prog"] - self._others(before, after), set())
        return err

    def _others(self, before, after):
        # Programs other processes loaded meanwhile are not ours to judge:
        # ours would have died with the tool, so only still-held ids count.
        return {p for p in after["prog"] - before["prog"]}

    def test_unprivileged_user(self):
        for tool in ("execsnoop", "opensnoop"):
            with self.subTest(tool=tool):
                self.assert_fails_cleanly(
                    ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                     tool_path(tool), "--json"], ["CAP_BPF", "CAP_PERFMON"])

    def test_root_without_capabilities(self):
        # Root with an empty bounding set has no effective capabilities.
        self.assert_fails_cleanly(["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                                   tool_path("execsnoop")], ["CAP_BPF"])

    def test_missing_btf_file(self):
        err = self.assert_fails_cleanly([tool_path("opensnoop"), "--btf", "/nonexistent/vmlinux"],
                                        ["BTF"])
        self.assertIn("/nonexistent/vmlinux", err)

    def test_corrupt_btf_file(self):
        # execsnoop also reads task_struct offsets from the file itself.
        with tempfile.NamedTemporaryFile() as f:
            f.write(os.urandom(4096))
            f.flush()
            for tool in ("opensnoop", "execsnoop"):
                with self.subTest(tool=tool):
                    err = self.assert_fails_cleanly([tool_path(tool), "--btf", f.name], ["BTF"])
                    self.assertIn("not valid BTF", err)

    def test_custom_btf_that_is_valid(self):
        # --btf with a real BTF file (the kernel's own) works end to end.
        with Tool("opensnoop", "--json", "--btf", "/sys/kernel/btf/vmlinux", "-p", os.getpid()) as t:
            open("/etc/hostname").close()
        t.assert_clean_exit(self)

    def test_tracefs_not_mountable(self):
        # With CAP_BPF and CAP_PERFMON but not CAP_SYS_ADMIN, the tool may
        # not mount tracefs: it must say how to fix that.
        script = ("umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing 2>/dev/null; "
                  "exec setpriv --bounding-set=-all,+bpf,+perfmon,+dac_override,+dac_read_search "
                  "--inh-caps=-all \"$@\"")
        err = self.assert_fails_cleanly(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                         script, "sh", tool_path("opensnoop")], ["tracefs"])
        self.assertIn("tracefs", err)


class PrivateTracefs(BpfTestCase):
    """The tool's own mount namespace (tracefs not mounted) must not pin
    what the host unmounts later: / is a slave of the host's mounts."""

    SCRIPT = r"""
umount -l /sys/kernel/tracing 2>/dev/null
umount -l /sys/kernel/debug/tracing 2>/dev/null
mount --make-rshared / || exit 3
mount -t tmpfs snoopkit-pin "$1/pinned" || exit 3
"$2" --json -p $$ 2>"$1/err" >/dev/null &
tool=$!
i=0
until grep -q "ready:" "$1/err"; do
  i=$((i + 1)); [ $i -lt 400 ] || { cat "$1/err" >&2; exit 4; }; sleep 0.05
done
grep -q " $1/pinned " /proc/$tool/mountinfo && echo "before=1" || echo "before=0"
umount "$1/pinned" || exit 3
grep -q " $1/pinned " /proc/$tool/mountinfo && echo "after=1" || echo "after=0"
kill -INT $tool
wait $tool
echo "exit=$?"
"""

    def test_host_umount_reaches_the_tool(self):
        # A shared-propagation namespace of the test's own (private from the
        # machine's), standing in for a host whose mounts are shared.
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "pinned"))
            res = run_plain(["unshare", "-m", "--propagation", "private", "sh", "-c", self.SCRIPT,
                             "sh", d, tool_path("opensnoop")])
            out = res.stdout.decode()
            self.assertEqual(res.returncode, 0, res.stderr.decode())
            self.assertIn("before=1", out, "the tool's namespace lacks the host's mount")
            self.assertIn("after=0", out, "the host's umount did not reach the tool's namespace")
            self.assertIn("exit=0", out)


class Signals(BpfTestCase):
    """Stop signals at any moment: exit as documented, nothing left behind."""

    def run_and_signal(self, sig, delay):
        before = bpf_snapshot()
        proc = subprocess.Popen([tool_path("opensnoop"), "--json", "-p", str(os.getpid())],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        held = bpf_ids_held_by(proc.pid)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        err = err.decode(errors="replace")
        assert_no_bpf_left(self, before, held)
        return proc.returncode, out, err

    def test_stop_signals_at_random_moments(self):
        rng = random.Random(1234)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            for _ in range(4):
                delay = rng.uniform(0.0, 0.4)  # during start-up, load, attach or tracing
                with self.subTest(sig=sig.name, delay=round(delay, 3)):
                    code, out, err = self.run_and_signal(sig, delay)
                    if "ready:" in err:
                        self.assertEqual(code, 0, err)
                    else:
                        # Before loading begins (start-up checks), a
                        # stop signal keeps its default action.
                        self.assertIn(code, (0, -sig), err)
                    if code == 0 and out:
                        self.assertEqual(json.loads(out.splitlines()[-1])["type"], "summary")

    def test_stalled_user_lookup_is_interruptible(self):
        # `-u NAME` asks NSS, which reads /etc/passwd: here a FIFO no one
        # writes, so the lookup hangs, as with an NSS server that does not
        # answer. A stop signal must still end the tool (by its default
        # action: nothing is loaded yet).
        script = ('mkfifo "$1/passwd" && mount --bind "$1/passwd" /etc/passwd || exit 3; '
                  'exec "$2" --json -u snoopkit-no-such-user')
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(sig=sig.name), tempfile.TemporaryDirectory() as d:
                before = bpf_snapshot()
                proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                         script, "sh", d, tool_path("execsnoop")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                # The tool (same pid: unshare and sh exec) is blocked in the
                # FIFO's open once it holds it; wait for that.
                deadline = time.monotonic() + 30
                while proc.poll() is None and time.monotonic() < deadline:
                    try:
                        with open(f"/proc/{proc.pid}/wchan") as f:
                            wchan = f.read()
                        exe = os.readlink(f"/proc/{proc.pid}/exe")
                    except OSError:
                        wchan, exe = "", ""
                    if exe.endswith("execsnoop") and ("fifo" in wchan or "partner" in wchan):
                        break
                    time.sleep(0.02)
                if proc.poll() is not None:
                    self.fail(f"exit {proc.returncode}: {proc.stderr.read().decode(errors='replace')}")
                proc.send_signal(sig)
                try:
                    code = proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    self.fail(f"{sig.name} did not end a tool stalled in start-up")
                self.assertEqual(code, -sig)
                self.assertEqual(proc.stdout.read(), b"")
                assert_no_bpf_left(self, before, {"prog": set(), "link": set()})

    def test_sigpipe_is_ignored(self):
        with Tool("opensnoop", "--json", "-p", os.getpid()) as t:
            t.proc.send_signal(signal.SIGPIPE)
            time.sleep(0.2)
            self.assertIsNone(t.proc.poll(), "SIGPIPE killed the tool")
        t.assert_clean_exit(self)

    def test_sigkill_leaves_nothing(self):
        rng = random.Random(99)
        for _ in range(4):
            before = bpf_snapshot()
            proc = subprocess.Popen([tool_path("execsnoop"), "--json"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.5))
            held = bpf_ids_held_by(proc.pid)
            proc.kill()
            proc.wait()
            self.assertEqual(proc.returncode, -signal.SIGKILL)
            assert_no_bpf_left(self, before, held)

    def test_signal_with_a_full_buffer_and_stalled_reader(self):
        # A reader that never reads: the pipe fills, then the ring buffer.
        with tempfile.TemporaryDirectory() as d:
            target = os.path.join(d, "target")
            open(target, "w").close()
            storm = Storm(target, 1, 2)
            r, w = os.pipe()
            proc = subprocess.Popen([tool_path("opensnoop"), "--json", "-p", str(storm.pid),
                                     "--buffer-size", "16K"], stdout=w, stderr=subprocess.PIPE)
            os.close(w)
            line = proc.stderr.readline()
            while b"ready:" not in line and line:
                line = proc.stderr.readline()
            held = bpf_ids_held_by(proc.pid)
            storm.go()
            storm.finish()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            finally:
                os.close(r)
            err = proc.stderr.read().decode(errors="replace")
            self.assertEqual(code, 0, err)
            self.assertIn("lost", err)
            assert_no_bpf_left(self, bpf_snapshot(), held)


class Storms(BpfTestCase):
    """Event storms: bounded memory, responsive, exact accounting."""

    def storm(self, args, threads, seconds, rate=0):
        with tempfile.TemporaryDirectory() as d, tempfile.TemporaryFile() as spool:
            target = os.path.join(d, "storm-target")
            open(target, "w").close()
            storm = Storm(target, threads, seconds, rate)
            rss = []
            # Drained through a pipe as an operator's reader would, spooled
            # to a file: a storm's output does not fit in a small VM's memory.
            with Tool("opensnoop", "--json", "-p", storm.pid, *args, spool=spool) as t:
                storm.go()
                done = threading.Event()

                def sample():
                    while not done.wait(0.5):
                        v = rss_kib(t.pid)
                        if v:
                            rss.append(v)
                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                generated = storm.finish()
                time.sleep(0.3)  # let the last batch drain before the stop
                done.set()
                sampler.join()
            self.assertEqual(t.returncode, 0, t.stderr)
            # A storm delivers up to millions of records: parse them all
            # strictly, one at a time, but schema-check only a sample (the
            # event tests check every field of every record).
            received = lost_inband = seen = 0
            summary = None
            spool.seek(0)
            for rec in iter_json_lines(spool):
                seen += 1
                if seen <= 200 or rec["type"] != "open":
                    validate_record(rec)
                if rec["type"] == "open" and rec["path"] == target:
                    received += 1
                elif rec["type"] == "lost":
                    lost_inband += rec["lost"]
                summary = rec
            self.assertIsNotNone(summary, "no output at all")
            self.assertEqual(summary["type"], "summary")
            return generated, received, summary, lost_inband, rss

    # CI-sized; SNOOPKIT_STORM_SECONDS=30 for the full storm.
    SECONDS = int(os.environ.get("SNOOPKIT_STORM_SECONDS", "10"))

    def test_two_threads_small_buffer_exact_accounting(self):
        generated, received, summary, lost_inband, rss = self.storm(
            ["--buffer-size", "16K"], threads=2, seconds=self.SECONDS)
        self.assertGreater(generated, 10000)
        self.assertEqual(received + summary["lost"], generated,
                         f"generated {generated}, received {received}, lost {summary['lost']}")
        self.assertEqual(lost_inband, summary["lost"], "in-band lost records disagree with the total")
        self.assertGreater(summary["lost"], 0, "a 16K buffer under a storm should overflow")
        # Memory stays bounded: the kernel drops, the tool does not queue.
        if not SANITIZED:
            self.assertLess(max(rss), 64 * 1024, f"RSS samples (KiB): {rss}")

    def test_default_buffer_single_thread(self):
        generated, received, summary, lost_inband, _ = self.storm([], threads=1, seconds=3)
        self.assertEqual(received + summary["lost"], generated)
        self.assertEqual(lost_inband, summary["lost"])

    def test_perf_buffer_exact_accounting(self):
        generated, received, summary, lost_inband, _ = self.storm(
            ["--perf-buffer", "--buffer-size", "32K"], threads=2, seconds=3)
        self.assertEqual(received + summary["lost"], generated)
        self.assertEqual(lost_inband, summary["lost"])


class OutputFaults(BpfTestCase):
    """stdout that fails: a clear error or a quiet exit, never a crash."""

    def test_dev_full(self):
        with open("/dev/full", "wb") as full:
            proc = subprocess.Popen([tool_path("opensnoop"), "--json"], stdout=full,
                                    stderr=subprocess.PIPE)
            out, err = proc.communicate(timeout=60)
        err = err.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("write to stdout", err)
        self.assertIn("No space left on device", err)

    def test_shared_pipe_stays_blocking(self):
        # { execsnoop & ...; kill -9; dd ...; } | reader: the pipe's open
        # file description is the shell's too, so the tool must not make it
        # non-blocking, neither while it runs nor after a SIGKILL.
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        try:
            proc = subprocess.Popen([tool_path("execsnoop"), "-n", "zzzz"], stdout=w,
                                    stderr=subprocess.PIPE)
            line = proc.stderr.readline()
            while b"ready:" not in line and line:
                line = proc.stderr.readline()
            self.assertIn(b"ready:", line)
            self.assertFalse(fcntl.fcntl(w, fcntl.F_GETFL) & os.O_NONBLOCK, "set while running")
            proc.kill()
            proc.wait()
            self.assertFalse(fcntl.fcntl(w, fcntl.F_GETFL) & os.O_NONBLOCK, "left after SIGKILL")
            # Another writer on the same pipe fills it and waits for the reader.
            dd = subprocess.Popen(["dd", "if=/dev/zero", "bs=1M", "count=4"], stdout=w,
                                  stderr=subprocess.PIPE)
        finally:
            os.close(w)
        got = 0
        while chunk := os.read(r, 1 << 20):
            got += len(chunk)
        self.assertEqual(dd.wait(timeout=60), 0, dd.stderr.read().decode(errors="replace"))
        self.assertGreaterEqual(got, 4 << 20)

    def test_reader_closed_before_start(self):
        r, w = os.pipe()
        os.close(r)
        proc = subprocess.Popen([tool_path("execsnoop"), "--json"], stdout=w, stderr=subprocess.PIPE)
        os.close(w)
        # The first event meets EPIPE: a quiet exit 0. Exec until it does
        # (the tool may not be attached yet when the first ones run).
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            subprocess.run(["/bin/true"])
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        self.assertEqual(proc.returncode, 0, proc.stderr.read().decode(errors="replace"))

    def test_slow_reader_shows_as_counted_loss(self):
        with tempfile.TemporaryDirectory() as d:
            target = os.path.join(d, "slow-target")
            open(target, "w").close()
            storm = Storm(target, 1, 4)
            proc = subprocess.Popen([tool_path("opensnoop"), "--json", "-p", str(storm.pid),
                                     "--buffer-size", "64K"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = proc.stderr.readline()
            while b"ready:" not in line and line:
                line = proc.stderr.readline()
            got = bytearray()
            rss = []
            storm.go()
            t_end = time.monotonic() + 8
            # Read 16 KiB every 50 ms: far slower than the storm.
            while time.monotonic() < t_end:
                if select.select([proc.stdout], [], [], 0.05)[0]:
                    got += os.read(proc.stdout.fileno(), 16384)
                rss.append(rss_kib(proc.pid) or 0)
                time.sleep(0.05)
            generated = storm.finish()
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=30)
            got += rest
            err = err.decode(errors="replace")
            self.assertEqual(proc.returncode, 0, err)
            lines = got.splitlines()
            recs = [json.loads(l) for l in lines]
            received = sum(1 for r in recs if r.get("type") == "open" and r.get("path") == target)
            summary = recs[-1]
            self.assertEqual(summary["type"], "summary")
            self.assertGreater(summary["lost"], 0)
            self.assertEqual(received + summary["lost"], generated)
            if not SANITIZED:
                self.assertLess(max(rss), 64 * 1024, f"RSS samples (KiB): {rss}")


class Soak(BpfTestCase):
    """A moderate, steady rate: RSS does not grow after warm-up."""

    SECONDS = int(os.environ.get("SNOOPKIT_SOAK_SECONDS", "60"))

    def test_rss_flat_under_steady_load(self):
        with tempfile.TemporaryDirectory() as d:
            target = os.path.join(d, "soak-target")
            open(target, "w").close()
            storm = Storm(target, 1, self.SECONDS, rate=2000)
            samples = []
            with Tool("opensnoop", "--json", "-p", storm.pid) as t:
                storm.go()
                end = time.monotonic() + self.SECONDS
                while time.monotonic() < end:
                    samples.append(rss_kib(t.pid))
                    time.sleep(1)
                generated = storm.finish()
                time.sleep(0.3)
            self.assertEqual(t.returncode, 0, t.stderr)
            recs = parse_json_lines(t.stdout)
            for rec in recs[:200] + recs[-1:]:
                validate_record(rec)
            received = sum(1 for r in recs if r["type"] == "open" and r["path"] == target)
            self.assertEqual(recs[-1]["type"], "summary")
            self.assertEqual(received + recs[-1]["lost"], generated)
            warm = [s for s in samples[len(samples) // 6:] if s]
            # After warm-up the footprint is flat: allow 1 MiB of allocator noise.
            if not SANITIZED:
                self.assertLess(max(warm) - min(warm), 1024, f"RSS samples (KiB): {samples}")


def btf_with_task_struct_members(type_id, src="/sys/kernel/btf/vmlinux"):
    """A copy of the kernel's BTF with every member type id of struct
    task_struct set to type_id: it parses, but the ids point nowhere."""
    import struct as st
    data = bytearray(open(src, "rb").read())
    _, _, _, hdr_len, type_off, type_len, str_off, _ = st.unpack_from("<HBBIIIII", data, 0)
    strings = hdr_len + str_off
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    trailer = {1: lambda v: 4, 3: lambda v: 12, 4: lambda v: 12 * v, 5: lambda v: 12 * v,
               6: lambda v: 8 * v, 13: lambda v: 8 * v, 14: lambda v: 4, 15: lambda v: 12 * v,
               17: lambda v: 4, 19: lambda v: 12 * v}
    found = 0
    while pos < end:
        name_off, info, _ = st.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        if kind == 4 and data[strings + name_off:].startswith(b"task_struct\0"):
            for i in range(vlen):
                st.pack_into("<I", data, pos + 12 + 12 * i + 4, type_id)
            found += 1
        pos += 12 + trailer.get(kind, lambda v: 0)(vlen)
    assert found == 1, f"{found} struct task_struct in {src}"
    return bytes(data)


class HostileFiles(BpfTestCase):
    """A --btf file that is corrupt, not BTF, or not a regular file: one
    error line, exit 1, promptly; never a crash or a hang."""

    def run_tool(self, *argv, timeout=30):
        res = subprocess.run([str(a) for a in argv], capture_output=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
        err = res.stderr.decode(errors="replace")
        self.assertEqual(res.returncode, 1, err)  # a signal would be negative
        self.assertEqual(res.stdout, b"")
        self.assertEqual(len([l for l in err.splitlines() if "error:" in l]), 1, err)
        return err

    def test_btf_with_member_ids_past_the_last_type(self):
        with tempfile.TemporaryDirectory() as d:
            evil = os.path.join(d, "evil.btf")
            with open(evil, "wb") as f:
                f.write(btf_with_task_struct_members(0x7ffffff0))
            for tool in ("exitsnoop", "runqlat"):
                with self.subTest(tool=tool):
                    err = self.run_tool(tool_path(tool), "--btf", evil, "-d", "1")
                    self.assertIn("is not valid BTF", err)
                    self.assertIn("refers to type 2147483632, past the last type", err)

    def test_fifo_as_btf_is_refused_at_once(self):
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "f")
            os.mkfifo(fifo)
            err = self.run_tool(tool_path("execsnoop"), "--btf", fifo, timeout=20)
            self.assertIn("is not a regular file (a FIFO)", err)

    def test_elf_without_btf_says_so(self):
        err = self.run_tool(tool_path("execsnoop"), "--btf", "/bin/true")
        self.assertIn("an ELF file without a .BTF section", err)
        self.assertNotIn("No such file", err)


if __name__ == "__main__":
    unittest.main()
