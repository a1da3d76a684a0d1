"""Packaging: the DEB and the RPM that scripts/package.sh builds.

Builds both packages from the build tree under test (SNOOPKIT_BIN_DIR), or
takes them from SNOOPKIT_PACKAGE_DIR when that is set, then checks their
metadata and contents, the hardening of the binaries, the man pages and the
bash completion, runs lintian and rpmlint, extracts the RPM and runs its
binaries, and installs, uses and purges the DEB with apt.

The install happens in a throwaway root, never on this machine: inside a
private mount namespace (unshare), an overlay of / whose writable layer is a
tmpfs, with /proc, /sys and /dev mounted in. apt, dpkg, the man-db trigger and
the tools run for real there (the DEB's Conflicts really removes
libbpf-tools there), and all of it vanishes with the namespace. So
libbpf-tools, which other tests compare against, stays installed here, and
the test checks that it does.

Needs root (mounts, BPF, apt); skips without it, except under CI=true where
that is a failure. Self-contained: unittest and the standard library only.
"""

import fcntl
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("SNOOPKIT_SOURCE_DIR", HERE.parent.parent)).resolve()
BIN_DIR = Path(os.environ.get("SNOOPKIT_BIN_DIR", SOURCE_DIR / "build")).resolve()
TOOLS = sorted(p.stem for p in (SOURCE_DIR / "tools").glob("*.cpp"))
VERSION = (SOURCE_DIR / "VERSION").read_text().strip()
MAN_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "JSON OUTPUT", "EXAMPLES",
                "OVERHEAD", "REQUIREMENTS", "SEE ALSO"]


def in_ci():
    return os.environ.get("CI") == "true"


def skip_or_fail(reason):
    if in_ci():
        raise AssertionError(f"CI=true, so this is a failure, not a skip: {reason}")
    raise unittest.SkipTest(reason)


