"""Debian kernels for the matrix: which package, fetched and unpacked once.

Kernels come only from the configured Debian archive: `apt-get download`
into a cache directory, `dpkg-deb -x` to get vmlinuz. A kernel that cannot
be resolved or fetched is a Skip with the reason, never a pass.
"""

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

# label -> (apt-cache pkgnames prefix, full-name pattern whose group 1 orders versions)
KERNELS = {
    "6.1": ("linux-image-6.1.", r"^linux-image-6\.1\.0-(\d+)-cloud-amd64$"),
    "6.12": ("linux-image-6.12.", r"^linux-image-6\.12\.(\d+)\+deb\d+-cloud-amd64$"),
}


# Modules the VM loads (the tests make loop devices); the rest are dropped.
MODULES = ["drivers/block/loop.ko"]
LAYOUT = ".layout-2"  # bump when what an unpacked kernel holds changes


@dataclass
class Kernel:
    label: str
    package: str = ""
    version: str = ""  # the Debian package version
    vmlinuz: str = ""
    config: dict = field(default_factory=dict)  # CONFIG_* of interest
    modules: list = field(default_factory=list)  # uncompressed .ko files for the VM
    skip_reason: str = ""
    error: str = ""  # fetched, but unusable: a failure, not a skip


class Skip(Exception):
    pass


def _run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def _newest(names, pattern):
    matching = [(int(m.group(1)), n) for n in names if (m := re.match(pattern, n))]
    return max(matching)[1] if matching else ""


def resolve(label, pinned="", deb_dir="", log=print):
    """The package name for label: pinned, else the newest the archive lists,
    else (offline) the newest already in the cache."""
    if pinned:
        return pinned
    if label not in KERNELS:
        raise Skip(f"unknown kernel label {label!r} (known: {', '.join(KERNELS)}; "
                   f"or pin one: LABEL=PACKAGE)")
    prefix, pattern = KERNELS[label]
    names = _run(["apt-cache", "pkgnames", prefix]).stdout.split()
    if not _newest(names, pattern):
        log(f"kernel {label}: no package in the apt lists; running apt-get update")
        _run(["apt-get", "update", "-qq"])
        names = _run(["apt-cache", "pkgnames", prefix]).stdout.split()
    name = _newest(names, pattern)
    if not name and deb_dir:
        cached = [os.path.basename(p).split("_")[0] for p in glob.glob(os.path.join(deb_dir, "*.deb"))]
        name = _newest(cached, pattern)
        if name:
            log(f"kernel {label}: not in the apt lists; using the cached {name}")
    if not name:
        raise Skip(f"no package matching {pattern} in the configured Debian archive "
                   f"(apt-cache pkgnames {prefix})")
    return name


def fetch(label, cache_dir, pinned="", log=print):
    """Resolves, downloads (once) and unpacks (once) a kernel; Kernel.skip_reason
    says why not when it cannot."""
    k = Kernel(label)
    deb_dir = os.path.join(cache_dir, "debs")
    os.makedirs(deb_dir, exist_ok=True)
    try:
        k.package = resolve(label, pinned, deb_dir, log)
        debs = sorted(glob.glob(os.path.join(deb_dir, f"{k.package}_*.deb")))
        if not debs:
            log(f"kernel {label}: apt-get download {k.package}")
            r = _run(["apt-get", "download", k.package], cwd=deb_dir, timeout=600)
            debs = sorted(glob.glob(os.path.join(deb_dir, f"{k.package}_*.deb")))
            if r.returncode != 0 or not debs:
                raise Skip(f"apt-get download {k.package} failed: {(r.stderr or r.stdout).strip()[-500:]}")
        deb = debs[-1]
        k.version = os.path.basename(deb).split("_")[1]
        dest = os.path.join(cache_dir, "kernels", os.path.basename(deb)[:-4])
        if not os.path.exists(os.path.join(dest, LAYOUT)):
            tmp = dest + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            r = _run(["dpkg-deb", "-x", deb, tmp])
            if r.returncode != 0:
                raise RuntimeError(f"dpkg-deb -x {deb} failed: {r.stderr.strip()[-500:]}")
            # Keep boot/ and the few modules the VM loads, uncompressed.
            os.makedirs(os.path.join(tmp, "modules"))
            for mod in MODULES:
                for src in glob.glob(os.path.join(tmp, "lib", "modules", "*", "kernel", mod + "*")):
                    _unpack_module(src, os.path.join(tmp, "modules", os.path.basename(mod)))
            shutil.rmtree(os.path.join(tmp, "lib"), ignore_errors=True)
            shutil.rmtree(os.path.join(tmp, "usr"), ignore_errors=True)
            open(os.path.join(tmp, LAYOUT), "w").close()
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(tmp, dest)
        k.modules = sorted(glob.glob(os.path.join(dest, "modules", "*.ko")))
        found = glob.glob(os.path.join(dest, "boot", "vmlinuz-*"))
        if not found:
            raise RuntimeError(f"{deb} holds no boot/vmlinuz-*")
        k.vmlinuz = found[0]
        for cfg in glob.glob(os.path.join(dest, "boot", "config-*")):
            k.config = read_config(cfg)
    except Skip as e:
        k.skip_reason = str(e)
    except subprocess.TimeoutExpired as e:
        k.skip_reason = f"fetching the {label} kernel timed out: {e}"
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        k.error = f"unpacking the {label} kernel failed: {e}"
    return k


def _unpack_module(src, dst):
    """Copies a kernel module, decompressing .ko.xz (Debian's 6.12 packages)."""
    if src.endswith(".xz"):
        import lzma
        with lzma.open(src) as f, open(dst, "wb") as out:
            shutil.copyfileobj(f, out)
    elif src.endswith(".ko"):
        shutil.copyfile(src, dst)


def read_config(path):
    keys = ("DEBUG_INFO_BTF", "KPROBES", "KPROBE_EVENTS", "FUNCTION_TRACER", "FPROBE",
            "DYNAMIC_FTRACE_WITH_DIRECT_CALLS", "BPF_SYSCALL", "BPF_JIT", "BPF_LSM")
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^CONFIG_(\w+)=(.*)$", line.strip())
            if m and m.group(1) in keys:
                out[m.group(1)] = m.group(2)
    return out
