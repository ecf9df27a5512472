"""Penguin side by side with the pruners NAS and HPO users run today.

    python -m penguin.compare CURVES.csv [--e-pred 20] [--json OUT]
    python -m penguin.compare --bench

Replays every network of a learning-curve CSV (``penguin replay``'s format:
``model_id``, ``epoch``, ``val_acc``, optional ``val_loss`` and ``dataset``)
through Penguin and through Optuna's ``MedianPruner``,
``SuccessiveHalvingPruner``, ``HyperbandPruner`` and ``PatientPruner`` (and
DeepHyper's ``LCModelStopper`` when DeepHyper and its jax extra are installed),
and prints for each, per data set:

- ``mean_epochs``: mean epochs trained per network (the epoch of the
  observation at which the method stopped it, or of its last one up to
  ``e_pred``);
- ``regret_at_10``: regret of the chosen top 10, in fitness points: the mean
  observed fitness at ``e_pred`` of the true top 10 minus that of the top 10 by
  the method's own estimate (Penguin's answer, with ``select_halving`` the
  networks Penguin trained furthest first, rung by rung, as ``penguin
  replay`` picks; a pruner's last reported value); for ``--direction minimize`` the chosen minus the true, so >= 0 both
  ways. ``null`` when there are not more networks than the top;
- ``mae``: mean |estimate - observed fitness at e_pred| for methods that
  predict (Penguin), else ``null``;
- ``seconds_per_observation``: time inside the method's decision calls per
  observation (``observe_batch`` for Penguin, ``trial.should_prune()`` for
  Optuna, ``job.stopped()`` for DeepHyper).

Penguin rows (``penguin paper``: the default configuration, ``penguin
robust``: ``preset=robust`` while the library has presets, and any
``--penguin``/``--preset``) replay like ``penguin replay``
(``--penguin-order synchronous``: all networks advance epoch by epoch, one
``observe_batch`` per epoch, so the numbers equal ``penguin replay FILE``'s
``mean_stop_epoch`` and ``mae``), or trial after trial through
``penguin.optuna.PenguinPruner`` in a real Optuna study
(``--penguin-order sequential``). The other methods run as their users run
them: trials one after another in file order, each pruner seeing the trials
before; step = observation index from 1. ``--shuffles K`` adds the mean
(and range) over K shuffled trial orders for the order-dependent methods.

``--bench`` times a batch of 10,000 observations through
``Engine.observe_batch`` against the same batch through the C API's
``penguin_observe_batch`` called directly (ctypes, prebuilt arrays and output
buffer), alternating the two, and prints the medians and their ratio.
"""

import argparse
import collections
import copy
import ctypes
import csv
import json
import math
import os
import random
import re
import statistics
import sys
import time

import numpy as np

from . import _capi, _pick
from ._errors import InconsistentConfigError, PenguinError, UnknownConfigKeyError
from .engine import CONTINUE, REACHED_E_PRED, STATUS_DTYPE, Engine

# --- curves ------------------------------------------------------------------


class Network:
    __slots__ = ("id", "epochs", "values", "losses")

    def __init__(self, id):
        self.id = id
        self.epochs = []
        self.values = []
        self.losses = []