def run(cmd, *, check=True, timeout=120, **kw):
    """Runs cmd (a list, or a string for bash); returns the CompletedProcess."""
    if isinstance(cmd, str):
        cmd = ["bash", "-c", cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def cached_prefix():
    cache = BIN_DIR / "CMakeCache.txt"
    if cache.exists():
        m = re.search(r"^SNOOPKIT_NAME_PREFIX:STRING=(.*)$", cache.read_text(), re.M)
        if m:
            return m.group(1)
    return ""


class Packages:
    """Built once for the module: paths, names and extracted trees."""
    tmp = None
    deb = rpm = None
    prefix = ""
    deb_root = rpm_root = None
    deb_files = None  # {path: mode string}, paths without the leading '.'


P = Packages()


def setUpModule():
    if os.geteuid() != 0:
        skip_or_fail("packaging tests install packages and load BPF programs: run as root")
    P.tmp = Path(tempfile.mkdtemp(prefix="snoopkit-packaging-"))
    given = os.environ.get("SNOOPKIT_PACKAGE_DIR")
    if given:
        out = Path(given)
        P.prefix = os.environ.get("SNOOPKIT_NAME_PREFIX", "")
    else:
        out = P.tmp / "packages"
        if not (BIN_DIR / "CPackConfig.cmake").exists():
            raise AssertionError(f"{BIN_DIR} is not a configured build tree (SNOOPKIT_BIN_DIR)")
        P.prefix = cached_prefix()
        # Installs what packaging needs when missing; no lint here: the lint
        # tests below report it.
        run([str(SOURCE_DIR / "scripts/package.sh"), "--build-dir", str(BIN_DIR),
             "--out", str(out), "--no-lint"], timeout=900)
    debs, rpms = sorted(out.glob("snoopkit_*.deb")), sorted(out.glob("snoopkit-*.rpm"))
    if len(debs) != 1 or len(rpms) != 1:
        raise AssertionError(f"expected one .deb and one .rpm in {out}, found {debs + rpms}")
    P.deb, P.rpm = debs[0], rpms[0]

    P.deb_root = P.tmp / "deb"
    run(["dpkg-deb", "-x", str(P.deb), str(P.deb_root)])
    P.deb_files = {}
    for line in run(["dpkg-deb", "-c", str(P.deb)]).stdout.splitlines():
        f = line.split()
        P.deb_files[f[5].removeprefix(".").rstrip("/") or "/"] = (f[0], f[1])
    P.rpm_root = P.tmp / "rpm"
    P.rpm_root.mkdir()
    run(f"rpm2cpio '{P.rpm}' | cpio -idm --quiet", cwd=P.rpm_root)


def tearDownModule():
    if P.tmp:
        shutil.rmtree(P.tmp, ignore_errors=True)


def names():
    return [P.prefix + t for t in TOOLS]


def deb_arch():
    return run(["dpkg", "--print-architecture"]).stdout.strip()


def help_options(binary):
    """Every option name `<tool> --help` lists."""
    out = run([str(binary), "--help"]).stdout
    opts = []
    for line in out.splitlines():
        if line.startswith("  -"):
            opts += line.split()[0].split(",")
    return opts


class SourceTest(unittest.TestCase):
    def test_every_tool_has_man_page_prose(self):
        missing = [t for t in TOOLS if not (SOURCE_DIR / "docs/man" / f"{t}.md").exists()]
        self.assertEqual(missing, [], "write docs/man/<tool>.md (see docs/man/README.md)")

    def test_version_comes_from_the_version_file(self):
        self.assertRegex(VERSION, r"^\d+\.\d+\.\d+$")
        for t in TOOLS:
            out = run([str(BIN_DIR / t), "--version"]).stdout.strip()
            self.assertEqual(out, f"{t} (snoopkit) {VERSION}")


class DebTest(unittest.TestCase):
    def field(self, name):
        return run(["dpkg-deb", "-f", str(P.deb), name]).stdout.strip()

    def test_file_name_and_metadata(self):
        self.assertEqual(P.deb.name, f"snoopkit_{VERSION}_{deb_arch()}.deb")
        self.assertEqual(self.field("Package"), "snoopkit")
        self.assertEqual(self.field("Version"), VERSION)
        self.assertEqual(self.field("Architecture"), deb_arch())
        self.assertEqual(self.field("Section"), "admin")

    def test_dependencies_are_computed_and_libbpf_is_static(self):
        depends = self.field("Depends")
        # From dpkg-shlibdeps: versioned, and the libraries the binaries need.
        for pkg in ("libc6 (>=", "libelf1", "zlib1g"):
            self.assertIn(pkg, depends)
        self.assertNotIn("libbpf", depends, "libbpf must be linked statically")
        # The C++ runtime is linked into each tool (SNOOPKIT_STATIC_CXX).
        for pkg in ("libstdc++6", "libspdlog", "libfmt", "libgcc"):
            self.assertNotIn(pkg, depends, f"{pkg}: the C++ runtime must be linked in")

    def test_conflicts_and_replaces_libbpf_tools(self):
        if P.prefix:
            self.assertEqual(self.field("Conflicts"), "")
        else:
            self.assertEqual(self.field("Conflicts"), "libbpf-tools")
            self.assertEqual(self.field("Replaces"), "libbpf-tools")

    def test_contents(self):
        f = P.deb_files
        for n in names():
            self.assertEqual(f.get(f"/usr/sbin/{n}", ("",))[0], "-rwxr-xr-x", n)
            self.assertIn(f"/usr/share/man/man8/{n}.8.gz", f)
            self.assertIn(f"/usr/share/bash-completion/completions/{n}", f)
        doc = "/usr/share/doc/snoopkit"
        for d in ("README.md", "copyright", "changelog.gz"):
            self.assertIn(f"{doc}/{d}", f)
        for schema in (SOURCE_DIR / "docs/schema").glob("*.json"):
            self.assertIn(f"{doc}/schema/{schema.name}", f)
        for path, (mode, owner) in f.items():
            self.assertTrue(path in ("/", "/usr") or path.startswith("/usr/"), path)
            self.assertEqual(owner, "root/root", path)
            self.assertNotRegex(mode, r"[sStT]", f"{path}: no setuid/setgid/sticky ({mode})")
        sbin = sorted(p for p in f if p.startswith("/usr/sbin/"))
        self.assertEqual(sbin, sorted(f"/usr/sbin/{n}" for n in names()), "only the tools")

    def test_no_maintainer_scripts(self):
        # Nothing runs at install: in particular no setcap, no chmod u+s.
        members = run(f"dpkg-deb --ctrl-tarfile '{P.deb}' | tar -t").stdout.split()
        self.assertEqual(sorted(m.removeprefix("./") for m in members if m not in ("./",)),
                         ["control", "md5sums"])


class RpmTest(unittest.TestCase):
    def q(self, *args):
        return run(["rpm", "-qp", *args, str(P.rpm)]).stdout

    def test_file_name_and_metadata(self):
        arch = os.uname().machine
        self.assertEqual(P.rpm.name, f"snoopkit-{VERSION}.{arch}.rpm")
        self.assertEqual(self.q("--qf", "%{NAME} %{VERSION} %{ARCH} %{LICENSE}"),
                         f"snoopkit {VERSION} {arch} GPL-2.0-only OR BSD-2-Clause")

    def test_requires_are_computed_and_libbpf_is_static(self):
        req = self.q("-R")
        for lib in ("libc.so.6()(64bit)", "libelf.so.1()(64bit)", "libz.so.1()(64bit)"):
            self.assertIn(lib, req)
        self.assertNotIn("libbpf", req)
        # Fedora's libbpf-tools installs bpf-<tool>: no file clash, no Conflicts.
        self.assertEqual(self.q("--conflicts").strip(), "")

    def test_same_files_as_the_deb(self):
        rpm_files = {l for l in self.q("-l").splitlines() if not l.startswith("/usr/lib/.build-id")}
        deb_files = {p for p, (mode, _) in P.deb_files.items() if not mode.startswith("d")}
        # DEB only: lintian's overrides, the Debian-format changelog.
        deb_files -= {"/usr/share/lintian/overrides/snoopkit", "/usr/share/doc/snoopkit/changelog.gz"}
        self.assertEqual(deb_files, rpm_files - {"/usr/share/doc/snoopkit", "/usr/share/doc/snoopkit/schema"})

    def test_no_file_capabilities_no_setuid(self):
        self.assertNotIn("cap_", self.q("--filecaps"))
        for line in self.q("--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]").splitlines():
            self.assertNotRegex(line.split()[0], r"[sStT]", line)

    def test_extracted_binaries_run(self):
        for t, n in zip(TOOLS, names()):
            binary = P.rpm_root / "usr/sbin" / n
            self.assertEqual(run([str(binary), "--version"]).stdout.strip(), f"{t} (snoopkit) {VERSION}")
            self.assertIn("--json", run([str(binary), "--help"]).stdout)


class HardeningTest(unittest.TestCase):
    def test_binaries_are_hardened_and_stripped(self):
        for n in names():
            b = str(P.deb_root / "usr/sbin" / n)
            with self.subTest(binary=n):
                self.assertIn("DYN (Position-Independent Executable", run(["readelf", "-hW", b]).stdout)
                dyn = run(["readelf", "-dW", b]).stdout
                self.assertRegex(dyn, r"\(FLAGS\)\s+BIND_NOW|FLAGS_1\).*\bNOW\b", "BIND_NOW")
                self.assertRegex(dyn, r"FLAGS_1\).*\bPIE\b")
                needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dyn)
                self.assertFalse([l for l in needed if l.startswith("libbpf")], needed)
                self.assertIn("libelf.so.1", needed)
                segs = run(["readelf", "-lW", b]).stdout
                self.assertIn("GNU_RELRO", segs)
                self.assertNotRegex(segs, r"GNU_STACK.*RWE", "executable stack")
                syms = run(["readelf", "--dyn-syms", "-W", b]).stdout
                self.assertIn("__stack_chk_fail", syms)
                self.assertRegex(syms, r"__\w+_chk@", "_FORTIFY_SOURCE")
                sections = run(["readelf", "-SW", b]).stdout
                self.assertNotIn(".symtab", sections, "stripped")
                self.assertNotIn(".debug_info", sections, "stripped")


