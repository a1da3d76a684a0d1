"""A gated Python child that runs a snippet of code the test gives it, for
workloads that tests/runtime/workload.py's ops do not cover (signals, exits,
stat calls, mounts: exitsnoop, sigsnoop, killsnoop, statsnoop, mountsnoop).

Its pid is known before it acts: it reports {"pid", "tid"} and waits for
release(). The snippet runs with these names defined:

  report(**fields)        print one JSON result line
  syscall(nr, *args)      raw syscall(2) through ctypes; returns -errno on failure
  libc, ctypes, json, os, signal, sys, threading, time
"""

import json
import os
import subprocess
import sys
import threading

PRELUDE = r'''
import ctypes, json, os, signal, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def report(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()
def syscall(nr, *args):
    ret = libc.syscall(ctypes.c_long(nr), *args)
    return ret if ret >= 0 else -ctypes.get_errno()
report(pid=os.getpid(), tid=threading.get_native_id())
sys.stdin.readline()
'''


def _readline(stream, timeout):
    box = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"script child said nothing for {timeout} s")
    return box[0]


def python_for(user):
    """An interpreter user can run (ours may live under /root/.pyenv)."""
    if user is None:
        return sys.executable
    return next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                 if os.access(p, os.X_OK) and os.stat(p).st_mode & 0o001), sys.executable)


class ScriptChild:
    """Starts `python -S -c PRELUDE+code` and waits for its gate line.

        c = ScriptChild(self, "report(ret=os.kill(os.getpid(), 0))")
        ... start a tool filtered on c.pid ...
        c.release(); results = c.finish()
    """

    def __init__(self, test, code, cwd="/", user=None, env=None):
        kw = dict(user=user, group=user, extra_groups=[]) if user is not None else {}
        self.proc = subprocess.Popen([python_for(user), "-S", "-c", PRELUDE + code],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd,
                                     env=env, **kw)
        test.addCleanup(self._reap)
        line = _readline(self.proc.stdout, 30)
        if not line:
            raise AssertionError(f"script child died before its gate (exit {self.proc.wait()})")
        gate = json.loads(line)
        self.pid, self.tid = gate["pid"], gate["tid"]
        self.results = []
        self.returncode = None

    def _reap(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def release(self):
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def finish(self, timeout=30):
        """Waits for exit; returns the result lines (dicts) after the gate."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.results = [json.loads(line) for line in out.splitlines()]
        self.returncode = self.proc.returncode
        return self.results

    def run(self, timeout=30):
        """release() then finish()."""
        self.release()
        return self.finish(timeout)

    def result(self, key):
        """The first result that has key."""
        for r in self.results:
            if key in r:
                return r
        raise AssertionError(f"no result with {key!r}: {self.results}")
