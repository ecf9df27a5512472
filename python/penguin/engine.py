"""``penguin.Engine``: one C engine (``penguin_t``) behind a Python object.

Every decision is the C library's: this module converts arguments, calls the C
API and converts the answers back; it computes nothing itself.
"""

import ctypes
import numbers
import os
import re
import threading

import numpy as np

from . import _capi
from ._capi import lib
from ._errors import CallbackError, check

__all__ = [
    "Engine",
    "Status",
    "STATUS_DTYPE",
    "register_function",
    "unregister_function",
    "CONTINUE",
    "CONVERGED",
    "REACHED_E_PRED",
]

CONTINUE = _capi.CONTINUE
CONVERGED = _capi.CONVERGED
REACHED_E_PRED = _capi.REACHED_E_PRED

_STATE_NAMES = {CONTINUE: "continue", CONVERGED: "converged", REACHED_E_PRED: "reached_e_pred"}

#: The record type of :meth:`Engine.observe_batch`: a view of the C struct
#: ``penguin_nn_status_t`` with its fields ``state`` (int32: 0 continue,
#: 1 converged, 2 reached e_pred), ``prediction`` (NaN while none),
#: ``prediction_lo``, ``prediction_hi`` (float64), ``epoch`` (float64) and
#: ``observations`` (uint32). The library writes the structs straight into the
#: array (no conversion); the struct's other members are padding here.
_FIELDS = [
    ("state", np.int32),
    ("prediction", np.float64),
    ("prediction_lo", np.float64),
    ("prediction_hi", np.float64),
    ("epoch", np.float64),
    ("observations", np.uint32),
]
STATUS_DTYPE = np.dtype(
    {
        "names": [n for n, _ in _FIELDS],
        "formats": [t for _, t in _FIELDS],
        "offsets": [getattr(_capi.NNStatus, n).offset for n, _ in _FIELDS],
        "itemsize": ctypes.sizeof(_capi.NNStatus),
    }
)


class Status:
    """What Penguin says about one network (``penguin_nn_status_t``).

    ``state`` is ``"continue"``, ``"converged"`` or ``"reached_e_pred"``;
    ``prediction`` is Penguin's answer for the fitness at ``e_pred`` (NaN while
    there is none), ``prediction_lo``/``prediction_hi`` its interval (NaN when
    none), ``epoch`` the newest observation's epoch, ``observations`` their
    number. Also ``fit_prediction``, ``fits`` and ``params`` (the newest fit's
    parameters, a tuple) as in C. ``stop`` is true once ``state`` is not
    ``"continue"``.
    """

    __slots__ = (
        "state",
        "prediction",
        "prediction_lo",
        "prediction_hi",
        "epoch",
        "observations",
        "fit_prediction",
        "fits",
        "params",
    )

    def __init__(self, s):
        self.state = _STATE_NAMES.get(s.state, str(s.state))
        self.prediction = s.prediction
        self.prediction_lo = s.prediction_lo
        self.prediction_hi = s.prediction_hi
        self.epoch = s.epoch
        self.observations = s.observations
        self.fit_prediction = s.fit_prediction
        self.fits = s.fits
        self.params = tuple(s.params[: min(s.n_params, _capi.MAX_PARAMS)])

    @property
    def stop(self):
        """Whether training should stop (``state`` is not ``"continue"``)."""
        return self.state != "continue"

    def _asdict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __eq__(self, other):
        if not isinstance(other, Status):
            return NotImplemented
        # Bit for bit, NaN equal to NaN.
        a, b = self._asdict(), other._asdict()
        return all(_same(a[k], b[k]) for k in a)

    def __repr__(self):
        return "Status(state=%r, prediction=%r, prediction_lo=%r, prediction_hi=%r, epoch=%r, observations=%r)" % (
            self.state,
            self.prediction,
            self.prediction_lo,
            self.prediction_hi,
            self.epoch,
            self.observations,
        )


def _same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


# --- arguments ---------------------------------------------------------------

_U64_MAX = (1 << 64) - 1
_observe = lib.penguin_observe
_byref = ctypes.byref


def _nn_id(nn_id):
    if type(nn_id) is int and 0 <= nn_id <= _U64_MAX:
        return nn_id
    if isinstance(nn_id, bool) or not isinstance(nn_id, numbers.Integral):
        raise TypeError("penguin: a network id is an int in [0, 2**64), not %r" % (nn_id,))
    v = int(nn_id)
    if v < 0 or v > _U64_MAX:
        raise ValueError("penguin: network id %d is outside [0, 2**64)" % v)
    return v


