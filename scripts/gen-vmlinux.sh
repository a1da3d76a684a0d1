#!/usr/bin/env bash
# Regenerate vmlinux/<arch>/vmlinux.h from a kernel's BTF.
# The build never reads the build host's BTF: this header is committed, and
# CO-RE relocations adapt the objects built from it to the running kernel.
#
# usage: scripts/gen-vmlinux.sh [BTF_FILE] [ARCH]
#   BTF_FILE  defaults to /sys/kernel/btf/vmlinux
#   ARCH      defaults to x86 (the directory under vmlinux/)
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-x86}
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/vmlinux/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out ($(wc -l <"$out") lines) from $btf"
