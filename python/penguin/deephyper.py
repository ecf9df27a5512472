"""``PenguinStopper``: Penguin as a DeepHyper stopper.

    from deephyper.hpo import CBO
    from penguin.deephyper import PenguinStopper

    def run(job):
        for step in range(1, 41):                 # budget = step, from 1
            acc = train_and_validate(...)          # epoch = step * E
            job.record(budget=step, objective=acc)
            if job.stopped():
                break
        return job.objective                       # the last value (or Penguin's prediction)

    search = CBO(problem, stopper=PenguinStopper(e_pred=20, E=0.5))
    results = search.search(run, max_evals=100)

DeepHyper gives each job a deep copy of the stopper; the copies share one
Penguin engine (network id = the job's number); a process-based evaluator
pickles the stopper for each job, which then builds its own engine (the same
decisions unless ``select_top`` or ``select_halving`` is set). ``budget`` counts
observations from 1, so budget ``k`` is epoch ``k * E``, as for the Optuna
pruner. ``stop()`` is true once Penguin's state is not ``continue`` (converged,
or ``e_pred`` reached), or when DeepHyper's own rules say so (``max_steps``,
default ``e_pred / E``; a non-numeric objective). DeepHyper maximizes: for a
loss, record ``-loss`` and configure Penguin for it (``valid_min``,
``valid_max``). ``objective_returned="prediction"`` makes ``job.objective``
Penguin's prediction once there is one.
"""

import copy
import itertools
import math
import numbers
import threading

try:
    from deephyper.stopper import Stopper
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "penguin.deephyper needs DeepHyper: pip install deephyper (%s)" % e
    ) from e

from ._keys import key_value
from .engine import Engine

__all__ = ["PenguinStopper"]


class _Shared:
    """The engine the copies of one stopper share (one per process)."""

    def __init__(self, config, keys):
        self.config = config
        self.keys = keys
        self.engine = None
        self.lock = threading.Lock()
        self.ids = itertools.count()

    def get(self):
        if self.engine is None:
            self.engine = Engine(self.config, **self.keys)
        return self.engine

    def __getstate__(self):
        # Another process builds its own engine.
        return {"config": self.config, "keys": self.keys}

    def __setstate__(self, state):
        self.__init__(state["config"], state["keys"])


class PenguinStopper(Stopper):
    """A DeepHyper stopper that stops a job when Penguin's predictions converge.

    ``PenguinStopper(max_steps=None, objective_returned="last", config=None,
    **keys)``: ``keys`` and ``config`` as for :class:`penguin.Engine`;
    ``max_steps`` defaults to ``e_pred / E`` (rounded up).
    """

    def __init__(self, max_steps=None, objective_returned="last", config=None, **keys):
        E = key_value(config, keys, "E")
        e_pred = key_value(config, keys, "e_pred")
        if max_steps is None:
            max_steps = max(1, int(math.ceil(e_pred / E - 1e-9)))
        super().__init__(max_steps=max_steps)
        if objective_returned not in ("last", "prediction"):
            raise ValueError("objective_returned is 'last' or 'prediction'")
        self.objective_returned = objective_returned
        self.epochs_per_step = E
        self._shared = _Shared(config, dict(keys))
        self._nn_id = None
        self.status = None

    def __deepcopy__(self, memo):
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k == "_shared":
                new._shared = v
            else:
                setattr(new, k, copy.deepcopy(v, memo))
        return new

    @property
    def engine(self):
        """The :class:`penguin.Engine` shared by this stopper's copies."""
        with self._shared.lock:
            return self._shared.get()

    def _network(self):
        if self._nn_id is None:
            job_id = getattr(self.job, "id", None)
            try:
                self._nn_id = int(str(job_id).split(".")[-1])
            except ValueError:
                self._nn_id = next(self._shared.ids) + (1 << 62)
        return self._nn_id

    def observe(self, budget, objective):
        super().observe(budget, objective)
        if self.status is not None and self.status.stop:
            return
        if not isinstance(objective, numbers.Real) or not math.isfinite(objective):
            return
        with self._shared.lock:
            engine = self._shared.get()
            self.status = engine.observe(
                self._network(), budget * self.epochs_per_step, objective
            )

    def stop(self):
        if super().stop():
            return True
        return self.status is not None and self.status.stop

    @property
    def prediction(self):
        """Penguin's answer for the fitness at ``e_pred`` (NaN while none)."""
        return float("nan") if self.status is None else self.status.prediction

    @property
    def objective(self):
        if self.objective_returned == "prediction" and self.status is not None:
            if math.isfinite(self.status.prediction):
                return self.status.prediction
        return super().objective
