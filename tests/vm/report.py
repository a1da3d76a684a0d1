"""The matrix as data (matrix.json) and as Markdown, and the generated part
of docs/COMPATIBILITY.md.

One row per kernel: where it ran, what it offers (BTF, ring buffer, kprobes,
fentry), and a verdict. One row per kernel and tool: the hook chosen for
each hook point, the transport, and the tests' outcomes per transport pass.
"""

import re

BEGIN = "<!-- BEGIN GENERATED MATRIX: tests/vm/run_matrix.py writes this part; do not edit by hand -->"
END = "<!-- END GENERATED MATRIX -->"


def counts(tests):
    c = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    for t in tests:
        c[t["outcome"]] = c.get(t["outcome"], 0) + 1
    return c


def tool_of(module, tools):
    name = module.removeprefix("test_")
    return name if name in tools else None


def kernel_row(label, where, boot, facts=None, package="", version="", config=None, seconds=None):
    """Gathers one kernel's results (from a vm.Boot or the host run) into a row."""
    results = boot.results if boot else []
    row = {"label": label, "where": where, "package": package, "version": version,
           "config": config or {}, "facts": facts or {}, "probes": [], "modules": [],
           "status": "", "reason": "", "seconds": seconds,
           "boot_seconds": getattr(boot, "boot_seconds", None)}
    for r in results:
        kind = r.pop("kind", None)
        if kind == "kernel":
            row["facts"] = r
        elif kind == "probe":
            row["probes"].append(normalize_probe(r))
        elif kind == "module":
            row["modules"].append(r)
        elif kind == "crash":
            row["reason"] = "guest suite crashed: " + r.get("detail", "")[-300:]
    row["release"] = row["facts"].get("release", "")
    drop_inapplicable_perf_passes(row)
    return row


def drop_inapplicable_perf_passes(row):
    """The forced --perf-buffer pass means nothing for a tool with no event
    transport to switch (histogram tools, bpfload): guest.py no longer runs
    it, and rows of earlier runs drop it by the same rule."""
    transports = {p["tool"]: p.get("transport") for p in row["probes"] if p["requested"] == "default"}
    row["modules"] = [m for m in row["modules"] if not (
        m["transport"] == "perf" and m["module"].removeprefix("test_") in transports and
        transports[m["module"].removeprefix("test_")] not in ("ring buffer", "perf buffer"))]


def judge(row, run_status):
    """Sets row status: pass, fail, or skip (the kernel could not be tried)."""
    row["run_status"] = run_status
    problems = []
    if run_status != "done":
        problems.append(f"VM run {run_status}")
    for p in row["probes"]:
        if not p.get("ok"):
            problems.append(f"{p['tool']} ({p['requested']}) did not start")
    total = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    for m in row["modules"]:
        c = counts(m["tests"])
        for k in total:
            total[k] += c.get(k, 0)
        if m.get("exit") not in (0, 77) and not (c["fail"] or c["error"]):
            problems.append(f"{m['module']} ({m['transport']}) exit {m.get('exit')} "
                            f"{m.get('error', '')}".strip())
    if total["fail"] or total["error"]:
        problems.append(f"{total['fail'] + total['error']} test(s) failed")
    if run_status == "done" and not total["pass"] and not problems:
        problems.append("no test passed")
    row["totals"] = total
    if problems:
        row["status"] = "fail"
        row["reason"] = "; ".join(problems + ([row["reason"]] if row["reason"] else []))
    else:
        row["status"] = "pass"
    return row


def rejudge(row):
    """A row of an earlier matrix.json, judged again by today's rules."""
    if row["status"] == "skip" or not row.get("facts"):
        return row
    for p in row["probes"]:
        normalize_probe(p)
    drop_inapplicable_perf_passes(row)
    row["reason"] = ""
    return judge(row, row.get("run_status", "done"))


def skipped_row(label, where, reason, package=""):
    return {"label": label, "where": where, "package": package, "version": "", "config": {},
            "facts": {}, "probes": [], "modules": [], "status": "skip", "reason": reason,
            "release": "", "seconds": None, "boot_seconds": None,
            "totals": {"pass": 0, "fail": 0, "error": 0, "skip": 0}}


# --- Markdown ---

def _yn(v):
    return "yes" if v is True else "no" if v is False else "?"


def _outcome(c):
    ran = c["pass"] + c["fail"] + c["error"]
    s = f"{c['pass']}/{ran} passed"
    if c["skip"]:
        s += f", {c['skip']} skipped"
    return s


def _cell(text, limit=300):
    text = " ".join(str(text).split()).replace("|", "\\|")
    return (text[:limit - 3] + "...") if len(text) > limit else text


def _kernel_name(row):
    rel = row.get("release") or row["label"]
    return f"{rel} ({row['where']})" if row["where"] == "host" else rel


def normalize_probe(p):
    """A probe that ended in a usage error (exit 2: the tool needs arguments,
    or has no --perf-buffer) says nothing about the kernel: not applicable."""
    if p.get("exit") == 2 and not p.get("transport") and p.get("applicable") is not False:
        last = (p.get("error") or "").strip().splitlines()[-1:] or [""]
        p.update(ok=True, applicable=False, note="not started here: " + last[0][:200])
    return p