class Dataset:
    def __init__(self, name):
        self.name = name
        self.networks = []
        self.has_loss = False


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load_curves(path, id_col="model_id", epoch_col="epoch", metric="val_acc",
                loss_col="val_loss", group_col="dataset"):
    """Data sets of networks from a long-format CSV, as ``penguin replay`` reads
    it: rows with a non-finite fitness or an epoch <= 0 are skipped; a
    network's epochs must increase."""
    stem = os.path.splitext(os.path.basename(path))[0]
    sets = collections.OrderedDict()
    index = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        for col in (id_col, epoch_col, metric):
            if col not in fields:
                raise SystemExit("%s: no column %r (columns: %s)" % (path, col, ", ".join(fields)))
        has_group = group_col is not None and group_col in fields
        has_loss = loss_col in fields
        for line, row in enumerate(reader, 2):
            name = row[group_col].strip() if has_group else ""
            name = name or stem
            d = sets.get(name)
            if d is None:
                d = sets[name] = Dataset(name)
                d.has_loss = has_loss
            e = _number(row[epoch_col])
            if e is None or not math.isfinite(e):
                raise SystemExit("%s: line %d: %s %r is not a finite number" % (path, line, epoch_col, row[epoch_col]))
            v = _number(row[metric]) if row[metric].strip() else float("nan")
            if v is None:
                raise SystemExit("%s: line %d: %s %r is not a number" % (path, line, metric, row[metric]))
            key = (name, row[id_col].strip())
            net = index.get(key)
            if net is None:
                net = index[key] = Network(key[1])
                d.networks.append(net)
            if not math.isfinite(v) or e <= 0:
                continue
            if net.epochs and e <= net.epochs[-1]:
                raise SystemExit("%s: line %d: network %r: epoch %r is not after %r" % (path, line, key[1], e, net.epochs[-1]))
            loss = _number(row[loss_col]) if has_loss else None
            net.epochs.append(e)
            net.values.append(v)
            net.losses.append(float("nan") if loss is None else loss)
    for d in sets.values():
        d.networks = [n for n in d.networks if n.epochs]
    return [d for d in sets.values() if d.networks]


def first_step(datasets):
    """The first epoch step in the file: the first network's second epoch minus
    its first (its first epoch when it has one)."""
    for d in datasets:
        for n in d.networks:
            if len(n.epochs) >= 2:
                return n.epochs[1] - n.epochs[0]
            return n.epochs[0]
    return 0.5


def budget(net, e_pred):
    """How many observations a network trains: up to and including the first
    at or after e_pred (all of a shorter curve)."""
    for k, e in enumerate(net.epochs):
        if e >= e_pred:
            return k + 1
    return len(net.epochs)


def ground_truth(net, e_pred):
    """The observed fitness at the last observation at or before e_pred."""
    v = float("nan")
    for e, x in zip(net.epochs, net.values):
        if e > e_pred:
            break
        v = x
    return v


# --- scores ------------------------------------------------------------------


def _ranked(indices, value, maximize):
    def key(i):
        v = value[i]
        if v != v:
            return (1, 0.0, i)
        return (0, -v if maximize else v, i)

    return sorted(indices, key=key)


def regret(estimates, truths, maximize, top):
    """Mean truth of the true top minus that of the top by estimate (the
    reverse when minimizing); None when there are not more networks than top."""
    idx = [i for i, t in enumerate(truths) if t == t]
    if top <= 0 or top >= len(idx):
        return None
    chosen = _ranked(idx, estimates, maximize)[:top]
    best = _ranked(idx, truths, maximize)[:top]
    # Correctly rounded sums: the same networks in another order give 0 exactly.
    a = math.fsum(truths[i] for i in best) / top
    b = math.fsum(truths[i] for i in chosen) / top
    return a - b if maximize else b - a


def halving_rungs(keys):
    """The epochs of select_halving's rungs for these engine keys (a
    ``config`` file among them), as the engine places them (empty when it is
    off); see
    :func:`penguin._pick.halving_rungs`."""
    keys = dict(keys)
    config = keys.pop("config", None)
    return _pick.halving_rungs(config, keys)


def pick_order(run):
    """What a method's top is chosen by: its estimates; for Penguin with
    ``select_halving``, first how far halving trained each network (the ones
    trained to e_pred, its finalists, before all others; then those stopped at
    a later rung, counted as the rungs at or before the stop epoch), each group
    by its estimates, as ``penguin replay`` picks (see :mod:`penguin._pick`)."""
    # The epoch the engine saw (step x E trial after trial), else the file's.
    epochs = run.engine_epoch if run.engine_epoch is not None else run.stop_epoch
    return _pick.pick_keys(run.estimate, run.maximize, run.finalist, epochs, run.rungs)


