#!/usr/bin/env python3
"""The kernel matrix: the runtime tests on the host, and on Debian's 6.1 and
6.12 cloud kernels booted under qemu (TCG), one command:

    tests/vm/run_matrix.py            # full: host + every kernel; updates docs/COMPATIBILITY.md
    tests/vm/run_matrix.py --ci       # what CI runs (ctest: runtime.test_kernel_matrix)
    tests/vm/run_matrix.py --kernels 6.1 --no-host
    tests/vm/run_matrix.py --kernels 6.1=linux-image-6.1.0-56-cloud-amd64   # pin a package

Writes BUILD/vm/matrix.json and BUILD/vm/matrix.md (and each VM's serial
console log beside them). Exit status: 0 every kernel tried passed; 1 a
kernel (or the host) failed; 77 no VM kernel could be tried (under CI=true,
1). A kernel that cannot be fetched from the Debian archive is a reported
SKIP, not a pass and not a failure, as long as another kernel ran.
"""

import argparse
import datetime
import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import initramfs  # noqa: E402
import kernels  # noqa: E402
import report  # noqa: E402
import vm  # noqa: E402

SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
DEFAULT_KERNELS = ["6.1", "6.12"]
PACKAGES = ["qemu-system-x86", "busybox-static", "python3", "python3-jsonschema", "bpftool",
            "util-linux", "mount", "bash", "coreutils"]
SELF_MODULE = "test_kernel_matrix"
# Modules that test no kernel behaviour and need what a VM lacks: host row only.
HOST_ONLY = {"test_packaging": "builds, lints and installs the packages (apt, dpkg, lintian)",
             "test_bench_smoke": "runs bench/run.sh, which builds and installs its own tools",
             "test_container": "runs runc containers: the guest's root is the initramfs (rootfs), "
                               "which runc cannot pivot_root away from, and runc is not in it"}
# The modules a CI run of the VMs runs whole: the tools every other tool's
# runtime is modelled on, and the block tools, whose submitter hook differs
# by kernel (block_io_start from 6.5, block_bio_queue before). Every tool
# still starts on both transports in each VM (the hook report), and the load
# tests verify every skeleton there.
CI_MODULES = ["test_execsnoop", "test_opensnoop", "test_biosnoop", "test_biolatency"]
# GoogleTest binaries of the build that run in each VM: every skeleton loads
# and passes the verifier of that kernel.
GTESTS = ["load_tests"]


def log(msg, label=""):
    print(f"[matrix{' ' + label if label else ''}] {msg}", flush=True)


def ensure_deps():
    """Installs the Debian packages the VM needs when missing (idempotent);
    returns a reason string when that failed."""
    missing = [p for p in PACKAGES if "install ok installed" not in subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout]
    if not missing:
        return ""
    log(f"installing {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, capture_output=True)
    r = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return f"apt-get install {' '.join(missing)} failed: {(r.stderr or r.stdout).strip()[-400:]}"
    return ""


def tools_of(bin_dir):
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(SOURCE_DIR, "tools", "*.cpp")))
    built = [n for n in names if os.access(os.path.join(bin_dir, n), os.X_OK)]
    if not built:
        raise SystemExit(f"run_matrix: no tool is built in {bin_dir}: run scripts/setup.sh first")
    if len(built) < len(names):
        log(f"warning: not built in {bin_dir}, left out: "
            f"{', '.join(sorted(set(names) - set(built)))}")
    return built


def modules_of(only=None):
    mods = sorted(os.path.basename(p)[:-3]
                  for p in glob.glob(os.path.join(SOURCE_DIR, "tests", "runtime", "test_*.py")))
    mods = [m for m in mods if m != SELF_MODULE]
    if only:
        mods = [m for m in mods if m in only]
    return mods


