"""Runtime tests for the task context (cgroup id, namespaces, vpid/vtid) and
container resolution: real runc containers whose rootfs is busybox-static,
in the cgroup layouts docker and Kubernetes use (set through
linux.cgroupsPath), pod names through OCI annotations, nested pid
namespaces through unshare. exitsnoop carries the events: every container
process the test runs exits, with a code the test chose."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid
from pathlib import Path

from harness import (SOURCE_DIR, BpfTestCase, Tool, cgroup2_root, decode_bytes,
                     decode_bytes_list, skip, tool_path)

BUSYBOX = "/bin/busybox"
# Names come from runc's state.json, which runc writes after the container's
# first processes ran, and the tool looks for it again at most once a second:
# a container whose name a test checks lives long enough to be named.
NAMED_SCRIPT = "sleep 1.5; sleep 1; exit {code}"
APPLETS = ("sh", "sleep", "true", "unshare", "kill", "cat")
FORKEXEC_SOURCE = SOURCE_DIR / "tests" / "workloads" / "forkexec.c"


def host_ns(kind):
    return os.stat(f"/proc/self/ns/{kind}").st_ino


def hex_id():
    return uuid.uuid4().hex + uuid.uuid4().hex


class Container:
    """A runc bundle (busybox rootfs) run to completion with `runc run`.
    layout: linux.cgroupsPath, where {id} stands for the container's id
    (64 hex digits, also its runc id, so runc's state names it too)."""

    def __init__(self, test, layout, script, annotations=None, caps=()):
        self.id = hex_id()
        self.dir = Path(tempfile.mkdtemp(prefix="snoopkit-ctr-"))
        test.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        test.addCleanup(subprocess.run, ["runc", "delete", "-f", self.id], capture_output=True)
        bindir = self.dir / "rootfs" / "bin"
        bindir.mkdir(parents=True)
        shutil.copy(BUSYBOX, bindir / "busybox")
        for a in APPLETS:
            (bindir / a).symlink_to("busybox")
        subprocess.run(["runc", "spec"], cwd=self.dir, check=True)
        config = json.loads((self.dir / "config.json").read_text())
        config["process"]["args"] = ["sh", "-c", script]
        config["process"]["terminal"] = False
        config["root"]["readonly"] = False
        config["linux"]["cgroupsPath"] = layout.format(id=self.id)
        config["annotations"] = annotations or {}
        for kind in ("bounding", "effective", "permitted"):
            config["process"]["capabilities"][kind] += list(caps)
        (self.dir / "config.json").write_text(json.dumps(config))

    def run(self, timeout=30):
        """Runs the container to its end; returns its exit code."""
        res = subprocess.run(["runc", "run", "--bundle", str(self.dir), self.id],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return res.returncode


def require_runc(test):
    if shutil.which("runc") is None or not os.access(BUSYBOX, os.X_OK):
        skip("runc and busybox-static are needed (scripts/setup.sh installs them)")
    if cgroup2_root() is None:
        skip("no cgroup v2 hierarchy is mounted")


class ContainerTest(BpfTestCase):

    def setUp(self):
        super().setUp()
        require_runc(self)

    def exits(self, tool, **match):
        return tool.records("exit", **match)

    def of_container(self, tool, cid):
        return [r for r in self.exits(tool) if r.get("container", {}).get("id") == cid]

    def host_child(self, code):
        """A host process that exits with code; returns its pid."""
        p = subprocess.Popen(["/bin/sh", "-c", f"exit {code}"])
        p.wait()
        return p.pid

    # --- what a record says ---

    def check_docker_layout(self, *transport):
        c = Container(self, "/docker/{id}", "sleep 0.1; exit 3")
        with Tool("exitsnoop", "--json", *transport) as t:
            self.assertEqual(c.run(), 3)
            host = self.host_child(4)
        t.assert_clean_exit(self)
        recs = self.of_container(t, c.id)
        [sh] = [r for r in recs if r["exit_code"] == 3]
        self.assertEqual((sh["vpid"], sh["vtid"]), (1, 1))
        self.assertNotEqual(sh["pid"], 1)
        self.assertEqual(sh["container"]["runtime"], "docker")
        self.assertNotIn("pod", sh["container"])
        self.assertNotEqual(sh["pidns"], host_ns("pid"))
        self.assertNotEqual(sh["mntns"], host_ns("mnt"))
        self.assertNotEqual(sh["pidns"], 0)
        self.assertNotEqual(sh["mntns"], 0)
        # The container's sleep: the same namespaces, a small pid inside.
        [sleep] = [r for r in recs if r["comm"] == "sleep"]
        self.assertEqual((sleep["pidns"], sleep["mntns"]), (sh["pidns"], sh["mntns"]))
        self.assertLess(sleep["vpid"], 10)
        self.assertEqual(sleep["cgroup_id"], sh["cgroup_id"])
        # A host process: no container, its own pid, the host's namespaces.
        [h] = self.exits(t, pid=host)
        self.assertNotIn("container", h)
        self.assertEqual((h["vpid"], h["vtid"]), (host, host))
        self.assertEqual((h["pidns"], h["mntns"]), (host_ns("pid"), host_ns("mnt")))
        self.assertNotEqual(h["cgroup_id"], sh["cgroup_id"])

    def test_docker_layout_ring_buffer(self):
        self.check_docker_layout()

    def test_docker_layout_perf_buffer(self):
        self.check_docker_layout("--perf-buffer")

    def test_kubernetes_pod_from_path_and_annotations(self):
        pod_uid = str(uuid.uuid4())
        c = Container(self, f"/kubepods/besteffort/pod{pod_uid}/{{id}}", NAMED_SCRIPT.format(code=5),
                      annotations={"io.kubernetes.pod.name": "web-7d9f",
                                   "io.kubernetes.pod.namespace": "prod",
                                   "io.kubernetes.pod.uid": pod_uid,
                                   "io.kubernetes.container.name": "app"})
        with Tool("exitsnoop", "--json") as t:
            self.assertEqual(c.run(), 5)
        t.assert_clean_exit(self)
        [r] = [r for r in self.of_container(t, c.id) if r["exit_code"] == 5]
        self.assertEqual(r["vpid"], 1)
        self.assertEqual(r["container"]["pod"],
                         {"uid": pod_uid, "name": "web-7d9f", "namespace": "prod"})
        self.assertEqual(r["container"]["name"], "app")
        self.assertEqual(r["container"]["runtime"], "runc")  # the path does not say

    def test_nested_pid_namespaces(self):
        # In the container: a pid namespace below the container's.
        # The container lives on a moment after the inner exit, so that record
        # is resolved while its cgroup exists; the outer exit is the
        # container's last event, and its cgroup may be gone before it is
        # resolved (the record then keeps only cgroup_id): find it by that.
        c = Container(self, "/docker/{id}", "unshare -p -f sh -c 'exit 7'; sleep 0.5; exit 6",
                      caps=["CAP_SYS_ADMIN"])
        # On the host: two levels below the host's.
        nested = ["unshare", "--pid", "--fork", "unshare", "--pid", "--fork", "sh", "-c",
                  "exit 9"]
        with Tool("exitsnoop", "--json") as t:
            self.assertEqual(c.run(), 6)
            self.assertEqual(subprocess.run(nested).returncode, 9)
        t.assert_clean_exit(self)
        recs = self.of_container(t, c.id)
        inner = [r for r in recs if r["exit_code"] == 7 and r["comm"] == "sh"]
        self.assertEqual(len(inner), 1, recs)
        [outer] = [r for r in self.exits(t) if r["exit_code"] == 6
                   and r["cgroup_id"] == inner[0]["cgroup_id"]]
        self.assertEqual(inner[0]["vpid"], 1)
        self.assertNotEqual(inner[0]["pidns"], outer["pidns"])
        self.assertEqual(inner[0]["mntns"], outer["mntns"])
        host = [r for r in self.exits(t) if r["exit_code"] == 9 and r["comm"] == "sh"
                and "container" not in r and r["pidns"] != host_ns("pid")]
        self.assertTrue(host, "no record of the host's nested sh")
        self.assertEqual(host[0]["vpid"], 1)
        self.assertNotEqual(host[0]["pid"], 1)

    # --- execsnoop and opensnoop inside a container ---

    def static_forkexec(self, c):
        """The fork+execl workload, linked statically into the container's /bin."""
        cc = shutil.which("cc")
        if cc is None:
            skip("a C compiler is needed to build the static workload (build-essential)")
        out = c.dir / "rootfs" / "bin" / "forkexec"
        subprocess.run([cc, "-static", "-O2", "-o", str(out), str(FORKEXEC_SOURCE)], check=True,
                       capture_output=True)

    def test_execsnoop_in_a_pod_container(self):
        pod_uid = str(uuid.uuid4())
        long_arg = "y" * 3000
        c = Container(self, f"/kubepods/burstable/pod{pod_uid}/{{id}}",
                      f"sleep 1.5; /bin/forkexec ok; /bin/true {long_arg}; sleep 1; exit 0",
                      annotations={"io.kubernetes.pod.name": "api-5c",
                                   "io.kubernetes.pod.namespace": "prod",
                                   "io.kubernetes.container.name": "api"})
        self.static_forkexec(c)
        with Tool("execsnoop", "--json") as t:
            self.assertEqual(c.run(), 0)
        t.assert_clean_exit(self)
        recs = [r for r in t.records("exec") if r.get("container", {}).get("id") == c.id]
        want_pod = {"uid": pod_uid, "name": "api-5c", "namespace": "prod"}
        # The whole command line: the 3,000-byte argument is not cut.
        [long] = [r for r in recs if long_arg.encode() in decode_bytes_list(r, "argv")]
        self.assertEqual(decode_bytes_list(long, "argv")[-1], long_arg.encode())
        self.assertFalse(long["arg_truncated"] or long["argv_truncated"])
        self.assertEqual(long["container"]["pod"], want_pod)
        self.assertEqual(long["container"]["name"], "api")
        self.assertGreater(long["vpid"], 1)
        self.assertNotEqual(long["pidns"], host_ns("pid"))
        # fork + execl of string literals, inside the container.
        [forked] = [r for r in recs if decode_bytes_list(r, "argv") == [b"sh", b"-c", b"exit 0"]]
        self.assertEqual(decode_bytes(forked, "filename"), b"/bin/sh")
        self.assertEqual(forked["container"]["pod"], want_pod)
        self.assertGreater(forked["vpid"], 1)
        self.assertNotEqual(forked["vpid"], forked["pid"])

    def test_opensnoop_full_path_in_a_container(self):
        c = Container(self, "/docker/{id}", "cd /tmp && sleep 0.3 && cat rel.txt && sleep 0.3")
        tmp = c.dir / "rootfs" / "tmp"
        tmp.mkdir()
        (tmp / "rel.txt").write_text("hello\n")
        with Tool("opensnoop", "--json", "-F") as t:
            self.assertEqual(c.run(), 0)
        t.assert_clean_exit(self)
        recs = [r for r in t.records("open") if r.get("container", {}).get("id") == c.id
                and decode_bytes(r, "path") == b"rel.txt"]
        self.assertTrue(recs, "no open of rel.txt in the container")
        # The path as the container sees it, not the host's bundle path.
        self.assertEqual(decode_bytes(recs[0], "full_path"), b"/tmp/rel.txt")
        self.assertFalse(recs[0]["full_path_truncated"])
        self.assertEqual(recs[0]["container"]["runtime"], "docker")

    # --- --container and --show-container ---

    def test_container_filter_catches_containers_started_later(self):
        wanted = Container(self, "/docker/{id}", "sleep 0.1; exit 3")
        other = Container(self, "/docker/{id}", "sleep 0.1; exit 4")
        with Tool("exitsnoop", "--json", "--container", wanted.id[:10]) as t:
            # Both start after the tool: their cgroups did not exist before.
            self.assertEqual(other.run(), 4)
            self.assertEqual(wanted.run(), 3)
            host = self.host_child(5)
            self.assertEqual(other.run(), 4)  # its cgroup is known by now
        t.assert_clean_exit(self)
        recs = self.exits(t)
        self.assertTrue([r for r in recs if r["exit_code"] == 3])
        for r in recs:
            self.assertEqual(r.get("container", {}).get("id"), wanted.id, r)
        self.assertFalse(self.exits(t, pid=host))

    def test_container_filter_by_name(self):
        wanted = Container(self, f"/kubepods/besteffort/pod{uuid.uuid4()}/{{id}}",
                           NAMED_SCRIPT.format(code=3),
                           annotations={"io.kubernetes.container.name": "named-app"})
        other = Container(self, "/docker/{id}", "sleep 0.1; exit 4")
        with Tool("exitsnoop", "--json", "--container", "named-app") as t:
            self.assertEqual(wanted.run(), 3)
            self.assertEqual(other.run(), 4)
        t.assert_clean_exit(self)
        recs = self.exits(t)
        self.assertTrue([r for r in recs if r["exit_code"] == 3])
        for r in recs:
            self.assertEqual(r.get("container", {}).get("name"), "named-app", r)

    def test_show_container_column(self):
        named = Container(self, f"/kubepods/pod{uuid.uuid4()}/{{id}}", NAMED_SCRIPT.format(code=3),
                          annotations={"io.kubernetes.container.name": "showme"})
        # A container cgroup made by hand: no runtime state, so no name.
        unnamed = hex_id()
        d = cgroup2_root() / "docker" / unnamed
        d.mkdir(parents=True)
        self.addCleanup(d.rmdir)
        with Tool("exitsnoop", "--show-container") as t:
            self.assertEqual(named.run(), 3)
            p = subprocess.run(["/bin/sh", "-c", 'echo $$ > "$1/cgroup.procs" && exit 4', "sh",
                                str(d)])
            self.assertEqual(p.returncode, 4)
            host = self.host_child(5)
        t.assert_clean_exit(self)
        lines = t.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[0], "CONTAINER")
        self.assertTrue([l for l in lines if l.startswith("showme ") and l.endswith("code 3")],
                        lines)
        self.assertTrue([l for l in lines if l.startswith(unnamed[:12] + " ") and
                         l.endswith("code 4")], lines)
        self.assertFalse([l for l in lines if unnamed[:13] in l])
        [h] = [l for l in lines if l.split()[2:3] == [str(host)]]
        self.assertEqual(h.split()[0], "-")

    def test_bad_container_values(self):
        for bad in ("", "a\nb"):
            res = subprocess.run([tool_path("exitsnoop"), "--container", bad],
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 2, res.stderr)
            self.assertIn("error:", res.stderr)

    # --- bad input and faults ---

    def test_hostile_cgroup_names_and_state(self):
        # A container name with a newline, quotes and a C1 control, and a
        # host cgroup whose directory name has quotes, a tab and bytes that
        # are not UTF-8 (the kernel refuses a newline there): one valid line each.
        name = 'x\n"y"\u0085z'
        c = Container(self, f"/kubepods/pod{uuid.uuid4()}/{{id}}", NAMED_SCRIPT.format(code=3),
                      annotations={"io.kubernetes.container.name": name})
        root = cgroup2_root()
        odd = root / os.fsdecode(b"sk-\t\"q\"\xff-" + str(os.getpid()).encode())
        odd.mkdir()
        self.addCleanup(lambda: odd.rmdir() if odd.exists() else None)
        script = 'echo $$ > "$1/cgroup.procs" && exit 8'
        with Tool("exitsnoop", "--json") as t:
            self.assertEqual(c.run(), 3)
            p = subprocess.run(["/bin/sh", "-c", script, "sh", str(odd)])
            self.assertEqual(p.returncode, 8)
        t.assert_clean_exit(self)
        [r] = [r for r in self.of_container(t, c.id) if r["exit_code"] == 3]
        self.assertEqual(r["container"]["name"], name)
        odd_recs = [r for r in self.exits(t) if r["exit_code"] == 8 and r["comm"] == "sh"
                    and r["cgroup_id"] == os.stat(odd).st_ino]
        self.assertEqual(len(odd_recs), 1)
        self.assertNotIn("container", odd_recs[0])

    def test_many_short_lived_cgroups_without_runtime_state(self):
        # Container cgroups made by hand: no runc state for any of them, and
        # each is removed right after its one process exits, often before
        # the tool resolves it (the record then keeps cgroup_id only).
        root = cgroup2_root() / "docker"
        root.mkdir(exist_ok=True)
        ids = [hex_id() for _ in range(300)]
        # Prints "<id> <cgroup inode>" per cgroup: the inode is its cgroup id.
        script = ('for id in "$@"; do d="$ROOT/$id"; mkdir "$d" || exit 1; '
                  'echo "$id $(stat -c %i "$d")"; '
                  'sh -c "echo \\$\\$ > $d/cgroup.procs && exit 11"; '
                  'while ! rmdir "$d" 2>/dev/null; do :; done; done')
        with Tool("exitsnoop", "--json", "--buffer-size", "4M") as t:
            res = subprocess.run(["/bin/sh", "-c", script, "sh", *ids], capture_output=True,
                                 text=True, env=dict(os.environ, ROOT=str(root)))
            self.assertEqual(res.returncode, 0, res.stderr)
        t.assert_clean_exit(self)
        by_cgroup = {int(ino): cid for cid, ino in (l.split() for l in res.stdout.splitlines())}
        self.assertEqual(len(by_cgroup), len(ids))
        recs = [r for r in self.exits(t) if r["cgroup_id"] in by_cgroup and r["exit_code"] == 11]
        self.assertEqual(sorted(r["cgroup_id"] for r in recs), sorted(by_cgroup))
        resolved = [r for r in recs if "container" in r]
        for r in resolved:
            self.assertEqual(r["container"], {"id": by_cgroup[r["cgroup_id"]], "runtime": "docker"})
        [summary] = t.records("summary")
        self.assertEqual(summary["lost"], 0)



class SchemaTest(unittest.TestCase):

    def test_schemas_match_their_generator(self):
        gen = SOURCE_DIR / "scripts" / "gen-task-context-schema.py"
        res = subprocess.run(["python3", str(gen), "--check"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
