#!/usr/bin/env python3
"""Writes the task context fields (Session::add_task_context: "cgroup_id",
"vpid", "vtid", "mntns", "pidns", "container") into the JSON schema of every
record type that carries them, from the one definition below, so that each
schema stays self-contained (consumers and tests/runtime/records.py need no
reference resolution) and none can drift from the others.

usage: scripts/gen-task-context-schema.py [--check]
  --check  write nothing; exit 1 if a schema differs from what would be written
"""

import argparse
import json
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
SCHEMA_DIR = TOP / "docs" / "schema"

# Record types whose events describe a task: (whether they have a tid,
# whether every record has the fields: a tcplife record has them only when
# the session's owner is known, like its pid).
RECORDS = {
    "exec": (True, True),
    "open": (True, True),
    "stat": (True, True),
    "exit": (True, True),
    "signal": (True, True),
    "kill": (True, True),
    "mount": (True, True),
    "bind": (True, True),
    "connect": (True, True),
    "tcplife": (False, False),
    "block_io": (False, True),
}

U32 = {"type": "integer", "minimum": 0, "maximum": 4294967295}


def _bytes(what):
    return {
        "type": "string",
        "description": what + " A value that is not valid UTF-8 comes with its exact bytes in the"
        " \"<key>_b64\" member beside it.",
    }


def _b64():
    return {"$ref": "#/$defs/base64"}


POD = {
    "type": "object",
    "description": "The Kubernetes pod of the container, when its cgroup path names one"
    " (/kubepods[/<qos>]/pod<uid>/ or kubepods-<qos>-pod<uid>.slice).",
    "properties": {
        "uid": _bytes("The pod's UID, from the cgroup path (dashes restored)."),
        "uid_b64": _b64(),
        "name": _bytes("The pod's name (the io.kubernetes.pod.name annotation in the runtime's"
                       " state), when known."),
        "name_b64": _b64(),
        "namespace": _bytes("The pod's namespace (io.kubernetes.pod.namespace), when known."),
        "namespace_b64": _b64(),
    },
    "required": ["uid"],
    "additionalProperties": False,
}

CONTAINER = {
    "type": "object",
    "description": "The container the task runs in, resolved in user space from its cgroup"
    " (cached by cgroup id). Absent for a task on the host, and for a cgroup that was gone"
    " before it could be resolved.",
    "properties": {
        "id": _bytes("The container's full id (64 hex digits for docker, containerd, CRI-O,"
                     " podman)."),
        "id_b64": _b64(),
        "runtime": _bytes("Which runtime runs it, from the cgroup path's layout or the"
                          " runtime's state: \"docker\", \"containerd\", \"cri-o\", \"podman\""
                          " or \"runc\"; \"\" while neither says (a Kubernetes path whose"
                          " runtime state is not written yet)."),
        "runtime_b64": _b64(),
        "name": _bytes("The container's name from the runtime's state (runc's state.json"
                       " labels), when known."),
        "name_b64": _b64(),
        "pod": POD,
    },
    "required": ["id", "runtime"],
    "additionalProperties": False,
}


def properties(has_tid):
    props = {
        "cgroup_id": {
            "type": "integer",
            "minimum": 0,
            "maximum": 9007199254740991,
            "description": "The task's cgroup v2 id (bpf_get_current_cgroup_id(): the inode number"
            " of its cgroup v2 directory; on a host without cgroup v2 in use, the root's). A JSON"
            " number: kernfs inode numbers stay far below 2^53.",
        },
        "vpid": dict(U32, description="The process ID as the task's own pid namespace numbers it"
                     " (1 for a container's first process); equal to pid on the host. 0 when the"
                     " kernel's layout could not be read."),
    }
    if has_tid:
        props["vtid"] = dict(U32, description="The thread ID in the task's own pid namespace;"
                             " 0 when unknown.")
    props["mntns"] = dict(U32, description="Inode number of the task's mount namespace (as"
                          " /proc/PID/ns/mnt shows it); 0 when unknown.")
    props["pidns"] = dict(U32, description="Inode number of the task's own pid namespace (as"
                          " /proc/PID/ns/pid shows it); 0 when unknown.")
    props["container"] = CONTAINER
    return props


def required(has_tid):
    return ["cgroup_id", "vpid"] + (["vtid"] if has_tid else []) + ["mntns", "pidns"]


def render(schema, has_tid, always):
    props = properties(has_tid)
    # Earlier output of this script first, then the fields in their place.
    out = {k: v for k, v in schema["properties"].items() if k not in props}
    out.update(props)
    schema["properties"] = out
    schema["required"] = [k for k in schema["required"] if k not in props]
    if always:
        schema["required"] += required(has_tid)
    else:  # present exactly when the pid is
        dep = schema["dependentRequired"]["pid"]
        dep[:] = [k for k in dep if k not in props] + required(has_tid)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for name, (has_tid, always) in RECORDS.items():
        path = SCHEMA_DIR / f"{name}.v1.json"
        text = path.read_text()
        new = render(json.loads(text), has_tid, always)
        if new == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(new)
    if args.check and stale:
        print("out of date (run scripts/gen-task-context-schema.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
