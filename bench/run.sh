#!/usr/bin/env bash
# snoopkit's benchmark, the one documented command (see bench/README.md).
# Installs what is missing (libbpf-tools, bpftrace, jq, gnuplot-nox: the
# Debian packages it compares against, reads with and plots with), builds
# snoopkit and the workloads, then runs the driver.
#
#   bench/run.sh                  full run (about 20 minutes on 2 cores)
#   bench/run.sh --smoke          a few seconds with small counts (CI)
#   bench/run.sh [--out DIR] [--no-install] [--no-build] [driver options]
#
# Results: DIR (default bench/results/<timestamp>/) gets results.md,
# results.json, added_ns.png and loss_rate.png. Driver options: python3 -m
# skbench --help (run from bench/), e.g. --rounds 5 --open-ops 2000000.
# Environment: SNOOPKIT_BIN_DIR, the build directory with the tools
# (default ./build, where scripts/setup.sh builds); BENCH_NICE, the nice
# value of the whole run (default -20, so that other work on a shared
# machine disturbs it less; every configuration runs at the same value).
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
out=""
install=1
build=1
args=()
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: run as root: the benchmark loads BPF programs and turns on kernel.bpf_stats_enabled" >&2
  exit 1
fi

if ((install)); then
  packages=(libbpf-tools bpftrace jq gnuplot-nox bpftool make gcc libc6-dev coreutils python3)
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
if ((build)); then
  "$top/scripts/setup.sh" >&2
fi
make -s -C "$bench" >&2

out=${out:-$bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$bench"
exec nice -n "${BENCH_NICE:--20}" python3 -m skbench --out "$out" --snoopkit-bin "${SNOOPKIT_BIN_DIR:-$top/build}" ${args[@]+"${args[@]}"}
