"""Shared by the tests: paths, the Rust reference decisions, float bits."""

import json
import os
import struct
import unittest

REPO = os.environ.get("PENGUIN_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(REPO, "tests", "data")
TMP = os.environ.get("PENGUIN_TEST_TMP") or os.environ.get("TMPDIR") or "/tmp"
IN_CI = os.environ.get("CI") == "true"
STATE_CODE = {"continue": 0, "converged": 1, "reached_e_pred": 2}


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def from_bits(h):
    return struct.unpack("<d", struct.pack("<Q", int(h, 16)))[0]


def line(k, state, epoch, prediction, lo, hi, observations):
    """A status as tests/python.rs writes it: floats as their bits."""
    return "%d %d %016x %016x %016x %016x %d" % (
        k, state, bits(epoch), bits(prediction), bits(lo), bits(hi), observations,
    )


_reference = None


def reference():
    """The Rust engine's decisions (tests/python.rs), or a skip outside cargo."""
    global _reference
    if _reference is None:
        path = os.environ.get("PENGUIN_REFERENCE")
        if not path:
            raise unittest.SkipTest("PENGUIN_REFERENCE not set (run through cargo test --test python)")
        with open(path) as fh:
            _reference = json.load(fh)
    return _reference


def final_decisions(lines):
    """network -> (state, epoch, prediction) of its last status."""
    out = {}
    for ln in lines:
        f = ln.split()
        out[int(f[0])] = (int(f[1]), from_bits(f[2]), from_bits(f[3]))
    return out


def curves(file):
    """The networks of a bundled file, as penguin.compare reads them."""
    from penguin.compare import load_curves

    (ds,) = load_curves(os.path.join(DATA, file))
    return ds


def require(module):
    """Imports an optional module; missing: a failure under CI=true (.ci/run
    installs it), else a skip."""
    try:
        return __import__(module)
    except ImportError as e:
        if IN_CI:
            raise AssertionError("CI=true: %s is missing (%s); .ci/run installs it" % (module, e))
        raise unittest.SkipTest("%s not installed" % module)
