#!/usr/bin/env bash
# Runs the SciPy peer (the paper's loop with scipy.optimize.curve_fit) and
# `penguin bench` on the same learning curves, one after the other, on one core,
# and prints both JSON lines and the ratios.
#
#   examples/bench_vs_scipy.sh [CURVES.csv]      (default: the bundled Fashion-MNIST curves)
#
# Needs python3 with numpy and scipy (pip install numpy scipy).
# Both run the same problem: exp3 unbounded, x = epoch / E, N = 3, t = 0.5,
# e_pred = 20, valid range [0, 100], mean agreement.
set -euo pipefail
cd "$(dirname "$0")/.."
csv=${1:-tests/data/fmnist_random_cnn.csv}
cargo build --release --quiet --bin penguin
peer=$(python3 examples/scipy_peer.py "$csv")
ours=$(target/release/penguin bench "$csv" --threads 1 --bounds '-inf,-inf,-inf;inf,inf,inf')
echo "scipy:   $peer"
echo "penguin: $ours"
python3 - "$peer" "$ours" <<'PY'
import json, sys
p, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"fits per second:        penguin / scipy = {o['fits_per_second'] / p['fits_per_second']:.1f}x")
print(f"observations per second: penguin / scipy = {o['observations_per_second'] / p['observations_per_second']:.1f}x")
print(f"mean stop epoch:        penguin {o['mean_stop_epoch']:.4f}, scipy {p['mean_stop_epoch']:.4f}, "
      f"difference {o['mean_stop_epoch'] - p['mean_stop_epoch']:+.4f}")
PY