class ManPageTest(unittest.TestCase):
    def page(self, n):
        with gzip.open(P.deb_root / "usr/share/man/man8" / f"{n}.8.gz", "rt") as f:
            return f.read()

    def test_sections_and_every_option(self):
        for t, n in zip(TOOLS, names()):
            with self.subTest(tool=t):
                src = self.page(n)
                titles = [s.strip('"') for s in re.findall(r"^\.SH (.+)$", src, re.M)]
                self.assertEqual([s for s in titles if s in MAN_SECTIONS], MAN_SECTIONS)
                self.assertRegex(src, rf'(?m)^\.TH "{re.escape(n.upper().replace("-", chr(92) + "-"))}" 8 ')
                options = src.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]
                for opt in help_options(P.deb_root / "usr/sbin" / n):
                    self.assertIn("\\fB" + opt.replace("-", "\\-") + "\\fR", options, opt)

    def test_pages_render_without_warnings(self):
        for n in names():
            p = run(["man", "--warnings", "-E", "UTF-8", "-l",
                     str(P.deb_root / "usr/share/man/man8" / f"{n}.8.gz")],
                    env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"})
            self.assertEqual(p.stderr.strip(), "", n)
            self.assertIn("JSON OUTPUT", p.stdout)


class CompletionTest(unittest.TestCase):
    def complete(self, n, words, with_bash_completion):
        """COMPREPLY for the command line `words` (the last word is completed)."""
        comp = P.deb_root / "usr/share/bash-completion/completions" / n
        loader = ("source /usr/share/bash-completion/bash_completion"
                  if with_bash_completion else "true")
        script = f"""
            {loader}
            source '{comp}'
            fn=$(complete -p '{n}' | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')
            COMP_WORDS=({' '.join(f"'{w}'" for w in words)})
            COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
            COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
            "$fn" '{n}' "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
            printf '%s\\n' "${{COMPREPLY[@]}}"
        """
        return run(["bash", "-c", script]).stdout.split()

    def test_options_and_values(self):
        if not Path("/usr/share/bash-completion/bash_completion").exists():
            skip_or_fail("bash-completion is not installed")
        for n in names():
            opts = help_options(P.deb_root / "usr/sbin" / n)
            for full in (True, False):
                with self.subTest(tool=n, bash_completion=full):
                    self.assertIn("--json", self.complete(n, [n, "--js"], full))
                    self.assertEqual(self.complete(n, [n, "--duration", ""], full), [])
                    # Values, for the common filters the tool offers.
                    if "--uid" in opts:
                        self.assertIn("root", self.complete(n, [n, "--uid", "ro"], full))
                    if "--pid" in opts:
                        self.assertIn("1", self.complete(n, [n, "--pid", ""], full))
                    if "--cgroup" in opts:
                        self.assertIn("/sys/fs/cgroup",
                                      self.complete(n, [n, "--cgroup", "/sys/fs/cg"], full))


class LintTest(unittest.TestCase):
    def test_lintian_has_no_errors(self):
        p = run(["lintian", "--fail-on", "error", "--display-info", str(P.deb)], check=False,
                timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout, r"(?m)^E: ", p.stdout)

    def test_rpmlint_has_no_errors(self):
        p = run(["rpmlint", "-c", str(SOURCE_DIR / "packaging/rpmlint.toml"), str(P.rpm)],
                check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"\b0 errors\b", p.stdout)


class NamePrefixTest(unittest.TestCase):
    """-DSNOOPKIT_NAME_PREFIX=sk-: configure only (a full build takes minutes)."""

    def test_prefix_renames_everything_and_drops_conflicts(self):
        build = P.tmp / "prefix-build"
        run(["cmake", "-S", str(SOURCE_DIR), "-B", str(build), "-DSNOOPKIT_TESTS=OFF",
             "-DSNOOPKIT_NAME_PREFIX=sk-"], timeout=300)
        install = (build / "cmake_install.cmake").read_text()
        for t in TOOLS:
            self.assertIn(f'RENAME "sk-{t}"', install.replace("\\", ""))
            self.assertIn(f"man8/sk-{t}.8.gz", install)
            self.assertIn(f"completions/sk-{t}", install)
        self.assertNotIn("CPACK_DEBIAN_PACKAGE_CONFLICTS", (build / "CPackConfig.cmake").read_text())

        tool = TOOLS[0]
        man, comp = P.tmp / f"sk-{tool}.8", P.tmp / f"sk-{tool}"
        run(["python3", str(SOURCE_DIR / "packaging/gen_docs.py"), "--binary", str(BIN_DIR / tool),
             "--tool", tool, "--prefix", "sk-", "--version", VERSION,
             "--prose", str(SOURCE_DIR / "docs/man" / f"{tool}.md"),
             "--common", str(SOURCE_DIR / "docs/man/common.md"), "--all-tools", ",".join(TOOLS),
             "--strict", "--man-out", str(man), "--completion-out", str(comp)])
        page = man.read_text()
        self.assertIn(f"sk\\-{tool} \\- ", page)
        self.assertIn(f".B sk\\-{tool}", page)
        self.assertIn(f"complete -F _snoopkit_sk_{tool} sk-{tool}", comp.read_text())


# The throwaway root: an overlay of / in a private mount namespace.
OUTER = r"""
set -euo pipefail
work=$1
mount -t tmpfs -o mode=0755 snoopkit-test "$work/layers"
mkdir "$work/layers/upper" "$work/layers/work"
mount -t overlay snoopkit-test \
      -o "lowerdir=/,upperdir=$work/layers/upper,workdir=$work/layers/work" "$work/root"
r=$work/root
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mkdir "$r/tmp/io"
mount --bind "$work/io" "$r/tmp/io"
exec chroot "$r" /bin/bash /tmp/io/inner.sh
"""

INNER = r"""
set -uo pipefail
cd /tmp/io
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 MANPAGER=cat
status() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
echo "$(status libbpf-tools)" > libbpf-tools.before
apt-get install -y ./snoopkit.deb > install.log 2>&1; echo $? > install.rc
echo "$(status snoopkit)" > snoopkit.installed
echo "$(status libbpf-tools)" > libbpf-tools.after
/usr/sbin/$EXEC --version > version.out 2>&1
(sleep 0.5; cat /etc/hostname > /dev/null) &
timeout 60 /usr/sbin/$OPEN --json -d 1 > open.json 2> open.err; echo $? > open.rc
if command -v jq > /dev/null; then
  { timeout 60 /usr/sbin/$EXEC --json -d 1 2> jq.err; } | jq -c . > jq.out 2>> jq.err
  echo $? > jq.rc
fi
man -w $EXEC > manw.out 2>&1
man $EXEC 2> man.err | head -n 5 > man.out
bash -c "source /usr/share/bash-completion/completions/$EXEC && complete -p $EXEC" > complete.out 2>&1
# bash-completion's on-demand loader finds the file by the command's name.
bash -c "source /usr/share/bash-completion/bash_completion; _completion_loader $EXEC;
         complete -p $EXEC" > loader.out 2>&1
apt-get purge -y snoopkit > purge.log 2>&1; echo $? > purge.rc
echo "$(status snoopkit)" > snoopkit.purged
dpkg -L snoopkit > dpkg-L.out 2>&1; echo $? > dpkg-L.rc
while read -r path; do [ -e "$path" ] && echo "$path"; done < files.txt > leftovers.out
ls /var/lib/dpkg/info/ | grep '^snoopkit[.:]' > dpkg-info.out
true
"""


def wait_for_dpkg_lock(timeout=300):
    """Waits until no apt/dpkg run holds the lock, so the overlay does not
    start from a half-written dpkg database. Takes the lock only for a moment."""
    deadline = time.monotonic() + timeout
    with open("/var/lib/dpkg/lock-frontend", "a") as f:
        while True:
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(f, fcntl.LOCK_UN)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("another apt/dpkg run held the dpkg lock for 5 minutes")
                time.sleep(1)


def host_state():
    """What this machine must still have after the test."""
    st = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "libbpf-tools"], check=False).stdout
    owner = run(["dpkg", "-S", "/usr/sbin/execsnoop"], check=False).stdout.strip()
    return st.strip(), owner, run(["dpkg-query", "-W", "snoopkit"], check=False).returncode