def mae(estimates, truths):
    errors = [abs(e - t) for e, t in zip(estimates, truths) if t == t]
    return sum(errors) / len(errors) if errors else None


class Run:
    """One method on one trial order: per network (file index) its stop epoch
    and estimate, and the decision time."""

    def __init__(self, n):
        self.stop_epoch = [float("nan")] * n
        self.estimate = [float("nan")] * n
        self.seconds = 0.0
        self.observations = 0
        # Per network, whether it was trained to e_pred, when the top goes to
        # those first (Penguin with select_halving); None otherwise. Then the
        # rungs' epochs (see pick_order).
        self.finalist = None
        self.rungs = None
        self.engine_epoch = None
        self.maximize = True

    def mean_epochs(self):
        return sum(self.stop_epoch) / len(self.stop_epoch)


# --- Penguin -------------------------------------------------------------------


def penguin_synchronous(ds, keys):
    """``penguin replay``'s order: one observe_batch per epoch with the next
    observation of every network still training."""
    nets = ds.networks
    n = len(nets)
    engine = Engine(**keys)
    run = Run(n)
    rungs = halving_rungs(keys)  # empty without select_halving
    if rungs:
        run.finalist = [False] * n
        run.rungs = rungs
        run.maximize = str(keys.get("direction", "maximize")) != "minimize"
    epochs = sorted({e for net in nets for e in net.epochs})
    cursor = [0] * n
    done = [False] * n
    for epoch in epochs:
        members = [
            i
            for i in range(n)
            if not done[i] and cursor[i] < len(nets[i].epochs) and nets[i].epochs[cursor[i]] == epoch
        ]
        if not members:
            continue
        ids = np.array(members, dtype=np.uint64)
        eps = np.full(len(members), epoch)
        vals = np.array([nets[i].values[cursor[i]] for i in members])
        losses = np.array([nets[i].losses[cursor[i]] for i in members]) if ds.has_loss else None
        t0 = time.perf_counter()
        st = engine.observe_batch(ids, eps, vals, losses)
        run.seconds += time.perf_counter() - t0
        run.observations += len(members)
        for j, i in enumerate(members):
            cursor[i] += 1
            ended = cursor[i] == len(nets[i].epochs)
            if st["state"][j] != CONTINUE:
                if run.finalist is not None:
                    run.finalist[i] = st["state"][j] == REACHED_E_PRED
                run.stop_epoch[i] = float(st["epoch"][j])
                run.estimate[i] = float(st["prediction"][j])
                done[i] = True
            elif ended:
                run.stop_epoch[i] = float(st["epoch"][j])
                run.estimate[i] = nets[i].values[-1]
                done[i] = True
    engine.close()
    return run


# --- Optuna --------------------------------------------------------------------


def _optuna():
    try:
        import optuna
    except ImportError:
        raise SystemExit("penguin.compare needs Optuna: pip install optuna")
    import warnings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # PatientPruner is "experimental" (since Optuna 2.8): said once here, in the docs.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def optuna_run(ds, order, make_pruner, maximize, e_pred, penguin_pruner=False, rungs=None):
    """The networks as Optuna trials, one after another in `order`: trial k
    replays network order[k], reporting observation j at step j (from 1) and
    asking should_prune() after each; a pruned trial raises TrialPruned.
    ``rungs`` (Penguin with select_halving: its rungs' epochs): the top goes
    to the trials Penguin trained furthest first (see :func:`pick_order`)."""
    optuna = _optuna()
    nets = ds.networks
    run = Run(len(nets))
    finalists = rungs is not None
    if finalists:
        run.finalist = [False] * len(nets)
        run.rungs = rungs
        run.engine_epoch = [float("nan")] * len(nets)
        run.maximize = maximize
    pruner = make_pruner()
    study = optuna.create_study(
        # A fixed name: HyperbandPruner puts trials in brackets by a hash of
        # the study's name and the trial number (a random name, a random run).
        study_name="penguin.compare",
        direction="maximize" if maximize else "minimize",
        pruner=pruner,
        sampler=optuna.samplers.RandomSampler(seed=0),
    )

    def objective(trial):
        i = order[trial.number]
        net = nets[i]
        m = budget(net, e_pred)
        for k in range(m):
            trial.report(net.values[k], k + 1)
            t0 = time.perf_counter()
            prune = trial.should_prune()
            run.seconds += time.perf_counter() - t0
            run.observations += 1
            if prune or k == m - 1:
                run.stop_epoch[i] = net.epochs[k]
                run.estimate[i] = net.values[k]
                if penguin_pruner:
                    s = pruner.status(trial)
                    if s is not None and s.state != "continue":
                        run.estimate[i] = s.prediction
                    if finalists:
                        run.finalist[i] = s is not None and s.state == "reached_e_pred"
                        run.engine_epoch[i] = s.epoch if s is not None else run.stop_epoch[i]
                if prune:
                    raise optuna.TrialPruned()
        return net.values[m - 1]

    study.optimize(objective, n_trials=len(order))
    return run


