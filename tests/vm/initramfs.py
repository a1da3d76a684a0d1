"""Builds the guest's initramfs from files of this machine.

The guest runs the host's own binaries (the tools, bpftool, python3.11,
busybox-static and util-linux), so its root file system copies them, with
every shared library ldd names, to the same paths as on the host (Debian's
merged /usr layout). Two gzip'd newc archives are concatenated, which the
kernel unpacks in order: a base (python, busybox, libraries) cached by the
identity of its inputs, and the project's part (tools, tests, config),
rebuilt on every run.
"""

import glob
import gzip
import hashlib
import io
import atexit
import os
import tempfile
import re
import shutil
import stat
import subprocess
import sys

# Debian's interpreter (python3.11 on Debian 12), not whichever python runs this.
PYTHON = os.path.realpath("/usr/bin/python3")
PY_STDLIB = "/usr/lib/" + os.path.basename(PYTHON)
PY_DIST = "/usr/lib/python3/dist-packages"
# Parts of the standard library the tests never touch; config-* alone is 25 MB.
PY_PRUNE = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
            "distutils", "venv", "site-packages", "dist-packages", "sqlite3", "curses", "dbm",
            "xmlrpc", "wsgiref"}
PY_DYNLOAD_PRUNE = re.compile(r"^_(tkinter|sqlite3|curses|curses_panel|dbm|gdbm)\.")
# Third-party packages the tests import, taken from Debian's python3-* packages.
PY_PACKAGES = ["jsonschema"]
BUSYBOX = "/bin/busybox"
# util-linux and friends: busybox's applets lack options the tests use.
HOST_TOOLS = ["/usr/bin/unshare", "/usr/bin/setpriv", "/usr/bin/nsenter", "/usr/sbin/bpftool",
              "/usr/bin/env", "/usr/bin/true", "/usr/bin/false", "/usr/bin/cat",
              "/usr/bin/sleep", "/usr/bin/ls", "/usr/bin/timeout", "/usr/bin/stat",
              "/usr/bin/id", "/usr/bin/dd", "/usr/bin/touch", "/usr/bin/bash", "/usr/bin/head",
              "/usr/bin/grep", "/usr/bin/mount", "/usr/bin/umount", "/usr/sbin/losetup",
              "/usr/bin/dash"]
HOST_FILES = ["/usr/lib/x86_64-linux-gnu/libnss_files.so.2", "/usr/share/zoneinfo/UTC"]
MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}


_STRIP_DIR = None


def _strip_dir():
    """A private folder for stripped copies, removed when the process ends."""
    global _STRIP_DIR
    if _STRIP_DIR is None:
        _STRIP_DIR = tempfile.mkdtemp(prefix="snoopkit-initramfs-")
        atexit.register(shutil.rmtree, _STRIP_DIR, True)
    return _STRIP_DIR


