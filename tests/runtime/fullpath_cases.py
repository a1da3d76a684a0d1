"""Full paths (-F) and exact path truncation, shared by the opensnoop and
statsnoop tests: each scenario runs in a ScriptChild this test owns (cwd,
dfd, a tmpfs in a private mount namespace, a chroot, a deep tree) and
asserts on that child's records only.

A test class mixes FullPathCases in beside BpfTestCase and sets:
  TOOL    the tool's name
  TYPE    its record type
  CALL    Python source of `call(tag, path, dfd=None)`: the tool's syscall
          on path (bytes), reported as report(tag=..., errno=...)
and self.tmp, a directory the test owns.
"""

import os
from pathlib import Path

from harness import Tool, decode_bytes
from script_child import ScriptChild

DEPTH = 64  # SK_FULLPATH_MAX_DEPTH
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x20000, 0x4000, 1 << 18
PRIVATE_TMPFS = """
assert libc.unshare(ctypes.c_int({newns})) == 0, ctypes.get_errno()
assert libc.mount(None, b"/", None, ctypes.c_ulong({rec} | {private}), None) == 0, ctypes.get_errno()
assert libc.mount(b"none", {mnt!r}, b"tmpfs", ctypes.c_ulong(0), None) == 0, ctypes.get_errno()
os.makedirs({sub!r})
"""


class FullPathCases:

    def full_run(self, code, *tool_args):
        """Runs code (after CALL) in a child traced with --json; returns the
        tool and the child's records by tag."""
        child = ScriptChild(self, self.CALL + code)
        with Tool(self.TOOL, "--json", *tool_args, "-p", child.pid) as t:
            child.run()
        t.assert_clean_exit(self)
        self.assertEqual(child.returncode, 0, child.results)
        return t, child

    def one(self, tool, path, **match):
        recs = [r for r in tool.records(self.TYPE, **match) if decode_bytes(r, "path") == path]
        self.assertEqual(len(recs), 1, f"{path!r}: {tool.records(self.TYPE)}")
        return recs[0]

    def assert_full(self, rec, want, truncated=False):
        self.assertEqual((decode_bytes(rec, "full_path"), rec["full_path_truncated"]), (want, truncated))

    def test_full_path_relative_to_cwd_and_absolute_unchanged(self):
        cwd = self.tmp / "a" / "b"
        cwd.mkdir(parents=True)
        (cwd / "rel").write_text("x")
        absolute = os.fsencode(cwd / "rel")
        t, c = self.full_run(f"os.chdir({str(cwd)!r})\ncall('rel', b'rel')\n"
                             f"call('up', b'../b/./rel')\ncall('abs', {absolute!r})\n", "-F")
        self.assert_full(self.one(t, b"rel", pid=c.pid), absolute)
        self.assert_full(self.one(t, b"../b/./rel", pid=c.pid), os.fsencode(cwd) + b"/../b/./rel")
        self.assert_full(self.one(t, absolute, pid=c.pid), absolute)

    def test_full_path_relative_to_dfd(self):
        d = self.tmp / "dir"
        d.mkdir()
        (d / "f").write_text("x")
        t, c = self.full_run(f"dfd = os.open({str(d)!r}, os.O_RDONLY | os.O_DIRECTORY)\n"
                             "call('f', b'f', dfd)\ncall('bad', b'g', 999)\n", "-F")
        [rec] = [r for r in t.records(self.TYPE, pid=c.pid) if decode_bytes(r, "path") == b"f" and r["dfd"] >= 0]
        self.assert_full(rec, os.fsencode(d / "f"))
        # An fd that is not open: no directory, so no full path.
        bad = self.one(t, b"g", pid=c.pid, dfd=999)
        self.assertNotIn("full_path", bad)

    def test_full_path_crosses_a_mount_point(self):
        mnt = self.tmp / "mnt"
        mnt.mkdir()
        sub = mnt / "in" / "tmpfs"
        code = PRIVATE_TMPFS.format(newns=CLONE_NEWNS, rec=MS_REC, private=MS_PRIVATE,
                                    mnt=os.fsencode(mnt), sub=str(sub))
        code += (f"open({str(sub / 'f')!r}, 'w').close()\nos.chdir({str(sub)!r})\ncall('f', b'f')\n"
                 f"os.chdir({str(mnt)!r})\ncall('top', b'in/tmpfs/f')\n")
        t, c = self.full_run(code, "-F")
        self.assertEqual([r["errno"] for r in c.results if "tag" in r], [0, 0])
        self.assert_full(self.one(t, b"f", pid=c.pid), os.fsencode(sub / "f"))
        self.assert_full(self.one(t, b"in/tmpfs/f", pid=c.pid), os.fsencode(sub / "f"))

    def test_full_path_in_a_chroot_starts_at_its_root(self):
        root = self.tmp / "root"
        (root / "sub").mkdir(parents=True)
        (root / "sub" / "f").write_text("x")
        t, c = self.full_run(f"os.chroot({str(root)!r})\nos.chdir('/sub')\ncall('f', b'f')\n"
                             "os.chdir('/')\ncall('top', b'sub/f')\n", "-F")
        self.assertEqual([r["errno"] for r in c.results if "tag" in r], [0, 0])
        self.assert_full(self.one(t, b"f", pid=c.pid), b"/sub/f")
        self.assert_full(self.one(t, b"sub/f", pid=c.pid), b"/sub/f")

    def test_full_path_deeper_than_the_walk_is_flagged(self):
        deep = Path(self.tmp, *["d"] * (DEPTH + 6))
        deep.mkdir(parents=True)
        (deep / "f").write_text("x")
        t, c = self.full_run(f"os.chdir({str(deep)!r})\ncall('f', b'f')\n", "-F")
        rec = self.one(t, b"f", pid=c.pid)
        self.assertEqual((rec["ret"] >= 0, rec["full_path_truncated"]), (True, True))
        # The innermost DEPTH components, then the path.
        self.assertEqual(decode_bytes(rec, "full_path"), b"/d" * DEPTH + b"/f")

    def test_full_path_text_column(self):
        (self.tmp / "t").write_text("x")
        child = ScriptChild(self, self.CALL + f"os.chdir({str(self.tmp)!r})\ncall('t', b't')\n")
        with Tool(self.TOOL, "-F", "-p", child.pid) as t:
            child.run()
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[-1], "PATH")
        self.assertEqual([l.split()[-1] for l in lines[1:] if l.endswith("/t")], [str(self.tmp / "t")])

    def test_no_full_path_without_the_option(self):
        (self.tmp / "n").write_text("x")
        t, c = self.full_run(f"os.chdir({str(self.tmp)!r})\ncall('n', b'n')\n")
        self.assertNotIn("full_path", self.one(t, b"n", pid=c.pid))

    def test_path_of_exactly_4095_bytes_is_whole(self):
        """PATH_MAX counts the NUL: 4,095 bytes fill the buffer exactly and are
        not cut; 4,096 are."""
        base = os.fsencode(self.tmp) + b"/"
        exact = base + (b"x" * 200 + b"/") * ((4095 - len(base)) // 201)
        exact += b"y" * (4095 - len(exact))
        longer = exact + b"z"
        self.assertEqual((len(exact), len(longer)), (4095, 4096))
        t, c = self.full_run(f"call('exact', {exact!r})\ncall('longer', {longer!r})\n")
        # Both show the same 4,095 bytes; only the longer one is cut.
        recs = [r for r in t.records(self.TYPE, pid=c.pid) if decode_bytes(r, "path") == exact]
        self.assertEqual([r["path_truncated"] for r in recs], [False, True], recs)