# --- DeepHyper -----------------------------------------------------------------


def deephyper_available():
    try:
        import jax  # noqa: F401
        from deephyper.stopper import LCModelStopper  # noqa: F401
    except Exception:
        return False
    return True


def lcmodel_run(ds, order, maximize, e_pred, max_steps, progress=None):
    """DeepHyper's LCModelStopper as a search runs it: each job a RunningJob
    with a deep copy of the stopper and the search's storage (so it sees the
    jobs before), recording budget = observation index from 1; the job's
    output is its last value. DeepHyper maximizes: a minimized metric is
    recorded negated."""
    import jax
    from deephyper.evaluator import RunningJob
    from deephyper.evaluator.storage import MemoryStorage
    from deephyper.stopper import LCModelStopper

    nets = ds.networks
    run = Run(len(nets))
    storage = MemoryStorage()
    search_id = storage.create_new_search()
    template = LCModelStopper(max_steps=max_steps)
    sign = 1.0 if maximize else -1.0
    for done, i in enumerate(order):
        net = nets[i]
        job_id = storage.create_new_job(search_id)
        stopper = copy.deepcopy(template)
        job = RunningJob(id=job_id, parameters={}, storage=storage, stopper=stopper)
        stopper.job = job
        m = budget(net, e_pred)
        for k in range(m):
            job.record(budget=k + 1, objective=sign * net.values[k])
            t0 = time.perf_counter()
            stopped = job.stopped()
            run.seconds += time.perf_counter() - t0
            run.observations += 1
            if stopped or k == m - 1:
                run.stop_epoch[i] = net.epochs[k]
                run.estimate[i] = net.values[k]
                storage.store_job_out(job_id, sign * net.values[k])
                break
        # A long run in one process aborts after ~150 fits without this.
        jax.clear_caches()
        if progress:
            progress(done + 1, len(order))
    return run


# --- the peers -----------------------------------------------------------------


class Peer:
    def __init__(self, name, kind, order_dependent, runner, predicts=False):
        self.name = name
        self.kind = kind
        self.order_dependent = order_dependent
        self.runner = runner  # runner(ds, order) -> Run
        self.predicts = predicts


def _split_keys(text):
    """`k=v,k=v` where values may hold commas (bounds, alternatives): a piece
    without `=` belongs to the value before it."""
    pairs = []
    for piece in text.split(","):
        if "=" in piece:
            k, v = piece.split("=", 1)
            pairs.append([k.strip(), v.strip()])
        elif pairs:
            pairs[-1][1] += "," + piece.strip()
        elif piece.strip():
            raise SystemExit("--penguin: %r is not key=value" % piece)
    return dict(pairs)


