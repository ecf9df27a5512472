"""The examples that docs/python.md quotes run and check themselves
(tests/python.rs checks that the docs' snippets are copied from them)."""

import os
import subprocess
import sys
import unittest

from support import REPO, TMP, require

EXAMPLES = os.path.join(REPO, "python", "examples")


class Examples(unittest.TestCase):
    def run_example(self, name):
        p = subprocess.run(
            [sys.executable, os.path.join(EXAMPLES, name)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, cwd=TMP,
        )
        self.assertEqual(p.returncode, 0, p.stdout)
        return p.stdout

    def test_engine_example(self):
        out = self.run_example("engine_example.py")
        self.assertIn("converged", out)
        self.assertIn("64 networks, mean stop epoch", out)

    def test_optuna_example(self):
        require("optuna")
        self.assertIn("mean epochs per trial", self.run_example("optuna_example.py"))

    def test_deephyper_example(self):
        require("deephyper")
        self.assertIn("mean epochs per job", self.run_example("deephyper_example.py"))


if __name__ == "__main__":
    unittest.main()
