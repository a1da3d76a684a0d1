"""The benchmark suite still works: `bench/run.sh --smoke` (small counts, a
few seconds) writes results.md, results.json and the plot; every planned
configuration has figures; snoopkit's accounting is exact (generated =
received + lost, in every trial). This is a smoke test of the suite, not a
timed test: it never asserts on a timing, and a missed performance target is
not a failure here (docs/PERFORMANCE.md reports those)."""

import json
import numbers
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import BIN_DIR, SOURCE_DIR, require_bpf

RUN_SH = SOURCE_DIR / "bench" / "run.sh"
STATS = Path("/proc/sys/kernel/bpf_stats_enabled")
TIMEOUT_S = 600  # the smoke takes ~20 s; apt-get may add a first-time install


def is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_bpf()  # root, BTF, bpf(2); skips (fails under CI=true) otherwise
        cls.tmp = tempfile.TemporaryDirectory(prefix="skbench-smoke.")
        cls.out = Path(cls.tmp.name) / "results"
        mounts_before = Path("/proc/self/mounts").read_text()
        cls.stats_before = STATS.read_text().strip()
        # The snoopkit build is the test suite's (ctest runs after
        # scripts/setup.sh); run.sh only installs the reference tools if missing.
        cls.proc = subprocess.run(
            [str(RUN_SH), "--smoke", "--no-build", "--out", str(cls.out)],
            env=dict(os.environ, SNOOPKIT_BIN_DIR=str(BIN_DIR)),
            capture_output=True, text=True, timeout=TIMEOUT_S)
        cls.mounts_after = Path("/proc/self/mounts").read_text()
        cls.stats_after = STATS.read_text().strip()
        cls.mounts_before = mounts_before
        cls.results = None
        if (cls.out / "results.json").exists():
            cls.results = json.loads((cls.out / "results.json").read_text())

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        if self.results is None:
            self.fail(f"no results.json; run.sh exited {self.proc.returncode}:\n"
                      f"{self.proc.stderr[-4000:]}")

    def test_run_succeeded(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-4000:])

    def test_outputs_exist_and_parse(self):
        md = (self.out / "results.md").read_text()
        self.assertIn("| configuration |", md)
        self.assertIn("## Targets", md)
        png = (self.out / "added_ns.png").read_bytes()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"), "added_ns.png is not a PNG")
        for key in ("meta", "rows", "latency", "readiness", "targets", "trials"):
            self.assertIn(key, self.results)
        self.assertEqual(self.results["meta"]["mode"], "smoke")

    def test_loss_against_rate_has_figures(self):
        # The smoke runs the rate pass too: every point has its figures, and
        # the plot of lost % against the achieved rate exists.
        self.assertTrue(self.results["meta"]["plan"].get("rates"), "the smoke ran no rate pass")
        points = self.results.get("loss_rate") or []
        self.assertTrue(points, "no loss_rate figures")
        for p in points:
            self.assertFalse(p.get("error"), p)
            for key in ("achieved_rate", "lost_pct", "cpu_s_per_mevent"):
                self.assertIsInstance(p.get(key), (int, float), (key, p))
        png = (self.out / "loss_rate.png").read_bytes()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"), "loss_rate.png is not a PNG")

    def test_every_configuration_has_a_row_with_numbers(self):
        rows = {(r["workload"], r["config"]): r for r in self.results["rows"]}
        for wl in self.results["workloads"]:
            if wl["key"] == "lat":
                continue
            for cfg in wl["configs"]:
                with self.subTest(workload=wl["key"], config=cfg):
                    r = rows.get((wl["key"], cfg))
                    self.assertIsNotNone(r, "no row")
                    self.assertEqual(r["errors"], [], "a trial failed")
                    self.assertTrue(is_number(r["ns_per_op"]), r)
                    self.assertTrue(is_number(r["generated"]) and r["generated"] > 0, r)
                    if r["impl"] is None:
                        continue
                    keys = ["added_ns", "ready_ms", "rss_mb", "cpu_s_per_mevent", "lost"]
                    if self.results["meta"].get("kstats_available"):
                        keys.append("kernel_ns_per_event")
                    for key in keys:
                        self.assertTrue(is_number(r.get(key)), f"{key} is {r.get(key)!r}")
                    if r["out"] == "pipe" or r["impl"] == "snoopkit":
                        self.assertTrue(is_number(r.get("received")), r)
        lat = {l["config"]: l for l in self.results["latency"]}
        for cfg in ("sk-json-pipe", "sk-text-pipe", "lbt-pipe", "bpftrace-pipe"):
            with self.subTest(latency=cfg):
                self.assertIn(cfg, lat)
                self.assertIsNone(lat[cfg].get("error"))
                for key in ("p50_ms", "p99_ms", "max_ms"):
                    self.assertTrue(is_number(lat[cfg].get(key)), lat[cfg])
        for t in self.results["targets"]:
            self.assertIn(t["met"], (True, False, None), t)

    def test_snoopkit_accounting_is_exact(self):
        trials = [t for t in self.results["trials"] if t["config"].startswith("sk-")]
        self.assertTrue(trials)
        for t in trials:
            with self.subTest(workload=t["workload"], config=t["config"], trial_pass=t.get("pass")):
                self.assertNotIn("error", t)
                self.assertEqual(t["exit_code"], 0, t.get("stderr_tail"))
                self.assertEqual(t["generated"], t["received"] + t["lost"], t)
                self.assertEqual(t["unaccounted"], 0, t)
                if t["config"] == "sk-json-pipe":
                    # In-band loss records, the summary and the stderr line agree.
                    self.assertEqual(t["lost_inband"], t["lost"], t)
                    self.assertEqual(t["summary"]["lost"], t["lost"], t)
                    self.assertEqual(t["summary"]["printed"], t["received"], t)

    def test_no_mount_left_on_the_host(self):
        count = lambda text: sum(" tracefs " in line for line in text.splitlines())
        self.assertEqual(count(self.mounts_after), count(self.mounts_before))

    def test_bpf_stats_restored(self):
        # The smoke turns kernel.bpf_stats_enabled on for its run only.
        self.assertEqual(self.stats_after, self.stats_before)


if __name__ == "__main__":
    unittest.main()