class Tree:
    """A root file system to be: path in the guest -> how to make it."""

    def __init__(self, exclude=()):
        self.exclude = set(exclude)  # already in an earlier archive
        self.entries = {}  # guest path -> ("dir",) | ("file", host, mode) | ("link", target) | ("data", bytes, mode) | ("nod", mode, major, minor)

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            top = d.strip("/")
            if top in MERGED_USR:
                self.entries.setdefault(d, ("link", MERGED_USR[top]))
            else:
                self.entries.setdefault(d, ("dir",))

    def _guest(self, path):
        """The guest path, with merged-/usr prefixes spelled out."""
        parts = path.strip("/").split("/")
        if parts[0] in MERGED_USR:
            parts = MERGED_USR[parts[0]].split("/") + parts[1:]
        return "/" + "/".join(parts)

    def dir(self, path):
        path = self._guest(path)
        self._parents(path)
        self.entries[path] = ("dir",)

    def data(self, path, content, mode=0o644):
        path = self._guest(path)
        self._parents(path)
        self.entries[path] = ("data", content if isinstance(content, bytes) else content.encode(), mode)

    def link(self, path, target):
        path = self._guest(path)
        self._parents(path)
        self.entries[path] = ("link", target)

    def nod(self, path, mode, major, minor):
        self._parents(path)
        self.entries[path] = ("nod", mode, major, minor)

    def host_file(self, host, guest=None):
        """Copies a host file, recreating every symlink on the way to it."""
        guest = self._guest(guest or host)
        if guest in self.entries or guest in self.exclude:
            return
        self._parents(guest)
        if os.path.islink(host):
            target = os.readlink(host)
            self.entries[guest] = ("link", target)
            nxt = target if target.startswith("/") else os.path.join(os.path.dirname(host), target)
            self.host_file(os.path.normpath(nxt),
                           None if target.startswith("/") else
                           os.path.normpath(os.path.join(os.path.dirname(guest), target)))
            return
        self.entries[guest] = ("file", host, stat.S_IMODE(os.stat(host).st_mode))

    def host_tree(self, host, guest=None, skip=lambda rel: False):
        guest = guest or host
        for root, dirs, files in os.walk(host):
            rel_root = os.path.relpath(root, host)
            dirs[:] = [d for d in dirs if not skip(os.path.normpath(os.path.join(rel_root, d)))]
            self.dir(os.path.normpath(os.path.join(guest, rel_root)))
            for f in files:
                rel = os.path.normpath(os.path.join(rel_root, f))
                if not skip(rel):
                    self.host_file(os.path.join(root, f), os.path.join(guest, rel))

    def binary(self, host, guest=None):
        """Copies an ELF binary (without its debug info: the tools carry tens
        of MB of it, and the initramfs must unpack in the guest's memory)
        and the shared libraries it needs."""
        self.host_file(host, guest)
        g = self._guest(guest or host)
        entry = self.entries.get(g)
        if entry and entry[0] == "file" and shutil.which("objcopy"):
            stripped = os.path.join(_strip_dir(), g.strip("/").replace("/", "_"))
            if subprocess.run(["objcopy", "--strip-debug", entry[1], stripped],
                              capture_output=True).returncode == 0:
                self.entries[g] = ("file", stripped, entry[2])
        for lib in shared_libs(host):
            self.host_file(lib)

    def identity(self):
        """A digest of what the archive would hold, to cache it by."""
        h = hashlib.sha256()
        for path in sorted(self.entries):
            e = self.entries[path]
            h.update(path.encode() + b"\0" + repr(e[0]).encode())
            if e[0] == "file":
                st = os.stat(e[1])
                h.update(f"{e[1]}:{st.st_size}:{st.st_mtime_ns}".encode())
            elif e[0] == "data":
                h.update(e[1])
            else:
                h.update(repr(e[1:]).encode())
        return h.hexdigest()[:16]

    def write_cpio_gz(self, out_path, level=6):
        """Writes the tree as one gzip'd newc cpio archive (parents first)."""
        buf = io.BytesIO()
        w = CpioWriter(buf)
        for path in sorted(self.entries, key=lambda p: (p.count("/"), p)):
            e = self.entries[path]
            name = path.lstrip("/")
            if e[0] == "dir":
                w.add(name, stat.S_IFDIR | 0o755, b"")
            elif e[0] == "link":
                w.add(name, stat.S_IFLNK | 0o777, e[1].encode())
            elif e[0] == "file":
                with open(e[1], "rb") as f:
                    w.add(name, stat.S_IFREG | e[2], f.read(), int(os.stat(e[1]).st_mtime))
            elif e[0] == "data":
                w.add(name, stat.S_IFREG | e[2], e[1])
            elif e[0] == "nod":
                w.add(name, e[1], b"", rdev=(e[2], e[3]))
        w.trailer()
        tmp = out_path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(gzip.compress(buf.getvalue(), compresslevel=level, mtime=0))
        os.replace(tmp, out_path)


