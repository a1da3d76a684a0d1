"""The runtime tests' workload child: runs the ops given as JSON in argv[1],
in order, and prints one JSON result line per op on stdout.

Byte strings (paths, argv items) are hex-encoded. Every result carries the
op's "tag" when it has one. Ops:

  {"op": "gate"}                      print {"pid", "tid"}, then wait for a line on stdin
  {"op": "comm", "name": s}           set this thread's comm (the process's, on the main thread)
  {"op": "cgroup", "path": s}         move this process into the cgroup v2 directory s
  {"op": "open", "path": h, "flags": n, "mode": n, "dir": h?}
                                      os.open (openat(2)), relative to an opened dir when given;
                                      result {"fd": n, "dfd": n} or {"errno": n}; fds stay open
  {"op": "open", "path": h, "repeat": n}  open and close n times; result {"opened": n}
  {"op": "sys_open", "path": h, "flags": n, "mode": n}     open(2) via syscall(2) (x86_64)
  {"op": "openat2", "path": h, "flags": n, "mode": n, "resolve": n}
                                      openat2(2) via syscall(437); {"errno": 38} when absent
  {"op": "thread", "ops": [...]}      run ops in a new thread; its first result is {"tid"}
  {"op": "exec", "path": h, "argv": [h]}   execve(2); on failure, result {"errno"} and go on
  {"op": "fexec", "path": h, "argv": [h]}  fexecve(3) (execveat(2) with AT_EMPTY_PATH)
  {"op": "spawn", "argv": [h]}        run a grandchild to completion; result {"pid"}
"""

import ctypes
import json
import os
import platform
import subprocess
import sys
import threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out_lock = threading.Lock()


def report(op, **fields):
    if "tag" in op:
        fields["tag"] = op["tag"]
    fields.setdefault("op", op["op"])
    with out_lock:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def unhex(h):
    return bytes.fromhex(h)


def raw_syscall(nr, *args):
    ret = libc.syscall(ctypes.c_long(nr), *args)
    return ret if ret >= 0 else -ctypes.get_errno()


class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def fd_result(op, ret, dfd=-100):
    if ret >= 0:
        report(op, fd=ret, dfd=dfd)
    else:
        report(op, errno=-ret)


def run(ops):
    for op in ops:
        kind = op["op"]
        if kind == "gate":
            report(op, pid=os.getpid(), tid=threading.get_native_id())
            sys.stdin.readline()
        elif kind == "comm":
            with open("/proc/thread-self/comm", "w") as f:
                f.write(op["name"])
            report(op)
        elif kind == "cgroup":
            with open(os.path.join(op["path"], "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            report(op)
        elif kind == "open" and "repeat" in op:
            ok = 0
            for _ in range(op["repeat"]):
                os.close(os.open(unhex(op["path"]), os.O_RDONLY))
                ok += 1
            report(op, opened=ok)
        elif kind == "open":
            dfd = -100
            if "dir" in op:
                dfd = os.open(unhex(op["dir"]), os.O_RDONLY | os.O_DIRECTORY)
            try:
                fd_result(op, os.open(unhex(op["path"]), op.get("flags", os.O_RDONLY),
                                      op.get("mode", 0o777), dir_fd=None if dfd == -100 else dfd), dfd)
            except OSError as e:
                fd_result(op, -e.errno)
        elif kind == "sys_open":
            if platform.machine() != "x86_64":
                report(op, errno=38)
                continue
            fd_result(op, raw_syscall(2, ctypes.c_char_p(unhex(op["path"])),
                                      ctypes.c_int(op.get("flags", 0)), ctypes.c_int(op.get("mode", 0))))
        elif kind == "openat2":
            how = OpenHow(op.get("flags", 0), op.get("mode", 0), op.get("resolve", 0))
            fd_result(op, raw_syscall(437, ctypes.c_int(-100), ctypes.c_char_p(unhex(op["path"])),
                                      ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how))))
        elif kind == "thread":
            def body(sub=op["ops"]):
                report(op, tid=threading.get_native_id())
                run(sub)
            t = threading.Thread(target=body)
            t.start()
            t.join()
        elif kind in ("exec", "fexec"):
            argv = [unhex(a) for a in op["argv"]]
            try:
                if kind == "exec":
                    os.execve(unhex(op["path"]), argv, {"PATH": "/usr/bin:/bin"})
                fd = os.open(unhex(op["path"]), os.O_RDONLY)
                os.execve(fd, argv, {"PATH": "/usr/bin:/bin"})
            except OSError as e:
                report(op, errno=e.errno)
        elif kind == "spawn":
            p = subprocess.Popen([unhex(a) for a in op["argv"]])
            p.wait()
            report(op, pid=p.pid, status=p.returncode)
        else:
            raise SystemExit(f"workload: unknown op {kind!r}")


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))
