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
"""
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


if __name__ == "__main__":
    for p in sys.argv[1:] or ["tests/data/fmnist_random_cnn.csv"]:
        main(p)
