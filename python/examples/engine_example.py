"""Penguin from Python: one network observed as it trains, then many at once.

    python python/examples/engine_example.py
"""
import math

import numpy as np

import penguin

engine = penguin.Engine(e_pred=20, E=0.5)           # the paper's settings
for k in range(1, 41):                              # a validation every half epoch
    epoch = 0.5 * k
    val_acc = 90 - 80 * 0.8 ** epoch + math.sin(k)  # your training step here
    status = engine.observe(7, epoch, val_acc)      # network 7
    if status.stop:                                 # "converged" (or "reached_e_pred")
        break
print(status.state, status.epoch, status.prediction, status.prediction_lo, status.prediction_hi)

# Many networks at once: one observe_batch per validation round, with those
# still training.
ids = np.arange(100, 164, dtype=np.uint64)
final = {}
for k in range(1, 41):
    rate = 0.7 + 0.003 * (ids - 100)                 # 64 networks learning at their own pace
    fitness = 90 - 80 * rate ** (0.5 * k) + np.sin(k + ids.astype(float))
    st = engine.observe_batch(ids, np.full(len(ids), 0.5 * k), fitness)
    for i, s in zip(ids, st):
        if s["state"] != penguin.CONTINUE:
            final[int(i)] = (float(s["epoch"]), float(s["prediction"]))
    ids = ids[st["state"] == penguin.CONTINUE]
    if len(ids) == 0:
        break
epochs = [e for e, _ in final.values()]
print("%d networks, mean stop epoch %.2f of 20" % (len(final), sum(epochs) / len(epochs)))

assert status.state == "converged" and status.epoch < 20
assert len(final) == 64 and sum(epochs) / len(epochs) < 20
