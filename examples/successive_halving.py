#!/usr/bin/env python3
"""Offline bound for docs/research.md: successive halving on the observed values
against equal-budget truncation, on a learning-curve CSV (Penguin's replay format:
model_id, epoch, val_acc).

    python3 examples/successive_halving.py tests/data/fmnist_random_cnn.csv

Every network trains to the first rung; at each rung the best `keep` share (by
the observed value there) trains on to the next rung, the last rung being
e_pred = 20; the ranking puts networks that reached a later rung first, each
rung ordered by its observed value. Truncation trains every network to the
observation epoch nearest the mean epochs spent and ranks by the value there.
Ground truth: the observed value at the last observation at or before epoch 20.
Standard library only.

With --answers, halving decides and Penguin answers (docs/research.md, "Halving's
allocation with Penguin's answers"): rungs at shares of e_pred (default 0.125 and
0.375, rounded up to the observation grid), each keeping the best max(10, n/3)
by the observed value there; a network stopped at a rung answers the
prediction `preset = robust`'s fit makes at that epoch (the observed value when
it has no valid one), the rest answer their value at e_pred. It reports
regret@10 in points (ranked by the answers as they are, and with every answer
of a stopped network capped below the 10th best finalist's, so that the
finalists rank first), and the median and mean absolute error of the answers
against the ground truth. This mode needs the penguin Python package.

    python3 examples/successive_halving.py --answers --chance-level 10 FILE
    python3 examples/successive_halving.py --answers --chance-level 50 \
        --set E=1 --set x_shift=-1 --e-pred 26 tests/data/a4nn_xfel_complete.csv
"""
import argparse
import math
import collections
import csv
import statistics
import sys

SCHEDULES = [
    ([2, 6, 20], [1 / 3, 1 / 3]),
    ([1, 3, 9, 20], [1 / 3, 1 / 3, 1 / 3]),
    ([2, 5, 20], [0.4, 0.25]),
    ([2, 4, 8, 20], [0.5, 0.5, 0.4]),
    ([1.5, 5, 20], [0.5, 0.2]),
    ([2, 6, 20], [0.4, 0.3]),
    ([3, 8, 20], [0.35, 0.3]),
]


def load(path):
    nets = collections.OrderedDict()
    for r in csv.DictReader(open(path)):
        try:
            point = (float(r["epoch"]), float(r["val_acc"]))
        except (KeyError, ValueError):
            continue
        nets.setdefault(r["model_id"], []).append(point)
    return nets


def at(curve, epoch):
    seen = [v for e, v in curve if e <= epoch + 1e-9]
    return seen[-1] if seen else curve[0][1]


def sensitivity(score, truth, x):
    ids = list(truth)
    top = set(sorted(ids, key=lambda i: -truth[i])[:x])
    picked = set(sorted(ids, key=lambda i: -score[i])[:x])
    return len(top & picked) / x


def halving(nets, rungs, keep):
    alive, stop, score = list(nets), {}, {}
    for j, rung in enumerate(rungs):
        value = {k: at(nets[k], rung) for k in alive}
        order = sorted(alive, key=lambda k: -value[k])
        n = len(order) if j == len(rungs) - 1 else max(1, round(len(order) * keep[j]))
        for k in order[n:] if j < len(rungs) - 1 else order:
            stop[k], score[k] = rung, value[k] + 1000 * j
        alive = order[:n]
    return stop, score


def main(path):
    nets = load(path)
    truth = {k: at(c, 20) for k, c in nets.items()}
    print(f"{path}: {len(nets)} networks")
    for rungs, keep in SCHEDULES:
        stop, score = halving(nets, rungs, keep)
        mean = statistics.mean(stop.values())
        epoch = round(mean * 2) / 2
        trunc = {k: at(c, epoch) for k, c in nets.items()}
        print(
            f"  rungs {rungs} keep {[round(k, 2) for k in keep]}: mean {mean:.2f} epochs, "
            f"top-10/20 {sensitivity(score, truth, 10):.2f} / {sensitivity(score, truth, 20):.2f}; "
            f"truncation at {epoch}: {sensitivity(trunc, truth, 10):.2f} / {sensitivity(trunc, truth, 20):.2f}"
        )


