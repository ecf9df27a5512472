"""penguin.deephyper.PenguinStopper with the real DeepHyper (installed by
.ci/run; a missing DeepHyper fails under CI=true): jobs replayed through
DeepHyper's own job machinery (Job.create_running_job deep-copies the stopper
and attaches the RunningJob, as every evaluator does) stop at exactly
Penguin's stop epochs, and a real search runs with it."""

import math
import os
import unittest

from support import TMP, curves, final_decisions, reference, require

require("deephyper")
from deephyper.evaluator import Job  # noqa: E402
from deephyper.evaluator.storage import MemoryStorage  # noqa: E402
from deephyper.stopper import Stopper  # noqa: E402

from penguin.deephyper import PenguinStopper  # noqa: E402


class DeepHyperStopper(unittest.TestCase):
    def test_is_a_deephyper_stopper(self):
        s = PenguinStopper()
        self.assertIsInstance(s, Stopper)
        self.assertEqual(s.max_steps, 40)  # e_pred / E
        self.assertEqual(PenguinStopper(e_pred=26, E=1).max_steps, 26)
        self.assertEqual(PenguinStopper(preset="a4nn").max_steps, 26)

    def test_jobs_stop_at_penguins_stop_epochs(self):
        ref = reference()
        (case,) = [c for c in ref["cases"] if c["file"] == "fmnist_random_cnn.csv" and c["config"] == "paper" and c["mode"] == "sequential"]
        rust = final_decisions(case["lines"])
        ds = curves("fmnist_random_cnn.csv")
        storage = MemoryStorage()
        search_id = storage.create_new_search()
        template = PenguinStopper(objective_returned="prediction")
        stoppers = []
        for k, net in enumerate(ds.networks):
            job_id = storage.create_new_job(search_id)
            self.assertEqual(int(job_id.split(".")[-1]), k)
            job = Job(job_id, {"k": k}, None, storage)
            running = job.create_running_job(template)
            stopper = running.stopper
            self.assertIsNot(stopper, template)
            for j, v in enumerate(net.values):
                running.record(budget=j + 1, objective=v)
                if running.stopped():
                    break
            state, epoch, prediction = rust[k]
            self.assertEqual((j + 1) * 0.5, epoch, "job %d" % k)
            self.assertEqual(stopper.status.state, {1: "converged", 2: "reached_e_pred"}[state])
            self.assertEqual(stopper.prediction, prediction)
            self.assertEqual(running.objective, prediction)
            stoppers.append(stopper)
        # The copies share one engine: every network is in it.
        self.assertIs(stoppers[0].engine, stoppers[-1].engine)
        self.assertEqual(len(stoppers[0].engine), len(ds.networks))

    def test_a_real_search(self):
        from deephyper.hpo import HpProblem, RandomSearch

        ds = curves("fmnist_mlp_mpi.csv")
        problem = HpProblem()
        problem.add_hyperparameter((0, len(ds.networks) - 1), "k")

        def run(job):
            net = ds.networks[job.parameters["k"]]
            for j, v in enumerate(net.values):
                job.record(budget=j + 1, objective=v)
                if job.stopped():
                    break
            return {"objective": job.objective, "metadata": {"stop_epoch": (j + 1) * 0.5}}

        search = RandomSearch(problem, random_state=3, log_dir=os.path.join(TMP, "deephyper"), stopper=PenguinStopper())
        results = search.search(run, max_evals=6)
        self.assertEqual(len(results), 6)
        epochs = list(results["m:stop_epoch"])
        self.assertTrue(all(0.5 <= e <= 20 for e in epochs), epochs)
        self.assertTrue(any(e < 20 for e in epochs), epochs)
        self.assertTrue(all(math.isfinite(o) for o in results["objective"]))


if __name__ == "__main__":
    unittest.main()
