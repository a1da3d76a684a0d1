"""Runtime tests for biosnoop: the real tool, real BPF, and real block I/O on
a loop device this test creates over a file in /tmp (and removes). A child
the test owns reads and writes that device with O_DIRECT, so each of its
4 KiB transfers is exactly one request at a known sector; the tool is
filtered to that disk (-d), and assertions are about the child's requests.

The loop helpers here are shared with test_biolatency.py."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import BpfTestCase, Tool, assert_no_bpf_left, bpf_snapshot, skip, tool_path

SECTOR = 512
IO_SIZE = 4096
WRITES, READS = 40, 25

# Prints its pid, waits for a line, then does its O_DIRECT transfers:
# ops {"op": "write"|"read", "offsets": [...]} on the device argv[2].
CHILD = r"""
import json, mmap, os, sys
ops, dev = json.loads(sys.argv[1]), sys.argv[2]
print(os.getpid(), flush=True)
sys.stdin.readline()
buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
buf.write(b"\xa5" * 4096)
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
for op in ops:
    for off in op["offsets"]:
        if op["op"] == "write":
            assert os.pwrite(fd, buf, off) == 4096
        else:
            assert os.preadv(fd, [buf], off) == 4096
os.close(fd)
"""


class LoopDevice:
    """A 16 MiB loop device over a file in /tmp: .path (/dev/loopN), .name."""

    def __init__(self, test):
        self.test = test
        if not shutil.which("losetup"):
            skip("losetup (util-linux) is not installed")

    def __enter__(self):
        if not os.path.exists("/dev/loop-control"):
            subprocess.run(["modprobe", "loop"], capture_output=True)
        self.dir = tempfile.mkdtemp(prefix="snoopkit-loop-")
        backing = Path(self.dir) / "disk.img"
        with open(backing, "wb") as f:
            f.truncate(16 << 20)
        res = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True,
                             text=True, timeout=30)
        if res.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            skip(f"cannot create a loop device here: {res.stderr.strip()}")
        self.path = res.stdout.strip()
        self.name = os.path.basename(self.path)
        try:
            major, minor = Path(f"/sys/block/{self.name}/dev").read_text().split(":")
            self.major, self.minor = int(major), int(minor)
            # udev may probe the new device: let that I/O finish before the test's.
            if shutil.which("udevadm"):
                subprocess.run(["udevadm", "settle", "-t", "5"], capture_output=True, timeout=10)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["losetup", "-d", self.path], capture_output=True, timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def offsets(first, n, stride=2 * IO_SIZE):
    return [first + i * stride for i in range(n)]


class BlockChild:
    """A gated child doing O_DIRECT I/O on a device; .pid known before it acts."""

    def __init__(self, test, device, ops):
        self.ops = ops
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", CHILD, json.dumps(ops), device],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/")
        test.addCleanup(self.kill)
        self.pid = int(self.proc.stdout.readline())

    def run(self, timeout=60):
        self.proc.communicate(b"go\n", timeout=timeout)
        if self.proc.returncode != 0:
            raise AssertionError(f"block child exited {self.proc.returncode}")

    def sectors(self, op):
        return sorted(off // SECTOR for o in self.ops if o["op"] == op for off in o["offsets"])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def standard_ops():
    return [{"op": "write", "offsets": offsets(0, WRITES)},
            {"op": "read", "offsets": offsets(IO_SIZE, READS)}]


class BiosnoopTest(BpfTestCase):

    def test_each_request_of_the_child(self):
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, standard_ops())
            with Tool("biosnoop", "--json", "-d", loop.name) as tool:
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        recs = tool.records("block_io")
        self.assertTrue(all(r["disk"] == loop.name for r in recs), "-d let another disk through")
        mine = [r for r in recs if r["pid"] == child.pid]
        writes = sorted(r["sector"] for r in mine if r["op"] == "write")
        reads = sorted(r["sector"] for r in mine if r["op"] == "read")
        self.assertEqual(writes, child.sectors("write"))
        self.assertEqual(reads, child.sectors("read"))
        for r in mine:
            self.assertEqual((r["bytes"], r["error"], r["comm"]),
                             (IO_SIZE, 0, os.path.basename(sys.executable)[:15]))
            self.assertEqual((r["dev_major"], r["dev_minor"]), (loop.major, loop.minor))
            self.assertGreater(r["latency_ns"], 0)
            self.assertEqual(r["rwbs"][0], "W" if r["op"] == "write" else "R")
            self.assertNotIn("queued_ns", r)
            # The submitter's task context: a host process, so its own pid
            # namespace numbers it as the host does, and it has no container.
            self.assertEqual(r["vpid"], child.pid)
            self.assertEqual(r["pidns"], os.stat("/proc/self/ns/pid").st_ino)
            self.assertEqual(r["mntns"], os.stat(f"/proc/{os.getpid()}/ns/mnt").st_ino)
            self.assertGreater(r["cgroup_id"], 0)
            self.assertNotIn("container", r)
        summary = tool.records("summary")[0]
        self.assertEqual(summary["printed"], len(recs))

    def test_pid_filter_and_queued_time(self):
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, standard_ops())
            other = BlockChild(self, loop.path, [{"op": "read", "offsets": offsets(0, 10)}])
            with Tool("biosnoop", "--json", "-Q", "-d", loop.name, "-p", child.pid) as tool:
                other.run()
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        recs = tool.records("block_io")
        self.assertEqual({r["pid"] for r in recs}, {child.pid})
        self.assertEqual(len(recs), WRITES + READS)
        self.assertTrue(all(r["queued_ns"] >= 0 for r in recs))

    def test_text_columns(self):
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, [{"op": "write", "offsets": offsets(IO_SIZE * 64, 3)}])
            with Tool("biosnoop", "-Q", "-d", loop.name) as tool:
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        lines = tool.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES",
                                            "QUE(ms)", "LAT(ms)"])
        mine = [l.split() for l in lines[1:] if l.split()[2:3] == [str(child.pid)]]
        self.assertEqual([int(f[5]) for f in mine], child.sectors("write"))
        for f in mine:
            self.assertRegex(f[0], r"^\d+\.\d{6}$")
            self.assertEqual((f[3], f[4][0], f[6]), (loop.name, "W", str(IO_SIZE)))
            self.assertRegex(f[7], r"^\d+\.\d{3}$")
            self.assertRegex(f[8], r"^\d+\.\d{3}$")
        # LAT(ms) is right-aligned under its header.
        self.assertTrue(all(len(l) == len(lines[0]) for l in lines[1:] if len(l.split()) == 9))

    def test_positional_duration(self):
        with LoopDevice(self) as loop:
            tool = Tool("biosnoop", "--json", "-d", loop.name, "1").start()
            try:
                self.assertEqual(tool.wait(10), 0, tool.stderr)
            finally:
                tool.kill()
        self.assertEqual(tool.records()[-1]["type"], "summary")
        self.assertIn("duration elapsed", tool.stderr)

    def test_unknown_disk_is_a_usage_error(self):
        res = subprocess.run([tool_path("biosnoop"), "-d", "no-such-disk"], capture_output=True,
                             timeout=10)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(b"no such disk", res.stderr)
        self.assertEqual(res.stdout, b"")

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        with Tool("biosnoop", "--json", "-Q") as tool:
            time.sleep(0.2)
        tool.assert_clean_exit(self)
        self.assertTrue(tool.held["prog"], tool.held)
        assert_no_bpf_left(self, before, tool.held)
