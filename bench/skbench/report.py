"""From trials to figures: medians per configuration, loss against offered
rate, the targets of the performance issue, and the outputs (markdown, JSON,
gnuplot plots)."""

import shutil
import statistics
import subprocess

from .tracers import BASELINE, BT_PIPE_LINEBUF, LBT_PIPE_LINEBUF, LIBBPF_TOOLS, OPEN_TRACERS, SNOOPKIT

CONFIGS = {c.key: c for c in [BASELINE, *OPEN_TRACERS, LBT_PIPE_LINEBUF, BT_PIPE_LINEBUF]}
SHORT = {"baseline": "baseline", "sk-text-null": "sk text >null", "sk-json-null": "sk json >null",
         "sk-text-pipe": "sk text |pipe", "sk-json-pipe": "sk json |pipe", "lbt-null": "libbpf-tools >null",
         "lbt-pipe": "libbpf-tools |pipe", "bpftrace-pipe": "bpftrace |pipe", "sk-json-jq": "sk json |jq",
         "lbt-jq": "libbpf-tools |jq"}
COLOUR = {SNOOPKIT: "0x4477aa", LIBBPF_TOOLS: "0xee6677", "bpftrace": "0x999933"}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _sum(values):
    values = list(values)
    return None if not values or any(v is None for v in values) else sum(values)


def _row(wl, cfg, trials, kernel_trials):
    ok = [t for t in trials if "error" not in t]
    row = {"workload": wl.key, "config": cfg.key, "label": cfg.label, "impl": cfg.impl, "fmt": cfg.fmt,
           "out": cfg.out, "trials": len(trials), "errors": [t["error"] for t in trials if "error" in t],
           "ns_per_op": _median(t.get("ns_per_op") for t in ok),
           "cpu_ns_per_op": _median(t.get("cpu_ns_per_op") for t in ok),
           "others_cpu_pct": _median(t.get("others_cpu_pct") for t in ok),
           "ns_per_op_range": [min(v), max(v)] if (v := [t["ns_per_op"] for t in ok if "ns_per_op" in t])
           else None,
           "generated": _sum(t["generated"] for t in ok) if ok else None}
    if cfg.impl is None:
        return row
    row.update({
        "received": _sum(t.get("received") for t in ok) if ok else None,
        "lost": _sum(t.get("lost") for t in ok) if ok else None,
        "ready_ms": _median(t.get("ready_ms") for t in ok),
        "rss_mb": _median(t["rss_kb"] / 1024 for t in ok if "rss_kb" in t),
        "cpu_s_per_mevent": _median(t.get("cpu_s_per_mevent") for t in ok),
        "exit_codes": sorted({t.get("exit_code") for t in ok}),
    })
    row["unaccounted"] = (row["generated"] - row["received"] - row["lost"]
                          if None not in (row["generated"], row["received"], row["lost"]) else None)
    if row["lost"] is not None and row["generated"]:
        row["lost_per_million"] = round(row["lost"] / row["generated"] * 1e6, 1)
    if cfg.impl == SNOOPKIT and cfg.fmt == "json" and cfg.out == "pipe":
        row["lost_inband"] = _sum(t.get("lost_inband") for t in ok) if ok else None
        row["lost_summary"] = _sum((t.get("summary") or {}).get("lost") for t in ok) if ok else None
    kt = [t["kernel"] for t in kernel_trials if "kernel" in t]
    if kt:
        row["kernel_ns_per_event"] = _median(k["ns_per_event"] for k in kt)
        row["kernel_runs_per_event"] = _median(k["runs_per_event"] for k in kt)
    return row


