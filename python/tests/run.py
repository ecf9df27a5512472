"""Runs the Python package's tests (test_*.py beside this file) with unittest.

Run by tests/python.rs (`cargo test`) with the Python of a fresh virtual
environment where `pip install ./python` installed the package, and these
variables: PENGUIN_REPO (the checkout), PENGUIN_REFERENCE (the Rust engine's
decisions, JSON), PENGUIN_BIN (the `penguin` program), PENGUIN_TEST_TMP (a
scratch directory); CI=true turns a missing optional tool (DeepHyper) into a
failure. Prints "N passed, N failed, N skipped" and exits non-zero on a
failure.
"""

import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


def main():
    # The package under test is the installed one, never python/penguin.
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(here)]
    import penguin

    print("penguin %s from %s (library %s)" % (penguin.__version__, os.path.dirname(penguin.__file__), penguin.version()))
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
