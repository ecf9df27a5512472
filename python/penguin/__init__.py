"""Penguin for Python: early termination of neural-network training.

A thin layer over Penguin's C library (``include/penguin.h``), shipped inside
this package: every decision is the library's, bit for bit the same as a C,
C++ or Fortran caller gets. See ``docs/python.md``.

    import penguin
    engine = penguin.Engine(e_pred=20)
    status = engine.observe(nn_id, epoch, val_acc)
    if status.stop: ...   # status.prediction: the fitness at e_pred

Optuna: ``penguin.optuna.PenguinPruner``; DeepHyper:
``penguin.deephyper.PenguinStopper``; side by side with their pruners:
``python -m penguin.compare CURVES.csv``.
"""

from ._errors import (
    AlreadyDecidedError,
    BufferTooSmallError,
    BusyError,
    CallbackError,
    EpochNotIncreasingError,
    InconsistentConfigError,
    InternalError,
    InvalidArgumentError,
    InvalidConfigValueError,
    InvalidEpochError,
    InvalidFitnessError,
    InvalidStateError,
    NullArgumentError,
    PenguinError,
    PenguinIOError,
    StateVersionError,
    UnknownConfigKeyError,
    UnknownFunctionError,
    UnknownNetworkError,
)
from .engine import (
    CONTINUE,
    CONVERGED,
    REACHED_E_PRED,
    STATUS_DTYPE,
    Engine,
    Status,
    register_function,
    unregister_function,
    version,
)

__version__ = "0.2.0"

__all__ = [
    "Engine",
    "Status",
    "STATUS_DTYPE",
    "CONTINUE",
    "CONVERGED",
    "REACHED_E_PRED",
    "register_function",
    "unregister_function",
    "version",
    "PenguinError",
    "NullArgumentError",
    "InvalidEpochError",
    "InvalidFitnessError",
    "EpochNotIncreasingError",
    "UnknownNetworkError",
    "AlreadyDecidedError",
    "UnknownConfigKeyError",
    "InvalidConfigValueError",
    "InconsistentConfigError",
    "UnknownFunctionError",
    "PenguinIOError",
    "InvalidStateError",
    "StateVersionError",
    "InvalidArgumentError",
    "InternalError",
    "BufferTooSmallError",
    "BusyError",
    "CallbackError",
]