def penguin_configs(args, common):
    """(row name, keys) of the Penguin rows; `penguin robust` where it applies:
    it needs the chance level (`--chance-level`, 100 / the number of classes)
    and an accuracy-like fitness; otherwise the row is left out with a note."""
    rows = [("penguin paper", dict(common))]
    wanted = list(args.preset or [])
    if "robust" not in wanted and not args.no_robust:
        try:
            Engine(preset="robust", **common).close()
            rows.append(("penguin robust", dict(common, preset="robust")))
        except UnknownConfigKeyError:
            pass
        except InconsistentConfigError as e:
            print(
                "python -m penguin.compare: penguin robust left out (%s); give "
                "--chance-level (100 / the number of classes) to compare it" % e,
                file=sys.stderr,
            )
    for p in wanted:
        rows.append(("penguin %s" % p, dict(common, preset=p)))
    for spec in args.penguin or []:
        if "=" not in spec:
            raise SystemExit("--penguin NAME=key=value,...: %r" % spec)
        name, rest = spec.split("=", 1)
        rows.append(("penguin %s" % name, dict(common, **_split_keys(rest))))
    for name, keys in rows:
        try:
            Engine(**keys).close()  # a bad key fails here, before any replay
        except PenguinError as e:
            raise SystemExit("python -m penguin.compare: %s: %s" % (name, e))
    return rows


def make_peers(args, common, maximize, e_pred, E):
    optuna = _optuna()
    P = optuna.pruners
    peers = []
    steps = int(round(e_pred / E))
    for name, keys in penguin_configs(args, common):
        if args.penguin_order == "synchronous":
            peers.append(Peer(name, "penguin", False, lambda ds, order, k=keys: penguin_synchronous(ds, k), True))
        else:
            from .optuna import PenguinPruner

            peers.append(
                Peer(
                    name,
                    "penguin",
                    True,
                    lambda ds, order, k=keys: optuna_run(
                        ds,
                        order,
                        lambda: PenguinPruner(**k),
                        maximize,
                        e_pred,
                        penguin_pruner=True,
                        rungs=halving_rungs(k) or None,
                    ),
                    True,
                )
            )
    pruners = [
        ("MedianPruner()", lambda: P.MedianPruner()),
        ("MedianPruner(n_startup_trials=5, n_warmup_steps=4)", lambda: P.MedianPruner(n_startup_trials=5, n_warmup_steps=4)),
        ("SuccessiveHalvingPruner()", lambda: P.SuccessiveHalvingPruner()),
        ("SuccessiveHalvingPruner(min_resource=4, reduction_factor=3)", lambda: P.SuccessiveHalvingPruner(min_resource=4, reduction_factor=3)),
        ("HyperbandPruner(max_resource=%d)" % steps, lambda: P.HyperbandPruner(max_resource=steps)),
        ("PatientPruner(MedianPruner(), patience=4)", lambda: P.PatientPruner(P.MedianPruner(), patience=4)),
    ]
    for name, make in pruners:
        peers.append(Peer(name, "optuna", True, lambda ds, order, m=make: optuna_run(ds, order, m, maximize, e_pred)))
    if not args.no_deephyper and deephyper_available():
        def progress(k, n):
            if args.progress:
                sys.stderr.write("\rLCModelStopper: %d/%d networks%s" % (k, n, "\n" if k == n else ""))
                sys.stderr.flush()

        peers.append(
            Peer(
                "LCModelStopper(max_steps=%d)" % steps,
                "deephyper",
                True,
                lambda ds, order: lcmodel_run(ds, order, maximize, e_pred, steps, progress),
            )
        )
    if args.peers:
        pattern = re.compile(args.peers)
        peers = [p for p in peers if pattern.search(p.name)]
    return peers