class DebInstallTest(unittest.TestCase):
    def test_install_use_and_purge_in_a_throwaway_root(self):
        for tool in ("unshare", "chroot", "apt-get"):
            if not shutil.which(tool):
                skip_or_fail(f"{tool} is missing")
        if "overlay" not in Path("/proc/filesystems").read_text():
            skip_or_fail("the kernel has no overlayfs")
        if "execsnoop" not in TOOLS or "opensnoop" not in TOOLS:
            self.fail("this test runs execsnoop and opensnoop")
        before = host_state()

        work = Path(tempfile.mkdtemp(prefix="snoopkit-root-", dir="/tmp"))
        try:
            for d in ("layers", "root", "io"):
                (work / d).mkdir()
            io = work / "io"
            shutil.copy(P.deb, io / "snoopkit.deb")
            (io / "inner.sh").write_text(INNER)
            (io / "files.txt").write_text(
                "".join(p + "\n" for p, (mode, _) in P.deb_files.items()
                        if not mode.startswith("d") or p.startswith("/usr/share/doc/snoopkit")))
            wait_for_dpkg_lock()
            env = {**os.environ, "EXEC": P.prefix + "execsnoop", "OPEN": P.prefix + "opensnoop"}
            run(["unshare", "--mount", "--propagation", "private", "bash", "-c", OUTER, "outer",
                 str(work)], env=env, timeout=600)

            def out(name):
                return (io / name).read_text().strip()

            self.assertEqual(out("install.rc"), "0", out("install.log"))
            self.assertEqual(out("snoopkit.installed"), "ii")
            if out("libbpf-tools.before") == "ii" and not P.prefix:
                self.assertNotEqual(out("libbpf-tools.after"), "ii",
                                    "Conflicts/Replaces: installing snoopkit removes libbpf-tools")
            self.assertEqual(out("version.out"), f"execsnoop (snoopkit) {VERSION}")

            self.assertEqual(out("open.rc"), "0", out("open.err"))
            records = [json.loads(line) for line in out("open.json").splitlines()]
            self.assertTrue(records, "no JSON at all")
            self.assertTrue(all(isinstance(r, dict) and "type" in r for r in records))
            self.assertEqual(records[-1]["type"], "summary")
            self.assertIn("open", {r["type"] for r in records})
            self.assertEqual(out("manw.out"), f"/usr/share/man/man8/{P.prefix}execsnoop.8.gz")
            self.assertIn("EXECSNOOP(8)", out("man.out").upper())
            self.assertIn(f"complete -F", out("complete.out"))
            self.assertIn(f"complete -F", out("loader.out"), "bash-completion finds it on demand")

            self.assertEqual(out("purge.rc"), "0", out("purge.log"))
            self.assertIn(out("snoopkit.purged"), ("", "un", "pn"))
            self.assertNotEqual(out("dpkg-L.rc"), "0")
            self.assertEqual(out("leftovers.out"), "", "files left behind after purge")
            self.assertEqual(out("dpkg-info.out"), "", "dpkg metadata left behind after purge")
            # Last, so that a tool that fails to trace does not hide the checks above.
            if (io / "jq.rc").exists():
                self.assertEqual(out("jq.rc"), "0", "execsnoop --json | jq: " + out("jq.err"))
            elif in_ci():
                self.fail("jq is not installed (scripts/setup.sh installs it)")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.assertEqual(host_state(), before, "this machine must be left as it was found")


if __name__ == "__main__":
    unittest.main()
