"""Runtime tests for biolatency: real block I/O on a loop device this test
creates (and removes), by a child that reads and writes it with O_DIRECT,
so the number of requests is known exactly. The tool is filtered to that
disk (-d) and, where the count must be exact, to the child (-p)."""

import subprocess
import time

from harness import BpfTestCase, Tool, assert_no_bpf_left, bpf_snapshot, tool_path
from test_biosnoop import READS, WRITES, BlockChild, LoopDevice, offsets, standard_ops


class BiolatencyTest(BpfTestCase):

    def check_buckets(self, rec):
        buckets = rec["buckets"]
        self.assertEqual(sum(b["count"] for b in buckets), rec["total"])
        for i, b in enumerate(buckets):
            self.assertEqual((b["low"], b["high"]), (0, 1) if i == 0 else (2 ** i, 2 ** (i + 1) - 1))

    def traced(self, *args, ops=None):
        """The child's I/O on a fresh loop device under biolatency -d DEV -p CHILD args."""
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, ops or standard_ops())
            with Tool("biolatency", "--json", "-d", loop.name, "-p", child.pid, *args) as tool:
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        return tool, loop

    def test_counts_every_request(self):
        tool, _ = self.traced()
        [rec] = tool.records("biolatency")
        self.check_buckets(rec)
        self.assertEqual(rec["unit"], "usecs")
        self.assertEqual(rec["total"], WRITES + READS)
        self.assertEqual(tool.records("summary")[0]["events"], WRITES + READS)

    def test_disk_filter_sees_only_that_disk(self):
        with LoopDevice(self) as loop, LoopDevice(self) as other:
            child = BlockChild(self, loop.path, standard_ops())
            noise = BlockChild(self, other.path, standard_ops())
            with Tool("biolatency", "--json", "-D", "-d", loop.name) as tool:
                noise.run()
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        recs = tool.records("biolatency")
        self.assertEqual([r["disk"] for r in recs], [loop.name])
        self.assertEqual((recs[0]["dev_major"], recs[0]["dev_minor"]), (loop.major, loop.minor))
        self.assertGreaterEqual(recs[0]["total"], WRITES + READS)

    def test_per_flags(self):
        tool, _ = self.traced("-F")
        recs = tool.records("biolatency")
        by_op = {}
        for r in recs:
            self.check_buckets(r)
            by_op[r["rwbs"][0]] = by_op.get(r["rwbs"][0], 0) + r["total"]
        self.assertEqual(by_op, {"W": WRITES, "R": READS})
        self.assertEqual(len({r["rwbs"] for r in recs}), len(recs), "one histogram per flag set")

    def test_milliseconds_and_queued(self):
        tool, _ = self.traced("-m", "-Q")
        [rec] = tool.records("biolatency")
        self.assertEqual(rec["unit"], "msecs")
        self.assertEqual(rec["total"], WRITES + READS)

    def test_interval_and_count_end_the_run(self):
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, standard_ops())
            tool = Tool("biolatency", "--json", "-d", loop.name, "-p", child.pid, "0.3", "3").start()
            child.run()
            try:
                self.assertEqual(tool.wait(20), 0, tool.stderr)
            finally:
                tool.kill()
        recs = tool.records()
        self.assertEqual([r["type"] for r in recs], ["biolatency"] * 3 + ["summary"])
        self.assertEqual(sum(r["total"] for r in recs[:3]), WRITES + READS)

    def test_text_per_disk(self):
        with LoopDevice(self) as loop:
            child = BlockChild(self, loop.path, [{"op": "write", "offsets": offsets(0, WRITES)}])
            with Tool("biolatency", "-D", "-T", "-d", loop.name, "-p", child.pid) as tool:
                child.run()
                time.sleep(0.2)
            tool.assert_clean_exit(self)
        lines = tool.stdout.decode().splitlines()
        [label] = [i for i, l in enumerate(lines) if l.endswith(f"disk = {loop.name}")]
        self.assertRegex(lines[label], r"^\d\d:\d\d:\d\d disk = ")
        self.assertEqual(lines[label - 1], "")
        self.assertRegex(lines[label + 1], r"^ {5}usecs {15}: count    distribution$")
        counts = [int(l.split(":")[1].split()[0]) for l in lines[label + 2:] if "->" in l]
        self.assertEqual(sum(counts), WRITES)

    def test_bad_arguments_are_usage_errors(self):
        for args in (["-d", "no-such-disk"], ["0"], ["1", "0"], ["nan"]):
            res = subprocess.run([tool_path("biolatency"), *args], capture_output=True, timeout=10)
            self.assertEqual(res.returncode, 2, f"{args}: {res.stderr}")
            self.assertEqual(res.stdout, b"")

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        with Tool("biolatency", "--json", "-D", "-F", "-Q") as tool:
            time.sleep(0.2)
        tool.assert_clean_exit(self)
        self.assertTrue(tool.held["prog"], tool.held)
        assert_no_bpf_left(self, before, tool.held)
