"""penguin.optuna.PenguinPruner in real Optuna studies replaying the bundled
curves: trials pruned at exactly Penguin's stop epochs (the Rust engine's,
network by network), predictions bit for bit, minimize studies, threads."""

import math
import unittest

import numpy as np

import penguin

from support import curves, final_decisions, reference, require

optuna = require("optuna")
from penguin.optuna import PenguinPruner  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def replay_study(ds, pruner, direction="maximize", values=None, n_jobs=1, use_prediction=False):
    """Trial k replays network k: value j at step j + 1 (epoch (j + 1) * E),
    should_prune() after each; the last step reported by each trial."""
    values = values or [n.values for n in ds.networks]
    last_step = {}

    def objective(trial):
        k = trial.number
        for j, v in enumerate(values[k]):
            trial.report(v, j + 1)
            last_step[k] = j + 1
            if trial.should_prune():
                if use_prediction:
                    return pruner.prediction(trial)
                raise optuna.TrialPruned()
        return values[k][-1]

    study = optuna.create_study(direction=direction, pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(objective, n_trials=len(values), n_jobs=n_jobs)
    return study, last_step


class Pruner(unittest.TestCase):
    def check_file(self, file):
        ref = reference()
        (case,) = [c for c in ref["cases"] if c["file"] == file and c["config"] == "paper" and c["mode"] == "sequential"]
        rust = final_decisions(case["lines"])
        ds = curves(file)
        pruner = PenguinPruner(e_pred=20, E=0.5)
        study, last_step = replay_study(ds, pruner)
        pruned = 0
        for t in study.trials:
            state, epoch, prediction = rust[t.number]
            self.assertEqual(last_step[t.number] * 0.5, epoch, "trial %d" % t.number)
            if state == 1:
                self.assertEqual(t.state, optuna.trial.TrialState.PRUNED, "trial %d" % t.number)
                pruned += 1
            else:
                self.assertEqual(t.state, optuna.trial.TrialState.COMPLETE, "trial %d" % t.number)
            got = pruner.prediction(t, study=study)
            self.assertTrue(got == prediction or (math.isnan(got) and math.isnan(prediction)), "trial %d" % t.number)
        self.assertGreater(pruned, len(ds.networks) // 2)
        return study

    def test_prunes_at_penguins_stop_epochs_cnn(self):
        self.check_file("fmnist_random_cnn.csv")

    def test_prunes_at_penguins_stop_epochs_mlp(self):
        self.check_file("fmnist_mlp_mpi.csv")

    def test_objective_returns_the_prediction(self):
        ds = curves("fmnist_random_cnn.csv")
        ds.networks = ds.networks[:20]
        pruner = PenguinPruner()
        study, _ = replay_study(ds, pruner, use_prediction=True)
        engine = pruner.engine(study)
        for t in study.trials:
            self.assertEqual(t.state, optuna.trial.TrialState.COMPLETE)
            s = engine.status(t.number)
            if s.state == "converged":
                self.assertEqual(t.value, s.prediction)

    def test_minimize_study_on_losses(self):
        ds = curves("fmnist_random_cnn.csv")
        nets = ds.networks[:30]
        losses = [[l for l in n.losses if math.isfinite(l)] for n in nets]
        losses = [ls for ls in losses if ls]  # some diverged: no finite loss
        keys = dict(function="pow3d", valid_min=0, valid_max=10)
        pruner = PenguinPruner(**keys)
        study, last_step = replay_study(ds, pruner, direction="minimize", values=losses)
        # The same decisions as an engine fed directly.
        engine = penguin.Engine(direction="minimize", **keys)
        pruned = 0
        for k, ls in enumerate(losses):
            for j, v in enumerate(ls):
                s = engine.observe(k, (j + 1) * 0.5, v)
                if s.stop:
                    break
            self.assertEqual(last_step[k], j + 1, "trial %d" % k)
            self.assertEqual(study.trials[k].state == optuna.trial.TrialState.PRUNED, s.state == "converged")
            pruned += s.state == "converged"
        self.assertGreater(pruned, 0)
        # A direction contradicting the study is refused.
        with self.assertRaises(ValueError):
            replay_study(ds, PenguinPruner(direction="maximize"), direction="minimize", values=losses[:1])

    def test_two_threads(self):
        ds = curves("fmnist_mlp_mpi.csv")
        ds.networks = ds.networks[:24]
        serial = PenguinPruner()
        s1, steps1 = replay_study(ds, serial)
        threaded = PenguinPruner()
        s2, steps2 = replay_study(ds, threaded, n_jobs=2)
        self.assertEqual(steps1, steps2)

    def test_steps_from_one_and_non_finite_values(self):
        pruner = PenguinPruner()
        study = optuna.create_study(pruner=pruner, direction="maximize")

        def step_zero(trial):
            trial.report(10.0, 0)
            trial.should_prune()
            return 0.0

        with self.assertRaises(ValueError):
            study.optimize(step_zero, n_trials=1)

        def with_nan(trial):
            for j, v in enumerate([10.0, math.nan, 30.0, 40.0]):
                trial.report(v, j + 1)
                self.assertFalse(trial.should_prune())
            return 40.0

        study = optuna.create_study(pruner=pruner, direction="maximize")
        study.optimize(with_nan, n_trials=1)
        self.assertEqual(pruner.status(study.trials[0], study=study).observations, 3)

    def test_E_from_keys_and_config_file(self):
        import os

        from support import TMP

        self.assertEqual(PenguinPruner().epochs_per_step, 0.5)
        self.assertEqual(PenguinPruner(E=1).epochs_per_step, 1.0)
        path = os.path.join(TMP, "pruner.conf")
        with open(path, "w") as fh:
            fh.write("E = 2 # one validation every two epochs\ne_pred = 26\n")
        self.assertEqual(PenguinPruner(path).epochs_per_step, 2.0)
        self.assertEqual(PenguinPruner(path, E=0.25).epochs_per_step, 0.25)
        # What a preset sets counts: a4nn's E = 1; a key after it wins.
        self.assertEqual(PenguinPruner(preset="a4nn").epochs_per_step, 1.0)
        self.assertEqual(PenguinPruner(preset="a4nn", E=0.5).epochs_per_step, 0.5)

    def test_top_picks_as_penguin_replay(self):
        # Without halving: by the answers, best first.
        ds = curves("fmnist_mlp_s67.csv")
        pruner = PenguinPruner(e_pred=20, E=0.5)
        study, _ = replay_study(ds, pruner)
        top = pruner.top(study)
        answers = [pruner.prediction(n, study=study) for n in top]
        self.assertEqual(len(top), len(ds.networks))
        self.assertEqual(answers, sorted(answers, reverse=True))
        self.assertEqual(pruner.top(study, 10), top[:10])
        # With halving and select_top = 1 (60 CNNs): finalists, then the second rung's stopped trials, then the first's,
        # each by its answers; the engine's rungs are 20/9 and 20/3.
        ds = curves("fmnist_cnn_s227.csv")
        pruner = PenguinPruner(e_pred=20, E=0.5, chance_level=10, select_halving=3, select_top=1)
        study, _ = replay_study(ds, pruner)
        top = pruner.top(study)
        rungs = [20 / 9, 20 / 3]

        def depth(n):
            s = pruner.status(n, study=study)
            return 3 if s.state == "reached_e_pred" else sum(1 for r in rungs if r <= s.epoch)

        keys = [(depth(n), pruner.prediction(n, study=study)) for n in top]
        self.assertEqual(keys, sorted(keys, key=lambda k: (-k[0], -k[1])))
        self.assertTrue(keys[0][0] == 3 and keys[-1][0] <= 1, keys)
        # By the answers alone the first ten would differ (a trial stopped at
        # the first rung answers above every finalist): the case matters.
        by_answer = sorted(top, key=lambda n: -pruner.prediction(n, study=study))
        self.assertNotEqual(set(by_answer[:10]), set(top[:10]))

    def test_top_with_a_config_file_cut_curves_and_minimize(self):
        import os

        from penguin import _pick
        from support import TMP

        ds = curves("fmnist_cnn_s227.csv")
        # Every third curve ends at epoch 3.5 (7 values), before Penguin
        # decides on most of them: such a trial ranks by its last value.
        values = [n.values[:7] if k % 3 == 0 else n.values for k, n in enumerate(ds.networks)]
        keys = dict(e_pred=20, E=0.5, chance_level=10, select_halving=3, select_top=1)
        pruner = PenguinPruner(**keys)
        study, _ = replay_study(ds, pruner, values=values)
        top = pruner.top(study)
        self.assertTrue(any(not pruner.status(n, study=study).stop for n in top))
        # The same keys from a file (lines in order: the later E wins) pick the same.
        path = os.path.join(TMP, "halving.conf")
        with open(path, "w") as fh:
            fh.write("E = 1\ne_pred = 20\nE = 0.5\nchance_level = 10\nselect_halving = 3\nselect_top = 1\n")
        from_file = PenguinPruner(path)
        self.assertEqual(from_file.epochs_per_step, 0.5)
        # A file that names a function the engine registers later is read
        # line by line: in its order too.
        from penguin._keys import key_value

        named = os.path.join(TMP, "named.conf")
        with open(named, "w") as fh:
            fh.write("function = my_curve\nE = 1\nE = 0.5\n")
        self.assertEqual(key_value(named, {}, "E"), 0.5)
        study2, _ = replay_study(ds, from_file, values=values)
        self.assertEqual(from_file.top(study2), top)
        # An ended trial's key is its last value: recomputed here.
        stopped = [pruner.status(n, study=study) for n in top]
        est = [s.prediction if s.stop else values[n][-1] for n, s in zip(top, stopped)]
        keys_ = _pick.pick_keys(
            est, True, [s.state == "reached_e_pred" for s in stopped], [s.epoch for s in stopped], [20 / 9, 20 / 3]
        )
        self.assertEqual(_pick.best_first(keys_, True), list(range(len(top))))
        with self.assertRaises(ValueError):
            pruner.top(study, -1)
        # A trial still running is not picked (asked from inside it).
        pruner = PenguinPruner(**keys)
        seen = {}

        def objective(trial):
            for j, v in enumerate(values[trial.number][:4]):
                trial.report(v, j + 1)
                trial.should_prune()
            seen[trial.number] = pruner.top(trial.study)
            return values[trial.number][3]

        study3 = optuna.create_study(direction="maximize", pruner=pruner)
        study3.optimize(objective, n_trials=3)
        self.assertEqual(seen, {0: [], 1: [0], 2: seen[2]})
        self.assertEqual(sorted(seen[2]), [0, 1])
        # Minimize: lower keys first, NaN last, finalists first.
        keys_ = _pick.pick_keys([5.0, 1.0, 3.0, float("nan")], False, [True, False, False, False], [20, 7, 2.5, 2.5], [20 / 9, 20 / 3])
        self.assertEqual(_pick.best_first(keys_, False), [0, 1, 2, 3])
        self.assertEqual(_pick.halving_rungs(None, {}), [])


if __name__ == "__main__":
    unittest.main()
