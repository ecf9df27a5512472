"""``PenguinPruner``: Penguin as an Optuna pruner.

    import optuna, penguin.optuna
    pruner = penguin.optuna.PenguinPruner(e_pred=20, E=0.5)
    study = optuna.create_study(direction="maximize", pruner=pruner)

    def objective(trial):
        ...
        for step in range(1, 41):               # one step per validation, from 1
            acc = train_and_validate(...)        # epoch = step * E
            trial.report(acc, step)
            if trial.should_prune():
                return pruner.prediction(trial)  # or: raise optuna.TrialPruned()
        return acc

One Penguin engine per study; network id = ``trial.number``. Optuna's ``step``
counts observations from 1, so step ``k`` is epoch ``k * E`` (``E`` from the
keys or the configuration file, default 0.5 as in the C API). The trial is
pruned when Penguin's state is ``converged``; at ``reached_e_pred`` it is not
pruned (it runs to its end). Non-finite values (a diverged loss) are not given
to Penguin, as ``penguin replay`` skips such rows. With a study of
``direction="minimize"`` the engine gets ``direction = minimize`` (give a
decreasing ``function``, e.g. ``pow3d``, and a ``valid_max`` for the loss).
"""

import math
import threading

import optuna

from . import _pick
from ._keys import key_value
from .engine import Engine

__all__ = ["PenguinPruner"]


class PenguinPruner(optuna.pruners.BasePruner):
    """An Optuna pruner that stops a trial when Penguin's predictions converge.

    ``PenguinPruner(config=None, **keys)``: as :class:`penguin.Engine`. The
    decisions are the C library's, the same as a C program's on the same
    values.
    """

    def __init__(self, config=None, **keys):
        self._config = config
        self._keys = dict(keys)
        self._E = key_value(config, keys, "E")
        # select_halving's rungs (empty when off), for top().
        self._rungs = _pick.halving_rungs(config, keys)
        self._engines = {}
        self._fed = {}  # (study, trial number) -> last step given to Penguin
        self._status = {}  # (study, trial number) -> newest Status
        self._last = {}  # (study, trial number) -> last finite value given
        self._lock = threading.Lock()

    @property
    def epochs_per_step(self):
        """``E``: step ``k`` is epoch ``k * E``."""
        return self._E

    def _engine(self, study):
        key = study.study_name
        engine = self._engines.get(key)
        if engine is None:
            if len(study.directions) != 1:
                raise ValueError("PenguinPruner: Optuna prunes single-objective studies only")
            direction = (
                "minimize"
                if study.direction == optuna.study.StudyDirection.MINIMIZE
                else "maximize"
            )
            keys = dict(self._keys)
            given = keys.get("direction")
            if given is not None and given != direction:
                raise ValueError(
                    "PenguinPruner: direction=%r but the study is %r" % (given, direction)
                )
            keys["direction"] = direction
            engine = Engine(self._config, **keys)
            self._engines[key] = engine
        return engine

    def prune(self, study, trial):
        key = (study.study_name, trial.number)
        with self._lock:
            engine = self._engine(study)
            status = self._status.get(key)
            last = self._fed.get(key)
            values = trial.intermediate_values
            for step in sorted(values):
                if status is not None and status.stop:
                    break
                if last is not None and step <= last:
                    continue
                value = values[step]
                if step < 1:
                    raise ValueError(
                        "PenguinPruner: step %r: report steps from 1 (step k is the k-th "
                        "validation, epoch k * E = %g * k)" % (step, self._E)
                    )
                self._fed[key] = step
                if not math.isfinite(value):
                    continue
                status = engine.observe(trial.number, step * self._E, value)
                self._status[key] = status
                self._last[key] = value
            return status is not None and status.state == "converged"

    def _key(self, trial, study):
        number = trial if isinstance(trial, int) else trial.number
        if study is None:
            study = getattr(trial, "study", None)
        if study is not None:
            return study.study_name, number
        names = list(self._engines)
        if len(names) != 1:
            raise ValueError("PenguinPruner: pass study= (this pruner serves %d studies)" % len(names))
        return names[0], number

    def status(self, trial, study=None):
        """Penguin's newest :class:`penguin.Status` of ``trial`` (a trial, a
        frozen trial or a trial number), ``None`` before its first value."""
        with self._lock:
            return self._status.get(self._key(trial, study))

    def prediction(self, trial, study=None):
        """Penguin's answer for ``trial``'s fitness at ``e_pred``: the converged
        prediction once pruned, the newest prediction while it trains, the
        observed value at ``e_pred``; NaN while there is none."""
        s = self.status(trial, study)
        return float("nan") if s is None else s.prediction

    def engine(self, study):
        """The :class:`penguin.Engine` of ``study`` (e.g. to save it)."""
        with self._lock:
            return self._engine(study)

    def top(self, study, x=None):
        """The numbers of ``study``'s finished trials (complete or pruned)
        picked best first, as ``penguin replay`` picks (its regret@x is
        measured on this pick): by Penguin's answer (:meth:`prediction`; for a
        trial that ended before Penguin decided, its last value); with
        ``select_halving``, first by how far halving trained the trial (those
        trained to ``e_pred``, then those stopped at a later rung), each group
        by its answers. Trials without an answer come last, ties by trial
        number; only trials that gave Penguin a value count. ``x``: the first
        ``x`` only."""
        if x is not None and x < 0:
            raise ValueError("PenguinPruner.top: x = %r, expected >= 0" % (x,))
        if len(study.directions) != 1:
            raise ValueError("PenguinPruner: Optuna prunes single-objective studies only")
        maximize = study.direction != optuna.study.StudyDirection.MINIMIZE
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        finished = {t.number for t in study.get_trials(deepcopy=False, states=states)}
        with self._lock:
            items = sorted(
                (number, status, self._last.get((name, number), float("nan")))
                for (name, number), status in self._status.items()
                if name == study.study_name and status is not None and number in finished
            )
        numbers = [n for n, _, _ in items]
        estimates = [s.prediction if s.stop else last for _, s, last in items]
        if self._rungs:
            finalist = [s.state == "reached_e_pred" for _, s, _ in items]
            epochs = [s.epoch for _, s, _ in items]
            keys = _pick.pick_keys(estimates, maximize, finalist, epochs, self._rungs)
        else:
            keys = estimates
        order = [numbers[i] for i in _pick.best_first(keys, maximize)]
        return order if x is None else order[:x]