def evaluate(ds, peers, args, maximize, e_pred):
    truths = [ground_truth(n, e_pred) for n in ds.networks]
    n = len(ds.networks)
    rows = []
    file_order = list(range(n))
    rng = random.Random(args.seed)
    shuffles = []
    for _ in range(args.shuffles):
        o = list(file_order)
        rng.shuffle(o)
        shuffles.append(o)
    top = args.top
    for peer in peers:
        if args.progress:
            sys.stderr.write("%s: %s\n" % (ds.name, peer.name))
        run = peer.runner(ds, file_order)
        row = collections.OrderedDict()
        row["dataset"] = ds.name
        row["peer"] = peer.name
        row["networks"] = n
        row["mean_epochs"] = run.mean_epochs()
        row["regret_at_%d" % top] = regret(pick_order(run), truths, maximize, top)
        row["mae"] = mae(run.estimate, truths) if peer.predicts else None
        row["seconds_per_observation"] = run.seconds / run.observations if run.observations else None
        row["observations"] = run.observations
        row["order"] = "file" if peer.order_dependent else "any (synchronous)"
        over = None
        if shuffles and peer.order_dependent:
            runs = [peer.runner(ds, o) for o in shuffles]
            epochs = [r.mean_epochs() for r in runs]
            regrets = [regret(pick_order(r), truths, maximize, top) for r in runs]
            over = collections.OrderedDict()
            over["shuffles"] = len(runs)
            over["seed"] = args.seed
            over["mean_epochs"] = statistics.mean(epochs)
            over["mean_epochs_range"] = [min(epochs), max(epochs)]
            if all(r is not None for r in regrets):
                over["regret_at_%d" % top] = statistics.mean(regrets)
                over["regret_at_%d_range" % top] = [min(regrets), max(regrets)]
            else:
                over["regret_at_%d" % top] = None
                over["regret_at_%d_range" % top] = None
        row["mean_over_shuffles"] = over
        rows.append(row)
    return rows


def _fmt(v, digits=2):
    return "-" if v is None else "%.*f" % (digits, v)