def predictions(nets, e_pred, chance_level, keys):
    """Every network's answer at every epoch if it stopped there: the
    prediction of robust's fit (nothing stops in this engine), else the
    observed value."""
    import penguin  # only --answers needs the package

    engine = penguin.Engine(
        preset="robust", chance_level=chance_level, e_pred=e_pred, **keys,
        select_top=0, N=1000, chance_patience=0, loss_patience=0, chance_wait=0,
    )
    ids = list(nets)
    epochs = sorted({e for c in nets.values() for e, _ in c})
    answer = {k: {} for k in ids}
    for epoch in epochs:
        batch = [(j, v) for j, k in enumerate(ids) for e, v in nets[k] if e == epoch]
        status = engine.observe_batch([j for j, _ in batch], [epoch] * len(batch), [v for _, v in batch])
        for (j, v), s in zip(batch, status):
            p = float(s["prediction"])
            answer[ids[j]][epoch] = p if 0 <= p <= 100 else v
    return answer


def regret(answer, truth, x=10):
    ids = list(truth)
    best = statistics.mean(sorted(truth.values(), reverse=True)[:x])
    return best - statistics.mean(truth[k] for k in sorted(ids, key=lambda k: -answer[k])[:x])


def with_answers(path, e_pred, shares, chance_level, keys, x=10):
    nets = load(path)
    truth = {k: at(c, e_pred) for k, c in nets.items()}
    answer_at = predictions(nets, e_pred, chance_level, keys)
    grid = sorted({e for c in nets.values() for e, _ in c})
    rungs = [min(e for e in grid if e >= s * e_pred - 1e-9) for s in shares]
    alive, stop, answer = list(nets), {}, {}
    for rung in rungs:
        value = {k: at(nets[k], rung) for k in alive}
        order = sorted(alive, key=lambda k: -value[k])
        n = max(x, math.ceil(len(order) / 3))
        for k in order[n:]:
            stop[k] = rung
            answer[k] = answer_at[k].get(rung, value[k])
        alive = order[:n]
    for k in alive:
        stop[k] = max(e for e, _ in nets[k] if e <= e_pred + 1e-9)
        answer[k] = truth[k]
    cap = sorted((answer[k] for k in alive), reverse=True)[min(x, len(alive)) - 1] - 1e-6
    capped = {k: answer[k] if k in alive else min(answer[k], cap) for k in answer}
    print(f"{path}: {len(nets)} networks, rungs {rungs}, {statistics.mean(stop.values()):.2f} epochs per network")
    for name, a in (("answers as they are", answer), ("finalists first", capped)):
        err = [abs(a[k] - truth[k]) for k in truth]
        print(
            f"  {name}: regret@{x} {regret(a, truth, x):.2f}, "
            f"median abs. error {statistics.median(err):.2f}, MAE {statistics.mean(err):.2f}"
        )


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("curves", nargs="*", default=["tests/data/fmnist_random_cnn.csv"])
    cli.add_argument("--answers", action="store_true", help="halving decides, Penguin answers")
    cli.add_argument("--e-pred", type=float, default=20.0)
    cli.add_argument("--rungs", default="0.125,0.375", help="--answers: rungs as shares of e_pred")
    cli.add_argument("--chance-level", type=float, default=10.0)
    cli.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a Penguin key")
    args = cli.parse_args()
    for p in args.curves:
        if args.answers:
            keys = dict(kv.split("=", 1) for kv in args.set)
            shares = [float(v) for v in args.rungs.split(",")]
            with_answers(p, args.e_pred, shares, args.chance_level, keys)
        else:
            main(p)
