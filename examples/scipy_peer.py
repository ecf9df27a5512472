#!/usr/bin/env python3
# Copied from the project's shared bench/scipy_peer.py (read-only original), so that a
# fresh clone can run the comparison; do not edit here.
"""The SciPy peer: the paper's PENGUIN loop with scipy.optimize.curve_fit, for speed comparisons.

usage: scipy_peer.py CURVES.csv [--metric val_acc] [--e-pred 20] [--bounded] [--max-models K]

Replays every network of a learning-curve CSV (columns model_id, epoch, METRIC) through
Algorithms 1 and 2 of the paper (exp3 = a - b^(c-x), x = epoch / E, N = 3, t = 0.5,
valid range [0, 100], agreement around the mean) and prints one JSON line:
  {"models": .., "observations": .., "fits": .., "fit_seconds": .., "fits_per_second": ..,
   "replay_seconds": .., "observations_per_second": .., "mean_stop_epoch": ..}
Unbounded mode uses curve_fit's default (MINPACK Levenberg-Marquardt) from a data-driven
start; --bounded uses the authors' bounds (0.5,1,0)-(200,inf,inf) and start (10,1.001,100),
which selects SciPy's trust-region solver and is ~10x slower.
Needs numpy and scipy (pip install numpy scipy).
"""
import argparse, csv, json, math, sys, time, warnings, collections
import numpy as np
from scipy.optimize import curve_fit

warnings.simplefilter("ignore")


def f(x, a, b, c):
    return a - np.power(b, c - x)


def start(x, y):
    a = float(np.max(y)) + 1.0
    b = math.e ** 0.5
    gap = max(a - float(y[0]), 1e-3)
    return (a, b, float(x[0]) + math.log(gap) / math.log(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--metric", default="val_acc")
    ap.add_argument("--e-pred", type=float, default=20.0)
    ap.add_argument("--N", type=int, default=3)
    ap.add_argument("--t", type=float, default=0.5)
    ap.add_argument("--bounded", action="store_true")
    ap.add_argument("--max-models", type=int, default=0)
    a = ap.parse_args()
    curves = collections.OrderedDict()
    for r in csv.DictReader(open(a.csv)):
        curves.setdefault(r["model_id"], []).append((float(r["epoch"]), float(r[a.metric])))
    if a.max_models:
        curves = collections.OrderedDict(list(curves.items())[: a.max_models])
    fits = obs = 0
    fit_s = 0.0
    stops = []
    t0 = time.perf_counter()
    for rows in curves.values():
        E = rows[0][0] if rows[0][0] > 0 else rows[1][0] - rows[0][0]
        xs, ys, preds = [], [], []
        stop = rows[-1][0]
        for e, v in rows:
            obs += 1
            if not math.isfinite(v):
                continue
            xs.append(e / E)
            ys.append(v)
            fp = None
            if len(xs) >= 3:
                x, y = np.array(xs), np.array(ys)
                s = time.perf_counter()
                try:
                    if a.bounded:
                        p, _ = curve_fit(f, x, y, p0=(10.0, 1.001, 100.0),
                                         bounds=((0.5, 1.0, 0.0), (200.0, np.inf, np.inf)))
                    else:
                        p, _ = curve_fit(f, x, y, p0=start(x, y), maxfev=2000)
                    fp = float(f(a.e_pred / E, *p))
                    if not math.isfinite(fp):
                        fp = None
                except Exception:
                    fp = None
                fit_s += time.perf_counter() - s
                fits += 1
            preds.append(fp)
            if e <= a.N * E:
                continue
            if e >= a.e_pred:
                stop = e
                break
            if fp is None or not (0.0 <= fp <= 100.0):
                continue
            last = preds[-a.N:]
            if any(q is None for q in last):
                continue
            m = sum(last) / a.N
            if all(m - a.t <= q <= m + a.t for q in last):
                stop = e
                break
        stops.append(stop)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "models": len(curves), "observations": obs, "fits": fits,
        "fit_seconds": round(fit_s, 6), "fits_per_second": round(fits / fit_s, 3) if fit_s else None,
        "replay_seconds": round(wall, 6), "observations_per_second": round(obs / wall, 3),
        "mean_stop_epoch": round(sum(stops) / len(stops), 4) if stops else None,
        "bounded": a.bounded}))


if __name__ == "__main__":
    main()
