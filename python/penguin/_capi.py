"""The C API of ``include/penguin.h`` declared for ctypes.

Every declaration here mirrors the header; ``python/tests/test_header.py``
parses the header and fails when they drift apart (names, argument and return
types, the layout of ``penguin_nn_status_t``, the constants).

The library is the ``libpenguin`` shipped inside this package, loaded by its
absolute path (never from the system's search path, so that the package always
talks to the library it was built with).
"""

import ctypes
import os
import sys

# Constants of the header (PENGUIN_*).
VERSION_MAJOR = 0
VERSION_MINOR = 2
MAX_PARAMS = 8
CONTINUE = 0
CONVERGED = 1
REACHED_E_PRED = 2
OK = 0

#: Error codes of the header, by number (PENGUIN_ERROR_*).
ERROR_CODES = {
    1: "NULL_ARGUMENT",
    2: "INVALID_EPOCH",
    3: "INVALID_FITNESS",
    4: "EPOCH_NOT_INCREASING",
    5: "UNKNOWN_NETWORK",
    6: "ALREADY_DECIDED",
    7: "UNKNOWN_CONFIG_KEY",
    8: "INVALID_CONFIG_VALUE",
    9: "INCONSISTENT_CONFIG",
    10: "UNKNOWN_FUNCTION",
    11: "IO",
    12: "INVALID_STATE",
    13: "STATE_VERSION",
    14: "INVALID_ARGUMENT",
    15: "INTERNAL",
    16: "BUFFER_TOO_SMALL",
    17: "BUSY",
}


class NNStatus(ctypes.Structure):
    """``penguin_nn_status_t``."""

    _fields_ = [
        ("state", ctypes.c_int32),
        ("observations", ctypes.c_uint32),
        ("prediction", ctypes.c_double),
        ("fit_prediction", ctypes.c_double),
        ("epoch", ctypes.c_double),
        ("fits", ctypes.c_uint32),
        ("n_params", ctypes.c_uint32),
        ("params", ctypes.c_double * MAX_PARAMS),
        ("prediction_lo", ctypes.c_double),
        ("prediction_hi", ctypes.c_double),
    ]


c_result = ctypes.c_int32
c_handle = ctypes.c_void_p
c_double_p = ctypes.POINTER(ctypes.c_double)

#: ``penguin_model_fn`` and ``penguin_jacobian_fn`` (same signature).
MODEL_FN = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, c_double_p, c_double_p, c_double_p
)

# (name, restype, argtypes). Arrays of the batch calls are c_void_p so that a
# numpy array's address goes through as a plain integer.
_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_S = ctypes.c_char_p
_U64 = ctypes.c_uint64
_D = ctypes.c_double
_ST = ctypes.POINTER(NNStatus)
_SZ = ctypes.c_size_t
_SZP = ctypes.POINTER(ctypes.c_size_t)
FUNCTIONS = [
    ("penguin_version", _S, []),
    ("penguin_version_number", ctypes.c_uint32, []),
    ("penguin_config_new", c_result, [_PP]),
    ("penguin_config_set", c_result, [_P, _S, _S]),
    ("penguin_config_load", c_result, [_P, _S]),
    ("penguin_config_get", c_result, [_P, _S, ctypes.c_char_p, _SZ, _SZP]),
    (
        "penguin_config_set_function",
        c_result,
        [_P, _S, ctypes.c_uint32, MODEL_FN, MODEL_FN, _P, c_double_p, c_double_p, c_double_p],
    ),
    ("penguin_config_free", None, [_P]),
    ("penguin_new", c_result, [_P, _PP]),
    ("penguin_free", None, [_P]),
    ("penguin_observe", c_result, [_P, _U64, _D, _D, _ST]),
    ("penguin_observe_batch", c_result, [_P, _SZ, _P, _P, _P, _P]),
    ("penguin_observe_batch_with_loss", c_result, [_P, _SZ, _P, _P, _P, _P, _P]),
    ("penguin_observe_with_loss", c_result, [_P, _U64, _D, _D, _D, _ST]),
    ("penguin_status", c_result, [_P, _U64, _ST]),
    ("penguin_forget", c_result, [_P, _U64]),
    ("penguin_network_count", c_result, [_P, _SZP]),
    ("penguin_result_string", _S, [c_result]),
    ("penguin_last_error_message", _SZ, [ctypes.c_char_p, _SZ]),
    ("penguin_save", c_result, [_P, _S]),
    ("penguin_load", c_result, [_S, _PP]),
    ("penguin_load_with_config", c_result, [_S, _P, _PP]),
    ("penguin_state_size", c_result, [_P, _SZP]),
    ("penguin_save_to_buffer", c_result, [_P, _P, _SZ, _SZP]),
    ("penguin_load_from_buffer", c_result, [_P, _SZ, _PP]),
    ("penguin_load_from_buffer_with_config", c_result, [_P, _SZ, _P, _PP]),
]


def library_file_name():
    """The file name of the shared library inside the package."""
    if sys.platform == "darwin":
        return "libpenguin.dylib"
    if sys.platform == "win32":
        return "penguin.dll"
    # The SONAME: what a C program linked with -lpenguin loads.
    return "libpenguin.so.%d.%d" % (VERSION_MAJOR, VERSION_MINOR)


LIBRARY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), library_file_name())


def _load():
    if not os.path.exists(LIBRARY_PATH):
        raise ImportError(
            "penguin: the C library %s is missing; install the package with "
            "`pip install ./python` from a Penguin checkout, which builds it" % LIBRARY_PATH
        )
    # CDLL (not PyDLL): every call releases the GIL, so other Python threads run
    # while Penguin fits, and a second thread on the same engine gets
    # PENGUIN_ERROR_BUSY from the library instead of waiting.
    lib = ctypes.CDLL(LIBRARY_PATH)
    for name, restype, argtypes in FUNCTIONS:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    number = lib.penguin_version_number()
    if number // 100 != VERSION_MAJOR * 100 + VERSION_MINOR:
        raise ImportError(
            "penguin: %s is version %s; this package needs %d.%d.x"
            % (LIBRARY_PATH, lib.penguin_version().decode(), VERSION_MAJOR, VERSION_MINOR)
        )
    return lib


lib = _load()


def last_error_message():
    """The calling thread's last error message (``penguin_last_error_message``)."""
    n = lib.penguin_last_error_message(None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    lib.penguin_last_error_message(buf, n + 1)
    return buf.value.decode("utf-8", "replace")