def table(rows, top):
    """The rows as a Markdown table."""
    shuffled = any(r["mean_over_shuffles"] for r in rows)
    head = ["data set", "method", "mean epochs", "regret@%d (points)" % top, "MAE", "us/observation"]
    if shuffled:
        k = next(r["mean_over_shuffles"]["shuffles"] for r in rows if r["mean_over_shuffles"])
        head += ["mean epochs, %d shuffles (min-max)" % k, "regret@%d, %d shuffles (min-max)" % (top, k)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["dataset"],
            r["peer"],
            _fmt(r["mean_epochs"]),
            _fmt(r["regret_at_%d" % top]),
            _fmt(r["mae"]),
            _fmt(None if r["seconds_per_observation"] is None else r["seconds_per_observation"] * 1e6, 1),
        ]
        if shuffled:
            o = r["mean_over_shuffles"]
            if o:
                er, rr = o["mean_epochs_range"], o["regret_at_%d_range" % top]
                cells.append("%s (%s-%s)" % (_fmt(o["mean_epochs"]), _fmt(er[0]), _fmt(er[1])))
                cells.append(
                    "-" if rr is None else "%s (%s-%s)" % (_fmt(o["regret_at_%d" % top]), _fmt(rr[0]), _fmt(rr[1]))
                )
            else:
                cells += ["same (order-independent)", "same (order-independent)"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


HALVING_PEER = "SuccessiveHalvingPruner(min_resource=4, reduction_factor=3)"
REGRET_MARGIN = 0.1
EPOCH_MARGIN = 1.0


def _headline(row, top):
    """(mean epochs, regret@top, how measured) of a row: the mean over the
    shuffles when there are some and the row depends on the order, else its
    own run."""
    o = row["mean_over_shuffles"]
    if o:
        return o["mean_epochs"], o["regret_at_%d" % top], "mean over %d shuffles" % o["shuffles"]
    return row["mean_epochs"], row["regret_at_%d" % top], row["order"].split(" ")[0] + " order"


def against_halving(rows, top):
    """Sets each Penguin row against the halving pruner's row of its data set:
    adds `vs_successive_halving` to the Penguin rows and returns the lines to
    print (none when that pruner was not run)."""
    yes = {True: "yes", False: "no", None: "-"}
    lines = []
    for sh in [r for r in rows if r["peer"] == HALVING_PEER]:
        sh_epochs, sh_regret, sh_how = _headline(sh, top)
        mine = [r for r in rows if r["dataset"] == sh["dataset"] and r["peer"].startswith("penguin ")]
        if mine:
            lines.append("Against %s (%s) on %s:" % (HALVING_PEER, sh_how, sh["dataset"]))
        for r in mine:
            epochs, reg, how = _headline(r, top)
            v = collections.OrderedDict()
            v["pruner"] = HALVING_PEER
            v["pruner_mean_epochs"] = sh_epochs
            v["pruner_regret_at_%d" % top] = sh_regret
            v["epochs_over"] = epochs - sh_epochs
            v["regret_over"] = None if reg is None or sh_regret is None else reg - sh_regret
            # within the margin up to rounding (0.40 - 0.30 is 0.10000000000000003)
            v["ranks_as_well"] = None if v["regret_over"] is None else v["regret_over"] <= REGRET_MARGIN + 1e-9
            v["at_its_cost"] = v["epochs_over"] <= EPOCH_MARGIN + 1e-9
            r["vs_successive_halving"] = v
            lines.append(
                "- %s (%s): regret@%d %s against %s (within +%g: %s); mean epochs %s against %s "
                "(within +%g: %s)"
                % (r["peer"], how, top, _fmt(reg), _fmt(sh_regret), REGRET_MARGIN, yes[v["ranks_as_well"]],
                   _fmt(epochs), _fmt(sh_epochs), EPOCH_MARGIN, yes[v["at_its_cost"]])
            )
    return lines


# --- the batch benchmark -----------------------------------------------------------


def bench(networks=10000, rounds=7, batches=40, threads=1):
    """Median ns per observation of a batch of `networks` observations through
    Engine.observe_batch and through penguin_observe_batch called directly.

    No fits (min_points = 1000): each observation is only checked and stored,
    so the Python layer's own cost is as large a share as it can be. Every
    round replays `batches` batches (one observation of every network each,
    epochs 0.5, 1.0, ...) on a fresh engine per path, the two paths in
    alternating order; the arrays are built before the timings."""
    ids = np.arange(networks, dtype=np.uint64)
    fitness = np.linspace(10.0, 90.0, networks)
    epochs = [np.full(networks, 0.5 * (k + 1)) for k in range(batches)]
    out = np.empty(networks, dtype=STATUS_DTYPE)
    lib = _capi.lib
    per = {"python": [], "c": []}

    def python_path(engine):
        for ep in epochs:
            t0 = time.perf_counter()
            engine.observe_batch(ids, ep, fitness)
            per["python"].append(time.perf_counter() - t0)

    def c_path(engine):
        h = engine._h
        pi, pf, po = ids.ctypes.data, fitness.ctypes.data, out.ctypes.data
        for ep in epochs:
            pe = ep.ctypes.data
            t0 = time.perf_counter()
            code = lib.penguin_observe_batch(h, networks, pi, pe, pf, po)
            per["c"].append(time.perf_counter() - t0)
            if code:
                raise RuntimeError("penguin_observe_batch: %d" % code)

    for r in range(rounds):
        paths = [python_path, c_path] if r % 2 == 0 else [c_path, python_path]
        for path in paths:
            engine = Engine(min_points=1000, threads=threads)
            path(engine)
            engine.close()
    py = statistics.median(per["python"]) / networks * 1e9
    c = statistics.median(per["c"]) / networks * 1e9
    return collections.OrderedDict(
        [
            ("networks", networks),
            ("batches", len(per["c"])),
            ("python_ns_per_observation", py),
            ("c_api_ns_per_observation", c),
            ("ratio", py / c),
        ]
    )


# --- command line ------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m penguin.compare",
        description="Penguin against Optuna's pruners (and DeepHyper's LCModelStopper) on learning curves.",
    )
    p.add_argument("curves", nargs="?", help="learning-curve CSV (penguin replay's format)")
    p.add_argument("--e-pred", type=float, default=20.0, help="epoch of the ground truth and training cap (20)")
    p.add_argument("--E", type=float, default=None, help="epochs per observation (default: the file's first step)")
    p.add_argument("--x-shift", type=float, default=None, help="Penguin's x_shift")
    p.add_argument("--metric", default="val_acc", help="fitness column (val_acc)")
    p.add_argument("--direction", choices=["maximize", "minimize"], default="maximize")
    p.add_argument("--group", default="dataset", help="data-set column, or 'none' (dataset)")
    p.add_argument("--top", type=int, default=10, help="size of the chosen top (10)")
    p.add_argument("--chance-level", type=float, default=None, help="Penguin's chance_level")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a Penguin key for every Penguin row")
    p.add_argument("--penguin", action="append", metavar="NAME=key=value,...", help="another Penguin row")
    p.add_argument("--preset", action="append", metavar="NAME", help="a Penguin row with preset=NAME")
    p.add_argument("--no-robust", action="store_true", help="no 'penguin robust' row")
    p.add_argument("--penguin-order", choices=["synchronous", "sequential"], default="synchronous")
    p.add_argument("--peers", metavar="REGEX", help="only the methods whose name matches")
    p.add_argument("--no-deephyper", action="store_true", help="leave out DeepHyper's LCModelStopper")
    p.add_argument("--shuffles", type=int, default=0, metavar="K", help="also K shuffled trial orders")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffles (0)")
    p.add_argument("--json", metavar="OUT", help="write the rows as JSON")
    p.add_argument("--progress", action="store_true", help="say on stderr what runs")
    p.add_argument("--bench", action="store_true", help="time observe_batch against the C API instead")
    p.add_argument("--networks", type=int, default=10000, help="--bench: observations per batch (10000)")
    p.add_argument("--rounds", type=int, default=7, help="--bench: rounds (7)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.bench:
        r = bench(networks=args.networks, rounds=args.rounds)
        print(
            "batch of %d observations (no fits), median of %d batches per path:\n"
            "  Engine.observe_batch       %8.1f ns/observation\n"
            "  penguin_observe_batch (C)  %8.1f ns/observation\n"
            "  ratio                      %8.3f"
            % (r["networks"], r["batches"], r["python_ns_per_observation"], r["c_api_ns_per_observation"], r["ratio"])
        )
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(r, fh, indent=1)
        return 0
    if not args.curves:
        raise SystemExit("python -m penguin.compare CURVES.csv (or --bench)")
    group = None if args.group == "none" else args.group
    datasets = load_curves(args.curves, metric=args.metric, group_col=group)
    if not datasets:
        raise SystemExit("%s: no learning curves" % args.curves)
    E = args.E if args.E is not None else first_step(datasets)
    maximize = args.direction == "maximize"
    common = {"E": E, "e_pred": args.e_pred}
    if not maximize:
        common["direction"] = "minimize"
    if args.x_shift is not None:
        common["x_shift"] = args.x_shift
    if args.chance_level is not None:
        common["chance_level"] = args.chance_level
    for kv in args.set or []:
        if "=" not in kv:
            raise SystemExit("--set KEY=VALUE: %r" % kv)
        k, v = kv.split("=", 1)
        common[k.strip()] = v.strip()
    peers = make_peers(args, common, maximize, args.e_pred, E)
    rows = []
    for ds in datasets:
        rows.extend(evaluate(ds, peers, args, maximize, args.e_pred))
    optuna = _optuna()
    print(
        "%s: e_pred %g, E %g, %s, top %d; Penguin %s, Optuna %s"
        % (args.curves, args.e_pred, E, args.direction, args.top, _capi.lib.penguin_version().decode(), optuna.__version__)
    )
    print(table(rows, args.top))
    verdicts = against_halving(rows, args.top)
    if verdicts:
        print()
        print("\n".join(verdicts))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
