"""Runtime tests for bindsnoop: the real tool, real BPF, bind() calls of a
child this test owns, on loopback addresses only (127.0.0.1 and ::1).
Records are matched on the child's pid."""

import os
import re
import signal
import socket
import subprocess
import time
import uuid

from harness import BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, skip, tool_path
from test_tcplife import CHILD_BASE, CHILD_MAIN, NOBODY, PYTHON_COMM, NetChild, free_port, settle

EACCES, EADDRINUSE, ENOTSOCK = 13, 98, 88
TCP, UDP = 6, 17

# Bind ops on top of the connect child's gate, comm and cgroup:
#   {"op": "bind", "host": h, "port": n, "proto": "tcp"|"udp", "opts": [name], "device": s, "tag": t}
#       result {"errno", "port": the socket's port after the call}; the socket stays open
#   {"op": "notsock", "port": n, "tag": t}   bind(2) of an AF_INET address on /dev/null's fd
#   {"op": "unix", "name": s}                bind an abstract AF_UNIX socket
BIND_OPS = r'''
import ctypes
OPTS = {"SO_REUSEADDR": (socket.SOL_SOCKET, 2), "SO_REUSEPORT": (socket.SOL_SOCKET, 15),
        "IP_FREEBIND": (0, 15), "IP_TRANSPARENT": (0, 19), "IP_BIND_ADDRESS_NO_PORT": (0, 24)}
kept = []
def op_bind(op):
    fam = socket.AF_INET6 if ":" in op["host"] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if op.get("proto") == "udp" else socket.SOCK_STREAM)
    for name in op.get("opts", []):
        s.setsockopt(*OPTS[name], 1)
    if "device" in op:
        s.setsockopt(socket.SOL_SOCKET, 25, op["device"].encode())
    try:
        s.bind((op["host"], op["port"]))
        err = 0
    except OSError as e:
        err = e.errno
    kept.append(s)
    report(op="bind", tag=op.get("tag"), errno=err, port=s.getsockname()[1])
def op_notsock(op):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/null", os.O_RDONLY)
    sa = struct.pack("!HH4s8x", socket.AF_INET, op["port"], bytes([127, 0, 0, 1]))
    sa = struct.pack("=H", socket.AF_INET) + sa[2:]
    ret = libc.bind(fd, ctypes.c_char_p(sa), len(sa))
    report(op="notsock", tag=op.get("tag"), errno=ctypes.get_errno() if ret else 0)
def op_unix(op):
    s = socket.socket(socket.AF_UNIX)
    s.bind("\0" + op["name"])
    kept.append(s)
    report(op="unix", tag=op.get("tag"))
'''
BIND_CHILD = CHILD_BASE + BIND_OPS + CHILD_MAIN


def bind_op(tag, host="127.0.0.1", port=0, proto="tcp", **kw):
    return {"op": "bind", "host": host, "port": port, "proto": proto, "tag": tag, **kw}


def in_order(recs):
    """Records by kernel time: the perf buffer delivers each CPU's events apart."""
    return sorted(recs, key=lambda r: int(r["ktime_ns"]))


def hook_of(tool):
    m = re.search(r"bind=([\w-]+)", tool.stderr)
    return m.group(1) if m else None


