"""Runs one runtime test module: python3 run.py test_<name> [unittest test names...]

Exit code: 0 all passed, 1 any failure or error, 77 every test skipped (so
ctest reports SKIP). Under CI=true a skip counts as a failure.
"""

import os
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} test_<name> [Class.test_method ...]", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    module = sys.argv[1].removesuffix(".py")
    names = [f"{module}.{n}" for n in sys.argv[2:]] or [module]
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    sys.stdout.flush()

    return exit_code(result)


def exit_code(result):
    """The exit code for a unittest result (see the module's docstring); the
    kernel matrix's guest uses it too."""
    if result.failures or result.errors or result.unexpectedSuccesses:
        return 1
    if result.skipped and os.environ.get("CI") == "true":
        print(f"CI=true: {len(result.skipped)} skipped test(s) count as failures")
        return 1
    if result.skipped and len(result.skipped) >= result.testsRun:
        return 77
    if result.testsRun == 0:
        print("no tests ran")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
