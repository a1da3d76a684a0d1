"""What the runtime tests ask the kernel directly: the bpf(2) syscall (is BPF
usable, and was anything loaded between two points?), bpftool snapshots of
loaded programs and links, and which of them a process holds open."""

import ctypes
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

# --- the bpf(2) syscall, for availability and "was anything loaded?" probes ---

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351, "ppc64le": 361}.get(
    platform.machine())
_BPF_MAP_CREATE, _BPF_PROG_LOAD, _BPF_OBJ_GET_INFO_BY_FD = 0, 5, 15


def _bpf(cmd, attr):
    if _SYS_BPF is None:
        raise OSError(38, f"bpf(2) syscall number unknown on {platform.machine()}")
    buf = ctypes.create_string_buffer(bytes(attr).ljust(128, b"\0"), 128)
    ret = _libc.syscall(_SYS_BPF, cmd, buf, 128)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def _obj_id(fd):
    info = ctypes.create_string_buffer(256)
    attr = (fd.to_bytes(4, sys.byteorder) + (256).to_bytes(4, sys.byteorder) +
            ctypes.addressof(info).to_bytes(8, sys.byteorder))
    _bpf(_BPF_OBJ_GET_INFO_BY_FD, attr)
    return int.from_bytes(info.raw[4:8], sys.byteorder)  # prog_info.id / map_info.id


def next_bpf_ids():
    """Creates and frees one tiny map and one tiny program; returns their ids.

    The kernel hands out map and program ids in increasing order, so if a
    tool run between two calls loaded nothing (and nobody else did), the
    second pair is exactly the first plus one.
    """
    fd = _bpf(_BPF_MAP_CREATE, b"".join(v.to_bytes(4, sys.byteorder) for v in (2, 4, 4, 1)))
    try:
        map_id = _obj_id(fd)
    finally:
        os.close(fd)
    insns = ctypes.create_string_buffer(bytes([0xB7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = ((1).to_bytes(4, sys.byteorder) + (2).to_bytes(4, sys.byteorder) +  # socket filter, 2 insns
            ctypes.addressof(insns).to_bytes(8, sys.byteorder) + ctypes.addressof(lic).to_bytes(8, sys.byteorder))
    fd = _bpf(_BPF_PROG_LOAD, attr)
    try:
        prog_id = _obj_id(fd)
    finally:
        os.close(fd)
    return map_id, prog_id


# --- kernel objects: bpftool snapshots and per-process ownership ---

def bpf_snapshot():
    """Ids of every loaded BPF program and link: {"prog": set, "link": set}."""
    snap = {}
    for kind in ("prog", "link"):
        out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, check=True,
                             timeout=30).stdout
        snap[kind] = {item["id"] for item in json.loads(out or b"[]")}
    return snap


def bpf_ids_held_by(pid):
    """Program and link ids that process pid holds open, from its fdinfo."""
    held = {"prog": set(), "link": set()}
    try:
        entries = list(Path(f"/proc/{pid}/fdinfo").iterdir())
    except OSError:  # gone, or not ours to read
        entries = []
    for entry in entries:
        try:
            text = entry.read_text()
        except OSError:
            continue
        # A link's fdinfo names its program too: the link keeps it loaded.
        for kind in ("prog", "link"):
            m = re.search(rf"^{kind}_id:\s*(\d+)$", text, re.M)
            if m:
                held[kind].add(int(m.group(1)))
    return held


def _held_by_others(exclude):
    held = {"prog": set(), "link": set()}
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) not in exclude:
            for kind, ids in bpf_ids_held_by(p.name).items():
                held[kind] |= ids
    return held


def assert_no_bpf_left(test, before, owned, grace=5.0):
    """Fails test if a program or link the tool held (owned) is still loaded,
    or if a program or link that appeared since the snapshot before is still
    loaded with no live process holding it (pinned or leaked). The kernel
    frees objects asynchronously, hence the grace period."""
    deadline = time.monotonic() + grace
    while True:
        now = bpf_snapshot()
        stale = {k: (now[k] & owned[k]) for k in now}
        orphans = {k: now[k] - before[k] - owned[k] for k in now}
        if any(orphans.values()):
            others = _held_by_others({os.getpid()})
            orphans = {k: orphans[k] - others[k] for k in orphans}
        if not any(stale.values()) and not any(orphans.values()):
            return
        if time.monotonic() > deadline:
            test.fail(f"BPF objects left behind: still loaded from the tool {stale}, "
                      f"new and held by no process {orphans}")
        time.sleep(0.2)



def cgroup2_root():
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup/unified on
    hybrid hosts), or None."""
    return next((Path(l.split()[1]) for l in Path("/proc/self/mounts").read_text().splitlines()
                 if l.split()[2] == "cgroup2"), None)
