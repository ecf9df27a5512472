"""python -m penguin.compare: runs on a small file; its Penguin rows equal
`penguin replay` on the same settings (mean stop epoch and MAE) and are set
against the halving pruner; regret keeps its sign for minimized metrics;
--shuffles and --bench."""

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import unittest

from support import DATA, TMP, require

require("optuna")
from penguin import compare  # noqa: E402


def small_file(n=12):
    """The first n networks of each bundled Fashion-MNIST file, in one CSV
    with its data-set column."""
    path = os.path.join(TMP, "small_curves.csv")
    with open(path, "w", newline="") as out:
        w = None
        for name in ("fmnist_random_cnn.csv", "fmnist_mlp_mpi.csv"):
            with open(os.path.join(DATA, name), newline="") as fh:
                r = csv.DictReader(fh)
                if w is None:
                    w = csv.DictWriter(out, ["dataset", "model_id", "epoch", "val_acc", "val_loss"], extrasaction="ignore")
                    w.writeheader()
                seen = []
                for row in r:
                    if row["model_id"] not in seen:
                        seen.append(row["model_id"])
                    if len(seen) <= n:
                        w.writerow(row)
    return path


def run(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        compare.main([str(a) for a in argv])
    return out.getvalue()


def replay(path, *options):
    binary = os.environ.get("PENGUIN_BIN")
    if not binary:
        raise unittest.SkipTest("PENGUIN_BIN not set (run through cargo test --test python)")
    report = os.path.join(TMP, "replay.json")
    subprocess.run([binary, "replay", "--no-progress", path, *options, "--json", report], check=True, stdout=subprocess.DEVNULL)
    with open(report) as fh:
        return json.load(fh)


class Compare(unittest.TestCase):
    def test_runs_on_a_small_file(self):
        path = small_file()
        out = os.path.join(TMP, "compare.json")
        p = subprocess.run(
            [sys.executable, "-m", "penguin.compare", path, "--json", out, "--shuffles", "2", "--seed", "1", "--no-deephyper"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        )
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("| FashionMNIST | penguin paper |", p.stdout)
        with open(out) as fh:
            rows = json.load(fh)
        self.assertEqual({r["dataset"] for r in rows}, {"FashionMNIST", "FMNIST-MLP"})
        peers = [r["peer"] for r in rows if r["dataset"] == "FashionMNIST"]
        self.assertEqual(peers[0], "penguin paper")
        for name in ("MedianPruner()", "MedianPruner(n_startup_trials=5, n_warmup_steps=4)", "SuccessiveHalvingPruner()",
                     "SuccessiveHalvingPruner(min_resource=4, reduction_factor=3)", "HyperbandPruner(max_resource=40)",
                     "PatientPruner(MedianPruner(), patience=4)"):
            self.assertIn(name, peers)
        for r in rows:
            for key in ("peer", "mean_epochs", "regret_at_10", "mae", "seconds_per_observation"):
                self.assertIn(key, r)
            self.assertTrue(0.5 <= r["mean_epochs"] <= 20, r)
            self.assertGreaterEqual(r["regret_at_10"], 0.0, r)
            self.assertGreater(r["seconds_per_observation"], 0.0, r)
            if r["peer"].startswith("penguin"):
                self.assertIsNotNone(r["mae"])
                self.assertIsNone(r["mean_over_shuffles"])  # synchronous: any order
                # set against the halving pruner's means over the shuffles
                (sh,) = [q for q in rows if q["dataset"] == r["dataset"] and q["peer"] == compare.HALVING_PEER]
                v = r["vs_successive_halving"]
                o = sh["mean_over_shuffles"]
                self.assertEqual(v["pruner_mean_epochs"], o["mean_epochs"])
                self.assertAlmostEqual(v["epochs_over"], r["mean_epochs"] - o["mean_epochs"], places=12)
                self.assertAlmostEqual(v["regret_over"], r["regret_at_10"] - o["regret_at_10"], places=12)
                self.assertEqual(v["ranks_as_well"], round(v["regret_over"], 9) <= 0.1)
                self.assertEqual(v["at_its_cost"], round(v["epochs_over"], 9) <= 1.0)
                self.assertIn("- %s (any order): regret@10 %.2f against %.2f" % (r["peer"], r["regret_at_10"], o["regret_at_10"]), p.stdout)
            else:
                self.assertIsNone(r["mae"])
                o = r["mean_over_shuffles"]
                self.assertEqual(o["shuffles"], 2)
                lo, hi = o["mean_epochs_range"]
                self.assertTrue(lo <= o["mean_epochs"] <= hi)

    def check_replay(self, file, rows_options, replay_options):
        path = os.path.join(DATA, file)
        out = os.path.join(TMP, "penguin_rows.json")
        run(path, "--peers", "^penguin", "--no-robust", "--json", out, *rows_options)
        with open(out) as fh:
            rows = json.load(fh)
        report = replay(path, *replay_options)
        (ds,) = report["datasets"].values()
        return rows, ds["full"]

    def test_margins_hold_up_to_rounding(self):
        row = {"dataset": "d", "peer": "penguin x", "mean_epochs": 6.0, "regret_at_10": 0.4, "order": "any (synchronous)",
               "mean_over_shuffles": None}
        sh = {"dataset": "d", "peer": compare.HALVING_PEER, "mean_epochs": 5.0, "regret_at_10": 0.3, "order": "file",
              "mean_over_shuffles": None}
        lines = compare.against_halving([row, sh], 10)
        v = row["vs_successive_halving"]
        self.assertTrue(v["ranks_as_well"] and v["at_its_cost"], v)  # 0.4 - 0.3 and 6 - 5: at the margins
        self.assertIn("(within +0.1: yes)", lines[1])
        row["regret_at_10"] = 0.41
        compare.against_halving([row, sh], 10)
        self.assertFalse(row["vs_successive_halving"]["ranks_as_well"])

    def test_penguin_rows_equal_penguin_replay(self):
        for file in ("fmnist_random_cnn.csv", "fmnist_mlp_mpi.csv"):
            rows, full = self.check_replay(
                file,
                ["--penguin", "guard=chance_level=10,loss_patience=2,loss_min_delta=0.001,alternatives=vap3,combine=mean"],
                [],
            )
            self.assertEqual([r["peer"] for r in rows], ["penguin paper", "penguin guard"])
            self.assertEqual(rows[0]["mean_epochs"], full["mean_stop_epoch"], file)
            self.assertEqual(rows[0]["mae"], full["mae"], file)
            _, guarded = self.check_replay(file, [], ["--chance_level", "10", "--loss_patience", "2", "--loss_min_delta", "0.001", "--alternatives", "vap3", "--combine", "mean"])
            self.assertEqual(rows[1]["mean_epochs"], guarded["mean_stop_epoch"], file)
            self.assertEqual(rows[1]["mae"], guarded["mae"], file)
            self.assertNotEqual(rows[1]["mae"], rows[0]["mae"])

    def test_halving_rows_pick_the_finalists_first_as_penguin_replay(self):
        rows, full = self.check_replay(
            "fmnist_mlp_s67.csv",
            ["--penguin", "halving=preset=robust,chance_level=10,select_halving=3"],
            ["--preset", "robust", "--chance_level", "10", "--select_halving", "3"],
        )
        halving = rows[1]
        self.assertEqual(halving["mean_epochs"], full["mean_stop_epoch"])
        self.assertEqual(halving["mae"], full["mae"])
        self.assertAlmostEqual(halving["regret_at_10"], full["regret"]["10"], places=9)
        # By the answers alone the stopped networks' predictions crowd the
        # finalists out of the top 10.
        run_ = compare.Run(3)
        run_.estimate = [90.0, 80.0, 85.0]
        run_.finalist = [False, True, True]
        self.assertEqual(compare.pick_order(run_)[1:], [80.0, 85.0])
        self.assertLess(compare.pick_order(run_)[0], 80.0)

    def test_halving_picks_by_the_rung_reached_as_penguin_replay(self):
        # 60 CNNs, select_top = 1: about 7 finalists, so the top 10 also takes
        # networks stopped at the second rung (epoch 7) before any stopped at
        # the first (epoch 2.5), whatever their answers.
        rows, full = self.check_replay(
            "fmnist_cnn_s227.csv",
            ["--penguin", "halving=chance_level=10,select_halving=3,select_top=1"],
            ["--chance_level", "10", "--select_halving", "3", "--select_top", "1"],
        )
        halving = rows[1]
        self.assertEqual(halving["mean_epochs"], full["mean_stop_epoch"])
        self.assertAlmostEqual(halving["regret_at_10"], full["regret"]["10"], places=9)
        self.assertEqual(compare.halving_rungs({"select_halving": 3}), [20 / 9, 20 / 3])
        self.assertEqual(compare.halving_rungs({"select_halving": 3, "E": 1, "N": 4, "e_pred": 26}), [26 / 3])
        run_ = compare.Run(4)
        run_.estimate = [95.0, 80.0, 85.0, 70.0]
        run_.stop_epoch = [2.5, 7.0, 20.0, 7.0]
        run_.finalist = [False, False, True, False]
        run_.rungs = [20 / 9, 20 / 3]
        order = compare.pick_order(run_)
        self.assertEqual(sorted(range(4), key=lambda i: -order[i]), [2, 1, 3, 0])
        # An infinite estimate does not turn the others' keys into NaN.
        run_.estimate[0] = float("inf")
        order = compare.pick_order(run_)
        self.assertEqual(order[2], 85.0)
        self.assertTrue(all(v == v for v in order), order)

    def test_sequential_order_through_the_pruner(self):
        path = small_file()
        a = os.path.join(TMP, "sync.json")
        b = os.path.join(TMP, "seq.json")
        run(path, "--peers", "^penguin", "--json", a)
        run(path, "--peers", "^penguin", "--json", b, "--penguin-order", "sequential")
        with open(a) as fa, open(b) as fb:
            ra, rb = json.load(fa), json.load(fb)
        # Without select_top, decisions do not depend on the order.
        for x, y in zip(ra, rb):
            self.assertEqual(x["mean_epochs"], y["mean_epochs"])
            self.assertEqual(x["mae"], y["mae"])

    def test_minimize(self):
        path = small_file(20)
        out = os.path.join(TMP, "minimize.json")
        text = run(path, "--metric", "val_loss", "--direction", "minimize", "--set", "function=pow3d",
                   "--set", "valid_max=10", "--json", out, "--no-deephyper")
        self.assertIn("minimize", text)
        with open(out) as fh:
            rows = json.load(fh)
        self.assertTrue(rows)
        for r in rows:
            self.assertGreaterEqual(r["regret_at_10"], 0.0, r)
        # The true top 10 by loss chosen by its own ground truth: zero regret.
        truths = [1.0, 0.5, 2.0]
        self.assertEqual(compare.regret(truths, truths, False, 2), 0.0)
        self.assertEqual(compare.regret([0.5, 1.0, 2.0], truths, False, 1), 0.5)
        self.assertEqual(compare.regret([0.5, 1.0, 2.0], truths, True, 1), 0.0)
        self.assertEqual(compare.regret([3.0, 1.0, 2.0], truths, True, 1), 1.0)

    def test_runs_are_repeatable(self):
        # Every peer decides the same on the same file (HyperbandPruner's
        # brackets hash the study name, which compare fixes).
        path = small_file()
        a, b = os.path.join(TMP, "rep_a.json"), os.path.join(TMP, "rep_b.json")
        for out in (a, b):
            run(path, "--no-deephyper", "--json", out)
        with open(a) as fa, open(b) as fb:
            ra, rb = json.load(fa), json.load(fb)
        strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds_per_observation"} for r in rows]  # noqa: E731
        self.assertEqual(strip(ra), strip(rb))

    def test_bench(self):
        text = run("--bench", "--networks", "2000", "--rounds", "2")
        self.assertIn("Engine.observe_batch", text)
        ratio = float(text.split("ratio")[1].split()[0])
        self.assertGreater(ratio, 0.2)


if __name__ == "__main__":
    unittest.main()
