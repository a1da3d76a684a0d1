#!/usr/bin/env bash
# Builds the DEB and the RPM of snoopkit, then checks them with lintian and
# rpmlint (an error from either fails the script).
#
#   scripts/package.sh                      # -> build/packages/snoopkit_<v>_amd64.deb
#                                           #    build/packages/snoopkit-<v>.x86_64.rpm
#   scripts/package.sh --name-prefix sk-    # /usr/sbin/sk-execsnoop, ...; no Conflicts
#
# Options:
#   --out DIR          where the packages go (default build/packages)
#   --name-prefix P    install the tools as P<tool> (own build tree: build/package-P)
#   --build-dir DIR    package an existing build tree as it is configured
#                      (no reconfigure; the runtime tests use the main build)
#   --only deb|rpm     build (and lint) one of the two
#   --no-deps          do not install missing Debian packages
#   --no-lint          skip lintian and rpmlint
#
# Without --build-dir it configures its own tree (build/package) with
# -DSNOOPKIT_MAN_STRICT=ON: a tool without docs/man/<tool>.md fails the build.
# Environment: SOURCE_DATE_EPOCH (dates in the changelogs and man pages).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

out=build/packages prefix="" build="" deps=1 lint=1 only=""
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --name-prefix) prefix=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --no-lint) lint=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $only in
  "") generators="DEB;RPM" ;;
  deb|rpm) generators=${only^^} ;;
  *) echo "package.sh: --only takes deb or rpm, not '$only'" >&2; exit 2 ;;
esac

# --- what packaging needs beyond the build (scripts/setup.sh has the rest) ---
packaging_packages=(dpkg-dev rpm rpm2cpio cpio file lintian rpmlint man-db bash-completion)
if ((deps)); then
  "$top/scripts/setup.sh" --deps
  missing=()
  for p in "${packaging_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "package.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt/dpkg run rather than fail on its lock.
    lock=(-o DPkg::Lock::Timeout=600)
    $sudo apt-get "${lock[@]}" update -qq
    $sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- build ---
if [ -n "$build" ]; then
  [ -f "$build/CPackConfig.cmake" ] || { echo "package.sh: $build is not a configured build tree" >&2; exit 1; }
  have=$(sed -n 's/^SNOOPKIT_NAME_PREFIX:STRING=//p' "$build/CMakeCache.txt")
  if [ -n "$prefix" ] && [ "$prefix" != "$have" ]; then
    echo "package.sh: $build is configured with SNOOPKIT_NAME_PREFIX='$have', not '$prefix'" >&2
    exit 2
  fi
else
  build=build/package${prefix:+-$prefix}
  werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNOOPKIT_TESTS=OFF \
        -DSNOOPKIT_MAN_STRICT=ON -DSNOOPKIT_WERROR=$werror \
        -DSNOOPKIT_NAME_PREFIX="$prefix" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"

# --- package: cpack stages in a scratch directory, the packages go to $out ---
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$out/.cpack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
(cd "$build" && cpack -G "$generators" -B "$stage" >"$stage/cpack.log" 2>&1) ||
  { cat "$stage/cpack.log" >&2; exit 1; }
shopt -s nullglob
deb="" rpm=""
for f in "$stage"/*.deb "$stage"/*.rpm; do
  rm -f "$out"/snoopkit*."${f##*.}"  # one package of each kind in $out
  mv "$f" "$out/"
  case $f in *.deb) deb="$out/${f##*/}" ;; *.rpm) rpm="$out/${f##*/}" ;; esac
done

# --- lint: errors fail; every override is justified where it is declared ---
if ((lint)); then
  if [ -n "$deb" ]; then
    # lintian overrides: packaging/lintian-overrides (installed in the DEB).
    status=0
    lintian --fail-on error --display-info "$deb" >"$stage/lintian.log" 2>&1 || status=$?
    grep -v 'running with root privileges' "$stage/lintian.log" || true
    ((status == 0)) || { echo "package.sh: lintian found errors in $deb" >&2; exit 1; }
  fi
  if [ -n "$rpm" ]; then
    # rpmlint filters: packaging/rpmlint.toml.
    rpmlint -c "$top/packaging/rpmlint.toml" "$rpm" ||
      { echo "package.sh: rpmlint found errors in $rpm" >&2; exit 1; }
  fi
fi

for f in $deb $rpm; do echo "package.sh: $f"; done
