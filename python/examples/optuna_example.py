"""Penguin as Optuna's pruner. The "training" replays the bundled real
learning curves (127 random CNNs on Fashion-MNIST, a validation every half
epoch); put your own training step there.

    python python/examples/optuna_example.py
"""
import os

import optuna

import penguin.optuna
from penguin.compare import load_curves

here = os.path.dirname(os.path.abspath(__file__))
(data,) = load_curves(os.path.join(here, "..", "..", "tests", "data", "fmnist_random_cnn.csv"))
curves = data.networks

pruner = penguin.optuna.PenguinPruner(e_pred=20, E=0.5)
study = optuna.create_study(direction="maximize", pruner=pruner)


def objective(trial):
    net = curves[trial.suggest_int("net", 0, len(curves) - 1)]  # your hyperparameters
    for step in range(1, 41):                  # step k is epoch k * E
        val_acc = net.values[step - 1]         # train half an epoch, validate
        trial.report(val_acc, step)
        if trial.should_prune():               # Penguin's predictions converged:
            return pruner.prediction(trial)    # its fitness at e_pred (or raise optuna.TrialPruned())
    return val_acc


optuna.logging.set_verbosity(optuna.logging.WARNING)
study.optimize(objective, n_trials=40)
print("best predicted val_acc %.2f, network %d" % (study.best_value, study.best_params["net"]))

steps = [max(t.intermediate_values) for t in study.trials]
print("mean epochs per trial %.2f of 20" % (0.5 * sum(steps) / len(steps)))
assert sum(steps) / len(steps) < 40
