"""What the Optuna pruner and the DeepHyper stopper need to know of a
configuration before the engine exists: ``E`` (epochs per step) and ``e_pred``.

They are read back from the C library (``penguin_config_get``) after the
configuration file and the keys are applied in a throwaway configuration, so
that what sets them indirectly (``preset = a4nn`` sets ``E = 1`` and
``e_pred = 26``) counts exactly as the engine will count it.
"""

import ctypes
import os

from ._capi import lib
from ._errors import UnknownFunctionError, check


def key_value(config, keys, name):
    """The float value of key ``name`` as the engine will have it."""
    from .engine import _value_text

    items = []
    path = None
    if config is not None and hasattr(config, "items"):
        items.extend(config.items())
    elif config is not None:
        path = config
    items.extend(keys.items())
    cfg = ctypes.c_void_p()
    check(lib.penguin_config_new(ctypes.byref(cfg)))
    try:
        if path is not None:
            try:
                check(lib.penguin_config_load(cfg, os.fsencode(path)))
            except UnknownFunctionError:
                # A Python function the engine registers: the file's other
                # lines one by one (a file is all or nothing).
                # In the file's order, before the keys given.
                lines = []
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        line = line.split("#", 1)[0]
                        if "=" in line:
                            k, v = line.split("=", 1)
                            lines.append((k.strip(), v.strip()))
                items[:0] = lines
        for k, v in items:
            try:
                check(lib.penguin_config_set(cfg, k.encode("utf-8"), _value_text(k, v).encode("utf-8")))
            except UnknownFunctionError:
                pass
        n = ctypes.c_size_t()
        check(lib.penguin_config_get(cfg, name.encode("utf-8"), None, 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        check(lib.penguin_config_get(cfg, name.encode("utf-8"), buf, n.value + 1, None))
        return float(buf.value.decode("utf-8"))
    finally:
        lib.penguin_config_free(cfg)