def loss_rate(trials):
    """The rate pass, one entry per trial: offered and achieved opens per
    second, and what the tracer lost at that rate. Ordered by configuration,
    then offered rate (unpaced last)."""
    order = list(CONFIGS)
    out = []
    for t in trials:
        if t.get("pass") != "rate":
            continue
        gen, lost = t.get("generated"), t.get("lost")
        out.append({"config": t["config"], "label": CONFIGS[t["config"]].label,
                    "impl": CONFIGS[t["config"]].impl, "offered_rate": t.get("offered_rate"),
                    "achieved_rate": t.get("achieved_rate"), "generated": gen, "received": t.get("received"),
                    "lost": lost, "lost_pct": round(lost / gen * 100, 3) if lost is not None and gen else None,
                    "unaccounted": t.get("unaccounted"), "cpu_s_per_mevent": t.get("cpu_s_per_mevent"),
                    "others_cpu_pct": t.get("others_cpu_pct"), "error": t.get("error")})
    out.sort(key=lambda r: (order.index(r["config"]), r["offered_rate"] == 0, r["offered_rate"] or 0))
    return out


def build(meta, trials, wls):
    """Everything results.json holds: meta, rows, latency, loss against
    offered rate, targets, trials."""
    timing = [t for t in trials if t.get("pass") == "timing"]
    rows = []
    for wl in wls:
        if wl.latency:
            continue
        base = base_cpu = None
        for cfg in wl.configs:
            mine = [t for t in timing if t["workload"] == wl.key and t["config"] == cfg.key]
            kern = [t for t in trials if t["workload"] == wl.key and t["config"] == cfg.key and "kernel" in t]
            row = _row(wl, cfg, mine, kern)
            if cfg.impl is None:
                base, base_cpu = row["ns_per_op"], row["cpu_ns_per_op"]
            rows.append(row)
        ref = next((r for r in rows if r["workload"] == wl.key and r["config"] == "lbt-pipe"), None)
        for r in rows:
            if r["workload"] != wl.key or r["impl"] is None:
                continue
            r["added_ns"] = r["ns_per_op"] - base if None not in (r["ns_per_op"], base) else None
            r["added_cpu_ns"] = (r["cpu_ns_per_op"] - base_cpu
                                 if None not in (r["cpu_ns_per_op"], base_cpu) else None)
        for key, ratio in (("added_ns", "added_vs_lbt"), ("added_cpu_ns", "added_cpu_vs_lbt")):
            ref_added = ref.get(key) if ref else None
            for r in rows:
                if r["workload"] == wl.key and r.get(key) is not None and ref_added:
                    r[ratio] = round(r[key] / ref_added, 3)

    latency = []
    for t in trials:
        if t.get("pass") == "latency":
            lat = t.get("latency") or {}
            latency.append({"config": t["config"], "label": CONFIGS[t["config"]].label,
                            "generated": t.get("generated"), "error": t.get("error"), **lat})

    readiness = {}
    for wl in wls:
        if wl.latency:
            continue
        for impl in (SNOOPKIT, LIBBPF_TOOLS, "bpftrace"):
            ms = [t["ready_ms"] for t in timing if t["workload"] == wl.key and "ready_ms" in t
                  and CONFIGS[t["config"]].impl == impl]
            d = readiness.setdefault(wl.tool, {}).setdefault(impl, [])
            d.extend(ms)
    readiness = {tool: {impl: {"median_ms": round(_median(v), 1) if v else None, "launches": len(v)}
                        for impl, v in d.items()} for tool, d in readiness.items()}
    results = {"meta": meta, "workloads": [{"key": w.key, "title": w.title, "tool": w.tool, "ops": w.ops,
                                            "configs": [c.key for c in w.configs]} for w in wls],
               "rows": rows, "latency": latency, "loss_rate": loss_rate(trials), "readiness": readiness,
               "trials": trials}
    results["targets"] = targets(results)
    return results


def _find(results, wl, cfg):
    return next((r for r in results["rows"] if r["workload"] == wl and r["config"] == cfg), {})


def _noise(results, wl):
    """The baseline's spread over rounds (max - min ns/op): an added cost
    below it cannot be told from drift or other load."""
    base = _find(results, wl, "baseline")
    rng = base.get("ns_per_op_range")
    return rng[1] - rng[0] if rng else None


