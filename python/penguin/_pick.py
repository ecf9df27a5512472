"""How a top is picked from Penguin's answers, as ``penguin replay`` picks
(``pick_key`` in src/bin/penguin/replay/metrics.rs): by the answer; with
``select_halving``, first by how far halving trained each network (its
finalists, trained to e_pred, then those stopped at a later rung, counted as
the rungs at or before the stop epoch), each group by its answers.

Used by ``penguin.compare`` and ``PenguinPruner.top``.
"""

import math

from ._keys import key_value


def halving_rungs(config, keys):
    """The epochs of select_halving's rungs for a configuration file (or
    None) and keys, as the engine places them (``Config::halving_rungs``):
    e_pred / eta^k for k = 1, 2, ... while after the warm-up of N x E epochs,
    ascending; empty when halving is off."""
    eta = key_value(config, keys, "select_halving")
    warm_up = key_value(config, keys, "N") * key_value(config, keys, "E")
    r = key_value(config, keys, "e_pred") / eta if eta > 1 else 0.0
    rungs = []
    while eta > 1 and r > warm_up and len(rungs) <= 64:
        rungs.append(r)
        r /= eta
    return rungs[::-1]


def pick_keys(estimates, maximize, finalist=None, epochs=None, rungs=None):
    """One key per network: the better the key (higher when maximizing,
    lower when minimizing), the earlier the network is picked. Without
    ``finalist`` the keys are the estimates. With it (select_halving), each
    network's depth is ``len(rungs) + 1`` for a finalist, else the number of
    ``rungs`` at or before its ``epochs`` entry; each depth lower down is moved
    past the one above by the span of the finite estimates, which keeps the
    order within it."""
    if finalist is None:
        return list(estimates)
    seen = [v for v in estimates if math.isfinite(v)]
    span = max(seen) - min(seen) + 1.0 if seen else 0.0
    behind = -span if maximize else span
    rungs = rungs or []
    top = len(rungs) + 1

    def depth(i):
        if finalist[i]:
            return top
        return sum(1 for r in rungs if r <= epochs[i])

    return [v + behind * (top - depth(i)) for i, v in enumerate(estimates)]


def best_first(keys, maximize):
    """Indices into ``keys``, best first; NaN keys last (``penguin replay``
    never ranks one: a network without a ground truth is left out); ties by
    index."""

    def order(i):
        k = keys[i]
        if k != k:
            return (1, 0.0, i)
        return (0, -k if maximize else k, i)

    return sorted(range(len(keys)), key=order)
