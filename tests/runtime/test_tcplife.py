"""Runtime tests for tcplife: the real tool, real BPF, TCP sessions this test
owns on loopback only (127.0.0.1 and ::1): a listening socket in this process
and a child that connects to it, sends and receives known byte counts.

Also home of the loopback helpers (NetChild, Server) that test_tcpconnect
and test_tcpstates import."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

from harness import (BpfTestCase, Cgroup, Tool, _readline, assert_no_bpf_left, bpf_snapshot,
                     tool_path)

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
LOOPBACK = {"ipv4": "127.0.0.1", "ipv6": "::1"}

# The child: runs JSON ops from argv[1], one JSON result line per op.
#   {"op": "gate"}                          print {"pid"}, wait for a line on stdin
#   {"op": "comm", "name": s}               set its comm
#   {"op": "cgroup", "path": s}             move itself into a cgroup v2 directory
#   {"op": "connect", "host": h, "port": n, "send": n, "mapped": b, "mode": m, "tag": t}
#       connect to host:port (an AF_INET6 socket to ::ffff:host when mapped);
#       mode "session" (default): send n bytes, shut down writing, read to EOF, close;
#       "nonblock": a non-blocking connect(), wait until writable, close;
#       "reset": wait for data, close without reading it (the kernel sends a RST).
#       Result {"errno", "sport", "received"}.
CHILD_BASE = r'''
import json, os, select, socket, struct, sys
def report(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
def op_gate(op):
    report(op="gate", pid=os.getpid()); sys.stdin.readline()
def op_comm(op):
    open("/proc/self/comm", "w").write(op["name"]); report(op="comm")
def op_cgroup(op):
    open(os.path.join(op["path"], "cgroup.procs"), "w").write(str(os.getpid())); report(op="cgroup")
def op_connect(op):
    host, mode = op["host"], op.get("mode", "session")
    if op.get("mapped"):
        host = "::ffff:" + host
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if mode == "nonblock":
        s.setblocking(False)
    err = s.connect_ex((host, op["port"]))
    sport, received = s.getsockname()[1], 0
    if mode == "nonblock":
        select.select([], [s], [], 10)
    elif mode == "reset" and err == 0:
        select.select([s], [], [], 10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif err == 0:
        s.sendall(b"x" * op.get("send", 0))
        s.shutdown(socket.SHUT_WR)
        while True:
            data = s.recv(65536)
            if not data:
                break
            received += len(data)
    s.close()
    report(op="connect", tag=op.get("tag"), errno=err, sport=sport, received=received)
'''
CHILD_MAIN = r'''
for op in json.loads(sys.argv[1]):
    globals()["op_" + op["op"]](op)
'''
CHILD = CHILD_BASE + CHILD_MAIN


class NetChild:
    """A child process running the ops of `code` (CHILD by default, which
    also defines gate, comm and cgroup), gated: its pid is known before it
    acts. user: run it as that uid (and gid)."""

    def __init__(self, test, ops, user=None, code=None):
        kw, python = {}, sys.executable
        if user is not None:
            kw = dict(user=user, group=user, extra_groups=[])
            python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                           if os.access(p, os.X_OK) and os.stat(p).st_mode & 0o001), python)
        self.proc = subprocess.Popen([python, "-S", "-c", code or CHILD, json.dumps([{"op": "gate"}] + ops)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", **kw)
        test.addCleanup(self._reap)
        gate = json.loads(_readline(self.proc.stdout, 30) or b"{}")
        if gate.get("op") != "gate":
            raise AssertionError(f"net child did not reach its gate (exit {self.proc.poll()})")
        self.pid = gate["pid"]
        self.results = []

    def _reap(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def run(self, timeout=30):
        """Releases the gate, waits for exit; returns the results (list of dicts)."""
        out, _ = self.proc.communicate(b"go\n", timeout=timeout)
        self.results = [json.loads(l) for l in out.splitlines()]
        if self.proc.returncode != 0:
            raise AssertionError(f"net child exited {self.proc.returncode}; results {self.results}")
        return self.results

    def result(self, tag):
        return next(r for r in self.results if r.get("tag") == tag)


def run_child(test, ops, user=None, code=None):
    """A child that runs ops to completion at once; returns it."""
    c = NetChild(test, ops, user=user, code=code)
    c.run()
    return c


class Server:
    """A TCP listener on loopback in this process. Each accepted connection
    is served by a thread: mode "session" reads to EOF, then sends `reply`
    bytes and closes; mode "reset" sends `reply` bytes and waits for the
    peer's RST before closing. Connection records: {"peer", "received",
    "sport"} in self.done."""

    def __init__(self, test, family="ipv4", reply=0, mode="session", port=0):
        self.sock = socket.socket(socket.AF_INET6 if family == "ipv6" else socket.AF_INET)
        self.sock.bind((LOOPBACK[family], port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply, self.mode, self.done = reply, mode, []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        test.addCleanup(self.close)

    def _serve(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn, peer), daemon=True).start()

    def _handle(self, conn, peer):
        received = 0
        try:
            if self.mode == "reset":
                conn.sendall(b"y" * self.reply)
                conn.settimeout(10)
                try:
                    while conn.recv(65536):
                        pass
                except ConnectionResetError:
                    pass
            else:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    received += len(data)
                conn.sendall(b"y" * self.reply)
        finally:
            conn.close()
            with self.lock:
                self.done.append({"peer": peer[1], "received": received})

    def wait_for(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.done) >= n:
                    return list(self.done)
            time.sleep(0.01)
        raise AssertionError(f"server on port {self.port}: {len(self.done)} of {n} connections done")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def free_port(family="ipv4"):
    """A loopback TCP port nothing uses now (for a listener started later)."""
    with socket.socket(socket.AF_INET6 if family == "ipv6" else socket.AF_INET) as s:
        s.bind((LOOPBACK[family], 0))
        return s.getsockname()[1]


def connect_op(server, tag, send=0, **kw):
    return {"op": "connect", "host": LOOPBACK["ipv6" if server.sock.family == socket.AF_INET6 else "ipv4"],
            "port": server.port, "send": send, "tag": tag, **kw}


def settle(tool, pred, timeout=5):
    """Waits until pred(records) holds (events reach stdout within --latency)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred(tool.records()):
            return
        time.sleep(0.05)


