"""The tracers compared, and the workloads they trace: command lines, how
each signals readiness, and how each reports what it received and lost."""

import json
import re
from dataclasses import dataclass, field

SNOOPKIT, LIBBPF_TOOLS, BPFTRACE = "snoopkit", "libbpf-tools", "bpftrace"
LIBBPF_TOOLS_DIR = "/usr/sbin"


@dataclass(frozen=True)
class Config:
    """One way of running a tool: which implementation, which output format,
    and where stdout goes ("null": /dev/null; "pipe": a reader process,
    through a filter program first when there is one)."""
    key: str
    impl: str | None  # None: the workload alone (baseline)
    fmt: str = "text"
    out: str = "pipe"
    extra: tuple = ()  # extra argv (latency variants only)
    through: tuple = ()  # argv of a program between the tracer and the reader

    @property
    def label(self):
        if self.impl is None:
            return "baseline (no tracer)"
        fmt = f" {self.fmt}" if self.impl == SNOOPKIT else ""
        extra = f" {' '.join(self.extra)}" if self.extra else ""
        through = f" | {' '.join(self.through)}" if self.through else ""
        return f"{self.impl}{fmt}{extra}{through} > {'/dev/null' if self.out == 'null' else 'pipe'}"


BASELINE = Config("baseline", None, "-", "-")
SK_TEXT_NULL = Config("sk-text-null", SNOOPKIT, "text", "null")
SK_JSON_NULL = Config("sk-json-null", SNOOPKIT, "json", "null")
SK_TEXT_PIPE = Config("sk-text-pipe", SNOOPKIT, "text", "pipe")
SK_JSON_PIPE = Config("sk-json-pipe", SNOOPKIT, "json", "pipe")
LBT_NULL = Config("lbt-null", LIBBPF_TOOLS, "text", "null")
LBT_PIPE = Config("lbt-pipe", LIBBPF_TOOLS, "text", "pipe")
BT_PIPE = Config("bpftrace-pipe", BPFTRACE, "text", "pipe")
# Delivery latency only: the reference tools with their stdout line-buffered,
# to separate their block buffering from their transport.
LBT_PIPE_LINEBUF = Config("lbt-pipe-linebuf", LIBBPF_TOOLS, "text", "pipe", ("stdbuf -oL",))
BT_PIPE_LINEBUF = Config("bpftrace-pipe-linebuf", BPFTRACE, "text", "pipe", ("-B line",))

# A real reader program on the pipe: jq, compacting snoopkit's JSON lines;
# libbpf-tools has no JSON, so jq reads its text lines as JSON strings (-R),
# the same program doing the same per-line work.
SK_JSON_JQ = Config("sk-json-jq", SNOOPKIT, "json", "pipe", through=("jq", "-c", "."))
LBT_JQ = Config("lbt-jq", LIBBPF_TOOLS, "text", "pipe", through=("jq", "-R", "-c", "."))

ALL_TRACERS = [SK_TEXT_NULL, SK_JSON_NULL, SK_TEXT_PIPE, SK_JSON_PIPE, LBT_NULL, LBT_PIPE, BT_PIPE]
OPEN_TRACERS = ALL_TRACERS + [SK_JSON_JQ, LBT_JQ]  # the open loops: also through jq


@dataclass
class Workload:
    """One workload: the traced tool, its argv, and the string that marks its
    events in any tracer's output."""
    key: str
    tool: str  # opensnoop | execsnoop
    argv: list
    ops: int
    match: str
    title: str
    configs: list = field(default_factory=list)
    latency: bool = False
    rate: int | None = None  # rate pass: offered opens per second in all (0: unpaced)


