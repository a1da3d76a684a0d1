"""Runtime tests for mountsnoop: the real tool, real BPF, mount calls made by
a child this test owns (script_child.py) inside a private mount namespace it
creates first (unshare(CLONE_NEWNS), then / made private), so the host's
mounts are never touched. Runs filter on the child's pid."""

import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

from harness import (BpfTestCase, Cgroup, Tool, assert_no_bpf_left, bpf_snapshot, decode_bytes,
                     has_control_bytes, skip)
from script_child import ScriptChild

NOBODY = 65534
PYTHON_COMM = os.path.basename(sys.executable)[:15]
EPERM, ENOENT, EINVAL, ENAMETOOLONG = 1, 2, 22, 36
AT_FDCWD = -100
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 16384, 1 << 18
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOATIME = 0x1, 0x4, 0x10
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())

# Helpers the child gets. The new mount API has the same syscall numbers on every arch.
MOUNT_LIB = r"""
L = ctypes.c_long
def cs(b): return ctypes.c_char_p(b)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
def err(ret): return ret if ret >= 0 else -ctypes.get_errno()
def call(tag, ret):
    report(tag=tag, ret=ret)
    return ret
def private_ns():
    assert libc.unshare(0x00020000) == 0, "unshare(CLONE_NEWNS)"
    report(mnt_ns=os.stat("/proc/self/ns/mnt").st_ino)
    call("private", err(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)))
class MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("attr_set", "attr_clr", "propagation", "userns_fd")]
"""


def by_time(recs):
    """Records in kernel time order: the perf buffer is per CPU, so a thread
    that moved between CPUs can have its events read out of order."""
    return sorted(recs, key=lambda r: int(r["ktime_ns"]))


def marker():
    return f"sk{uuid.uuid4().hex[:10]}"


