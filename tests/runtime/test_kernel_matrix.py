"""The kernel matrix in CI (tests/vm/run_matrix.py --ci): Debian's 6.1 and
6.12 cloud kernels, each booted under qemu with software emulation; in
each, every tool starts on both transports (the hooks it picks are
reported), the load tests verify every skeleton, and the execsnoop,
opensnoop, biosnoop and biolatency runtime tests run (the first two with
their perf buffer cases).

A kernel the Debian archive does not have is reported as SKIP with the
reason and does not fail the test; a kernel that was fetched and failed
does. If no kernel could be tried at all, the test skips (a failure under
CI=true). The matrix is written to $SNOOPKIT_BIN_DIR/vm-ci/matrix.md.
"""

import os
import subprocess
import sys
import unittest
from pathlib import Path

from harness import BIN_DIR, SOURCE_DIR, skip

RUN_MATRIX = SOURCE_DIR / "tests" / "vm" / "run_matrix.py"


class KernelMatrixTest(unittest.TestCase):

    def test_runtime_suite_on_debian_kernels(self):
        if os.geteuid() != 0 and not os.access("/usr/bin/qemu-system-x86_64", os.X_OK):
            skip("qemu-system-x86 is not installed, and installing it needs root")
        out = Path(BIN_DIR) / "vm-ci"
        argv = [sys.executable, str(RUN_MATRIX), "--ci", "--build-dir", str(BIN_DIR), "--out", str(out)]
        print("running:", " ".join(argv), flush=True)
        # The matrix prints its own progress; ctest keeps it for --output-on-failure.
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=3000)
        if proc.returncode == 77:
            skip(f"no kernel of the matrix could be tried; see {out}/matrix.md")
        self.assertEqual(proc.returncode, 0, f"the kernel matrix failed; see {out}/matrix.md "
                         f"and {out}/<kernel>/console.log")


if __name__ == "__main__":
    unittest.main()