def plan_runs(mode, modules, tools, vm=True):
    """The module runs of one kernel (vm) or of the host row. Full: every
    module (in a VM, less HOST_ONLY), then each tool's module again with
    --perf-buffer forced, less the tests that check the default transport
    by name. CI: in a VM, only CI_MODULES, once, their own perf buffer cases
    included (the other modules run on the host in the same CI run)."""
    runs = []
    for m in modules:
        is_tool = report.tool_of(m, tools) is not None
        if vm and (m in HOST_ONLY or (mode == "ci" and m not in CI_MODULES)):
            continue
        runs.append({"module": m, "transport": "default"})
        if is_tool and mode != "ci":
            runs.append({"module": m, "transport": "perf", "exclude": ["ring_buffer"]})
    return runs


def guest_config(label, mode, tools, runs, bin_dir, source_dir, module_timeout, host_bin_dir=None):
    return {"label": label, "mode": mode, "tools": tools, "runs": runs, "gtests": GTESTS,
            "bin_dir": bin_dir, "host_bin_dir": host_bin_dir,
            "source_dir": source_dir, "ci": os.environ.get("CI") == "true",
            "module_timeout": module_timeout}


def run_host(cfg, out_dir, timeout):
    """The host row: the same guest suite, run here directly."""
    path = os.path.join(out_dir, "host-config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    b = vm.Boot()
    start = time.monotonic()
    b.boot_seconds = None
    with open(os.path.join(out_dir, "host.log"), "w") as logf:
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "guest.py"), "--config", path],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             cwd=os.path.join(SOURCE_DIR, "tests", "runtime"), errors="replace",
                             start_new_session=True)
        expired = threading.Event()

        def expire():
            expired.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, expire)
        timer.start()
        for line in p.stdout:
            logf.write(line)
            vm._handle(b, line.rstrip("\n"), start, lambda m: log(m, "host"))
        p.wait()
        timer.cancel()
    b.seconds = round(time.monotonic() - start, 1)
    b.status = "done" if any(r.get("kind") == "done" for r in b.results) else (
        "timeout" if expired.is_set() else "crashed")
    row = report.kernel_row("host", "host", b, seconds=b.seconds)
    return report.judge(row, b.status)


def run_kernel(label, pinned, args, tools, runs, out_dir, deps_problem):
    if deps_problem:
        return report.skipped_row(label, "qemu (TCG)", deps_problem)
    k = kernels.fetch(label, args.cache, pinned, log=lambda m: log(m, label))
    if k.skip_reason:
        log(f"SKIP: {k.skip_reason}", label)
        return report.skipped_row(label, "qemu (TCG)", k.skip_reason, k.package)
    if k.error:
        log(f"FAIL: {k.error}", label)
        row = report.skipped_row(label, "qemu (TCG)", k.error, k.package)
        row["status"] = "fail"
        return row
    log(f"{k.package} {k.version}", label)
    work = os.path.join(out_dir, label)
    cfg = guest_config(label, args.mode, tools, runs, "/snoopkit/build", "/snoopkit/src",
                       args.module_timeout, args.build_dir)
    t0 = time.monotonic()
    initrd = initramfs.build(work, args.cache, args.build_dir, SOURCE_DIR, tools,
                             os.path.join(HERE, "init"), json.dumps(cfg, indent=1), k.modules)
    log(f"initramfs {os.path.getsize(initrd) >> 20} MiB in {time.monotonic() - t0:.1f} s; booting", label)
    b = vm.run(k.vmlinuz, initrd, os.path.join(work, "console.log"), args.vm_timeout,
               on_log=lambda m: log(m, label), memory_mb=args.memory)
    row = report.kernel_row(label, "qemu (TCG)", b, package=k.package, version=k.version,
                            config=k.config, seconds=b.seconds)
    row = report.judge(row, b.status)
    if b.status != "done":
        row["console_tail"] = b.console_tail
        log(f"VM run {b.status}; console tail:\n{b.console_tail}", label)
    log(f"{row['status'].upper()} in {b.seconds} s (boot {b.boot_seconds} s)"
        f"{': ' + row['reason'] if row['reason'] else ''}", label)
    return row