class MountsnoopTest(BpfTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-mount-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        for d in ("a", "b", "c"):
            (self.tmp / d).mkdir()

    def dir(self, name):
        return os.fsencode(self.tmp / name)

    def child(self, code, **kw):
        consts = f"MS_REC, MS_PRIVATE = {MS_REC}, {MS_PRIVATE}\n"
        return ScriptChild(self, consts + MOUNT_LIB + code, **kw)

    def traced(self, code, *tool_args):
        c = self.child(code)
        with Tool("mountsnoop", *tool_args, "-p", c.pid) as t:
            c.run()
        return t, c

    def by_syscall(self, tool, pid):
        out = {}
        for r in by_time(tool.records("mount", pid=pid)):
            out.setdefault(r["syscall"], []).append(r)
        return out

    # --- mount(2) and umount2(2) ---

    SOURCE = b"sk\xff\nsrc"  # any name does for tmpfs: not UTF-8, with a newline

    def classic(self):
        a = self.dir("a")
        return f"""
private_ns()
a = {a!r}
call("mount", err(libc.mount({self.SOURCE!r}, a, b"tmpfs", {MS_NOSUID | MS_NODEV}, b"size=1m,mode=700")))
call("remount", err(libc.mount(None, a, None, {MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV}, b"size=2m")))
call("umount", err(libc.umount2(a, {MNT_DETACH})))
call("umount_again", err(libc.umount2(a, 0)))
call("too_long", err(libc.umount2(b"/" + b"x" * 5000, 0)))
"""

    def check_classic(self, *transport):
        t, c = self.traced(self.classic(), "--json", *transport)
        t.assert_clean_exit(self)
        self.assertIn("perf buffer" if transport else "ring buffer", t.stderr)
        ret = {r["tag"]: r["ret"] for r in c.results if "tag" in r}
        self.assertEqual(ret, {"private": 0, "mount": 0, "remount": 0, "umount": 0,
                               "umount_again": -EINVAL, "too_long": -ENAMETOOLONG})
        ns = c.result("mnt_ns")["mnt_ns"]
        self.assertNotEqual(ns, os.stat("/proc/self/ns/mnt").st_ino)
        recs = t.records("mount", pid=c.pid)
        self.assertTrue(all((r["tid"], r["uid"], r["comm"], r["mnt_ns"]) == (c.pid, 0, PYTHON_COMM, ns)
                            for r in recs), recs)
        self.assertTrue(all(r["latency_ns"] > 0 for r in recs))
        calls = self.by_syscall(t, c.pid)
        a = self.dir("a")
        got = [(decode_bytes(r, "source"), decode_bytes(r, "target"), r["fstype"], r["data"],
                r["flags"], r["flag_names"], r["ret"], r["truncated"]) for r in calls["mount"]]
        self.assertEqual(got, [
            (b"none", b"/", "", "", MS_REC | MS_PRIVATE, ["MS_REC", "MS_PRIVATE"], 0, []),
            (self.SOURCE, a, "tmpfs", "size=1m,mode=700", MS_NOSUID | MS_NODEV,
             ["MS_NOSUID", "MS_NODEV"], 0, []),
            (b"", a, "", "size=2m", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
             ["MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_REMOUNT"], 0, []),
        ])
        self.assertIn("source_b64", calls["mount"][1])
        got = [(decode_bytes(r, "target")[:10], r["flags"], r["flag_names"], r["ret"], r["truncated"])
               for r in calls["umount"]]
        self.assertEqual(got, [(a[:10], MNT_DETACH, ["MNT_DETACH"], 0, []),
                               (a[:10], 0, [], -EINVAL, []),
                               (b"/" + b"x" * 9, 0, [], -ENAMETOOLONG, ["target"])])
        self.assertEqual(len(calls["umount"][2]["target"]), 4095)
        self.assertEqual(set(calls), {"mount", "umount"})
        self.assertFalse(os.path.ismount(self.tmp / "a"), "a mount leaked to the host")

    def test_mount_umount_ring_buffer(self):
        self.check_classic()

    def test_mount_umount_perf_buffer(self):
        self.check_classic("--perf-buffer")

    # --- the new mount API ---

    def test_new_mount_api(self):
        b = self.dir("b")
        code = f"""
private_ns()
b = {b!r}
fd = call("fsopen", syscall(430, cs(b"tmpfs"), L(1)))
call("fsconfig_size", syscall(431, L(fd), L(1), cs(b"size"), cs(b"2m"), L(0)))
call("fsconfig_bin", syscall(431, L(fd), L(2), cs(b"bin"), cs(b"a\\0\\xffz"), L(4)))
call("fsconfig_create", syscall(431, L(fd), L(6), None, None, L(0)))
mfd = call("fsmount", syscall(432, L(fd), L(1), L({MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME})))
call("move_mount", syscall(429, L(mfd), cs(b""), L({AT_FDCWD}), cs(b), L(0x4)))
call("open_tree", syscall(428, L({AT_FDCWD}), cs(b), L(1 | 0o2000000)))
attr = MountAttr({MOUNT_ATTR_RDONLY}, 0, {MS_PRIVATE}, 0)
call("mount_setattr", syscall(442, L({AT_FDCWD}), cs(b), L(0x8000), ctypes.byref(attr),
                              L(ctypes.sizeof(attr))))
call("fspick", syscall(433, L({AT_FDCWD}), cs(b), L(1)))
call("umount", err(libc.umount2(b, {MNT_DETACH})))
"""
        t, c = self.traced(code, "--json")
        t.assert_clean_exit(self)
        ret = {r["tag"]: r["ret"] for r in c.results if "tag" in r}
        self.assertEqual(ret["fsconfig_bin"], -EINVAL)  # tmpfs takes no binary option
        self.assertTrue(all(v >= 0 for k, v in ret.items() if k != "fsconfig_bin"), ret)
        calls = self.by_syscall(t, c.pid)

        [r] = calls["fsopen"]
        self.assertEqual((r["fstype"], r["flag_names"], r["ret"]), ("tmpfs", ["FSOPEN_CLOEXEC"], ret["fsopen"]))
        cfg = [(r["fd"], r["cmd"], r["cmd_name"], r["key"], decode_bytes(r, "value"), r["aux"], r["ret"])
               for r in calls["fsconfig"]]
        fd = ret["fsopen"]
        self.assertEqual(cfg, [
            (fd, 1, "FSCONFIG_SET_STRING", "size", b"2m", 0, 0),
            (fd, 2, "FSCONFIG_SET_BINARY", "bin", b"a\0\xffz", 4, -EINVAL),
            (fd, 6, "FSCONFIG_CMD_CREATE", "", b"", 0, 0),
        ])
        [r] = calls["fsmount"]
        self.assertEqual((r["fd"], r["flag_names"], r["attr_flags"], r["attr_names"], r["ret"]),
                         (fd, ["FSMOUNT_CLOEXEC"], MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME,
                          ["MOUNT_ATTR_NODEV", "MOUNT_ATTR_NOATIME"], ret["fsmount"]))
        [r] = calls["move_mount"]
        self.assertEqual((r["from_fd"], r["source"], r["to_fd"], decode_bytes(r, "target"), r["flag_names"]),
                         (ret["fsmount"], "", AT_FDCWD, b, ["MOVE_MOUNT_F_EMPTY_PATH"]))
        [r] = calls["open_tree"]
        self.assertEqual((r["dfd"], decode_bytes(r, "path"), r["flag_names"], r["ret"]),
                         (AT_FDCWD, b, ["OPEN_TREE_CLONE", "OPEN_TREE_CLOEXEC"], ret["open_tree"]))
        [r] = calls["mount_setattr"]
        self.assertEqual((r["dfd"], decode_bytes(r, "path"), r["flag_names"], r["attr_set"],
                          r["attr_set_names"], r["attr_clr_names"], r["propagation_names"], r["userns_fd"]),
                         (AT_FDCWD, b, ["AT_RECURSIVE"], MOUNT_ATTR_RDONLY, ["MOUNT_ATTR_RDONLY"], [],
                          ["MS_PRIVATE"], 0))
        [r] = calls["fspick"]
        self.assertEqual((r["dfd"], decode_bytes(r, "path"), r["flag_names"], r["ret"]),
                         (AT_FDCWD, b, ["FSPICK_CLOEXEC"], ret["fspick"]))

    def test_pivot_root(self):
        if PIVOT_ROOT is None:
            skip(f"no pivot_root syscall number for {platform.machine()}")
        new_root = self.dir("c")
        code = f"""
private_ns()
call("mount", err(libc.mount(b"sk-root", {new_root!r}, b"tmpfs", 0, None)))
os.mkdir({new_root + b"/old"!r})
call("pivot_root", syscall({PIVOT_ROOT}, cs({new_root!r}), cs({new_root + b"/old"!r})))
"""
        t, c = self.traced(code, "--json")
        t.assert_clean_exit(self)
        [r] = self.by_syscall(t, c.pid)["pivot_root"]
        ret = {x["tag"]: x["ret"] for x in c.results if "tag" in x}
        self.assertEqual(ret["mount"], 0)
        # pivot_root may refuse (EINVAL from an initramfs root): the record says what the call got.
        self.assertEqual((decode_bytes(r, "new_root"), decode_bytes(r, "put_old"), r["flags"],
                          r["flag_names"], r["ret"]), (new_root, new_root + b"/old", 0, [], ret["pivot_root"]))
        self.assertFalse(os.path.ismount(self.tmp / "c"), "a mount leaked to the host")

    # --- filters: each with an event that must pass and one that must not ---

    def umount_missing(self, tag):
        return f"call({tag!r}, err(libc.umount2(b'/nonexistent-{marker()}', 0)))"

    def test_uid_filter(self):
        with Tool("mountsnoop", "--json", "-u", NOBODY) as t:
            nobody = self.child(self.umount_missing("n"), user=NOBODY)
            root = self.child(self.umount_missing("r"))
            nobody.run(), root.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["uid"], r["ret"]) for r in t.records("mount", pid=nobody.pid)],
                         [(NOBODY, nobody.result("tag")["ret"])])
        self.assertIn(nobody.result("tag")["ret"], (-EPERM, -ENOENT))
        self.assertEqual(t.records("mount", pid=root.pid), [])

    def test_name_filter(self):
        name = f"skm{uuid.uuid4().hex[:8]}"
        setname = "open('/proc/self/comm', 'w').write({!r})\n"
        with Tool("mountsnoop", "--json", "-n", name[2:9]) as t:
            a = self.child(setname.format(name) + self.umount_missing("a"))
            b = self.child(setname.format("sk-other") + self.umount_missing("b"))
            a.run(), b.run()
        t.assert_clean_exit(self)
        self.assertEqual([(r["comm"], r["ret"]) for r in t.records("mount", pid=a.pid)], [(name, -ENOENT)])
        self.assertEqual(t.records("mount", pid=b.pid), [])

    def test_cgroup_filter(self):
        with Cgroup() as cg:
            join = f"open({str(cg.path / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
            with Tool("mountsnoop", "--json", "-c", cg.path) as t:
                a = self.child(join + self.umount_missing("a"))
                b = self.child(self.umount_missing("b"))
                a.run(), b.run()
            t.assert_clean_exit(self)
        self.assertEqual(len(t.records("mount", pid=a.pid)), 1)
        self.assertEqual(t.records("mount", pid=b.pid), [])

    def test_pid_filter(self):
        a = self.child(self.umount_missing("a"))
        with Tool("mountsnoop", "--json", "-p", a.pid) as t:
            b = self.child(self.umount_missing("b"))
            b.run(), a.run()
        t.assert_clean_exit(self)
        self.assertEqual({r["pid"] for r in t.records("mount")}, {a.pid})

    # --- text output ---

    def test_text_call_column(self):
        t, c = self.traced(self.classic(), "-t", "--detailed")
        t.assert_clean_exit(self)
        out = t.stdout
        self.assertFalse(has_control_bytes(out), out)
        lines = out.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "COMM", "PID", "TID", "UID", "MNT_NS", "LAT(us)", "CALL"])
        rows = [l.split(None, 7) for l in lines[1:]]
        ns = str(c.result("mnt_ns")["mnt_ns"])
        self.assertTrue(all(r[1:6] == [PYTHON_COMM, str(c.pid), str(c.pid), "0", ns] for r in rows), rows)
        self.assertRegex(rows[0][0], r"^\d\d:\d\d:\d\d$")
        a = os.fsdecode(self.dir("a"))
        # Sorted: text has no kernel time to order by (see by_time).
        calls = [r[7] for r in rows if "xxxxxxxx" not in r[7]]  # all but the 5000-byte umount
        self.assertEqual(len(calls), 5, rows)
        self.assertEqual(sorted(calls), sorted([
            'mount("none", "/", "", MS_REC | MS_PRIVATE, "") = 0',
            f'mount("sk\\xff\\x0asrc", "{a}", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700") = 0',
            f'mount("", "{a}", "", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_REMOUNT, "size=2m") = 0',
            f'umount("{a}", MNT_DETACH) = 0',
            f'umount("{a}", 0x0) = -{EINVAL}',
        ]))

    def test_text_call_column_cannot_be_forged(self):
        # A source any user may choose (unshare -rm mount -t tmpfs SOURCE DIR)
        # that would close its string and print a fake call after it.
        source = b'none\\", "/etc", "tmpfs", MS_RDONLY, "") = 0' + b" " * 40
        target = self.dir("a")
        c = self.child(f"os.execvp('unshare', ['unshare', '-rm', 'mount', '-t', 'tmpfs', "
                       f"{source!r}, {target!r}])")
        with Tool("mountsnoop", "-p", c.pid) as t:
            c.run()
        t.assert_clean_exit(self)
        self.assertEqual(c.returncode, 0)
        quoted = r'"((?:[^"\\]|\\.)*)"'
        calls = [l.split(None, 4)[4] for l in t.stdout.decode().splitlines()[1:]
                 if os.fsdecode(target) in l]
        self.assertEqual(len(calls), 1, t.stdout)
        m = re.match(rf"mount\({quoted}, {quoted}, {quoted}, ", calls[0])
        self.assertIsNotNone(m, calls[0])
        unescape = lambda s: re.sub(r"\\(.)", r"\1", s)
        self.assertEqual([unescape(g) for g in m.groups()],
                         [source.decode(), os.fsdecode(target), "tmpfs"])

    # --- lifecycle ---

    def test_sigterm_exits_clean_and_leaves_nothing(self):
        before = bpf_snapshot()
        c = self.child(self.umount_missing("u"))
        t = Tool("mountsnoop", "--json", "-p", c.pid, stop_signal=signal.SIGTERM)
        with t:
            c.run()
        t.assert_clean_exit(self)
        self.assertEqual(len(t.records("mount")), 1)
        self.assertEqual(t.records()[-1]["printed"], 1)
        self.assertTrue(t.held["prog"], t.held)
        assert_no_bpf_left(self, before, t.held)
