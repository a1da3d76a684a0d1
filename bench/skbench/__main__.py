"""python3 -m skbench --out DIR [--smoke] [options]: runs the benchmark and
writes DIR/results.md, DIR/results.json, DIR/added_ns.png and
DIR/loss_rate.png.

Passes, in order: timing rounds (every workload under every configuration,
the order reversed every other round so drift cancels), one round with the
kernel's BPF statistics on (in-kernel cost per event), the rate pass (the
2-thread open loop paced at each offered rate, snoopkit --json and
libbpf-tools to a pipe: loss against event rate), and one delivery latency
round (one open every 20 ms).
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import kstats, procinfo, report, trial
from .tracers import (ALL_TRACERS, BASELINE, BT_PIPE, BT_PIPE_LINEBUF, LBT_PIPE, LBT_PIPE_LINEBUF,
                      OPEN_TRACERS, SK_JSON_PIPE, SK_TEXT_PIPE, Workload)

BENCH = Path(__file__).resolve().parent.parent

# rates: the rate pass's offered opens per second over both threads (0: unpaced,
# open2_ops opens); each paced trial makes rate x rate_seconds opens.
FULL = dict(rounds=5, open_ops=1_000_000, open2_ops=1_000_000, open4_ops=1_000_000, exec_ops=10_000,
            lat_ops=150, kstats_open_ops=200_000, kstats_exec_ops=5_000, kstats="separate",
            rates=[50_000, 100_000, 200_000, 400_000, 800_000, 0], rate_seconds=2.0)
SMOKE = dict(rounds=1, open_ops=20_000, open2_ops=20_000, open4_ops=20_000, exec_ops=200, lat_ops=10,
             kstats_open_ops=0, kstats_exec_ops=0, kstats="inline", rates=[20_000, 50_000], rate_seconds=0.2)
OPTION_TYPES = {"kstats": str, "rate_seconds": float,
                "rates": lambda s: [0 if r == "unpaced" else int(r) for r in s.split(",") if r]}


@dataclass
class Env:
    snoopkit_bin: str
    withtracefs: str
    linereader: str
    workdir: str
    cgroup_root: str | None
    latency_ms: int = 50  # snoopkit's default --latency


def cgroup2_root():
    """Where a cgroup v2 hierarchy is mounted, if anywhere."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        f = line.split()
        if len(f) > 2 and f[2] == "cgroup2":
            return f[1]
    return None


def workloads(env, open_ops, open2_ops, open4_ops, exec_ops):
    """The timed workloads, each with every configuration (the open loops
    also through jq)."""
    b = f"{BENCH}/build"
    target = f"{env.workdir}/skb-open-target"
    token = f"skbench-exec-{os.getpid()}"
    return [
        Workload("open1", "opensnoop", [f"{b}/openloop", "-n", str(open_ops), target], open_ops, target,
                 "opensnoop, open loop, 1 thread", [BASELINE] + OPEN_TRACERS),
        Workload("open2", "opensnoop", [f"{b}/openloop", "-t", "2", "-n", str(open2_ops), target],
                 open2_ops, target, "opensnoop, open loop, 2 threads", [BASELINE] + OPEN_TRACERS),
        Workload("open4", "opensnoop", [f"{b}/openloop", "-t", "4", "-n", str(open4_ops), target],
                 open4_ops, target, "opensnoop, open loop, 4 threads", [BASELINE] + OPEN_TRACERS),
        Workload("exec", "execsnoop", [f"{b}/execloop", "-n", str(exec_ops), token], exec_ops, token,
                 "execsnoop, exec loop (vfork + exec /bin/true)", [BASELINE] + ALL_TRACERS),
    ]