def exec_on_kernels(args, tools, wanted, out_dir):
    """--exec: the command's output per kernel; no matrix, no docs."""
    problem = ensure_deps()
    if problem:
        raise SystemExit(f"run_matrix: {problem}")
    code = 0
    for spec in wanted:
        label, _, pinned = spec.partition("=")
        k = kernels.fetch(label, args.cache, pinned, log=lambda m: log(m, label))
        if k.skip_reason or k.error:
            log(f"cannot run on {label}: {k.skip_reason or k.error}", label)
            code = 1
            continue
        cfg = guest_config(label, "exec", tools, [], "/snoopkit/build", "/snoopkit/src",
                           args.module_timeout, args.build_dir)
        cfg["exec"] = args.exec
        work = os.path.join(out_dir, "exec-" + label)
        initrd = initramfs.build(work, args.cache, args.build_dir, SOURCE_DIR, tools,
                                 os.path.join(HERE, "init"), json.dumps(cfg), k.modules)
        b = vm.run(k.vmlinuz, initrd, os.path.join(work, "console.log"), args.timeout,
                   on_log=lambda m: log(m, label), memory_mb=args.memory)
        if b.status != "done":
            log(f"VM run {b.status}; console tail:\n{b.console_tail}", label)
            code = 1
    return code


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--ci", action="store_true", help="the reduced subset CI runs (no host row)")
    ap.add_argument("--kernels", default=",".join(DEFAULT_KERNELS),
                    help="comma-separated labels (6.1, 6.12) or LABEL=PACKAGE; '' for none")
    ap.add_argument("--no-host", action="store_true", help="leave out the host row")
    ap.add_argument("--modules", help="comma-separated test modules (default: every runtime module)")
    ap.add_argument("--build-dir", default=os.environ.get("SNOOPKIT_BIN_DIR", os.path.join(SOURCE_DIR, "build")))
    ap.add_argument("--out", help="output directory (default BUILD/vm)")
    ap.add_argument("--cache", default=os.environ.get("SNOOPKIT_VM_CACHE", os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "snoopkit-vm")),
                    help="where kernel packages and the base initramfs are kept")
    ap.add_argument("--timeout", type=float, help="seconds per VM before it is killed")
    ap.add_argument("--budget", type=float,
                    help="seconds for the whole run; later VMs get what is left "
                    "(default: 1200 with --ci, inside the 1500 s ctest gives a runtime test; else none)")
    ap.add_argument("--module-timeout", type=float, default=600)
    ap.add_argument("--memory", type=int, default=2048, help="VM memory, MiB")
    ap.add_argument("--exec", metavar="CMD",
                    help="debugging: boot each kernel and run this shell command there instead of "
                    "the suite (tools on PATH, cwd tests/runtime), e.g. 'execsnoop -vv -d 1'")
    ap.add_argument("--reuse", metavar="LABELS",
                    help="comma-separated rows (host, 6.1, ...) to take from the last matrix.json "
                    "in the output directory instead of running them again")
    ap.add_argument("--update-docs", action="store_true",
                    help="rewrite docs/COMPATIBILITY.md even after a partial run")
    ap.add_argument("--no-docs", action="store_true", help="never touch docs/COMPATIBILITY.md")
    args = ap.parse_args()
    args.mode = "ci" if args.ci else "full"
    args.build_dir = os.path.abspath(args.build_dir)
    args.timeout = args.timeout or (420 if args.ci else 2400)
    args.budget = args.budget or (1200 if args.ci else None)
    out_dir = os.path.abspath(args.out or os.path.join(args.build_dir, "vm"))
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(args.cache, exist_ok=True)
    started = time.monotonic()

    tools = tools_of(args.build_dir)
    modules = modules_of(set(args.modules.split(",")) if args.modules else None)
    runs = plan_runs(args.mode, modules, tools)
    host_runs = plan_runs(args.mode, modules, tools, vm=False)
    wanted = [k.strip() for k in args.kernels.split(",") if k.strip()]
    with_host = not args.no_host and not args.ci
    log(f"{args.mode} mode: tools {', '.join(tools)}; kernels {', '.join(wanted) or 'none'}"
        f"{' + host' if with_host else ''}; {len(runs)} module runs per kernel")

    if args.exec:
        return exec_on_kernels(args, tools, wanted, out_dir)

    reused = {}
    if args.reuse:
        with open(os.path.join(out_dir, "matrix.json")) as f:
            previous = json.load(f)
        if previous.get("mode") != args.mode:
            raise SystemExit(f"run_matrix: --reuse: the last matrix.json is a {previous.get('mode')} run")
        reused = {r["label"]: report.rejudge(r) for r in previous["kernels"]
                  if r["label"] in args.reuse.split(",")}
        log(f"reusing rows of the last run: {', '.join(reused) or 'none'}")

    rows = []
    if with_host and "host" in reused:
        rows.append(reused["host"])
    elif with_host:
        cfg = guest_config("host", args.mode, tools, host_runs, args.build_dir, SOURCE_DIR,
                           args.module_timeout)
        rows.append(run_host(cfg, out_dir, args.timeout))
        log(f"host: {rows[-1]['status'].upper()} {rows[-1]['reason']}")
    deps_problem = ensure_deps() if wanted else ""
    for spec in wanted:
        label, _, pinned = spec.partition("=")
        if label in reused:
            rows.append(reused[label])
            continue
        args.vm_timeout = args.timeout
        if args.budget:
            left = args.budget - (time.monotonic() - started)
            if left < 60:
                row = report.skipped_row(label, "qemu (TCG)", f"not run: the {args.budget:.0f} s "
                                         f"budget of this run was spent")
                row["status"] = "fail"
                rows.append(row)
                continue
            # An even share of what is left, so that one hung VM cannot starve the next.
            share = (left - 20) / (len(wanted) - wanted.index(spec))
            args.vm_timeout = min(args.timeout, max(share, 60))
        rows.append(run_kernel(label, pinned, args, tools, runs, out_dir, deps_problem))

    mode_note = (f"in each VM, every tool started on both transports, the load tests, and "
                 f"{', '.join(CI_MODULES)} (their perf buffer cases included)"
                 if args.ci else "every runtime test module; each tool's module again with "
                 "--perf-buffer forced, less the tests that check the default transport by name")
    matrix = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
              "mode": args.mode, "mode_note": mode_note, "tools": tools, "kernels": rows,
              "seconds": round(time.monotonic() - started, 1)}
    with open(os.path.join(out_dir, "matrix.json"), "w") as f:
        json.dump(matrix, f, indent=1)
    md = report.markdown(matrix)
    with open(os.path.join(out_dir, "matrix.md"), "w") as f:
        f.write(md)
    print("\n" + md)
    log(f"wrote {out_dir}/matrix.json and matrix.md in {matrix['seconds']:.0f} s")

    complete = args.mode == "full" and with_host and set(wanted) >= set(DEFAULT_KERNELS)
    doc = os.path.join(SOURCE_DIR, "docs", "COMPATIBILITY.md")
    if not args.no_docs and (args.update_docs or complete):
        changed = report.update_doc(doc, md)
        log(f"{'updated' if changed else 'unchanged'}: {doc}")
    elif not args.no_docs and args.mode == "full":
        log("partial run: docs/COMPATIBILITY.md left as it is (pass --update-docs to rewrite it)")

    for r in rows:
        if r["status"] == "skip":
            log(f"SKIP {r['label']}: {r['reason']}")
    if any(r["status"] == "fail" for r in rows):
        log("FAIL: " + "; ".join(f"{r['label']}: {r['reason']}" for r in rows if r["status"] == "fail"))
        return 1
    if wanted and not any(r["status"] == "pass" and r["where"] != "host" for r in rows):
        if os.environ.get("CI") == "true":
            log("CI=true: no VM kernel could be tried, which counts as a failure")
            return 1
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
