"""Every ``PENGUIN_ERROR_*`` code of the C API as a Python exception.

``PenguinError`` carries ``code`` (the C code, an int) and ``message`` (the
library's message for the failed call, ``penguin_last_error_message``). Each
code has its own subclass; the ones about a bad value are also ``ValueError``,
the ones about a missing name also ``LookupError``, so ordinary Python
handlers catch them too.
"""

from . import _capi


class PenguinError(Exception):
    """A call into the Penguin C library failed.

    Attributes: ``code`` (the ``PENGUIN_ERROR_*`` number, ``None`` for
    :class:`CallbackError`), ``name`` (e.g. ``"INVALID_FITNESS"``) and
    ``message`` (the library's description of what was wrong).
    """

    code = None
    name = None

    def __init__(self, message, code=None):
        if code is not None:
            self.code = code
            self.name = _capi.ERROR_CODES.get(code, "UNKNOWN")
        self.message = message
        super().__init__(message)

    def __str__(self):
        if self.code is None:
            return self.message
        return "[%d %s] %s" % (self.code, self.name, self.message)


class NullArgumentError(PenguinError):
    """1: a required pointer was NULL (a bug in this package if it happens)."""


class InvalidEpochError(PenguinError, ValueError):
    """2: the epoch is NaN, infinite, zero or negative."""


class InvalidFitnessError(PenguinError, ValueError):
    """3: the fitness is NaN or infinite."""


class EpochNotIncreasingError(PenguinError, ValueError):
    """4: the epoch is not greater than the network's previous epoch."""


class UnknownNetworkError(PenguinError, LookupError):
    """5: no network with this id is tracked."""


class AlreadyDecidedError(PenguinError):
    """6: the network already has a final decision."""


class UnknownConfigKeyError(PenguinError, LookupError):
    """7: unknown configuration key."""


class InvalidConfigValueError(PenguinError, ValueError):
    """8: a configuration value cannot be parsed or is out of range."""


class InconsistentConfigError(PenguinError, ValueError):
    """9: configuration values contradict each other."""


class UnknownFunctionError(PenguinError, LookupError):
    """10: unknown function name."""


class PenguinIOError(PenguinError):
    """11: reading or writing a file failed."""


class InvalidStateError(PenguinError, ValueError):
    """12: a saved state is truncated, corrupted or not a Penguin state."""


class StateVersionError(PenguinError, ValueError):
    """13: a saved state has an unsupported format version."""


class InvalidArgumentError(PenguinError, ValueError):
    """14: an argument is invalid."""


class InternalError(PenguinError):
    """15: a panic was caught inside the library. Please report it."""


class BufferTooSmallError(PenguinError):
    """16: an output buffer is too small."""


class BusyError(PenguinError):
    """17: the engine is in use by another thread; the call changed nothing."""


class CallbackError(PenguinError):
    """A Python function given to :func:`penguin.register_function` raised.

    The engine call that ran it is undone (the engine is as before the call);
    the original exception is ``__cause__``.
    """


#: Exception class by C error code.
BY_CODE = {
    1: NullArgumentError,
    2: InvalidEpochError,
    3: InvalidFitnessError,
    4: EpochNotIncreasingError,
    5: UnknownNetworkError,
    6: AlreadyDecidedError,
    7: UnknownConfigKeyError,
    8: InvalidConfigValueError,
    9: InconsistentConfigError,
    10: UnknownFunctionError,
    11: PenguinIOError,
    12: InvalidStateError,
    13: StateVersionError,
    14: InvalidArgumentError,
    15: InternalError,
    16: BufferTooSmallError,
    17: BusyError,
}


def error_for(code):
    """The exception for a non-zero result code of the calling thread's last call."""
    message = _capi.last_error_message()
    if not message:
        message = _capi.lib.penguin_result_string(code).decode("utf-8", "replace")
    return BY_CODE.get(code, PenguinError)(message, code)


def check(code):
    """Raises the exception of a C result code (does nothing for PENGUIN_OK)."""
    if code:
        raise error_for(code)