def rate_workloads(env, rates, seconds, unpaced_ops):
    """The rate pass: the 2-thread open loop paced at each offered rate (opens
    per second over both threads; 0: unpaced, unpaced_ops opens), about
    `seconds` worth of opens each, under snoopkit --json and libbpf-tools to
    a pipe. Every one is keyed "rate", so --workloads selects them together."""
    target = f"{env.workdir}/skb-open-target"
    wls = []
    for rate in rates:
        ops = max(2, round(rate * seconds)) if rate else unpaced_ops
        pace = ["-r", str(rate)] if rate else []
        title = f"{rate:,} opens/s offered" if rate else "unpaced"
        wls.append(Workload("rate", "opensnoop",
                            [f"{BENCH}/build/openloop", "-t", "2", *pace, "-n", str(ops), target], ops, target,
                            f"opensnoop, open loop, 2 threads, {title}", [SK_JSON_PIPE, LBT_PIPE], rate=rate))
    return wls


def latency_workload(env, n):
    """n opens 20 ms apart, read by pipe configurations only."""
    return Workload("lat", "opensnoop",
                    [f"{BENCH}/build/openloop", "--lat", "-n", str(n), "-i", "20", env.workdir], n,
                    "skb-lat-", "opensnoop, one open every 20 ms (delivery latency)",
                    [SK_TEXT_PIPE, SK_JSON_PIPE, LBT_PIPE, LBT_PIPE_LINEBUF, BT_PIPE, BT_PIPE_LINEBUF],
                    latency=True)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def describe(r):
    if "error" in r:
        return f"ERROR {r['error']}"
    parts = []
    if "ns_per_op" in r:
        parts.append(f"{r['ns_per_op']:.0f} ns/op")
    if "achieved_rate" in r:
        parts.append(f"{r['achieved_rate']:,}/s")
    if "ready_ms" in r:
        parts.append(f"ready {r['ready_ms']:.0f} ms")
    if r.get("received") is not None:
        parts.append(f"recv {r['received']}")
    if r.get("lost") is not None:
        parts.append(f"lost {r['lost']}")
    if "rss_kb" in r:
        parts.append(f"rss {r['rss_kb'] / 1024:.1f} MB")
    if "latency" in r:
        parts.append(f"lat p50 {r['latency'].get('p50_ms')} p99 {r['latency'].get('p99_ms')} ms")
    if "kernel" in r:
        parts.append(f"kernel {r['kernel']['ns_per_event']} ns/ev")
    return ", ".join(parts)


def run_pass(env, wls, rounds, trials, pass_name, with_kstats=False):
    for rnd in range(rounds):
        for wl in wls:
            order = wl.configs if rnd % 2 == 0 else list(reversed(wl.configs))
            for cfg in order:
                r = trial.run(env, wl, cfg, rnd, with_kstats)
                r["pass"] = pass_name
                trials.append(r)
                log(f"{pass_name} r{rnd} {wl.key:5} {cfg.key:22} {describe(r)}")


def run_rate_pass(env, wls, trials):
    """One trial per offered rate and configuration; the order of the
    configurations is reversed at every other rate."""
    for i, wl in enumerate(wls):
        for cfg in wl.configs if i % 2 == 0 else list(reversed(wl.configs)):
            r = trial.run(env, wl, cfg, 0)
            r["pass"] = "rate"
            trials.append(r)
            log(f"rate {wl.rate or 'unpaced':>9} {cfg.key:22} {describe(r)}")


