"""Boots a kernel and an initramfs under qemu-system-x86_64 with software
emulation (TCG), and reads the guest suite's findings off the serial console.

A guest that hangs is killed at the deadline; what it had reported by then
is kept, and the run is marked as timed out.
"""

import json
import re
import subprocess
import threading
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")
CMDLINE = "console=ttyS0 panic=-1 quiet loglevel=1"


def qemu_argv(vmlinuz, initrd, memory_mb=2048, cpus=2):
    # thread=single: both vCPUs run in one emulator thread. With one thread
    # per vCPU, a vCPU can still run a stale translation of kernel text that
    # the other vCPU has just patched (static keys flip as tracepoints are
    # attached and detached), and trap on an int3 the kernel has already
    # removed: "Oops: int3" in syscall_exit_to_user_mode_prepare, a guest
    # panic that real hardware cannot produce.
    return ["qemu-system-x86_64", "-accel", "tcg,thread=single", "-cpu", "max", "-m", str(memory_mb),
            "-smp", str(cpus), "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", vmlinuz, "-initrd", initrd, "-append", CMDLINE]


class Boot:
    """One VM run: results (parsed SNOOPKIT-RESULT records), status, timings."""

    def __init__(self):
        self.results = []
        self.status = "unknown"  # done | timeout | no-output | crashed
        self.seconds = 0.0
        self.boot_seconds = None  # host time until the guest said SNOOPKIT-BOOTED
        self.console_tail = ""
        self.bad_lines = []


def run(vmlinuz, initrd, console_log, timeout, on_log=print, memory_mb=2048, cpus=2):
    """Boots, streams the console into console_log, returns a Boot."""
    b = Boot()
    start = time.monotonic()
    argv = qemu_argv(vmlinuz, initrd, memory_mb, cpus)
    tail = []
    done = threading.Event()
    with open(console_log, "w", errors="replace") as logf:
        logf.write("# " + " ".join(argv) + "\n")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

        def reader():
            for raw in iter(proc.stdout.readline, b""):
                line = ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r\n").replace("\r", "")
                logf.write(line + "\n")
                logf.flush()
                tail.append(line)
                del tail[:-200]
                _handle(b, line, start, on_log)
                if "SNOOPKIT-DONE" in line:
                    done.set()
            done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        finished = done.wait(timeout)
        if finished:
            # The guest powers itself off right after SNOOPKIT-DONE.
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        else:
            proc.kill()
        proc.wait()
        t.join(10)
    b.seconds = round(time.monotonic() - start, 1)
    b.console_tail = "\n".join(tail[-60:])
    if any(r.get("kind") == "done" for r in b.results):
        b.status = "done"
    elif not finished:
        b.status = "timeout"
    elif any(r.get("kind") == "crash" for r in b.results):
        b.status = "crashed"
    elif b.boot_seconds is None:
        b.status = "no-output"  # the kernel or init never got to the suite
    else:
        b.status = "crashed"
    return b


def _handle(b, line, start, on_log):
    if "SNOOPKIT-BOOTED" in line and b.boot_seconds is None:
        b.boot_seconds = round(time.monotonic() - start, 1)
        on_log(line[line.index("SNOOPKIT-BOOTED"):] + f" (host: {b.boot_seconds} s after start)")
    elif "SNOOPKIT-RESULT " in line:
        payload = line[line.index("SNOOPKIT-RESULT ") + len("SNOOPKIT-RESULT "):]
        try:
            b.results.append(json.loads(payload))
        except ValueError:
            # A kernel message may have landed inside the line: keep the evidence.
            b.bad_lines.append(line[:500])
            on_log(f"unparsable result line: {line[:200]}")
    elif "SNOOPKIT-LOG " in line:
        on_log(line[line.index("SNOOPKIT-LOG ") + len("SNOOPKIT-LOG "):])
    elif "SNOOPKIT-EXIT" in line or "Kernel panic" in line or "BUG:" in line or "Oops" in line:
        on_log(line)
