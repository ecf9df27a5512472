"""Every decision of the package equals the Rust engine's, bit for bit, on the
bundled Fashion-MNIST curves: one by one (Engine.observe) and batched
(Engine.observe_batch, in penguin replay's order), with and without losses."""

import unittest

import numpy as np

import penguin

from support import STATE_CODE, curves, line, reference


def sequential(ds, keys, loss):
    engine = penguin.Engine(**keys)
    out = []
    for k, net in enumerate(ds.networks):
        for e, v, l in zip(net.epochs, net.values, net.losses):
            s = engine.observe(k, e, v, loss=l) if loss else engine.observe(k, e, v)
            out.append(line(k, STATE_CODE[s.state], s.epoch, s.prediction, s.prediction_lo, s.prediction_hi, s.observations))
            if s.stop:
                break
    return out


def batched(ds, keys, loss):
    engine = penguin.Engine(**keys)
    nets = ds.networks
    epochs = sorted({e for n in nets for e in n.epochs})
    cursor = [0] * len(nets)
    done = [False] * len(nets)
    out = []
    for epoch in epochs:
        members = [k for k in range(len(nets)) if not done[k] and cursor[k] < len(nets[k].epochs) and nets[k].epochs[cursor[k]] == epoch]
        if not members:
            continue
        ids = np.array(members, dtype=np.uint64)
        eps = np.full(len(members), epoch)
        vals = np.array([nets[k].values[cursor[k]] for k in members])
        losses = np.array([nets[k].losses[cursor[k]] for k in members]) if loss else None
        st = engine.observe_batch(ids, eps, vals, losses)
        for j, k in enumerate(members):
            r = st[j]
            cursor[k] += 1
            out.append(line(k, int(r["state"]), r["epoch"], r["prediction"], r["prediction_lo"], r["prediction_hi"], int(r["observations"])))
            if r["state"] != penguin.CONTINUE or cursor[k] == len(nets[k].epochs):
                done[k] = True
    return out


class SameDecisionsAsRust(unittest.TestCase):
    def check(self, mode):
        ref = reference()
        cases = [c for c in ref["cases"] if c["mode"] == mode]
        self.assertEqual(len(cases), 4)
        for case in cases:
            with self.subTest(file=case["file"], config=case["config"]):
                ds = curves(case["file"])
                keys = ref["configs"][case["config"]]
                run = sequential if mode == "sequential" else batched
                got = run(ds, keys, case["loss"])
                want = case["lines"]
                for k, (g, w) in enumerate(zip(got, want)):
                    self.assertEqual(g, w, "status %d differs (Python, Rust)" % k)
                self.assertEqual(len(got), len(want))
                self.assertGreater(len(got), 1000)

    def test_one_by_one(self):
        self.check("sequential")

    def test_batched(self):
        self.check("batch")

    def test_both_files_have_stops_of_every_kind(self):
        # The reference exercises converged stops and e_pred stops.
        ref = reference()
        states = set()
        for case in ref["cases"]:
            states.update(int(l.split()[1]) for l in case["lines"])
        self.assertEqual(states, {0, 1, 2})


if __name__ == "__main__":
    unittest.main()
