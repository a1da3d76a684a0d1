#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
#   1. build/       unit, load and runtime tests (root, real BPF), the
#                   kernel matrix, packaging and the benchmark smoke;
#   2. build-asan/  unit, load and runtime tests again under ASan + UBSan
#                   (LeakSanitizer on);
#   3. build-fuzz/  each libFuzzer target for SNOOPKIT_FUZZ_SECONDS (60).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --quick         # stage 1 only
#   scripts/test.sh -R runtime      # stage 1 only, with these ctest arguments
#
# With CI=true, warnings are errors and a skipped BPF test is a failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

stages="main asan fuzz"
if [ "${1:-}" = "--quick" ]; then
  stages="main"
  shift
elif [ $# -gt 0 ]; then
  stages="main"
fi

"$top/scripts/setup.sh"
build=${BUILD_DIR:-build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
status=0

run() {
  echo "== $*"
  "$@" || status=1
}

echo "== set-up took $SECONDS s"
for stage in $stages; do
  stage_start=$SECONDS
  case $stage in
    main)
      run ctest --test-dir "$build" --output-on-failure --timeout 1800 "$@"
      ;;
    asan)
      if ! { cmake -S . -B build-asan -DSNOOPKIT_SANITIZE=ON -DSNOOPKIT_WERROR=$werror >/dev/null &&
             cmake --build build-asan -j "$(nproc)" >/dev/null; }; then
        echo "== the ASan + UBSan build failed"
        status=1
        continue
      fi
      # The heavy suites (VM matrix, packaging, benchmark) run once, in stage 1.
      SNOOPKIT_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        run ctest --test-dir build-asan --output-on-failure --timeout 1800 \
        -E 'kernel_matrix|packaging|bench'
      ;;
    fuzz)
      if ! { CC=clang CXX=clang++ cmake -S . -B build-fuzz -DSNOOPKIT_FUZZ=ON \
               -DSNOOPKIT_FUZZ_SECONDS="${SNOOPKIT_FUZZ_SECONDS:-60}" >/dev/null &&
             cmake --build build-fuzz -j "$(nproc)" --target fuzz_json fuzz_text fuzz_options fuzz_btf fuzz_object >/dev/null; }; then
        echo "== the fuzz build failed"
        status=1
        continue
      fi
      # One target per core: each runs for SNOOPKIT_FUZZ_SECONDS.
      run ctest --test-dir build-fuzz --output-on-failure -j "$(nproc)" -R '^fuzz\.'
      ;;
  esac
  echo "== stage $stage took $((SECONDS - stage_start)) s"
done
exit $status