def _ratio_target(sk, ref, noise, limit):
    """met/missed for added(sk) <= limit * added(ref); None when the
    reference's added cost does not stand out of the noise."""
    a, b = sk.get("added_ns"), ref.get("added_ns")
    if a is None or b is None:
        return None, "n/a"
    if b <= 0 or (noise is not None and b <= noise):
        return None, (f"not measurable in this run: libbpf-tools' added cost ({b:.0f} ns) is within the "
                      f"baseline's spread over rounds ({noise:.0f} ns)")
    return a <= limit * b, ""


def targets(results):
    """The issue's targets, each met (True), missed (False) or not measurable (None)."""
    out = []
    full = results["meta"]["mode"] == "full"

    def add(tid, text, met, value, detail=""):
        out.append({"id": tid, "target": text, "met": met, "value": value, "detail": detail})

    sk, lbt = _find(results, "open1", "sk-json-pipe"), _find(results, "open1", "lbt-pipe")
    ok = None not in (sk.get("added_ns"), lbt.get("added_ns"), sk.get("lost"))
    per_trial = [t for t in results["trials"] if t.get("pass") == "timing" and t["workload"] == "open1"
                 and t["config"] == "sk-json-pipe" and "error" not in t]
    big_enough = all(t["generated"] >= 1_000_000 for t in per_trial) and per_trial
    cost_ok, why = _ratio_target(sk, lbt, _noise(results, "open1"), 0.1)
    lossless = sk.get("lost") == 0 and sk.get("unaccounted") == 0 and (bool(big_enough) or not full)
    # Any loss is a miss on its own; otherwise the cost decides (or cannot be measured).
    met = False if ok and not lossless else (cost_ok if ok else None)
    add("open-1t", "opensnoop, 1 thread, --json to a pipe: added cost <= 1/10 of libbpf-tools', "
        "0 lost over >= 1,000,000 opens", met,
        f"{sk.get('added_ns', 0):.0f} ns vs {lbt.get('added_ns', 0):.0f} ns (ratio {sk.get('added_vs_lbt')}; "
        f"workload CPU time: ratio {sk.get('added_cpu_vs_lbt')}); lost {sk.get('lost')} of {sk.get('generated')}"
        if ok else "n/a",
        "; ".join(x for x in (why, "" if big_enough else "fewer than 1,000,000 opens per trial (smoke run)")
                  if x))

    sk2 = _find(results, "open2", "sk-json-pipe")
    if sk2.get("lost") is None:
        add("open-2t", "the same with 2 threads: 0 lost, or exact loss reported in-band and at exit", None, "n/a")
    else:
        exact = (sk2.get("unaccounted") == 0 and sk2.get("lost_inband") == sk2["lost"]
                 and sk2.get("lost_summary") == sk2["lost"])
        add("open-2t", "the same with 2 threads: 0 lost, or exact loss reported in-band and at exit",
            sk2["lost"] == 0 or exact,
            f"lost {sk2['lost']} of {sk2['generated']}; in-band {sk2.get('lost_inband')}, "
            f"summary {sk2.get('lost_summary')}, unaccounted {sk2.get('unaccounted')}; "
            f"added {sk2.get('added_ns', 0):.0f} ns vs libbpf-tools "
            f"{_find(results, 'open2', 'lbt-pipe').get('added_ns', 0):.0f} ns")

    ske, lbte = _find(results, "exec", "sk-json-pipe"), _find(results, "exec", "lbt-pipe")
    ok = None not in (ske.get("added_ns"), lbte.get("added_ns"))
    met, why = _ratio_target(ske, lbte, _noise(results, "exec"), 0.25)
    add("exec", "execsnoop, exec loop: added cost per exec <= 1/4 of libbpf-tools'", met,
        f"{ske['added_ns']:.0f} ns vs {lbte['added_ns']:.0f} ns (ratio {ske.get('added_vs_lbt')}; "
        f"workload CPU time: ratio {ske.get('added_cpu_vs_lbt')})" if ok else "n/a", why)

    for tool in ("opensnoop", "execsnoop"):
        rd = results["readiness"].get(tool, {})
        a, b = rd.get(SNOOPKIT, {}).get("median_ms"), rd.get(LIBBPF_TOOLS, {}).get("median_ms")
        add(f"ready-{tool}", f"{tool} readiness no slower than libbpf-tools' (median of launches)",
            a <= b if None not in (a, b) else None,
            f"{a} ms vs {b} ms ({rd.get(SNOOPKIT, {}).get('launches')} and "
            f"{rd.get(LIBBPF_TOOLS, {}).get('launches')} launches)")

    for tool, wl in (("opensnoop", "open1"), ("execsnoop", "exec")):
        sks = [r for r in results["rows"] if r["workload"] == wl and r["impl"] == SNOOPKIT and r.get("rss_mb")]
        ref = [r["rss_mb"] for r in results["rows"] if r["workload"] == wl and r["impl"] == LIBBPF_TOOLS
               and r.get("rss_mb")]
        worst = max(sks, key=lambda r: r["rss_mb"]) if sks else None
        refv = min(ref) if ref else None
        add(f"rss-{tool}", f"{tool} peak RSS at the default buffer size <= libbpf-tools'",
            worst["rss_mb"] <= refv if worst and refv else None,
            f"{worst['rss_mb']:.1f} MB (worst: {worst['config']}) vs {refv:.1f} MB" if worst and refv else "n/a")

    limit = results["meta"]["latency_ms"] + 10
    for cfg in ("sk-json-pipe", "sk-text-pipe"):
        lat = next((l for l in results["latency"] if l["config"] == cfg), {})
        p99 = lat.get("p99_ms")
        complete = lat.get("matched") == lat.get("generated")
        add(f"latency-{cfg}", f"p99 delivery latency <= --latency + 10 ms = {limit} ms ({cfg})",
            p99 <= limit and complete if p99 is not None else None,
            f"p50 {lat.get('p50_ms')} ms, p99 {p99} ms, max {lat.get('max_ms')} ms "
            f"({lat.get('matched')} of {lat.get('generated')} events)")
    return out


