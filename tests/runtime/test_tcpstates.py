"""Runtime tests for tcpstates: the real tool, real BPF, TCP sessions this
test owns on loopback only (a listener in this process, a child connecting
to it; helpers from test_tcplife). Each socket's transitions are checked in
order, and the time in the old state against the records' own clocks."""

import os
import subprocess
import time

from harness import BpfTestCase, Tool, assert_no_bpf_left, bpf_snapshot, tool_path
from test_tcplife import (LOOPBACK, PYTHON_COMM, NetChild, Server, connect_op, free_port, run_child,
                          settle)

CLIENT = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
          ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]
ACCEPTED = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
            ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]


def by_socket(recs):
    """Records grouped by skaddr, each group in kernel time order."""
    groups = {}
    for r in sorted(recs, key=lambda r: int(r["ktime_ns"])):
        groups.setdefault(r["skaddr"], []).append(r)
    return groups


class TcpstatesTest(BpfTestCase):

    def changes(self, tool, port):
        """tcpstate records of sockets at either end of port."""
        return [r for r in tool.records("tcpstate") if port in (r["lport"], r["rport"])]

    def check_session(self, family, *tool_args):
        with Tool("tcpstates", "--json", *tool_args) as t:
            srv = Server(self, family, reply=100)
            child = NetChild(self, [connect_op(srv, "c", send=100)])
            child.run()
            srv.wait_for(1)
            srv.close()
            settle(t, lambda recs: len(self.changes(t, srv.port)) >= 12)
        t.assert_clean_exit(self)
        sport, addr = child.result("c")["sport"], LOOPBACK[family]
        groups = by_socket(self.changes(t, srv.port))
        self.assertEqual(len(groups), 3, groups)
        seqs = {tuple((r["oldstate"], r["newstate"]) for r in g): g for g in groups.values()}
        self.assertEqual(sorted(seqs), sorted([tuple(CLIENT), tuple(ACCEPTED),
                                               (("CLOSE", "LISTEN"), ("LISTEN", "CLOSE"))]))
        client, accepted, listener = seqs[tuple(CLIENT)], seqs[tuple(ACCEPTED)], seqs[(("CLOSE", "LISTEN"),
                                                                                        ("LISTEN", "CLOSE"))]
        for r in client + accepted + listener:
            self.assertEqual((r["family"], r["laddr"]), (family, addr))
        # connect() moves the socket to SYN_SENT before a local port is chosen.
        self.assertEqual((client[0]["lport"], client[0]["rport"], client[0]["raddr"]), (0, srv.port, addr))
        self.assertTrue(all((r["lport"], r["rport"]) == (sport, srv.port) for r in client[1:]))
        self.assertTrue(all((r["lport"], r["rport"]) == (srv.port, sport) for r in accepted[1:]))
        # Older kernels (seen on 6.1) set SYN_RECV in inet_csk_clone_lock()
        # before copying the peer's port into the accepted socket.
        self.assertIn((accepted[0]["lport"], accepted[0]["rport"]), ((srv.port, sport), (srv.port, 0)))
        self.assertEqual([(r["lport"], r["raddr"], r["rport"]) for r in listener],
                         [(srv.port, "::" if family == "ipv6" else "0.0.0.0", 0)] * 2)
        # Process-context changes carry their caller.
        self.assertEqual((client[0]["pid"], client[0]["comm"]), (child.pid, PYTHON_COMM))
        self.assertEqual(client[2]["pid"], child.pid)  # shutdown(SHUT_WR)
        self.assertEqual(listener[0]["pid"], os.getpid())  # listen()
        self.assertEqual(accepted[3]["pid"], os.getpid())  # close() in CLOSE_WAIT
        # Time in the old state: unknown for a socket's first change, else exact.
        for g in (client, listener):
            self.assertNotIn("delta_ns", g[0])
        for g in (client, accepted, listener):
            for prev, cur in zip(g, g[1:]):
                self.assertEqual(cur["delta_ns"], int(cur["ktime_ns"]) - int(prev["ktime_ns"]))
        return t

    def test_ipv4_session_ring_buffer(self):
        t = self.check_session("ipv4")
        self.assertIn("ring buffer", t.stderr)

    def test_ipv6_session(self):
        self.check_session("ipv6")

    def test_perf_buffer(self):
        t = self.check_session("ipv4", "--perf-buffer")
        self.assertIn("perf buffer", t.stderr)

    def test_port_filters(self):
        port = free_port()
        with Tool("tcpstates", "--json", "-L", port) as local, \
                Tool("tcpstates", "--json", "-D", f"1,{port}") as remote:
            srv = Server(self, port=port)
            child = run_child(self, [connect_op(srv, "c")])
            srv.wait_for(1)
            srv.close()
            settle(local, lambda recs: len(self.changes(local, srv.port)) >= 7)
            settle(remote, lambda recs: len(self.changes(remote, srv.port)) >= 5)
        local.assert_clean_exit(self)
        remote.assert_clean_exit(self)
        sport = child.result("c")["sport"]
        # -L: the listener and the accepted socket; -D: the connecting socket.
        self.assertEqual(sorted(len(g) for g in by_socket(self.changes(local, srv.port)).values()), [2, 5])
        self.assertTrue(all(r["lport"] == srv.port for r in local.records("tcpstate")))
        [connecting] = by_socket(self.changes(remote, srv.port)).values()
        self.assertEqual([(r["lport"], r["newstate"]) for r in connecting],
                         [(0, "SYN_SENT"), (sport, "ESTABLISHED"), (sport, "FIN_WAIT1"), (sport, "FIN_WAIT2"),
                          (sport, "CLOSE")])
        self.assertTrue(all(r["rport"] in (1, srv.port) for r in remote.records("tcpstate")))

    def test_family_filters(self):
        v4, v6 = Server(self, "ipv4"), Server(self, "ipv6")
        with Tool("tcpstates", "--json", "-4") as t4, Tool("tcpstates", "--json", "-6") as t6:
            run_child(self, [connect_op(v4, "a"), connect_op(v6, "b")])
            v4.wait_for(1)
            v6.wait_for(1)
            settle(t4, lambda recs: len(self.changes(t4, v4.port)) >= 8)
            settle(t6, lambda recs: len(self.changes(t6, v6.port)) >= 8)
        for t, mine, other, fam in ((t4, v4, v6, "ipv4"), (t6, v6, v4, "ipv6")):
            t.assert_clean_exit(self)
            self.assertGreaterEqual(len(self.changes(t, mine.port)), 8)
            self.assertEqual(self.changes(t, other.port), [])
            self.assertEqual({r["family"] for r in t.records("tcpstate")}, {fam})

    def test_text_columns(self):
        srv = Server(self)
        with Tool("tcpstates", "-D", srv.port) as t:
            child = run_child(self, [connect_op(srv, "c")])
            srv.wait_for(1)
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["SKADDR", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT",
                                            "OLDSTATE", "->", "NEWSTATE", "MS"])
        # Each CPU's events come apart with the perf buffer: compare as sets.
        rows = [l.split() for l in lines[1:]]
        [first] = [r for r in rows if r[7:10] == ["CLOSE", "->", "SYN_SENT"]]
        self.assertEqual(first[1:], [str(child.pid), PYTHON_COMM, "127.0.0.1", "0", "127.0.0.1",
                                     str(srv.port), "CLOSE", "->", "SYN_SENT", "-"])
        self.assertRegex(first[0], r"^[0-9a-f]{16}$")
        self.assertEqual(sorted(r[7:10] for r in rows if r is not first),
                         sorted([a, "->", b] for a, b in CLIENT[1:]))
        for r in rows:
            if r is not first:
                self.assertRegex(r[10], r"^\d+\.\d{3}$")

        with Tool("tcpstates", "-w", "-T", "-t", "-D", srv.port) as t:
            run_child(self, [connect_op(srv, "c")])
            srv.wait_for(2)
            time.sleep(0.3)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[:6], ["TIME", "TIME(s)", "SKADDR", "PID", "COMM", "IP"])
        row = lines[1].split()  # whichever change came first
        self.assertRegex(row[0], r"^\d\d:\d\d:\d\d$")
        self.assertRegex(row[1], r"^\d+\.\d{6}$")
        self.assertEqual(row[5], "4")

    def test_bad_options_are_usage_errors(self):
        for argv in (["-4", "-6"], ["-D", "0x50"], ["-L", "65536"]):
            with self.subTest(argv=argv):
                p = subprocess.run([tool_path("tcpstates"), *argv], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        import signal
        before = bpf_snapshot()
        srv = Server(self)
        with Tool("tcpstates", "--json", "-L", srv.port, stop_signal=signal.SIGTERM) as t:
            run_child(self, [connect_op(srv, "c")])
            settle(t, lambda recs: self.changes(t, srv.port))
        t.assert_clean_exit(self)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
