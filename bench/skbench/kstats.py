"""In-kernel cost per event, from the kernel's BPF run-time statistics
(kernel.bpf_stats_enabled): run_time_ns and run_cnt of a tracer's programs
as `bpftool -j prog show` reports them."""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

SYSCTL = Path("/proc/sys/kernel/bpf_stats_enabled")


@contextmanager
def enabled():
    """Turns the statistics on for the with-body, then restores the old value;
    yields False (and changes nothing) where the sysctl cannot be written.
    They cost every BPF program two clock reads per run, so the timing rounds
    run without them."""
    try:
        old = SYSCTL.read_text().strip()
        SYSCTL.write_text("1")
    except OSError as e:
        print(f"skbench: warning: cannot enable {SYSCTL} ({e}): no in-kernel cost figures",
              file=sys.stderr)
        yield False
        return
    try:
        yield True
    finally:
        SYSCTL.write_text(old)


def snapshot(prog_ids):
    """{prog id: (name, run_time_ns, run_cnt)} for the given programs."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True,
                         timeout=60).stdout
    return {p["id"]: (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out or b"[]") if p["id"] in prog_ids}


def per_event(before, after, events):
    """The programs' added run time per traced event, and runs per event
    (runs filtered out for other processes' calls are included)."""
    ns = sum(after[i][1] - before[i][1] for i in after if i in before)
    runs = sum(after[i][2] - before[i][2] for i in after if i in before)
    return {"programs": len(after), "run_time_ns": ns, "run_cnt": runs,
            "ns_per_event": round(ns / events, 1) if events else None,
            "runs_per_event": round(runs / events, 3) if events else None,
            "ns_per_run": round(ns / runs, 1) if runs else None}