class CpioWriter:
    """The "newc" cpio format the kernel's initramfs unpacker reads."""

    def __init__(self, f):
        self.f = f
        self.ino = 1

    def add(self, name, mode, data, mtime=0, rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime, len(data),
                  0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.f.write(b"070701" + b"".join(b"%08X" % v for v in fields))
        self.f.write(name_b)
        self._pad()
        self.f.write(data)
        self._pad()

    def trailer(self):
        self.add("TRAILER!!!", 0, b"")

    def _pad(self):
        self.f.write(b"\0" * (-self.f.tell() % 4))


def shared_libs(binary):
    """The shared libraries (and the loader) an ELF file needs, per ldd."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m and os.path.exists(m.group(1)):
            libs.append(m.group(1))
    return libs


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def python_dist_dirs(packages):
    """Top-level dist-packages entries (and their metadata) that importing packages loads."""
    code = ("import sys, importlib\n"
            f"for p in {packages!r}: importlib.import_module(p)\n"
            "import jsonschema.validators\n"
            "for m in list(sys.modules.values()):\n"
            "    f = getattr(m, '__file__', None) or ''\n"
            f"    if f.startswith({PY_DIST + '/'!r}): print(f)\n")
    out = subprocess.run([PYTHON, "-S", "-c", f"import sys; sys.path.append({PY_DIST!r})\n" + code],
                         capture_output=True, text=True, check=True).stdout
    tops = {os.path.relpath(f, PY_DIST).split("/")[0] for f in out.split()}
    names = {re.split(r"[.-]", t)[0].lower() for t in tops}
    for entry in os.listdir(PY_DIST):
        if entry.endswith((".dist-info", ".egg-info")) and \
                re.split(r"[-_]", entry)[0].lower().replace("_", "") in names | {"attrs"}:
            tops.add(entry)
    tops.discard("_distutils_hack")
    return sorted(tops)


def base_tree():
    """busybox, python3.11 with its standard library and packages, host tools."""
    t = Tree()
    for d in ["/dev", "/proc", "/sys", "/tmp", "/run", "/root", "/etc", "/var/tmp", "/usr/local/bin"]:
        t.dir(d)
    # Merged /usr: the links themselves, then the directories they name.
    for top, target in MERGED_USR.items():
        t.entries["/" + top] = ("link", target)
        t.entries.setdefault("/" + target, ("dir",))
    t.nod("/dev/console", stat.S_IFCHR | 0o600, 5, 1)
    t.nod("/dev/null", stat.S_IFCHR | 0o666, 1, 3)
    t.binary(BUSYBOX, "/usr/bin/busybox")
    for tool in HOST_TOOLS:
        if os.path.exists(tool):
            t.binary(tool)
    for f in HOST_FILES:
        if os.path.exists(f):
            t.host_file(f)
    # /bin/sh is dash, as on Debian: busybox's sh runs its own applets before
    # PATH (so `sh -c 'setpriv --bounding-set ...'` would get busybox's setpriv).
    if os.path.exists("/usr/bin/dash"):
        t.link("/usr/bin/sh", "dash")
    # Every busybox applet a host binary does not already provide.
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True).stdout.split()
    for a in applets:
        guest = t._guest("/" + a)
        if guest not in t.entries and os.path.basename(a) not in ("init", "linuxrc"):
            t.link(guest, "/usr/bin/busybox")
    # Python: the interpreter, the stdlib less what tests never use, and packages.
    t.binary(PYTHON)
    t.link("/usr/bin/python3", os.path.basename(PYTHON))
    t.host_tree(PY_STDLIB, skip=lambda rel: rel.split("/")[0] in PY_PRUNE or
                rel.startswith("config-") or
                PY_DYNLOAD_PRUNE.match(os.path.basename(rel)) is not None)
    for so in os.listdir(os.path.join(PY_STDLIB, "lib-dynload")):
        if not PY_DYNLOAD_PRUNE.match(so):
            for lib in shared_libs(os.path.join(PY_STDLIB, "lib-dynload", so)):
                t.host_file(lib)
    for top in python_dist_dirs(PY_PACKAGES):
        src = os.path.join(PY_DIST, top)
        if os.path.isdir(src):
            t.host_tree(src)
        else:
            t.binary(src) if is_elf(src) else t.host_file(src)
    t.data("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
           "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    t.data("/etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n")
    t.data("/etc/nsswitch.conf", "passwd: files\ngroup: files\n")
    t.data("/etc/hostname", "snoopkit-vm\n")
    t.data("/etc/localtime", open("/usr/share/zoneinfo/UTC", "rb").read()
           if os.path.exists("/usr/share/zoneinfo/UTC") else b"")
    return t


def build_base(cache_dir, t):
    """The cached base archive: rebuilt only when an input file changed."""
    path = os.path.join(cache_dir, f"base-{t.identity()}.cpio.gz")
    if not os.path.exists(path):
        for old in os.listdir(cache_dir):
            if old.startswith("base-") and old.endswith(".cpio.gz"):
                os.unlink(os.path.join(cache_dir, old))
        t.write_cpio_gz(path)
    return path


def project_tree(base, bin_dir, source_dir, tools, init_script, config_json, modules=()):
    """The tools, their libraries, the runtime tests, the kernel's modules
    to load and the guest's config."""
    t = Tree(exclude=base.entries)
    for mod in modules:
        t.host_file(mod, f"/snoopkit/modules/{os.path.basename(mod)}")
    for tool in tools:
        t.binary(os.path.join(bin_dir, tool), f"/snoopkit/build/{tool}")
    # The BPF objects, for debugging with bpftool (run_matrix.py --exec).
    for obj in sorted(glob.glob(os.path.join(bin_dir, "bpf", "*.bpf.o"))):
        t.host_file(obj, f"/snoopkit/build/bpf/{os.path.basename(obj)}")
    # What the build made for the tests (openstorm, load_tests, test BPF
    # objects), less the unit tests and CMake's own files.
    tests_dir = os.path.join(bin_dir, "tests")
    for root, dirs, files in os.walk(tests_dir):
        dirs[:] = [d for d in dirs if d not in ("CMakeFiles", "Testing")]
        for name in files:
            path = os.path.join(root, name)
            if name == "unit_tests" or name == "Makefile" or name.endswith(".cmake"):
                continue
            guest = "/snoopkit/build/tests/" + os.path.relpath(path, tests_dir)
            if is_elf(path) and os.access(path, os.X_OK):
                t.binary(path, guest)
            else:
                t.host_file(path, guest)
    t.host_tree(os.path.join(source_dir, "tests", "runtime"), "/snoopkit/src/tests/runtime",
                skip=lambda rel: "__pycache__" in rel)
    # Programs the tests name by absolute path, when this host has them.
    for src in glob.glob(os.path.join(source_dir, "tests", "runtime", "*.py")):
        with open(src, errors="replace") as f:
            for path in set(re.findall(r"[\"'](/(?:usr/)?s?bin/[\w.+-]+)[\"']", f.read())):
                if is_elf(path):
                    t.binary(path)
    t.host_tree(os.path.join(source_dir, "tests", "vm"), "/snoopkit/src/tests/vm",
                skip=lambda rel: "__pycache__" in rel)
    docs = os.path.join(source_dir, "docs")
    if os.path.isdir(docs):
        t.host_tree(docs, "/snoopkit/src/docs")
    t.data("/init", open(init_script, "rb").read(), 0o755)
    t.data("/snoopkit/config.json", config_json)
    return t


def build(work_dir, cache_dir, bin_dir, source_dir, tools, init_script, config_json, modules=()):
    """Writes work_dir/initrd.img (base + project archives) and returns its path."""
    os.makedirs(work_dir, exist_ok=True)
    os.makedirs(cache_dir, exist_ok=True)
    base_t = base_tree()
    base = build_base(cache_dir, base_t)
    proj = os.path.join(work_dir, "project.cpio.gz")
    project_tree(base_t, bin_dir, source_dir, tools, init_script, config_json,
                 modules).write_cpio_gz(proj)
    out = os.path.join(work_dir, "initrd.img")
    with open(out + ".tmp", "wb") as f:
        for part in (base, proj):
            with open(part, "rb") as p:
                shutil.copyfileobj(p, f)
    os.replace(out + ".tmp", out)
    return out


def extract(archive_gz, dest):
    """Unpacks an initrd into dest (for a chroot check on the host): uses busybox cpio."""
    os.makedirs(dest, exist_ok=True)
    data = open(archive_gz, "rb").read()
    # Concatenated gzip members decompress as one stream of concatenated archives.
    raw = gzip.decompress(data)
    subprocess.run([BUSYBOX, "cpio", "-i", "-d", "-m"], input=raw, cwd=dest, check=True,
                   stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    # Debug helper: python3 initramfs.py CACHE_DIR -> prints the base archive.
    print(build_base(sys.argv[1] if len(sys.argv) > 1 else "/tmp/snoopkit-vm-cache", base_tree()))
