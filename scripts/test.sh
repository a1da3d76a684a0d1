#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
# unit tests (no root), load tests and runtime tests (root, real BPF).
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -R runtime
#
# With CI=true, warnings are errors and a skipped BPF test is a failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/setup.sh"
build=${BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure --timeout 900 "$@"