# bpftrace equivalents: opensnoop.bt and execsnoop.bt from bpftrace's own
# tools, with the same in-kernel filter the other tracers get.
BT_OPEN = r'''
tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat /pid == {pid}/ {{
  @filename[tid] = args->filename;
}}
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat /@filename[tid]/ {{
  printf("%-6d %-16s %4d %s\n", pid, comm, args->ret, str(@filename[tid]));
  delete(@filename[tid]);
}}
'''
BT_EXEC = r'''
tracepoint:syscalls:sys_enter_execve /{filter}/ {{
  printf("%-6d ", pid); join(args->argv);
}}
'''


@dataclass
class Target:
    """What the tracers should filter on: the workload's pid, and (for exec)
    a cgroup v2 directory holding it, when one can be made."""
    pid: int
    cgroup: str | None = None


def argv(config, tool, target, env):
    """The tracer's command line for this workload."""
    if config.impl == SNOOPKIT:
        cmd = [f"{env.snoopkit_bin}/{tool}"]
        if config.fmt == "json":
            cmd.append("--json")
        if tool == "opensnoop":
            return cmd + ["-p", str(target.pid)]
        return cmd + (["-c", target.cgroup] if target.cgroup else ["-P", str(target.pid)])
    wrap = [env.withtracefs]
    if config.impl == LIBBPF_TOOLS:
        if "stdbuf -oL" in config.extra:
            wrap += ["stdbuf", "-oL"]
        cmd = wrap + [f"{LIBBPF_TOOLS_DIR}/{tool}"]
        if tool == "opensnoop":
            return cmd + ["-p", str(target.pid)]
        # libbpf-tools execsnoop has no pid filter; its -n filters in user space.
        return cmd + (["-c", target.cgroup] if target.cgroup else [])
    if config.impl == BPFTRACE:
        flags = ["-B", "line"] if "-B line" in config.extra else []
        if tool == "opensnoop":
            prog = BT_OPEN.format(pid=target.pid)
        else:
            filt = (f'cgroup == cgroupid("{target.cgroup}")' if target.cgroup
                    else f"curtask->real_parent->tgid == {target.pid}")
            prog = BT_EXEC.format(filter=filt)
        return wrap + ["bpftrace"] + flags + ["-e", prog]
    raise ValueError(config)


def ready_by_signal(config):
    """snoopkit prints "ready:" on stderr once attached. The others have no
    such signal on a pipe (libbpf-tools' header is block-buffered, bpftrace's
    BEGIN may fire before its probes attach), so for them readiness is the
    moment their poll loop first blocks in epoll_wait, after attaching."""
    return config.impl == SNOOPKIT


_SK_SUMMARY = re.compile(r"(\d+) events, (\d+) printed, (\d+) lost in")
_LOST_LBT = re.compile(r"Lost (\d+) events on CPU")
_LOST_BT = re.compile(r"^Lost (\d+) events", re.M)


def parse_counts(config, stderr, other_lines):
    """What the tracer itself says it received and lost: a dict with
    received (None when the tracer does not say), lost, and for snoopkit
    --json the summary record and the sum of the in-band "lost" records.
    other_lines: the non-event lines of stdout (pipe configurations), as they
    left the filter program when there is one (jq -c keeps one JSON object
    per line, so snoopkit's "lost" and "summary" records are found as they are)."""
    res = {"tool_received": None, "lost": None}
    if config.impl == SNOOPKIT:
        m = _SK_SUMMARY.search(stderr)
        if m:
            res["tool_received"], res["printed"], res["lost"] = map(int, m.groups())
        if config.fmt == "json" and config.out == "pipe":
            inband, summary = 0, None
            for line in other_lines:
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("type") == "lost":
                    inband += rec["lost"]
                elif rec.get("type") == "summary":
                    summary = rec
            res["lost_inband"] = inband
            res["summary"] = summary
    elif config.impl == LIBBPF_TOOLS:
        res["lost"] = sum(int(n) for n in _LOST_LBT.findall(stderr))
    elif config.impl == BPFTRACE and config.out == "pipe":
        res["lost"] = sum(int(n) for n in _LOST_BT.findall("\n".join(other_lines)))
    return res
