"""Every C error code surfaces as its exception, carrying the code and the
library's message, and the engine is left unchanged; bad input from Python
(NaN, wrong dtypes, mismatched lengths, unknown keys, a raising callable)
raises and changes nothing."""

import ctypes
import math
import os
import threading
import unittest

import numpy as np

import penguin
from penguin import _capi, _errors

from support import TMP


def rising(engine, nn_id, n, start=0.5):
    """Observations of a learning curve until Penguin stops it."""
    s = None
    first = int(round((start - 0.5) / 0.5))
    for k in range(first, first + n):
        e, v = point(k)
        s = engine.observe(nn_id, e, v)
        if s.stop:
            break
    return s


def _exp(v):
    try:
        return math.exp(v)
    except OverflowError:  # C's exp gives inf
        return math.inf


def exp3(x, p):
    """a - b^(c - x) as c-tests/user_function.c writes it (C's exp and log)."""
    if not p[1] > 0:
        return np.full(len(x), math.nan)
    lb = math.log(p[1])
    return np.array([p[0] - _exp((p[2] - xi) * lb) for xi in x])


def point(k):
    e = 0.5 + 0.5 * k
    return e, 90.0 - 80.0 * 0.8 ** (2 * e) + 0.3 * math.sin(7 * k)


class Unchanged:
    """Asserts that the block raises `exc` and leaves the engine's saved state
    byte for byte as it was."""

    def __init__(self, test, engine, exc, code=None):
        self.test, self.engine, self.exc, self.code = test, engine, exc, code

    def __enter__(self):
        self.before = self.engine.to_bytes()
        self.count = len(self.engine)
        return self

    def __exit__(self, typ, value, tb):
        self.test.assertIsNotNone(typ, "nothing was raised (%s expected)" % self.exc.__name__)
        self.test.assertTrue(issubclass(typ, self.exc), "%s raised, %s expected: %s" % (typ.__name__, self.exc.__name__, value))
        if self.code is not None:
            self.test.assertEqual(value.code, self.code)
            self.test.assertTrue(value.message, "an empty message")
            self.test.assertIn(value.name, str(value))
        self.test.assertEqual(self.engine.to_bytes(), self.before, "the engine changed")
        self.test.assertEqual(len(self.engine), self.count)
        self.error = value
        return True