def tool_rows(row, tools):
    """Per tool: hooks per hook point, transports, and outcomes per transport pass."""
    out = []
    for tool in tools:
        probes = {p["requested"]: p for p in row["probes"] if p["tool"] == tool}
        dflt, perf = probes.get("default", {}), probes.get("perf buffer", {})
        passes = {}
        for m in row["modules"]:
            if tool_of(m["module"], tools) == tool:
                c = passes.setdefault(m["transport"], {"pass": 0, "fail": 0, "error": 0, "skip": 0})
                for k, v in counts(m["tests"]).items():
                    c[k] += v
        hooks = ", ".join(f"{k}={v}" for k, v in dflt.get("hooks", {}).items()) or "-"
        transport = dflt.get("transport", "did not start")
        if dflt.get("applicable") is False:
            hooks, transport = _cell(dflt.get("note", ""), 120), "-"
        if perf.get("applicable") is not False:
            transport += "; perf buffer: " + ("yes" if perf.get("ok") else "FAILED")
        bad = (not dflt.get("ok") or not perf.get("ok") or
               any(c["fail"] or c["error"] for c in passes.values()))
        untested = not any(c["pass"] for c in passes.values())
        out.append({"tool": tool, "hooks": hooks, "transport": transport,
                    "default": _outcome(passes["default"]) if "default" in passes else "not run",
                    "perf": _outcome(passes["perf"]) if "perf" in passes else "not run",
                    "result": "FAIL" if bad else "starts (no tests here)" if untested else "pass"})
    return out


def markdown(matrix):
    tools = matrix["tools"]
    L = [f"Generated {matrix['generated']} by `tests/vm/run_matrix.py"
         f"{' --ci' if matrix['mode'] == 'ci' else ''}` "
         f"({matrix['mode']} mode: {matrix['mode_note']}).", ""]
    L += ["### Kernels", "",
          "| kernel | package | ran on | BTF | ring buffer | raw tracepoints | kprobes | fentry | "
          "time (boot) | result |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in matrix["kernels"]:
        f = r["facts"]
        pkg = f"`{r['package']}` {r['version']}".strip() if r["package"] else "-"
        t = "-" if r["seconds"] is None else f"{r['seconds']:.0f} s" + (
            f" ({r['boot_seconds']:.0f} s)" if r.get("boot_seconds") is not None else "")
        verdict = {"pass": "pass", "fail": "**FAIL**", "skip": "SKIP"}[r["status"]]
        if r["status"] != "pass" and r["reason"]:
            verdict += ": " + _cell(r["reason"])
        if not r["facts"]:
            L.append(f"| {r['label']} | {pkg} | {r['where']} | | | | | | - | {verdict} |")
            continue
        L.append(f"| {_kernel_name(r)} | {pkg} | {r['where']} | {_yn(f.get('btf'))} | "
                 f"{_yn(f.get('ring_buffer'))} | {_yn(f.get('raw_tracepoint'))} | "
                 f"{_yn(f.get('kprobes'))} | {_yn(f.get('fentry'))} | {t} | {verdict} |")
    L += ["", "### Hooks and tests per tool", "",
          "| kernel | tool | hook chosen per hook point | transport | tests (default transport) "
          "| tests (perf buffer pass) | result |",
          "|---|---|---|---|---|---|---|"]
    for r in matrix["kernels"]:
        if r["status"] == "skip" or not r["facts"]:
            L.append(f"| {r['label']} | all | {r['status'].upper()}: {_cell(r['reason'], 200)} | | | | "
                     f"{r['status'].upper()} |")
            continue
        for t in tool_rows(r, tools):
            L.append(f"| {_kernel_name(r)} | {t['tool']} | {t['hooks']} | {t['transport']} | "
                     f"{t['default']} | {t['perf']} | {t['result']} |")
        others = [m for m in r["modules"] if not tool_of(m["module"], tools)]
        for m in others:
            c = counts(m["tests"])
            L.append(f"| {_kernel_name(r)} | ({m['module']}) | | | {_outcome(c)} | | "
                     f"{'FAIL' if c['fail'] or c['error'] or m.get('exit') not in (0, 77) else 'pass'} |")
    L += failing_tests(matrix)
    return "\n".join(L) + "\n"


def _why(detail):
    """The exception line of a traceback and the two lines after it."""
    lines = [l.strip() for l in detail.strip().splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit)\b", l):
            return _cell(" / ".join(lines[i:i + 3]), 240)
    return _cell(lines[-1], 240) if lines else ""


def failing_tests(matrix):
    """Each failing test once, with the kernels it fails and passes on: a
    test that fails only on some kernels is what the matrix is for."""
    seen = {}  # (test id, transport) -> {"fail": [kernels], "pass": [kernels], "why": str}
    for r in matrix["kernels"]:
        for m in r["modules"]:
            for t in m["tests"]:
                e = seen.setdefault((t["id"], m["transport"]), {"fail": [], "pass": [], "why": ""})
                if t["outcome"] in ("fail", "error"):
                    e["fail"].append(_kernel_name(r))
                    e["why"] = e["why"] or _why(t["detail"])
                elif t["outcome"] == "pass":
                    e["pass"].append(_kernel_name(r))
    failing = [(k, e) for k, e in seen.items() if e["fail"]]
    if not failing:
        return []
    # Kernel-specific failures first: they are what a single-kernel run misses.
    failing.sort(key=lambda ke: (not ke[1]["pass"], ke[0]))
    L = ["", "### Failing tests", "",
         "| test | transport | fails on | passes on | last line of the failure |", "|---|---|---|---|---|"]
    for (tid, transport), e in failing[:80]:
        L.append(f"| `{tid}` | {transport} | {', '.join(e['fail'])} | "
                 f"{', '.join(e['pass']) or '-'} | {e['why']} |")
    return L


def update_doc(path, generated_md):
    """Replaces the text between the markers in path; returns True if it changed."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: the markers {BEGIN!r} / {END!r} are missing")
    new = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END),
                 lambda _: BEGIN + "\n\n" + generated_md + "\n" + END, text, flags=re.S)
    if new != text:
        with open(path + ".tmp", "w") as f:
            f.write(new)
        import os
        os.replace(path + ".tmp", path)
    return new != text
