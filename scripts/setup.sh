#!/usr/bin/env bash
# Installs what snoopkit needs (Debian 12 packages), then configures and
# builds it in ./build. Idempotent: installs only what is missing, and
# rebuilds only what changed.
#
#   scripts/setup.sh            # deps + build
#   scripts/setup.sh --deps     # deps only
#
# Environment: BUILD_DIR (default build), CMAKE_ARGS (extra -D options).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

packages=(
  # build
  build-essential cmake pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev libcli11-dev libspdlog-dev
  nlohmann-json3-dev
  # tests: unit, runtime, sanitizer and fuzz builds (clang's runtimes)
  googletest libgtest-dev jq python3 python3-jsonschema util-linux iproute2
  runc busybox-static
  libclang-rt-14-dev bpftool
  # tests: packaging
  dpkg-dev rpm lintian rpmlint man-db bash-completion fakeroot file
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--deps" ] && exit 0

build=${BUILD_DIR:-build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
# shellcheck disable=SC2086
cmake -S . -B "$build" -DSNOOPKIT_WERROR=$werror ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