class TcplifeTest(BpfTestCase):

    def sessions(self, tool, server):
        """tcplife records of the sessions with this server (either end)."""
        return [r for r in tool.records("tcplife") if server.port in (r["lport"], r["rport"])]

    def check_session(self, family, *tool_args):
        srv = Server(self, family, reply=3333)
        child = NetChild(self, [connect_op(srv, "c", send=123457)])
        with Tool("tcplife", "--json", *tool_args) as t:
            start = time.monotonic_ns()
            child.run()
            srv.wait_for(1)
            elapsed = time.monotonic_ns() - start
            settle(t, lambda recs: len([r for r in recs if srv.port in (r.get("lport"), r.get("rport"))]) >= 2)
        t.assert_clean_exit(self)
        res = child.result("c")
        self.assertEqual((res["errno"], res["received"]), (0, 3333))
        recs = self.sessions(t, srv)
        self.assertEqual(len(recs), 2, recs)
        [client] = [r for r in recs if r["rport"] == srv.port]
        [server] = [r for r in recs if r["lport"] == srv.port]
        addr = LOOPBACK[family]
        self.assertEqual((client["pid"], client["uid"], client["comm"], client["family"], client["laddr"],
                          client["lport"], client["raddr"], client["active"], client["tx_bytes"],
                          client["rx_bytes"]),
                         (child.pid, 0, PYTHON_COMM, family, addr, res["sport"], addr, True, 123457, 3333))
        self.assertEqual((server["pid"], server["family"], server["laddr"], server["raddr"], server["rport"],
                          server["active"], server["tx_bytes"], server["rx_bytes"]),
                         (os.getpid(), family, addr, addr, res["sport"], False, 3333, 123457))
        for r in (client, server):
            self.assertGreater(r["duration_ns"], 0)
            self.assertLess(r["duration_ns"], elapsed)
        return t

    def test_ipv4_session_ring_buffer(self):
        t = self.check_session("ipv4")
        self.assertIn("ring buffer", t.stderr)
        self.assertIn("inet_sock_set_state=tracepoint", t.stderr)

    def test_ipv6_session(self):
        self.check_session("ipv6")

    def test_perf_buffer(self):
        t = self.check_session("ipv4", "--perf-buffer")
        self.assertIn("perf buffer", t.stderr)

    def test_family_filters(self):
        v4, v6 = Server(self, "ipv4"), Server(self, "ipv6")
        for flag, wanted, other in (("-4", v4, v6), ("-6", v6, v4)):
            with self.subTest(flag=flag):
                n4, n6 = len(v4.done), len(v6.done)
                with Tool("tcplife", "--json", flag) as t:
                    run_child(self, [connect_op(v4, "a"), connect_op(v6, "b")])
                    v4.wait_for(n4 + 1)
                    v6.wait_for(n6 + 1)
                    settle(t, lambda recs: len(self.sessions(t, wanted)) >= 2)
                t.assert_clean_exit(self)
                self.assertEqual(len(self.sessions(t, wanted)), 2)
                self.assertEqual(self.sessions(t, other), [])

    def test_port_filters(self):
        a, b = Server(self), Server(self)
        with Tool("tcplife", "--json", "-L", f"{a.port},1") as t:
            run_child(self, [connect_op(a, "a"), connect_op(b, "b")])
            settle(t, lambda recs: self.sessions(t, a))
        t.assert_clean_exit(self)
        # Local port a: only the server end of the session with a.
        self.assertEqual([r["lport"] for r in self.sessions(t, a)], [a.port])
        self.assertEqual(self.sessions(t, b), [])

        with Tool("tcplife", "--json", "-D", str(b.port)) as t:
            child = run_child(self, [connect_op(a, "a"), connect_op(b, "b")])
            settle(t, lambda recs: self.sessions(t, b))
        t.assert_clean_exit(self)
        self.assertEqual([(r["rport"], r["pid"]) for r in self.sessions(t, b)], [(b.port, child.pid)])
        self.assertEqual(self.sessions(t, a), [])

    def test_pid_filter_and_unknown_owner(self):
        srv = Server(self, reply=10, mode="reset")
        child = NetChild(self, [connect_op(srv, "r", mode="reset")])
        control = NetChild(self, [connect_op(srv, "other", mode="reset")])
        with Tool("tcplife", "--json") as everyone, Tool("tcplife", "--json", "-p", child.pid) as mine:
            child.run()
            control.run()
            srv.wait_for(2)
            settle(everyone, lambda recs: len(self.sessions(everyone, srv)) >= 4)
            settle(mine, lambda recs: self.sessions(mine, srv))
        everyone.assert_clean_exit(self)
        mine.assert_clean_exit(self)
        # The server ends were reset before this process closed them: no owner.
        recs = self.sessions(everyone, srv)
        servers = [r for r in recs if r["lport"] == srv.port]
        self.assertEqual(len(servers), 2, recs)
        for r in servers:
            self.assertNotIn("pid", r)
            self.assertNotIn("comm", r)
            self.assertFalse(r["active"])
            self.assertIn(r["tx_bytes"], (0, 10))  # 10 once the peer acknowledged them
        self.assertEqual(sorted(r["pid"] for r in recs if r["rport"] == srv.port),
                         sorted([child.pid, control.pid]))
        # -p: only the child's own session; the ownerless ends are dropped.
        self.assertEqual([(r["pid"], r["lport"]) for r in self.sessions(mine, srv)],
                         [(child.pid, child.result("r")["sport"])])

    def test_uid_filter(self):
        srv = Server(self)
        with Tool("tcplife", "--json", "-u", NOBODY) as t:
            nobody = run_child(self, [connect_op(srv, "n")], user=NOBODY)
            root = run_child(self, [connect_op(srv, "r")])
            srv.wait_for(2)
            settle(t, lambda recs: self.sessions(t, srv))
        t.assert_clean_exit(self)
        self.assertEqual([(r["pid"], r["uid"]) for r in self.sessions(t, srv)], [(nobody.pid, NOBODY)])
        self.assertEqual([r for r in t.records("tcplife") if r.get("pid") == root.pid], [])

    def test_name_and_cgroup_filters(self):
        srv = Server(self)
        name = f"sklife{os.getpid() % 100000}"
        with Tool("tcplife", "--json", "-n", name[2:]) as t:
            named = run_child(self, [{"op": "comm", "name": name}, connect_op(srv, "n")])
            run_child(self, [connect_op(srv, "o")])
            settle(t, lambda recs: self.sessions(t, srv))
        t.assert_clean_exit(self)
        self.assertEqual([(r["pid"], r["comm"]) for r in self.sessions(t, srv)], [(named.pid, name)])

        with Cgroup() as cg:
            with Tool("tcplife", "--json", "-c", cg.path) as t:
                inside = run_child(self, [{"op": "cgroup", "path": str(cg.path)}, connect_op(srv, "i")])
                run_child(self, [connect_op(srv, "o")])
                settle(t, lambda recs: self.sessions(t, srv))
            t.assert_clean_exit(self)
        self.assertEqual([r["pid"] for r in self.sessions(t, srv)], [inside.pid])

    def test_text_columns(self):
        srv = Server(self, "ipv6", reply=2048)
        with Tool("tcplife") as t:
            child = run_child(self, [connect_op(srv, "c", send=4096)])
            srv.wait_for(1)
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB",
                                            "RX_KB", "MS"])
        [mine] = [l.split() for l in lines[1:] if l.split()[0] == str(child.pid)]
        self.assertEqual(mine[:8], [str(child.pid), PYTHON_COMM, "::1", str(child.result("c")["sport"]),
                                    "::1", str(srv.port), "4.00", "2.00"])
        self.assertRegex(mine[8], r"^\d+\.\d\d$")

        with Tool("tcplife", "-T", "-t", "-w") as t:
            child = run_child(self, [connect_op(srv, "c")])
            srv.wait_for(2)
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[:3], ["TIME", "TIME(s)", "PID"])
        [mine] = [l.split() for l in lines[1:] if l.split()[2] == str(child.pid)]
        self.assertRegex(mine[0], r"^\d\d:\d\d:\d\d$")
        self.assertRegex(mine[1], r"^\d+\.\d{6}$")

    def test_bad_port_list_is_usage_error(self):
        for bad in ("http", "70000", "1,,2", ",".join(str(p) for p in range(1, 18))):
            with self.subTest(ports=bad):
                p = subprocess.run([tool_path("tcplife"), "-L", bad], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("-L", p.stderr)

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        srv = Server(self)
        with Tool("tcplife", "--json") as t:
            run_child(self, [connect_op(srv, "c")])
            settle(t, lambda recs: self.sessions(t, srv))
        t.assert_clean_exit(self)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