def main():
    ap = argparse.ArgumentParser(prog="skbench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="results directory (created)")
    ap.add_argument("--smoke", action="store_true", help="a few seconds, small counts (CI)")
    ap.add_argument("--snoopkit-bin", default=str(BENCH.parent / "build"))
    ap.add_argument("--workloads", help="comma-separated subset of open1,open2,open4,exec,rate,lat")
    ap.add_argument("--configs", help="comma-separated subset of configuration keys, e.g. "
                    "baseline,sk-json-pipe,lbt-pipe")
    for k in FULL:
        ap.add_argument("--" + k.replace("_", "-"), default=None, type=OPTION_TYPES.get(k, int),
                        help="offered opens/s, comma-separated (0 or unpaced: flat out)" if k == "rates" else None)
    a = ap.parse_args()
    plan = dict(SMOKE if a.smoke else FULL)
    for k in plan:
        if getattr(a, k) is not None:
            plan[k] = getattr(a, k)
    if plan["kstats"] not in ("separate", "inline", "off"):
        ap.error("--kstats is separate, inline or off")
    if any(r < 0 for r in plan["rates"]) or plan["rate_seconds"] <= 0:
        ap.error("--rates are opens per second (0: unpaced); --rate-seconds is positive")
    if os.geteuid() != 0:
        ap.error("the benchmark loads BPF programs: run it as root")
    # SIGTERM unwinds like Ctrl-C: children killed, sysctl restored, cgroups removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="skb.")
    env = Env(a.snoopkit_bin, f"{BENCH}/build/withtracefs", f"{BENCH}/build/linereader", workdir,
              cgroup2_root())
    Path(f"{workdir}/skb-open-target").write_text("opened by the snoopkit benchmark\n")
    meta = {"mode": "smoke" if a.smoke else "full", "plan": plan, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": procinfo.machine(env.snoopkit_bin), "loadavg_start": procinfo.loadavg(),
            "filters": {"opensnoop": "pid (-p PID; bpftrace: pid == PID)",
                        "execsnoop": "cgroup v2 directory of the workload (-c; bpftrace: cgroup == cgroupid())"
                        if env.cgroup_root else "parent pid (snoopkit -P); libbpf-tools unfiltered"},
            "latency_ms": env.latency_ms, "nice": os.getpriority(os.PRIO_PROCESS, 0)}
    log(f"benchmark ({meta['mode']}): {plan}; load {meta['loadavg_start']}")
    t0 = time.monotonic()
    trials = []
    wanted_wl = set(a.workloads.split(",")) if a.workloads else None
    wanted_cfg = set(a.configs.split(",")) if a.configs else None

    def select(wls):
        wls = [w for w in wls if wanted_wl is None or w.key in wanted_wl]
        for w in wls:
            w.configs = [c for c in w.configs if wanted_cfg is None or c.key in wanted_cfg]
        return [w for w in wls if w.configs]

    try:
        wls = select(workloads(env, plan["open_ops"], plan["open2_ops"], plan["open4_ops"], plan["exec_ops"]))
        if plan["kstats"] == "inline":
            with kstats.enabled() as on:
                meta["kstats_available"] = on
                run_pass(env, wls, plan["rounds"], trials, "timing", with_kstats=on)
        else:
            run_pass(env, wls, plan["rounds"], trials, "timing")
        if plan["kstats"] == "separate":
            kw = [w for w in workloads(env, plan["kstats_open_ops"], 0, 0, plan["kstats_exec_ops"])
                  if w.key in ("open1", "exec")]
            for w in kw:
                w.configs = [c for c in w.configs if c.impl is not None]
            kw = select(kw)
            with kstats.enabled() as on:
                meta["kstats_available"] = on
                if on:
                    run_pass(env, kw, 1, trials, "kstats", with_kstats=True)
        rate_wls = select(rate_workloads(env, plan["rates"], plan["rate_seconds"], plan["open2_ops"]))
        run_rate_pass(env, rate_wls, trials)
        lat = select([latency_workload(env, plan["lat_ops"])])
        run_pass(env, lat, 1, trials, "latency")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["loadavg_end"] = procinfo.loadavg()
    meta["duration_s"] = round(time.monotonic() - t0, 1)
    results = report.build(meta, trials, wls + lat)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(report.markdown(results))
    plots = [p for p in (report.plot(results, out), report.plot_loss_rate(results, out)) if p]
    log(f"done in {meta['duration_s']} s: {out}/results.md, results.json"
        + "".join(f", {p.name}" for p in plots))
    failed = [t for t in trials if "error" in t]
    if failed:
        log(f"{len(failed)} trial(s) failed; see results.json")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
