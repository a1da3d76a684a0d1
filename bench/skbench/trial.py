"""One trial: a workload, alone or under one tracer configuration, from the
tracer's launch to its exit, with everything measured on the way."""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

from . import kstats, procinfo
from .tracers import SNOOPKIT, Target, argv, parse_counts, ready_by_signal

READY_TIMEOUT_S = 60
IDLE_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 30


class TrialError(Exception):
    pass


class _StderrReader(threading.Thread):
    """Collects a tracer's stderr; notes when "ready:" arrives."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines, self.ready_ns = stream, [], None
        self.ready = threading.Event()

    def run(self):
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if self.ready_ns is None and "ready:" in line:
                self.ready_ns = time.monotonic_ns()
                self.ready.set()
            self.lines.append(line)

    @property
    def text(self):
        return "".join(self.lines)


def _wait_ready(proc, by_signal, err, t_launch):
    """Waits until the tracer is attached; returns (ready_ms, epoll_ms)."""
    epoll_ns = None
    deadline = t_launch + READY_TIMEOUT_S * 1e9
    while True:
        now = time.monotonic_ns()
        if epoll_ns is None and procinfo.in_epoll_wait(proc.pid):
            epoll_ns = now
        if by_signal and err.ready.is_set() and epoll_ns is not None:
            break
        if not by_signal and epoll_ns is not None:
            break
        if proc.poll() is not None:
            raise TrialError(f"tracer exited with {proc.returncode} before it was ready")
        if now > deadline:
            raise TrialError(f"tracer not ready after {READY_TIMEOUT_S} s")
        time.sleep(0.001)
    ready_ns = err.ready_ns if by_signal else epoll_ns
    return (ready_ns - t_launch) / 1e6, (epoll_ns - t_launch) / 1e6


def _wait_idle(pid):
    """Waits until the tracer has caught up: blocked in its poll loop and
    using under 2% of a CPU over 100 ms (timers may still wake it)."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    prev = procinfo.cpu_ns(pid)
    quiet = 0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        cur = procinfo.cpu_ns(pid)
        quiet = quiet + 1 if cur - prev < 1_000_000 and procinfo.in_epoll_wait(pid) else 0
        prev = cur
        if quiet >= 2:
            return
    raise TrialError(f"tracer still busy {IDLE_TIMEOUT_S} s after the workload ended")


def _wait4(pid, timeout):
    """Reaps pid; returns (exit code, rusage); SIGKILLs it after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            return os.waitstatus_to_exitcode(status), ru
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.005)


def _parse_reader(path):
    """The reader's output: matched count, non-event lines, stamped lines."""
    matched, other, stamped = None, [], []
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"linereader: matched (\d+) other (\d+) bytes (\d+)$", line)
            if m:
                matched = int(m.group(1))
            elif re.match(r"\d+ ", line) and "skb-lat-" in line:
                stamped.append(line)
            else:
                other.append(line)
    return matched, other, stamped


def _latency(stamped, t_ns):
    """Delivery latency of each workload open, matched by its file name."""
    seen = {}
    for line in stamped:
        stamp, rest = line.split(" ", 1)
        m = re.search(r"skb-lat-(\d+)", rest)
        if m and int(m.group(1)) not in seen and int(m.group(1)) < len(t_ns):
            seen[int(m.group(1))] = (int(stamp) - t_ns[int(m.group(1))]) / 1e6
    lat = sorted(seen.values())
    if not lat:
        return {"matched": 0}
    pick = lambda q: lat[min(len(lat) - 1, max(0, int(round(q * len(lat) + 0.5)) - 1))]
    return {"matched": len(lat), "p50_ms": round(pick(0.50), 2), "p99_ms": round(pick(0.99), 2),
            "max_ms": round(lat[-1], 2)}


def run(env, workload, config, round_no, with_kstats=False):
    """Runs one trial; returns its measurements as a dict (with "error" set
    when something failed, so one broken tracer does not end the suite)."""
    res = {"workload": workload.key, "config": config.key, "round": round_no,
           "loadavg": procinfo.loadavg()}
    if workload.rate is not None:
        res["offered_rate"] = workload.rate
    procs = []
    try:
        _run(env, workload, config, res, procs, with_kstats)
    except (TrialError, OSError, ValueError, subprocess.SubprocessError) as e:
        res["error"] = str(e)
    finally:
        for p in procs:  # only our own children, by pid
            if p.poll() is None:
                p.kill()
                p.wait()
        if res.get("cgroup"):
            _rmdir_cgroup(res["cgroup"])
    return res


def _rmdir_cgroup(path):
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


