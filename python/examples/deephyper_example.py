"""Penguin as a DeepHyper stopper, here in a random search (every DeepHyper
search takes `stopper=`, CBO as well). The "training" replays the bundled real learning curves (100 MLPs on
Fashion-MNIST, a validation every half epoch); put your own there.

    python python/examples/deephyper_example.py
"""
import os
import tempfile

from deephyper.hpo import HpProblem, RandomSearch

from penguin.compare import load_curves
from penguin.deephyper import PenguinStopper

here = os.path.dirname(os.path.abspath(__file__))
(data,) = load_curves(os.path.join(here, "..", "..", "tests", "data", "fmnist_mlp_mpi.csv"))
curves = data.networks


def run(job):
    net = curves[job.parameters["net"]]        # your hyperparameters
    for step in range(1, 41):                  # budget k is epoch k * E
        val_acc = net.values[step - 1]         # train half an epoch, validate
        job.record(budget=step, objective=val_acc)
        if job.stopped():                      # Penguin's predictions converged
            break
    return job.objective                       # Penguin's prediction of the fitness at e_pred


problem = HpProblem()
problem.add_hyperparameter((0, len(curves) - 1), "net")
stopper = PenguinStopper(e_pred=20, E=0.5, objective_returned="prediction")
search = RandomSearch(problem, stopper=stopper, random_state=1, log_dir=tempfile.mkdtemp())
results = search.search(run, max_evals=20)
print(results[["p:net", "objective"]].sort_values("objective").tail(3))

engine = stopper.engine                        # one Penguin engine for the whole search
stops = [engine.status(k).epoch for k in range(len(results))]
print("mean epochs per job %.2f of 20" % (sum(stops) / len(stops)))
assert sum(stops) / len(stops) < 20