def _cell(text):
    """text for a markdown table cell (a label may hold a shell pipe)."""
    return text.replace("|", "\\|")


def _f(v, fmt="{:.0f}", none="–"):
    return none if v is None else fmt.format(v)


def markdown(results):
    m = results["meta"]
    mach = m["machine"]
    L = []
    L.append(f"# snoopkit benchmark ({m['mode']} run, {m['started']})\n")
    L.append(f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB; Linux "
             f"{mach['kernel']}; Debian {mach['debian']}. Compared: {mach['snoopkit']}, libbpf-tools "
             f"{mach['libbpf_tools']}, bpftrace {mach['bpftrace']}. Load average at start "
             f"{m['loadavg_start']}, at end {m['loadavg_end']}; run at nice {m.get('nice')}; "
             f"{m['duration_s']} s in all.\n")
    loads = [t["loadavg"][0] for t in results["trials"] if "loadavg" in t]
    if loads:
        L.append(f"1-minute load average when trials started: {min(loads):.2f} to {max(loads):.2f} "
                 f"(median {statistics.median(loads):.2f}) on {mach['cores']} cores.\n")
    p = m["plan"]
    L.append(f"Plan: {p['rounds']} timing round(s), configurations alternated (order reversed every other "
             f"round), medians shown; open loop {p['open_ops']:,} opens (2 threads: {p['open2_ops']:,} in "
             f"all; 4 threads: {p['open4_ops']:,}), exec loop {p['exec_ops']:,} execs per trial; in-kernel cost "
             + ("from a separate round with `kernel.bpf_stats_enabled=1` "
                f"({p['kstats_open_ops']:,} opens, {p['kstats_exec_ops']:,} execs)" if p["kstats"] == "separate"
                else "measured during the timing round(s)" if p["kstats"] == "inline" else "not measured")
             + f". Filters: opensnoop {m['filters']['opensnoop']}; execsnoop {m['filters']['execsnoop']}. "
             "The *jq* configurations pipe the tracer's output through `jq` before the reader (its CPU time "
             "counts as the benchmark's own).\n")
    L.append("Columns: **ns/op** the workload's wall-clock time per operation (per thread; for the "
             "baseline, the range over rounds in parentheses: added costs below that spread are noise); "
             "**added** = "
             "tracer minus baseline, the cost the traced program pays; **vs lbt** = added / "
             "libbpf-tools-to-a-pipe's added; **CPU ns/op** the workload's own CPU time per operation "
             "(user + system, so including the BPF programs that run in its syscalls, but not time spent "
             "waiting for a CPU: less sensitive to other load on the machine), with the added part and its "
             "ratio to libbpf-tools'; "
             "**generated / received / lost** summed over rounds, received = the workload's events that "
             "reached the reader (for snoopkit to /dev/null: the tool's own count; – when unknown), "
             "**unacc.** = generated − received − lost (0 = exact accounting); **ready** = launch to "
             "readiness; **RSS** = peak resident set of the tracer; **CPU** = tracer CPU seconds per "
             "million events while tracing; **kernel** = BPF run time per event and program runs per event; "
             "**others' CPU %** = CPU time of processes outside the benchmark during the run, as a share of "
             "the machine (median over rounds): high values mean the figures are disturbed.\n")
    for wl in results["workloads"]:
        if wl["key"] == "lat":
            continue
        L.append(f"## {wl['title']}\n")
        L.append("| configuration | ns/op | added ns/op | vs lbt | CPU ns/op (added, vs lbt) | generated | "
                 "received | lost | unacc. | ready ms | RSS MB | tracer CPU s/M ev | kernel ns/ev (runs) | "
                 "others' CPU % |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for r in results["rows"]:
            if r["workload"] != wl["key"]:
                continue
            err = f" **error: {_cell(r['errors'][0][:80])}**" if r["errors"] else ""
            if r["impl"] is None:
                rng = r.get("ns_per_op_range")
                spread = f" ({rng[0]:.0f}–{rng[1]:.0f})" if rng and len(set(rng)) > 1 else ""
                L.append(f"| {_cell(r['label'])}{err} | {_f(r['ns_per_op'])}{spread} | | | {_f(r['cpu_ns_per_op'])} | "
                         f"{_f(r['generated'], '{:,}')} | | | | | | | | {_f(r.get('others_cpu_pct'))} |")
                continue
            kern = (f"{_f(r.get('kernel_ns_per_event'))} ({_f(r.get('kernel_runs_per_event'), '{:.2f}')})"
                    if r.get("kernel_ns_per_event") is not None else "–")
            L.append(f"| {_cell(r['label'])}{err} | {_f(r['ns_per_op'])} | {_f(r.get('added_ns'))} | "
                     f"{_f(r.get('added_vs_lbt'), '{:.2f}')} | {_f(r.get('cpu_ns_per_op'))} "
                     f"({_f(r.get('added_cpu_ns'), '{:+.0f}')}, {_f(r.get('added_cpu_vs_lbt'), '{:.2f}')}) | "
                     f"{_f(r['generated'], '{:,}')} | "
                     f"{_f(r.get('received'), '{:,}')} | {_f(r.get('lost'), '{:,}')} | "
                     f"{_f(r.get('unaccounted'), '{:,}')} | {_f(r.get('ready_ms'))} | "
                     f"{_f(r.get('rss_mb'), '{:.1f}')} | {_f(r.get('cpu_s_per_mevent'), '{:.2f}')} | {kern} | "
                     f"{_f(r.get('others_cpu_pct'))} |")
        L.append("")
    if results["loss_rate"]:
        L.extend(_loss_rate_section(results))
    L.append(f"## Delivery latency (opensnoop, one open every 20 ms; snoopkit --latency {m['latency_ms']})\n")
    L.append("Syscall to line on the reader's stdin. libbpf-tools and bpftrace block-buffer stdout into a "
             "pipe by default; the *linebuf* rows (`stdbuf -oL`, `-B line`) show their transport alone.\n")
    L.append("| configuration | events | p50 ms | p99 ms | max ms |")
    L.append("|---|--:|--:|--:|--:|")
    for l in results["latency"]:
        err = f" **error: {_cell(l['error'][:80])}**" if l.get("error") else ""
        L.append(f"| {_cell(l['label'])}{err} | {_f(l.get('matched'))} of {_f(l.get('generated'))} | "
                 f"{_f(l.get('p50_ms'), '{:.1f}')} | {_f(l.get('p99_ms'), '{:.1f}')} | {_f(l.get('max_ms'), '{:.1f}')} |")
    L.append("")
    L.append("## Readiness (launch to attached; median over every launch above)\n")
    L.append("| tool | snoopkit | libbpf-tools | bpftrace |")
    L.append("|---|--:|--:|--:|")
    for tool, d in results["readiness"].items():
        cell = lambda i: f"{_f(d.get(i, {}).get('median_ms'))} ms (n={d.get(i, {}).get('launches', 0)})"
        L.append(f"| {tool} | {cell(SNOOPKIT)} | {cell(LIBBPF_TOOLS)} | {cell('bpftrace')} |")
    L.append("\nsnoopkit: its `ready:` line on stderr. libbpf-tools and bpftrace: the first time their poll "
             "loop blocks in `epoll_wait` (from /proc/PID/syscall, polled every 1 ms), which both reach "
             "only after attaching.\n")
    L.append("## Targets\n")
    L.append("| target | result | figures |")
    L.append("|---|---|---|")
    for t in results["targets"]:
        res = {True: "met", False: "**missed**", None: "n/a"}[t["met"]]
        extra = f" ({t['detail']})" if t["detail"] else ""
        L.append(f"| {t['target']} | {res} | {t['value']}{extra} |")
    L.append("")
    return "\n".join(L)


def _loss_rate_section(results):
    p = results["meta"]["plan"]
    L = ["## Loss against offered rate\n",
         f"The 2-thread open loop paced at each offered rate (opens per second over both threads, about "
         f"{p['rate_seconds']:g} s worth of opens; unpaced: {p['open2_ops']:,} opens flat out), one trial each. "
         "**achieved/s** = opens made / the workload's run time (below the offered rate when the workload "
         "cannot keep up under the tracer); **lost %** = lost / generated; **tracer CPU** = tracer CPU "
         "seconds per million events. Plot: `loss_rate.png`.\n",
         "| configuration | offered/s | achieved/s | generated | lost | lost % | tracer CPU s/M ev |",
         "|---|--:|--:|--:|--:|--:|--:|"]
    for r in results["loss_rate"]:
        err = f" **error: {_cell(r['error'][:80])}**" if r.get("error") else ""
        unacc = f" (unaccounted {r['unaccounted']:,})" if r.get("unaccounted") else ""
        L.append(f"| {_cell(r['label'])}{err} | {_f(r['offered_rate'], '{:,}') if r['offered_rate'] else 'unpaced'} | "
                 f"{_f(r.get('achieved_rate'), '{:,}')} | {_f(r.get('generated'), '{:,}')} | "
                 f"{_f(r.get('lost'), '{:,}')}{unacc} | {_f(r.get('lost_pct'), '{:.2f}')} | "
                 f"{_f(r.get('cpu_s_per_mevent'), '{:.2f}')} |")
    L.append("")
    return L


def plot(results, out):
    """added_ns.png: added ns per operation, one panel per workload. Returns
    the path, or None without gnuplot."""
    if not shutil.which("gnuplot"):
        return None
    wls = [w for w in results["workloads"] if w["key"] != "lat"]
    dat = out / "added_ns.dat"
    blocks = []
    for w in wls:
        lines = [f'"{SHORT.get(r["config"], r["config"])}" {r["added_ns"]:.1f} {COLOUR.get(r["impl"], "0x777777")}'
                 for r in results["rows"] if r["workload"] == w["key"] and r.get("added_ns") is not None]
        blocks.append("\n".join(lines or ['"none" 0 0x777777']))
    dat.write_text("\n\n\n".join(blocks) + "\n")
    png = out / "added_ns.png"
    mach = results["meta"]["machine"]
    script = [f'set terminal pngcairo size {480 * len(wls)},560 font "sans,10"', f'set output "{png}"',
              f'set multiplot layout 1,{len(wls)} title "added ns per traced operation (tracer minus '
              f'baseline, median of {results["meta"]["plan"]["rounds"]}) - {mach["cpu"]}, {mach["cores"]} '
              f'cores, Linux {mach["kernel"]}; blue snoopkit, red libbpf-tools, olive bpftrace"',
              "set style fill solid 0.85 border -1", "set boxwidth 0.7", "set xtics rotate by -35 left",
              "set grid ytics", "set key off", "set xzeroaxis", "set yrange [*<0:0<*]", "set bmargin 8", 'set format y "%.0f"',
              'set ylabel "added ns per operation"']
    for i, w in enumerate(wls):
        script.append(f'set title "{w["title"]}"')
        script.append(f'plot "{dat}" index {i} using 0:2:3:xtic(1) with boxes linecolor rgb variable, '
                      f'"" index {i} using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle')
    script.append("unset multiplot")
    return _gnuplot(script, png)


def _gnuplot(script, png):
    """Runs a gnuplot script that writes png; returns png, or None if it failed."""
    try:
        subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True,
                       capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return png


def plot_loss_rate(results, out):
    """loss_rate.png: lost % against achieved events per second, one line per
    configuration of the rate pass; a point is labelled with its offered rate
    when the workload kept it (the points where it could not crowd together
    at the traced workload's top speed). Returns the path, or None without
    gnuplot or rate trials."""
    if not shutil.which("gnuplot"):
        return None
    series = {}
    for r in results["loss_rate"]:
        if r.get("achieved_rate") is not None and r.get("lost_pct") is not None:
            rate = r["offered_rate"]
            kept = rate and r["achieved_rate"] >= 0.9 * rate
            offered = "" if not kept else f"{rate // 1000}k" if rate % 1000 == 0 else str(rate)
            series.setdefault(r["config"], []).append((r["achieved_rate"], r["lost_pct"], offered))
    if not series:
        return None
    dat = out / "loss_rate.dat"
    dat.write_text("\n\n\n".join("\n".join(f'{x} {y} "{o}"' for x, y, o in sorted(pts))
                                  for pts in series.values()) + "\n")
    png = out / "loss_rate.png"
    mach = results["meta"]["machine"]
    ymax = max(y for pts in series.values() for _, y, _ in pts)
    script = ['set terminal pngcairo size 900,600 font "sans,10"', f'set output "{png}"',
              f'set title "events lost against event rate (opensnoop, open loop, 2 threads), one trial per point;'
              f' label: offered rate, where kept\\n{mach["cpu"]}, {mach["cores"]} cores, Linux {mach["kernel"]}"',
              'set xlabel "achieved events per second (thousands)"', 'set ylabel "lost %"',
              "set grid", "set key below", "set xrange [0:*]", f"set yrange [0:{max(1.0, ymax * 1.15):.3f}]"]
    plots = []
    for i, key in enumerate(series):
        rgb = COLOUR.get(CONFIGS[key].impl, "0x777777")
        plots.append(f'"{dat}" index {i} using ($1/1000):2 with linespoints linewidth 2 pointtype 7 '
                     f'linecolor rgb "{rgb}" title "{CONFIGS[key].label}"')
        plots.append(f'"" index {i} using ($1/1000):2:3 with labels offset 0,{1 + i} font ",8" '
                     f'textcolor rgb "{rgb}" notitle')
    script.append("plot " + ", ".join(plots))
    return _gnuplot(script, png)
