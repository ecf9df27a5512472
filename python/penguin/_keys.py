"""What the Optuna pruner and the DeepHyper stopper need to know of a
configuration before the engine exists: ``E`` (epochs per step) and ``e_pred``.

The C API has no getter for configuration values, so they are read from the
keys given, else from the configuration file's ``key = value`` lines (the
format of ``penguin_config_load``: ``#`` starts a comment), else the C
library's defaults (the paper's: ``E`` = 0.5, ``e_pred`` = 20). The engine
itself is configured by the library from the same keys and file.
"""

import os

DEFAULTS = {"E": 0.5, "e_pred": 20.0}


def key_value(config, keys, name):
    """The float value of key ``name`` as the engine will have it."""
    if name in keys:
        return float(keys[name])
    if config is not None and hasattr(config, "items"):
        if name in config:
            return float(config[name])
    elif config is not None:
        value = None
        try:
            with open(os.fsdecode(config), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    line = line.split("#", 1)[0]
                    if "=" not in line:
                        continue
                    k, v = line.split("=", 1)
                    if k.strip() == name:
                        value = v.strip()
        except OSError:
            pass  # the engine reports it
        if value is not None:
            return float(value)
    return DEFAULTS[name]