def _real(x, what):
    if type(x) is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError("penguin: %s must be a real number, not %r" % (what, x))
    return float(x)


def _ids_array(ids):
    a = np.asarray(ids)
    if a.dtype != np.uint64:
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.uint64)  # [] is float64 to numpy
        elif a.dtype.kind not in "iu":
            raise TypeError(
                "penguin: ids must be an integer array (uint64), not dtype %s" % a.dtype
            )
        if a.size and a.min() < 0:
            raise ValueError("penguin: ids must not be negative")
        a = a.astype(np.uint64)
    return _one_d(a, "ids")


def _float_array(x, what):
    a = np.asarray(x)
    if a.dtype != np.float64:
        if a.dtype.kind not in "iuf":
            raise TypeError("penguin: %s must be a float64 array, not dtype %s" % (what, a.dtype))
        a = a.astype(np.float64)
    return _one_d(a, what)


def _one_d(a, what):
    if a.ndim != 1:
        raise ValueError("penguin: %s must be one-dimensional, not of shape %s" % (what, a.shape))
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return a


def _value_text(key, v):
    """A configuration value as the C API's text."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        raise TypeError("penguin: give %s as the C API spells it (a string), not %r" % (key, v))
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        return repr(float(v))
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, (list, tuple)):
        if len(v) == 2 and all(isinstance(p, (list, tuple, np.ndarray)) for p in v):
            # bounds: (lower, upper)
            return ";".join(_value_text(key, p) for p in v)
        return ",".join(_value_text(key, p) for p in v)
    if isinstance(v, np.ndarray):
        return _value_text(key, v.tolist())
    raise TypeError("penguin: cannot give %s = %r to Penguin" % (key, v))


# --- user-defined functions ----------------------------------------------------

_registry = {}
_registry_lock = threading.Lock()
# Per-engine lists of (function name, exception) raised by Python callables,
# keyed by the token passed to the library as user_data.
_collectors = {}
_next_token = [1]


def _record(user_data, name, exc):
    coll = _collectors.get(user_data or 0)
    if coll is not None:
        coll.append((name, exc))


class _PyFunction:
    def __init__(self, name, n_params, f, jacobian, p0, lower, upper):
        self.name = name
        self.n_params = n_params
        self.f = f
        self.jacobian = jacobian
        self.p0 = p0
        self.lower = lower
        self.upper = upper
        self.value_cb = _capi.MODEL_FN(self._value)
        self.jacobian_cb = _capi.MODEL_FN(self._jacobian) if jacobian is not None else _capi.MODEL_FN()

    def _call(self, fn, user_data, n, x, params, out, width):
        try:
            if n == 0:
                return 0
            xs = np.ctypeslib.as_array(x, shape=(n,)).copy()
            ps = np.ctypeslib.as_array(params, shape=(self.n_params,)).copy()
            y = np.asarray(fn(xs, ps), dtype=np.float64)
            shape = (n,) if width is None else (n, width)
            if y.shape != shape:
                raise ValueError(
                    "penguin: %s of function %r returned shape %s, expected %s"
                    % ("the Jacobian" if width else "the value", self.name, y.shape, shape)
                )
            np.ctypeslib.as_array(out, shape=(y.size,))[:] = y.reshape(-1)
            return 0
        except BaseException as e:  # noqa: B036 (recorded, re-raised by the engine call)
            _record(user_data, self.name, e)
            return 1

    def _value(self, user_data, n, x, params, y_out):
        return self._call(self.f, user_data, n, x, params, y_out, None)

    def _jacobian(self, user_data, n, x, params, jac_out):
        return self._call(self.jacobian, user_data, n, x, params, jac_out, self.n_params)

    def register(self, config, token):
        k = self.n_params
        arr = lambda v: None if v is None else (ctypes.c_double * k)(*v)  # noqa: E731
        check(
            lib.penguin_config_set_function(
                config,
                self.name.encode("utf-8"),
                k,
                self.value_cb,
                self.jacobian_cb,
                token,
                arr(self.p0),
                arr(self.lower),
                arr(self.upper),
            )
        )


def _sequence(v, n, what):
    if v is None:
        return None
    vals = [_real(x, what) for x in v]
    if len(vals) != n:
        raise ValueError("penguin: %s needs %d values, got %d" % (what, n, len(vals)))
    return vals


def register_function(name, n_params, f, jacobian=None, p0=None, bounds=None):
    """Registers a Python parametric function for every engine created after.

    ``f(x, params)`` returns the function's values at the float64 array ``x``
    (an array of ``len(x)``); ``jacobian(x, params)`` (optional: Penguin
    uses finite differences without it) returns the ``len(x) x n_params``
    Jacobian. ``p0`` (``n_params`` values) is the default start, ``bounds``
    ``(lower, upper)`` the default bounds (infinities allowed). An engine uses
    it when its configuration names it (``function=name`` or in
    ``alternatives``). The library checks the arguments now
    (``penguin_config_set_function``); registering a name again replaces it.

    If ``f`` or ``jacobian`` raises (or returns the wrong shape), the engine
    call that ran it raises :class:`penguin.CallbackError` and the engine is left
    as it was before that call (the package saves the engine's state before
    each observe call of an engine that uses Python functions, and restores it).
    NaN or infinite values are not errors: that fit fails, as in C.
    """
    if not isinstance(name, str):
        raise TypeError("penguin: a function name is a str")
    if isinstance(n_params, bool) or not isinstance(n_params, numbers.Integral):
        raise TypeError("penguin: n_params is an int")
    if not callable(f) or (jacobian is not None and not callable(jacobian)):
        raise TypeError("penguin: f and jacobian must be callable")
    n_params = int(n_params)
    if not 0 <= n_params <= 0xFFFFFFFF:
        raise ValueError("penguin: n_params out of range")
    p0 = _sequence(p0, n_params, "p0")
    lower = upper = None
    if bounds is not None:
        if len(bounds) != 2:
            raise ValueError("penguin: bounds is (lower, upper)")
        lower = _sequence(bounds[0], n_params, "lower bounds")
        upper = _sequence(bounds[1], n_params, "upper bounds")
    fn = _PyFunction(name, n_params, f, jacobian, p0, lower, upper)
    # Let the library check everything now, on a scratch configuration.
    config = _new_config()
    try:
        fn.register(config, None)
    finally:
        lib.penguin_config_free(config)
    with _registry_lock:
        _registry[name] = fn


def unregister_function(name):
    """Removes a function registered with :func:`register_function` (engines
    that use it keep it)."""
    with _registry_lock:
        _registry.pop(name, None)


def _new_config():
    h = ctypes.c_void_p()
    check(lib.penguin_config_new(ctypes.byref(h)))
    return h


def _used_functions(texts):
    """The registered Python functions named in any of ``texts``."""
    with _registry_lock:
        if not _registry:
            return []
        tokens = set()
        for t in texts:
            tokens.update(re.split(r"[\s,;=#]+", t))
        return [f for n, f in _registry.items() if n in tokens]


def _all_functions():
    with _registry_lock:
        return list(_registry.values())


# --- the engine ----------------------------------------------------------------


class Engine:
    """A Penguin engine: the networks of one search and their decisions.

    ``Engine(config=None, **keys)``: the paper's defaults, changed by a
    configuration file (``config``: a path, read by ``penguin_config_load``,
    ``key = value`` lines) or a dict of keys, then by ``keys`` (every key of
    the C API: ``Engine(e_pred=20, E=0.5, function="exp3")``; numbers, strings,
    lists for ``p0`` and ``alternatives``, ``(lower, upper)`` for ``bounds``).
    Unknown keys and bad values raise :class:`penguin.PenguinError` subclasses.

    One engine must not be used by two threads at once: the library detects it
    and the second call raises :class:`penguin.BusyError`, changing nothing.
    """

    def __init__(self, config=None, **keys):
        self._h = None
        self._config = None
        self._token = None
        self._guard = False
        items = []
        path = None
        if config is None:
            pass
        elif isinstance(config, (str, bytes, os.PathLike)):
            path = config
        elif hasattr(config, "items"):
            items.extend(config.items())
        else:
            raise TypeError("penguin: config is a file path or a dict of keys, not %r" % (config,))
        items.extend(keys.items())
        texts = []
        pairs = []
        for k, v in items:
            if not isinstance(k, str):
                raise TypeError("penguin: configuration keys are strings, not %r" % (k,))
            text = _value_text(k, v)
            pairs.append((k.encode("utf-8"), text.encode("utf-8")))
            texts.append(text)
        if path is not None:
            try:
                with open(path, "r", encoding="utf-8", errors="replace") as fh:
                    texts.append(fh.read())
            except OSError:
                pass  # the library reports it
        functions = _used_functions(texts)
        cfg = _new_config()
        try:
            self._attach(functions, cfg)
            if functions:
                # penguin_config_set_function selects the function it registers;
                # back to the default, which the file and keys may change.
                check(lib.penguin_config_set(cfg, b"function", b"exp3"))
            if path is not None:
                check(lib.penguin_config_load(cfg, os.fsencode(path)))
            for k, v in pairs:
                check(lib.penguin_config_set(cfg, k, v))
            h = ctypes.c_void_p()
            check(lib.penguin_new(cfg, ctypes.byref(h)))
            self._h = h
        except BaseException:
            lib.penguin_config_free(cfg)
            self._detach()
            raise
        self._keep_config(cfg)

    # Python functions: register them in `cfg` with this engine's token.
    def _attach(self, functions, cfg):
        self._functions = functions
        if functions:
            with _registry_lock:
                self._token = _next_token[0]
                _next_token[0] += 1
                _collectors[self._token] = []
            for f in functions:
                f.register(cfg, self._token)
            self._guard = True

    def _detach(self):
        if self._token is not None:
            _collectors.pop(self._token, None)
            self._token = None

    def _keep_config(self, cfg):
        if self._guard:
            self._config = cfg  # the functions, for restoring after a callback error
        else:
            lib.penguin_config_free(cfg)

    @classmethod
    def _from_loader(cls, load_plain, load_with):
        self = cls.__new__(cls)
        self._h = None
        self._config = None
        self._token = None
        self._guard = False
        self._functions = []
        functions = _all_functions()
        h = ctypes.c_void_p()
        if functions:
            cfg = _new_config()
            try:
                self._attach(functions, cfg)
                check(load_with(cfg, ctypes.byref(h)))
            except BaseException:
                lib.penguin_config_free(cfg)
                self._detach()
                raise
            self._keep_config(cfg)
        else:
            check(load_plain(ctypes.byref(h)))
        self._h = h
        return self

    @classmethod
    def load(cls, source):
        """An engine restored from a state written by :meth:`save` (a path) or
        :meth:`to_bytes` (bytes): it decides exactly as the saved engine would.
        States that name a Python function need it registered first."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls.from_bytes(source)
        path = os.fsencode(source)
        return cls._from_loader(
            lambda out: lib.penguin_load(path, out),
            lambda cfg, out: lib.penguin_load_with_config(path, cfg, out),
        )

    @classmethod
    def from_bytes(cls, data):
        """An engine restored from :meth:`to_bytes`'s bytes."""
        data = bytes(data)
        buf = ctypes.create_string_buffer(data, len(data)) if data else None
        n = len(data)
        return cls._from_loader(
            lambda out: lib.penguin_load_from_buffer(buf, n, out),
            lambda cfg, out: lib.penguin_load_from_buffer_with_config(buf, n, cfg, out),
        )

    # --- lifetime ---

    def _handle(self):
        h = self._h
        if h is None:
            raise ValueError("penguin: the engine is closed")
        return h

    def close(self):
        """Frees the engine (also done when it is garbage-collected)."""
        h, self._h = self._h, None
        if h is not None:
            lib.penguin_free(h)
        if self._config is not None:
            lib.penguin_config_free(self._config)
            self._config = None
        self._detach()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        return (Engine.from_bytes, (self.to_bytes(),))

    def __deepcopy__(self, memo):
        return Engine.from_bytes(self.to_bytes())

    def __copy__(self):
        return Engine.from_bytes(self.to_bytes())

    # --- observations ---

    def _guarded(self, call):
        """Runs `call(handle)`; with Python functions, undoes it when one raised."""
        if not self._guard:
            return call(self._handle())
        snapshot = self.to_bytes()
        coll = _collectors[self._token]
        del coll[:]
        code = call(self._handle())
        if coll:
            errors = list(coll)
            del coll[:]
            self._restore(snapshot)
            name, exc = errors[0]
            if not isinstance(exc, Exception):
                raise exc  # KeyboardInterrupt, SystemExit: as they are
            raise CallbackError(
                "user function %r raised %s: %s (the call was undone)"
                % (name, type(exc).__name__, exc)
            ) from exc
        return code

    def _restore(self, snapshot):
        h = ctypes.c_void_p()
        buf = ctypes.create_string_buffer(snapshot, len(snapshot))
        check(lib.penguin_load_from_buffer_with_config(buf, len(snapshot), self._config, ctypes.byref(h)))
        old, self._h = self._h, h
        lib.penguin_free(old)

    def observe(self, nn_id, epoch, fitness, loss=None):
        """Reports network ``nn_id``'s fitness at ``epoch`` (a new id starts a
        network) and returns its :class:`Status`. ``loss``: its validation loss
        for the late-bloomer guard and the never-learner stop (``None`` or NaN:
        not reported). A rejected observation raises and changes nothing."""
        i = _nn_id(nn_id)
        e = _real(epoch, "epoch")
        v = _real(fitness, "fitness")
        s = _capi.NNStatus()
        if loss is None and not self._guard:
            check(_observe(self._handle(), i, e, v, _byref(s)))
            return Status(s)
        if loss is None:
            code = self._guarded(lambda h: lib.penguin_observe(h, i, e, v, ctypes.byref(s)))
        else:
            l = _real(loss, "loss")  # noqa: E741
            code = self._guarded(
                lambda h: lib.penguin_observe_with_loss(h, i, e, v, l, ctypes.byref(s))
            )
        check(code)
        return Status(s)

    def observe_batch(self, ids, epochs, fitness, losses=None):
        """Reports many observations at once (``penguin_observe_batch``): entry
        k is network ``ids[k]`` at ``epochs[k]`` with ``fitness[k]``
        (``losses[k]``, NaN: not reported). ``ids`` are unsigned integers
        (uint64; signed integer arrays are accepted when not negative),
        the rest float64 (integer arrays are accepted); all one-dimensional and
        of one length. Returns a numpy structured array of
        :data:`STATUS_DTYPE`, one record per entry. All or nothing: a rejected
        entry raises and the engine is unchanged."""
        ids = _ids_array(ids)
        epochs = _float_array(epochs, "epochs")
        fitness = _float_array(fitness, "fitness")
        n = ids.shape[0]
        if epochs.shape[0] != n or fitness.shape[0] != n:
            raise ValueError(
                "penguin: ids, epochs and fitness have lengths %d, %d, %d"
                % (n, epochs.shape[0], fitness.shape[0])
            )
        out = np.empty(n, dtype=STATUS_DTYPE)
        pi, pe, pf, po = ids.ctypes.data, epochs.ctypes.data, fitness.ctypes.data, out.ctypes.data
        if losses is None:
            code = self._guarded(lambda h: lib.penguin_observe_batch(h, n, pi, pe, pf, po))
        else:
            losses = _float_array(losses, "losses")
            if losses.shape[0] != n:
                raise ValueError("penguin: losses has length %d, ids %d" % (losses.shape[0], n))
            pl = losses.ctypes.data
            code = self._guarded(
                lambda h: lib.penguin_observe_batch_with_loss(h, n, pi, pe, pf, pl, po)
            )
        check(code)
        return out

    # --- queries ---

    def status(self, nn_id):
        """The :class:`Status` of network ``nn_id`` (raises
        :class:`penguin.UnknownNetworkError` when it is not tracked)."""
        i = _nn_id(nn_id)
        s = _capi.NNStatus()
        check(lib.penguin_status(self._handle(), i, ctypes.byref(s)))
        return Status(s)

    def forget(self, nn_id):
        """Stops tracking network ``nn_id`` and frees its history."""
        check(lib.penguin_forget(self._handle(), _nn_id(nn_id)))

    def __len__(self):
        n = ctypes.c_size_t()
        check(lib.penguin_network_count(self._handle(), ctypes.byref(n)))
        return n.value

    # --- checkpoints ---

    def save(self, path):
        """Saves the engine to ``path`` atomically (``penguin_save``)."""
        check(lib.penguin_save(self._handle(), os.fsencode(path)))

    def to_bytes(self):
        """The engine's saved state as bytes (``penguin_save_to_buffer``)."""
        h = self._handle()
        n = ctypes.c_size_t()
        check(lib.penguin_state_size(h, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value)
        written = ctypes.c_size_t()
        check(lib.penguin_save_to_buffer(h, buf, n.value, ctypes.byref(written)))
        return buf.raw[: written.value]


def version():
    """The C library's version string (``penguin_version``)."""
    return lib.penguin_version().decode()
