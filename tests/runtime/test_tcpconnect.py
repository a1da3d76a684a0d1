"""Runtime tests for tcpconnect: the real tool, real BPF, connections this
test owns on loopback only (a listener in this process, children connecting
to it; helpers from test_tcplife). Records are matched on the child's pid
and the listener's port."""

import os
import re
import signal
import subprocess
import time

from harness import BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, tool_path
from test_tcplife import (LOOPBACK, NOBODY, PYTHON_COMM, NetChild, Server, connect_op, free_port,
                          run_child, settle)

ECONNREFUSED, EINPROGRESS = 111, 115


def hook_of(tool):
    """The hook tcpconnect chose, from its readiness line: "kprobe", "tracepoint", ..."""
    m = re.search(r"connect=([\w-]+)", tool.stderr)
    return m.group(1) if m else None


class TcpconnectTest(BpfTestCase):

    def connects(self, tool, port, **match):
        return [r for r in tool.records("connect", **match) if r["dport"] == port]

    def check_families(self, *tool_args):
        v4, v6 = Server(self, "ipv4"), Server(self, "ipv6")
        child = NetChild(self, [connect_op(v4, "v4"), connect_op(v6, "v6"),
                                connect_op(v4, "mapped", mapped=True),
                                connect_op(v4, "nonblock", mode="nonblock")])
        with Tool("tcpconnect", "--json", "-p", child.pid, *tool_args) as t:
            child.run()
            settle(t, lambda recs: len(recs) >= 4)
        t.assert_clean_exit(self)
        recs = t.records("connect")
        self.assertEqual(len(recs), 4, recs)
        by_port = {r["sport"]: r for r in recs}
        for tag, server, family in (("v4", v4, "ipv4"), ("v6", v6, "ipv6"), ("mapped", v4, "ipv4"),
                                    ("nonblock", v4, "ipv4")):
            with self.subTest(tag=tag):
                res = child.result(tag)
                self.assertIn(res["errno"], (0, EINPROGRESS) if tag == "nonblock" else (0,))
                r = by_port[res["sport"]]
                addr = LOOPBACK[family]
                # An IPv4-mapped peer is reported as the IPv4 connection it is.
                self.assertEqual((r["pid"], r["tid"], r["uid"], r["comm"], r["family"], r["saddr"], r["daddr"],
                                  r["dport"]),
                                 (child.pid, child.pid, 0, PYTHON_COMM, family, addr, addr, server.port))
        return t

    def test_families_ring_buffer(self):
        t = self.check_families()
        self.assertIn("ring buffer", t.stderr)

    def test_families_perf_buffer(self):
        t = self.check_families("--perf-buffer")
        self.assertIn("perf buffer", t.stderr)

    def test_refused_connect(self):
        port = free_port()  # nothing listens there: the SYN is answered with a RST
        child = NetChild(self, [{"op": "connect", "host": "127.0.0.1", "port": port, "tag": "r"}])
        with Tool("tcpconnect", "--json", "-p", child.pid) as t:
            child.run()
            settle(t, lambda recs: self.connects(t, port))
        t.assert_clean_exit(self)
        res = child.result("r")
        self.assertEqual(res["errno"], ECONNREFUSED)
        [r] = self.connects(t, port)
        self.assertEqual((r["pid"], r["daddr"], r["sport"]), (child.pid, "127.0.0.1", res["sport"]))

    def test_port_filter(self):
        a, b = Server(self), Server(self)
        with Tool("tcpconnect", "--json", "-P", f"{a.port},1") as t:
            child = run_child(self, [connect_op(a, "a"), connect_op(b, "b")])
            settle(t, lambda recs: self.connects(t, a.port))
        t.assert_clean_exit(self)
        self.assertEqual([r["pid"] for r in self.connects(t, a.port)], [child.pid])
        self.assertEqual(self.connects(t, b.port), [])
        self.assertTrue(all(r["dport"] in (1, a.port) for r in t.records("connect")))

    def test_pid_filter(self):
        srv = Server(self)
        child = NetChild(self, [connect_op(srv, "c")])
        control = NetChild(self, [connect_op(srv, "o")])
        with Tool("tcpconnect", "--json", "-p", child.pid) as t:
            child.run()
            control.run()
            srv.wait_for(2)
            settle(t, lambda recs: self.connects(t, srv.port))
        t.assert_clean_exit(self)
        self.assertEqual([r["sport"] for r in self.connects(t, srv.port)], [child.result("c")["sport"]])
        self.assertEqual({r["pid"] for r in t.records("connect")}, {child.pid})

    def test_uid_filter(self):
        srv = Server(self)
        with Tool("tcpconnect", "--json", "-u", NOBODY) as t:
            nobody = run_child(self, [connect_op(srv, "n")], user=NOBODY)
            root = run_child(self, [connect_op(srv, "r")])
            settle(t, lambda recs: self.connects(t, srv.port))
        t.assert_clean_exit(self)
        self.assertEqual([(r["pid"], r["uid"]) for r in self.connects(t, srv.port)], [(nobody.pid, NOBODY)])
        self.assertEqual(t.records("connect", pid=root.pid), [])

    def test_name_and_cgroup_filters(self):
        srv = Server(self)
        name = f"skconn{os.getpid() % 100000}"
        with Tool("tcpconnect", "--json", "-n", name[2:]) as t:
            named = run_child(self, [{"op": "comm", "name": name}, connect_op(srv, "n")])
            run_child(self, [connect_op(srv, "o")])
            settle(t, lambda recs: self.connects(t, srv.port))
        t.assert_clean_exit(self)
        self.assertEqual([(r["pid"], r["comm"]) for r in self.connects(t, srv.port)], [(named.pid, name)])

        with Cgroup() as cg:
            with Tool("tcpconnect", "--json", "--cgroup", cg.path) as t:
                inside = run_child(self, [{"op": "cgroup", "path": str(cg.path)}, connect_op(srv, "i")])
                run_child(self, [connect_op(srv, "o")])
                settle(t, lambda recs: self.connects(t, srv.port))
            t.assert_clean_exit(self)
        self.assertEqual([r["pid"] for r in self.connects(t, srv.port)], [inside.pid])

    def test_text_columns(self):
        srv = Server(self, "ipv6")
        child = NetChild(self, [connect_op(srv, "c")])
        with Tool("tcpconnect", "-p", child.pid) as t:
            child.run()
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["PID", "COMM", "IP", "SADDR", "DADDR", "DPORT"])
        self.assertEqual([l.split() for l in lines[1:]],
                         [[str(child.pid), PYTHON_COMM, "6", "::1", "::1", str(srv.port)]])

        child = NetChild(self, [connect_op(srv, "c")])
        with Tool("tcpconnect", "-t", "-U", "-s", "-p", child.pid) as t:
            child.run()
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME(s)", "UID", "PID", "COMM", "IP", "SADDR", "DADDR", "SPORT",
                                            "DPORT"])
        [row] = [l.split() for l in lines[1:]]
        self.assertRegex(row[0], r"^\d+\.\d{6}$")
        self.assertEqual(row[1:], ["0", str(child.pid), PYTHON_COMM, "6", "::1", "::1",
                                   str(child.result("c")["sport"]), str(srv.port)])

    def test_hook_choice_is_reported(self):
        with Tool("tcpconnect", "--json", "-d", "0.2") as t:
            pass
        t.assert_clean_exit(self)
        self.assertIn(hook_of(t), ("kprobe", "tracepoint", "tracepoint-state-only"), t.stderr)

    def test_bad_port_list_is_usage_error(self):
        p = subprocess.run([tool_path("tcpconnect"), "-P", "80,http"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("invalid port 'http'", p.stderr)

    def test_sigint_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        srv = Server(self)
        with Tool("tcpconnect", "--json", stop_signal=signal.SIGINT) as t:
            run_child(self, [connect_op(srv, "c")])
            settle(t, lambda recs: self.connects(t, srv.port))
        t.assert_clean_exit(self)
        self.assertEqual(len(self.connects(t, srv.port)), 1)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