class BindsnoopTest(BpfTestCase):

    def run_traced(self, ops, *tool_args, user=None, expect=1):
        """Runs a bind child traced by bindsnoop -p <child>, until `expect`
        records (or, if a function, until it holds); returns (tool, child)."""
        child = NetChild(self, ops, user=user, code=BIND_CHILD)
        done = expect if callable(expect) else lambda recs: len(recs) >= expect
        with Tool("bindsnoop", "--json", "-p", child.pid, *tool_args) as t:
            child.run()
            settle(t, lambda recs: done([r for r in recs if r["type"] == "bind"]))
        t.assert_clean_exit(self)
        return t, child

    def check_port_zero(self, *tool_args):
        ops = [bind_op("tcp4"), bind_op("udp4", proto="udp"), bind_op("tcp6", host="::1"),
               bind_op("udp6", host="::1", proto="udp")]
        t, child = self.run_traced(ops, *tool_args, expect=4)
        recs = in_order(t.records("bind"))
        self.assertEqual(len(recs), 4, recs)
        for r, op in zip(recs, ops):
            with self.subTest(tag=op["tag"]):
                res = child.result(op["tag"])
                self.assertEqual(res["errno"], 0)
                self.assertGreater(res["port"], 0)
                fam = "ipv6" if op["host"] == "::1" else "ipv4"
                # bind(port 0): "port" is what was asked for, "bound_port" the kernel's choice.
                self.assertEqual((r["pid"], r["tid"], r["uid"], r["comm"], r["ret"], r["family"], r["addr"],
                                  r["port"], r["bound_port"], r["protocol"], r["bound_dev_if"], r["options"]),
                                 (child.pid, child.pid, 0, PYTHON_COMM, 0, fam, op["host"], 0, res["port"],
                                  UDP if op["proto"] == "udp" else TCP, 0, []))
        return t

    def test_port_zero_ring_buffer(self):
        t = self.check_port_zero()
        self.assertIn("ring buffer", t.stderr)
        self.assertIn(hook_of(t), ("kprobe", "tracepoint"))

    def test_port_zero_perf_buffer(self):
        t = self.check_port_zero("--perf-buffer")
        self.assertIn("perf buffer", t.stderr)

    def test_fixed_port_and_options(self):
        port, port6 = free_port(), free_port("ipv6")
        ops = [bind_op("fixed", port=port, proto="udp", opts=["SO_REUSEADDR", "SO_REUSEPORT"]),
               bind_op("free", opts=["IP_FREEBIND", "IP_TRANSPARENT"], device="lo"),
               bind_op("noport", opts=["IP_BIND_ADDRESS_NO_PORT"]),
               bind_op("v6", host="::1", port=port6, opts=["SO_REUSEADDR"])]
        t, child = self.run_traced(ops, expect=4)
        r = in_order(t.records("bind"))
        self.assertEqual(len(r), 4, r)
        fixed, free, noport, v6 = r
        self.assertEqual((fixed["port"], fixed["bound_port"], fixed["protocol"], fixed["options"]),
                         (port, port, UDP, ["SO_REUSEADDR", "SO_REUSEPORT"]))
        self.assertEqual((free["port"], free["bound_port"], free["options"], free["bound_dev_if"]),
                         (0, child.result("free")["port"], ["IP_FREEBIND", "IP_TRANSPARENT"],
                          socket.if_nametoindex("lo")))
        # IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect(), not now.
        self.assertEqual((noport["port"], noport["bound_port"], noport["options"]),
                         (0, 0, ["IP_BIND_ADDRESS_NO_PORT"]))
        self.assertEqual((v6["family"], v6["addr"], v6["port"], v6["bound_port"]), ("ipv6", "::1", port6, port6))

    def test_failures_shown_with_x_only(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        self.addCleanup(holder.close)
        busy = holder.getsockname()[1]
        ops = [bind_op("busy", port=busy), bind_op("ok")]
        t, child = self.run_traced(ops, "-x", expect=2)
        self.assertEqual(child.result("busy")["errno"], EADDRINUSE)
        [failed] = t.records("bind", ret=-EADDRINUSE)
        self.assertEqual((failed["port"], failed["addr"], failed["protocol"], failed["pid"]),
                         (busy, "127.0.0.1", TCP, child.pid))
        self.assertEqual(len(t.records("bind", ret=0)), 1)

        t, child = self.run_traced(ops)
        self.assertEqual([r["ret"] for r in t.records("bind")], [0])

    def test_privileged_port_as_nobody(self):
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            if int(f.read()) <= 1:
                skip("net.ipv4.ip_unprivileged_port_start lets anyone bind port 1")
        t, child = self.run_traced([bind_op("low", port=1)], "-x", user=NOBODY)
        self.assertEqual(child.result("low")["errno"], EACCES)
        [r] = t.records("bind")
        self.assertEqual((r["ret"], r["uid"], r["port"], r["addr"]), (-EACCES, NOBODY, 1, "127.0.0.1"))

    def test_not_a_socket_and_unix(self):
        ops = [{"op": "notsock", "port": 4242, "tag": "ns"}, {"op": "unix", "name": uuid.uuid4().hex},
               bind_op("last")]
        # The last bind (port 0) is reported by every hook, after the others.
        t, child = self.run_traced(ops, "-x", expect=lambda recs: any(r["port"] == 0 for r in recs))
        self.assertEqual(child.result("ns")["errno"], ENOTSOCK)
        recs = in_order(t.records("bind"))
        if hook_of(t) == "tracepoint":
            # bind(2) on a file that is no socket: reported, with what was asked only.
            self.assertEqual(len(recs), 2, recs)
            self.assertEqual((recs[0]["ret"], recs[0]["port"], recs[0]["addr"]), (-ENOTSOCK, 4242, "127.0.0.1"))
            for key in ("protocol", "bound_port", "bound_dev_if", "options"):
                self.assertNotIn(key, recs[0])
        else:
            # kprobes see inet_bind(), which a non-socket never reaches.
            self.assertEqual(len(recs), 1, recs)
        # AF_UNIX binds are not IP binds.
        self.assertEqual(recs[-1]["port"], 0)
        self.assertEqual(recs[-1]["bound_port"], child.result("last")["port"])

    def test_port_filter(self):
        port = free_port()
        child = NetChild(self, [bind_op("any"), bind_op("fixed", port=port, proto="udp")], code=BIND_CHILD)
        with Tool("bindsnoop", "--json", "-P", f"1,{port}") as t:
            child.run()
            settle(t, lambda recs: t.records("bind", pid=child.pid))
        t.assert_clean_exit(self)
        self.assertEqual([(r["port"], r["bound_port"]) for r in t.records("bind", pid=child.pid)], [(port, port)])
        self.assertTrue(all(port in (r["port"], r["bound_port"]) or 1 in (r["port"], r["bound_port"])
                            for r in t.records("bind")))

    def test_uid_name_and_cgroup_filters(self):
        with Tool("bindsnoop", "--json", "-u", NOBODY) as t:
            nobody = NetChild(self, [bind_op("n")], user=NOBODY, code=BIND_CHILD)
            root = NetChild(self, [bind_op("r")], code=BIND_CHILD)
            nobody.run()
            root.run()
            settle(t, lambda recs: t.records("bind", pid=nobody.pid))
        t.assert_clean_exit(self)
        self.assertEqual([r["uid"] for r in t.records("bind", pid=nobody.pid)], [NOBODY])
        self.assertEqual(t.records("bind", pid=root.pid), [])

        name = f"skbind{os.getpid() % 100000}"
        with Tool("bindsnoop", "--json", "-n", name[2:]) as t:
            named = NetChild(self, [{"op": "comm", "name": name}, bind_op("n")], code=BIND_CHILD)
            other = NetChild(self, [bind_op("o")], code=BIND_CHILD)
            named.run()
            other.run()
            settle(t, lambda recs: t.records("bind", pid=named.pid))
        t.assert_clean_exit(self)
        self.assertEqual([r["comm"] for r in t.records("bind", pid=named.pid)], [name])
        self.assertEqual(t.records("bind", pid=other.pid), [])

        with Cgroup() as cg:
            with Tool("bindsnoop", "--json", "-c", cg.path) as t:
                inside = NetChild(self, [{"op": "cgroup", "path": str(cg.path)}, bind_op("i")], code=BIND_CHILD)
                outside = NetChild(self, [bind_op("o")], code=BIND_CHILD)
                inside.run()
                outside.run()
                settle(t, lambda recs: t.records("bind", pid=inside.pid))
            t.assert_clean_exit(self)
        self.assertEqual(len(t.records("bind", pid=inside.pid)), 1)
        self.assertEqual(t.records("bind", pid=outside.pid), [])

    def test_text_columns(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        self.addCleanup(holder.close)
        child = NetChild(self, [bind_op("a", host="::1", proto="udp", opts=["SO_REUSEADDR", "IP_FREEBIND"]),
                                bind_op("busy", port=holder.getsockname()[1])], code=BIND_CHILD)
        with Tool("bindsnoop", "-t", "-x", "-p", child.pid) as t:
            child.run()
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME(s)", "PID", "COMM", "RET", "PROTO", "OPTS", "IF", "PORT", "ADDR"])
        rows = sorted((l.split() for l in lines[1:]), key=lambda row: float(row[0]))
        self.assertEqual(len(rows), 2, lines)
        self.assertRegex(rows[0][0], r"^\d+\.\d{6}$")
        # PORT: the port bound on success, the port asked for on failure.
        self.assertEqual(rows[0][1:], [str(child.pid), PYTHON_COMM, "0", "UDP", "F..R.", "0",
                                       str(child.result("a")["port"]), "::1"])
        self.assertEqual(rows[1][1:], [str(child.pid), PYTHON_COMM, str(-EADDRINUSE), "TCP", ".....", "0",
                                       str(holder.getsockname()[1]), "127.0.0.1"])

    def test_bad_options_are_usage_errors(self):
        for argv in (["-P", "65536"], ["-P", ""], ["-p", "0"]):
            with self.subTest(argv=argv):
                p = subprocess.run([tool_path("bindsnoop"), *argv], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        child = NetChild(self, [bind_op("a")], code=BIND_CHILD)
        with Tool("bindsnoop", "--json", "-p", child.pid, stop_signal=signal.SIGTERM) as t:
            child.run()
            settle(t, lambda recs: t.records("bind"))
        t.assert_clean_exit(self)
        self.assertEqual(len(t.records("bind")), 1)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