def _run(env, workload, config, res, procs, with_kstats):
    w = subprocess.Popen(workload.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    procs.append(w)
    target = Target(w.pid)
    if workload.tool == "execsnoop" and env.cgroup_root:
        cg = os.path.join(env.cgroup_root, f"skbench-{os.getpid()}-{workload.key}-{time.monotonic_ns()}")
        os.mkdir(cg)
        res["cgroup"] = cg
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(w.pid))
        target = Target(w.pid, cg)

    tracer = through = reader = err = None
    if config.impl is not None:
        if config.through and not shutil.which(config.through[0]):
            raise TrialError(f"{config.through[0]} not found (bench/run.sh installs it): {config.key} pipes "
                             f"the tracer's output through `{' '.join(config.through)}`")
        cmd = argv(config, workload.tool, target, env)
        res["argv"] = cmd
        t_launch = time.monotonic_ns()
        tracer = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL if config.out == "null" else subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        procs.append(tracer)
        err = _StderrReader(tracer.stderr)
        err.start()
        reader_out = os.path.join(env.workdir, f"reader-{workload.key}-{config.key}.out")
        through_err = os.path.join(env.workdir, f"through-{workload.key}-{config.key}.err")
        if config.out == "pipe":
            feed = tracer.stdout
            if config.through:
                # tracer | jq ... | reader: the filter's CPU time counts as ours.
                with open(through_err, "wb") as errf:
                    through = subprocess.Popen(list(config.through), stdin=feed, stdout=subprocess.PIPE,
                                               stderr=errf)
                procs.append(through)
                feed.close()
                feed = through.stdout
            reader_cmd = [env.linereader] + (["--stamp"] if workload.latency else []) + [workload.match]
            with open(reader_out, "wb") as out:
                reader = subprocess.Popen(reader_cmd, stdin=feed, stdout=out)
            procs.append(reader)
            feed.close()
        try:
            res["ready_ms"], res["ready_epoll_ms"] = _wait_ready(tracer, ready_by_signal(config), err,
                                                                 t_launch)
        except TrialError as e:
            err.join(2)
            raise TrialError(f"{e}; stderr: {err.text[-600:].strip()}") from None
        if with_kstats:
            progs = procinfo.bpf_prog_ids(tracer.pid)
            before = kstats.snapshot(progs)
        cpu0 = procinfo.cpu_ns(tracer.pid)

    # Go: the workload runs, then reports. Around it, the machine's busy CPU
    # time, to tell how much other work (not ours) competed with the run.
    ours0 = sum(procinfo.cpu_ns(p.pid) for p in procs[1:])
    busy0, total0 = procinfo.cpu_busy_ns()
    w.stdin.write(b"g")
    w.stdin.flush()  # communicate() then closes it
    out, werr = w.communicate(timeout=3600)
    if w.returncode != 0:
        raise TrialError(f"workload exited {w.returncode}: {werr.decode(errors='replace')[-500:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    busy1, total1 = procinfo.cpu_busy_ns()
    ours1 = sum(procinfo.cpu_ns(p.pid) for p in procs[1:])
    ours = ours1 - ours0 + result.get("cpu_ns_per_op", 0) * result["ops"]
    if total1 > total0:
        # Other processes' share of the machine's CPU time during the run.
        res["others_cpu_pct"] = round(max(0.0, (busy1 - busy0 - ours) / (total1 - total0) * 100), 1)
    res["ops"] = result["ops"]
    res["generated"] = result["ops"]
    for key in ("ns_per_op", "cpu_ns_per_op", "elapsed_ns"):
        if key in result:
            res[key] = result[key]
    if workload.rate is not None and result.get("elapsed_ns"):
        res["achieved_rate"] = round(result["ops"] / result["elapsed_ns"] * 1e9)
    if tracer is None:
        return

    _wait_idle(tracer.pid)
    res["cpu_traced_s"] = (procinfo.cpu_ns(tracer.pid) - cpu0) / 1e9
    # Peak RSS of the tracer's own image. (wait4's ru_maxrss would also count
    # the driver's pages the child had between fork and exec.)
    res["rss_kb"] = procinfo.peak_rss_kb(tracer.pid)
    if with_kstats:
        res["kernel"] = kstats.per_event(before, kstats.snapshot(progs), res["generated"])
    os.kill(tracer.pid, signal.SIGINT)
    code, ru = _wait4(tracer.pid, EXIT_TIMEOUT_S)
    tracer.returncode = code  # reaped by wait4 above
    err.join(10)
    res["exit_code"] = code
    res["ru_maxrss_kb"] = ru.ru_maxrss
    res["cpu_total_s"] = ru.ru_utime + ru.ru_stime
    res["cpu_s_per_mevent"] = res["cpu_traced_s"] / res["generated"] * 1e6
    other, stamped = [], []
    if through is not None:
        code_through = through.wait(timeout=EXIT_TIMEOUT_S)
        if code_through != 0:
            with open(through_err, "r", encoding="utf-8", errors="replace") as f:
                raise TrialError(f"`{' '.join(config.through)}` exited {code_through}: {f.read()[-500:].strip()}")
    if reader is not None:
        reader.wait(timeout=EXIT_TIMEOUT_S)
        matched, other, stamped = _parse_reader(reader_out)
        if matched is None:
            raise TrialError("the reader did not finish")
        res["received"] = matched
    res.update(parse_counts(config, err.text, other))
    if config.out == "null" and config.impl == SNOOPKIT:
        res["received"] = res["tool_received"]  # stdout discarded: the tool's own count
    if res.get("received") is not None and res.get("lost") is not None:
        res["unaccounted"] = res["generated"] - res["received"] - res["lost"]
    if workload.latency:
        res["latency"] = _latency(stamped, result["t_ns"])
    res["stderr_tail"] = err.text[-2000:] if code != 0 or res.get("unaccounted") else ""
    for path in (reader_out, through_err):
        if os.path.exists(path):
            os.unlink(path)