class CErrors(unittest.TestCase):
    def setUp(self):
        self.engine = penguin.Engine()
        rising(self.engine, 1, 5)
        self.stopped = rising(self.engine, 2, 40)
        self.assertTrue(self.stopped.stop)

    def unchanged(self, exc, code):
        return Unchanged(self, self.engine, exc, code)

    def test_1_null_argument(self):
        # The package never passes NULL; the code still maps (through C).
        with self.assertRaises(penguin.NullArgumentError) as cm:
            _errors.check(_capi.lib.penguin_network_count(None, None))
        self.assertEqual(cm.exception.code, 1)

    def test_2_invalid_epoch(self):
        for epoch in (math.nan, math.inf, 0.0, -1.0):
            with self.unchanged(penguin.InvalidEpochError, 2):
                self.engine.observe(1, epoch, 50.0)
        with self.unchanged(penguin.InvalidEpochError, 2):
            self.engine.observe_batch([3, 4], [0.5, math.nan], [10.0, 10.0])

    def test_3_invalid_fitness(self):
        for v in (math.nan, math.inf, -math.inf):
            with self.unchanged(penguin.InvalidFitnessError, 3):
                self.engine.observe(1, 10.0, v)
        with self.unchanged(penguin.InvalidFitnessError, 3) as u:
            self.engine.observe_batch(np.array([3, 4, 5], dtype=np.uint64), [0.5, 0.5, 0.5], [10.0, math.nan, 11.0])

    def test_4_epoch_not_increasing(self):
        with self.unchanged(penguin.EpochNotIncreasingError, 4):
            self.engine.observe(1, 0.5, 50.0)

    def test_5_unknown_network(self):
        with self.unchanged(penguin.UnknownNetworkError, 5):
            self.engine.status(999)
        with self.unchanged(penguin.UnknownNetworkError, 5):
            self.engine.forget(999)
        self.assertTrue(issubclass(penguin.UnknownNetworkError, LookupError))

    def test_6_already_decided(self):
        with self.unchanged(penguin.AlreadyDecidedError, 6):
            self.engine.observe(2, self.stopped.epoch + 0.5, 50.0)

    def test_7_unknown_config_key(self):
        with self.assertRaises(penguin.UnknownConfigKeyError) as cm:
            penguin.Engine(no_such_key=1)
        self.assertEqual(cm.exception.code, 7)
        self.assertIn("no_such_key", cm.exception.message)

    def test_8_invalid_config_value(self):
        for keys in ({"N": 0}, {"t": -1}, {"E": "x"}, {"e_pred": math.nan}):
            with self.assertRaises(penguin.InvalidConfigValueError) as cm:
                penguin.Engine(**keys)
            self.assertEqual(cm.exception.code, 8)

    def test_9_inconsistent_config(self):
        with self.assertRaises(penguin.InconsistentConfigError) as cm:
            penguin.Engine(valid_min=50, valid_max=10)
        self.assertEqual(cm.exception.code, 9)

    def test_10_unknown_function(self):
        with self.assertRaises(penguin.UnknownFunctionError) as cm:
            penguin.Engine(function="no_such_function")
        self.assertEqual(cm.exception.code, 10)

    def test_11_io(self):
        missing = os.path.join(TMP, "no-such-dir", "state.bin")
        with self.assertRaises(penguin.PenguinIOError) as cm:
            penguin.Engine.load(missing)
        self.assertEqual(cm.exception.code, 11)
        with self.assertRaises(penguin.PenguinIOError):
            penguin.Engine(config=os.path.join(TMP, "no-such.conf"))
        with self.unchanged(penguin.PenguinIOError, 11):
            self.engine.save(missing)

    def test_12_invalid_state(self):
        for data in (b"", b"garbage", self.engine.to_bytes()[:-3]):
            with self.assertRaises(penguin.InvalidStateError) as cm:
                penguin.Engine.from_bytes(data)
            self.assertEqual(cm.exception.code, 12)
        path = os.path.join(TMP, "corrupt.state")
        data = bytearray(self.engine.to_bytes())
        data[len(data) // 2] ^= 0xFF
        with open(path, "wb") as fh:
            fh.write(data)
        with self.assertRaises(penguin.InvalidStateError):
            penguin.Engine.load(path)

    def test_13_state_version(self):
        # A format-1 state (Penguin 0.1): the version field after the magic.
        data = bytearray(self.engine.to_bytes())
        self.assertEqual(bytes(data[:8]), b"PENGUIN\0")
        data[8:12] = (1).to_bytes(4, "little")
        with self.assertRaises(penguin.StateVersionError) as cm:
            penguin.Engine.from_bytes(bytes(data))
        self.assertEqual(cm.exception.code, 13)

    def test_14_invalid_argument(self):
        for name in ("my f", "", "exp3", "a=b"):
            with self.assertRaises(penguin.InvalidArgumentError) as cm:
                penguin.register_function(name, 3, exp3)
            self.assertEqual(cm.exception.code, 14)
        with self.assertRaises(penguin.InvalidArgumentError):
            penguin.register_function("f_bad_bounds", 3, exp3, p0=[1, 2, 3], bounds=([0, 0, 0], [1, 1, 1]))
        with self.assertRaises(penguin.InvalidArgumentError):
            penguin.register_function("f_zero", 0, exp3)

    def test_15_internal(self):
        # A caught Rust panic; not reachable from valid use. The code maps.
        e = _errors.BY_CODE[15]("boom", 15)
        self.assertIsInstance(e, penguin.InternalError)
        self.assertEqual(e.code, 15)
        self.assertIn("INTERNAL", str(e))
        self.assertIn("internal", _capi.lib.penguin_result_string(15).decode())

    def test_16_buffer_too_small(self):
        buf = ctypes.create_string_buffer(4)
        with self.assertRaises(penguin.BufferTooSmallError) as cm:
            _errors.check(_capi.lib.penguin_save_to_buffer(self.engine._h, buf, 4, None))
        self.assertEqual(cm.exception.code, 16)

    def test_17_busy(self):
        # A Python callable runs inside the engine; from there another thread
        # calls into the same engine and gets PENGUIN_ERROR_BUSY at once.
        seen = []
        holder = {}

        def probe(x, p):
            if not seen:
                def other():
                    for call in (lambda: holder["engine"].forget(1), lambda: holder["engine"].status(1)):
                        try:
                            call()
                            seen.append(None)
                        except penguin.PenguinError as e:
                            seen.append(e)

                t = threading.Thread(target=other)
                t.start()
                t.join()
            return exp3(x, p)

        penguin.register_function("busy_probe", 3, probe, p0=[10, 1.001, 100])
        try:
            engine = holder["engine"] = penguin.Engine(function="busy_probe", threads=1)
            rising(engine, 1, 8)
        finally:
            penguin.unregister_function("busy_probe")
        self.assertEqual(len(seen), 2)
        for e in seen:
            self.assertIsInstance(e, penguin.BusyError)
            self.assertEqual(e.code, 17)
        self.assertIn("forget", seen[0].message)
        # The refused calls changed nothing: network 1 is still tracked.
        self.assertEqual(engine.status(1).observations, 8 if not engine.status(1).stop else engine.status(1).observations)

    def test_every_code_has_a_test(self):
        names = [n for n in dir(self) if n.startswith("test_") and n[5:].split("_")[0].isdigit()]
        self.assertEqual(sorted(int(n[5:].split("_")[0]) for n in names), sorted(_capi.ERROR_CODES))


class PythonBadInput(unittest.TestCase):
    def setUp(self):
        self.engine = penguin.Engine()
        rising(self.engine, 1, 5)

    def unchanged(self, exc):
        return Unchanged(self, self.engine, exc)

    def test_ids(self):
        for bad in ("1", 1.0, None, True):
            with self.unchanged(TypeError):
                self.engine.observe(bad, 10.0, 50.0)
        for bad in (-1, 2 ** 64):
            with self.unchanged(ValueError):
                self.engine.observe(bad, 10.0, 50.0)
        # 2**64 - 1 is a valid id.
        self.assertEqual(self.engine.observe(2 ** 64 - 1, 0.5, 10.0).observations, 1)
        self.assertEqual(self.engine.observe(np.uint64(7), 0.5, 10.0).observations, 1)

    def test_numbers(self):
        for bad in ("10", None, [1.0], 1j):
            with self.unchanged(TypeError):
                self.engine.observe(1, bad, 50.0)
            with self.unchanged(TypeError):
                self.engine.observe(1, 10.0, bad)
        with self.unchanged(TypeError):
            self.engine.observe(1, 10.0, 50.0, loss="x")

    def test_batch_dtypes(self):
        ok_ids, ok_e, ok_f = np.array([3, 4], dtype=np.uint64), np.array([0.5, 0.5]), np.array([10.0, 11.0])
        cases = [
            (TypeError, (np.array([3.0, 4.0]), ok_e, ok_f)),  # float ids
            (TypeError, (np.array(["3", "4"]), ok_e, ok_f)),
            (TypeError, (np.array([True, False]), ok_e, ok_f)),
            (TypeError, (ok_ids, np.array(["0.5", "0.5"]), ok_f)),
            (TypeError, (ok_ids, ok_e, np.array([10 + 1j, 11]))),
            (TypeError, (ok_ids, ok_e, np.array([object(), object()]))),
            (ValueError, (np.array([3, -4]), ok_e, ok_f)),  # negative ids
            (ValueError, (ok_ids, np.array([0.5]), ok_f)),  # lengths
            (ValueError, (ok_ids, ok_e, np.array([1.0, 2.0, 3.0]))),
            (ValueError, (ok_ids.reshape(2, 1), ok_e, ok_f)),  # not 1-D
            (ValueError, (np.uint64(3), 0.5, 10.0)),
        ]
        for exc, args in cases:
            with self.unchanged(exc):
                self.engine.observe_batch(*args)
        with self.unchanged(ValueError):
            self.engine.observe_batch(ok_ids, ok_e, ok_f, losses=np.array([1.0]))
        with self.unchanged(TypeError):
            self.engine.observe_batch(ok_ids, ok_e, ok_f, losses=np.array(["a", "b"]))
        # Accepted conversions: int64 ids, lists, float32, non-contiguous.
        st = self.engine.observe_batch([3, 4], np.array([0.5, 0.5], dtype=np.float32), [10, 11])
        self.assertEqual(list(st["observations"]), [1, 1])
        st = self.engine.observe_batch(np.array([3, 9, 4, 9])[::2], np.array([1.0, 0, 1.0, 0])[::2], np.array([10.0, 0, 11.0, 0])[::2])
        self.assertEqual(list(st["observations"]), [2, 2])
        self.assertEqual(len(self.engine.observe_batch([], [], [])), 0)

    def test_batch_all_or_nothing(self):
        with self.unchanged(penguin.InvalidFitnessError) as u:
            self.engine.observe_batch([5, 6, 7], [0.5, 0.5, 0.5], [1.0, math.nan, 2.0])
        self.assertIn("1", u.error.message)  # the entry is named
        # Network 1 is at epoch 2.5: entry 1 is refused, entry 0 is undone.
        with self.unchanged(penguin.EpochNotIncreasingError):
            self.engine.observe_batch([8, 1], [0.5, 1.0], [10.0, 50.0])

    def test_keys(self):
        with self.assertRaises(penguin.UnknownConfigKeyError):
            penguin.Engine(nope=1)
        with self.assertRaises(penguin.UnknownConfigKeyError):
            penguin.Engine({"nope": 1})
        with self.assertRaises(TypeError):
            penguin.Engine(warm_start=True)
        with self.assertRaises(TypeError):
            penguin.Engine(e_pred=object())
        with self.assertRaises(TypeError):
            penguin.Engine(config=12)
        # Accepted spellings: numbers, strings, lists, (lower, upper) bounds, a
        # dict, a file.
        penguin.Engine(e_pred=20, t=0.25, function="exp3", p0=[10, 1.5, 100], bounds=([0.5, 1, 0], [200, math.inf, math.inf]))
        penguin.Engine({"e_pred": "10"}, N=2, alternatives=["vap3", "pow3"], combine="mean")
        path = os.path.join(TMP, "keys.conf")
        with open(path, "w") as fh:
            fh.write("# a comment\ne_pred = 10\nN = 2\n")
        self.assertEqual(penguin.Engine(path, t=1).observe(1, 0.5, 10.0).observations, 1)
        with open(path, "w") as fh:
            fh.write("e_pred = 10\nbogus = 2\n")
        with self.assertRaises(penguin.UnknownConfigKeyError):
            penguin.Engine(path)

    def test_closed_engine(self):
        e = penguin.Engine()
        e.close()
        e.close()
        with self.assertRaises(ValueError):
            e.observe(1, 0.5, 10.0)
        with penguin.Engine() as e2:
            e2.observe(1, 0.5, 10.0)
        with self.assertRaises(ValueError):
            len(e2)


class UserFunctions(unittest.TestCase):
    def tearDown(self):
        for name in ("py_exp3", "py_exp3_nojac", "raises", "bad_shape", "nan_fn", "raises_jac"):
            penguin.unregister_function(name)

    def test_python_exp3_decides_as_the_builtin(self):
        # As c-tests/user_function.c: exp3 as a - exp((c - x) ln b), with the
        # SciPy-compatible solver, on the first 30 bundled CNNs.
        def jac(x, p):
            lb = math.log(p[1])
            out = np.empty((len(x), 3))
            for i, xi in enumerate(x):
                pw = math.exp((p[2] - xi) * lb)
                out[i] = (1.0, -(p[2] - xi) * pw / p[1], -pw * lb)
            return out

        penguin.register_function("py_exp3", 3, exp3, jac, p0=[10, 1.001, 100])
        from support import curves

        ds = curves("fmnist_random_cnn.csv")
        settings = dict(bounds="0.5,1,0;200,inf,inf", p0="10,1.001,100", solver="trf", threads=1)
        builtin = penguin.Engine(function="exp3", **settings)
        user = penguin.Engine(function="py_exp3", **settings)
        self.assertFalse(builtin._guard)
        self.assertTrue(user._guard)
        for k, net in enumerate(ds.networks[:30]):
            for e, v in zip(net.epochs, net.values):
                a, b = builtin.observe(k, e, v), user.observe(k, e, v)
                self.assertEqual((a.state, a.epoch, a.observations), (b.state, b.epoch, b.observations), "network %d" % k)
                self.assertTrue(a.prediction == b.prediction or (math.isnan(a.prediction) and math.isnan(b.prediction)), "network %d: %r %r" % (k, a.prediction, b.prediction))
                if a.stop:
                    break
        # Batched on 2 threads: the callbacks run on the pool's threads too.
        user2 = penguin.Engine(function="py_exp3", **dict(settings, threads=2))
        net = ds.networks[0]
        st = user2.observe_batch(np.zeros(10, dtype=np.uint64) + 5, net.epochs[:10], net.values[:10])
        self.assertGreater(user2.status(5).fits, 0)
        # A state that names it loads while it is registered, not after.
        data = user.to_bytes()
        again = penguin.Engine.from_bytes(data)
        self.assertEqual(again.status(0), user.status(0))
        penguin.unregister_function("py_exp3")
        with self.assertRaises(penguin.UnknownFunctionError):
            penguin.Engine.from_bytes(data)

    def test_without_jacobian(self):
        penguin.register_function("py_exp3_nojac", 3, exp3, p0=[10, 1.001, 100], bounds=([0.5, 1, 0], [200, math.inf, math.inf]))
        e = penguin.Engine(function="py_exp3_nojac")
        s = rising(e, 1, 40)
        self.assertTrue(s.stop)
        self.assertGreater(e.status(1).fits, 0)

    def test_a_raising_callable_undoes_the_call(self):
        calls = [0]
        armed = [False]

        def f(x, p):
            calls[0] += 1
            if armed[0]:
                raise ZeroDivisionError("on purpose")
            return exp3(x, p)

        penguin.register_function("raises", 3, f, p0=[10, 1.001, 100])
        e = penguin.Engine(function="raises", threads=1)
        for k in range(3):  # the third observation fits
            e.observe(1, *point(k))
        self.assertGreater(calls[0], 3)
        armed[0] = True
        with Unchanged(self, e, penguin.CallbackError) as u:
            e.observe(1, *point(3))
        self.assertIsInstance(u.error.__cause__, ZeroDivisionError)
        self.assertIn("raises", str(u.error))
        self.assertIsNone(u.error.code)
        self.assertTrue(issubclass(penguin.CallbackError, penguin.PenguinError))
        # Batches too (on 2 threads), all or nothing.
        e2 = penguin.Engine(function="raises", threads=2)
        armed[0] = False
        for n in (1, 2, 3):
            e2.observe_batch([n, n], [0.5, 1.0], [10.0, 20.0 + n])
        armed[0] = True
        with Unchanged(self, e2, penguin.CallbackError):
            e2.observe_batch([4, 1, 2, 3], [0.5, 1.5, 1.5, 1.5], [10.0, 50.0, 51.0, 52.0])

    def test_a_raising_jacobian_and_a_wrong_shape(self):
        def jac(x, p):
            raise RuntimeError("no Jacobian today")

        penguin.register_function("raises_jac", 3, exp3, jac, p0=[10, 1.001, 100])
        penguin.register_function("bad_shape", 3, lambda x, p: np.zeros(len(x) + 1), p0=[10, 1.001, 100])
        for name, cause in (("raises_jac", RuntimeError), ("bad_shape", ValueError)):
            e = penguin.Engine(function=name)
            e.observe(1, *point(0))
            e.observe(1, *point(1))
            with Unchanged(self, e, penguin.CallbackError) as u:
                e.observe(1, *point(2))  # the first fit
            self.assertIsInstance(u.error.__cause__, cause)
            self.assertEqual(e.status(1).observations, 2)

    def test_nan_values_are_not_errors(self):
        # As in C: the fit fails, the network keeps training.
        penguin.register_function("nan_fn", 3, lambda x, p: np.full(len(x), math.nan), p0=[10, 1.001, 100])
        e = penguin.Engine(function="nan_fn")
        s = rising(e, 1, 10)
        self.assertEqual(s.state, "continue")
        self.assertTrue(math.isnan(s.prediction))

    def test_arguments_checked_at_registration(self):
        with self.assertRaises(ValueError):
            penguin.register_function("f", 3, exp3, p0=[1, 2])
        with self.assertRaises(TypeError):
            penguin.register_function("f", 3, "not callable")
        with self.assertRaises(TypeError):
            penguin.register_function(3, 3, exp3)
        with self.assertRaises(penguin.InvalidArgumentError):
            penguin.register_function("f", 3, exp3, p0=[math.nan, 1, 1])

    def test_unused_functions_cost_nothing(self):
        penguin.register_function("py_exp3", 3, exp3, p0=[10, 1.001, 100])
        self.assertFalse(penguin.Engine()._guard)
        self.assertTrue(penguin.Engine(alternatives="py_exp3")._guard)


class Checkpoints(unittest.TestCase):
    def test_save_load_path_bytes_pickle(self):
        import copy
        import pickle

        a = penguin.Engine(e_pred=10)
        for k in range(5):
            rising(a, k, 3 + k)
        path = os.path.join(TMP, "engine.state")
        a.save(path)
        copies = [
            penguin.Engine.load(path),
            penguin.Engine.load(a.to_bytes()),
            penguin.Engine.from_bytes(bytearray(a.to_bytes())),
            pickle.loads(pickle.dumps(a)),
            copy.deepcopy(a),
        ]
        for c in copies:
            self.assertEqual(c.to_bytes(), a.to_bytes())
            self.assertEqual(len(c), 5)
        # Each goes on deciding as the original.
        for k in range(5):
            if a.status(k).stop:
                continue
            want = rising(a, k, 40, start=0.5 * (4 + k))
            for c in copies:
                self.assertEqual(rising(c, k, 40, start=0.5 * (4 + k)), want)

    def test_status_forget_len(self):
        e = penguin.Engine()
        s = e.observe(3, 0.5, 10.0, loss=2.3)
        self.assertEqual((s.state, s.observations, s.epoch), ("continue", 1, 0.5))
        self.assertTrue(math.isnan(s.prediction))
        self.assertFalse(s.stop)
        self.assertEqual(e.status(3), s)
        self.assertEqual(len(e), 1)
        e.forget(3)
        self.assertEqual(len(e), 0)
        with self.assertRaises(penguin.UnknownNetworkError):
            e.status(3)
        s = rising(e, 4, 40)
        self.assertEqual(s.state, "converged")
        self.assertTrue(s.prediction_lo <= s.prediction <= s.prediction_hi)
        self.assertEqual(len(s.params), 3)
        self.assertIn("converged", repr(s))


if __name__ == "__main__":
    unittest.main()
