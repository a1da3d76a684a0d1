"""What /proc says about a process and the machine: the syscall a task is
blocked in, its CPU time, the BPF programs it holds, and the host."""

import os
import platform
import re
import subprocess
from pathlib import Path

# Syscalls a tracer's poll loop blocks in, by machine: epoll_wait, epoll_pwait, epoll_pwait2.
_EPOLL = {"x86_64": {232, 281, 441}, "aarch64": {22, 441}}.get(platform.machine(), {22, 232, 281, 441})


def in_epoll_wait(pid):
    """True if some thread of pid is blocked in epoll_wait(2) (or a variant):
    a tracer that reached its poll loop, i.e. has attached everything."""
    for task in _tasks(pid):
        try:
            first = Path(f"/proc/{pid}/task/{task}/syscall").read_text().split(maxsplit=1)[0]
        except (OSError, IndexError):
            continue
        if first.isdigit() and int(first) in _EPOLL:
            return True
    return False


def _tasks(pid):
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def cpu_ns(pid):
    """CPU time (user + system) used so far by the live threads of pid, in ns.
    Uses schedstat (ns); falls back to clock ticks from stat."""
    total = 0
    for task in _tasks(pid):
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
            continue
        except (OSError, ValueError, IndexError):
            pass
        try:
            fields = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return total


def peak_rss_kb(pid):
    """VmHWM: the peak resident set of pid since its last exec, in KiB."""
    m = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(m.group(1)) if m else None


def bpf_prog_ids(pid):
    """Ids of the BPF programs pid holds an fd of (from fdinfo; links excluded)."""
    ids = set()
    fdinfo = Path(f"/proc/{pid}/fdinfo")
    try:
        entries = list(fdinfo.iterdir())
    except OSError:
        return ids
    for entry in entries:
        try:
            text = entry.read_text()
        except OSError:
            continue
        m = re.search(r"^prog_id:\s*(\d+)$", text, re.M)
        if m and "link_id:" not in text:
            ids.add(int(m.group(1)))
    return ids


def cpu_busy_ns():
    """(busy, total) CPU time of the whole machine so far, in ns, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    total = sum(f[:8])  # guest time is already in user
    tick = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    return (total - idle) * tick, total * tick


def loadavg():
    """The 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _cmd(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(snoopkit_bin):
    """A description of the host and the versions compared."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else ""
    pkg = lambda p: _cmd(["dpkg-query", "-W", "-f=${Version}", p])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
        "libbpf_tools": pkg("libbpf-tools"),
        "bpftrace": pkg("bpftrace"),
        "snoopkit": _cmd([str(Path(snoopkit_bin) / "opensnoop"), "--version"]),
        "cc": _cmd(["cc", "--version"]).splitlines()[0] if _cmd(["cc", "--version"]) else "",
    }
