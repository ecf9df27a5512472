#!/usr/bin/env bash
# compare.sh: the same search (same seed, same networks) with and without
# Penguin, one after the other on this machine, and a table of what each cost.
#
#   examples/nas/compare.sh OUTDIR [penguin-nas options...]
#   e.g. examples/nas/compare.sh runs/cmp --networks 100 --epochs 20 --seed 2026 --train-subset 20000
#
# Writes OUTDIR/{baseline,penguin}.log (penguin-nas's stdout),
# OUTDIR/{baseline,penguin}-curves.csv, OUTDIR/{baseline,penguin}-results.csv,
# OUTDIR/replay.json, OUTDIR/table.md and OUTDIR/conditions.txt (start times
# and load averages), and prints the table.
# After the runs it replays the Penguin run's curves with `penguin replay` (the
# command penguin-nas printed) and checks that every decision, stop epoch and
# prediction is the same (needs python3 for that check; skipped without it).
#
# Environment:
#   TABLE_ONLY=1  no runs: the table (and the replay check) from OUTDIR's logs
#   NAS_EXE   penguin-nas (default: build/nas/penguin-nas)
#   PENGUIN   the penguin command-line program (default: target/release/penguin)
#   NP        MPI ranks (default 3: Penguin on rank 0 and two trainers)
#   MPIRUN    mpirun command and options (default: mpirun --oversubscribe
#             --bind-to none, plus --allow-run-as-root as root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
out=$1
shift
exe=${NAS_EXE:-$root/build/nas/penguin-nas}
penguin=${PENGUIN:-$root/target/release/penguin}
np=${NP:-3}
if [ -z "${MPIRUN:-}" ]; then
  MPIRUN="mpirun --oversubscribe --bind-to none"
  [ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
fi
[ -x "$exe" ] || { echo "compare.sh: no $exe (build examples/nas, or set NAS_EXE)" >&2; exit 1; }
mkdir -p "$out"

run() { # MODE [extra options]
  local mode=$1
  shift
  echo "compare.sh: $mode run: started $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" |
    tee -a "$out/conditions.txt" >&2
  # shellcheck disable=SC2086
  $MPIRUN -np "$np" "$exe" "$@" --curves "$out/$mode-curves.csv" --results "$out/$mode-results.csv" \
    >"$out/$mode.log"
}
if [ "${TABLE_ONLY:-0}" != 1 ]; then
  : >"$out/conditions.txt"
  run baseline "$@" --no-penguin
  run penguin "$@"
  echo "compare.sh: finished $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" |
    tee -a "$out/conditions.txt" >&2
fi

# field NAME FILE: a field of the JSON summary (the last line).
field() { tail -n 1 "$2" | sed -E "s/.*\"$1\": \"?([^\",}]*)\"?[,}].*/\1/"; }
# rank_of ID RESULTS: "rank observed" of a network in a results file.
rank_of() { awk -F, -v id="$1" '$2 == id { print $1, $9 }' "$2"; }

b_best=$(field best_id "$out/baseline.log")
p_best=$(field best_id "$out/penguin.log")
read -r p_best_base_rank p_best_base_obs < <(rank_of "$p_best" "$out/baseline-results.csv")
read -r b_best_p_rank _ < <(rank_of "$b_best" "$out/penguin-results.csv")
b_wall=$(field walltime_s "$out/baseline.log")
p_wall=$(field walltime_s "$out/penguin.log")
b_ep=$(field epochs_trained "$out/baseline.log")
p_ep=$(field epochs_trained "$out/penguin.log")
decision=$(sed -n 's/^# decisions on rank 0 (penguin_observe_batch): //p' "$out/penguin.log")
cpu0=$(sed -n 's/^# rank 0 CPU time during the search: \([0-9.]*\) s.*/\1/p' "$out/penguin.log")
# trainer_cpu LOG: CPU seconds of all trainers together (what the training
# cost, whatever else ran on the machine).
trainer_cpu() { awk '/^# trainer rank / { for (i = 1; i < NF; i++) if ($(i + 1) == "s" && $(i + 2) == "CPU") s += $i } END { printf "%.1f", s }' "$1"; }
b_cpu=$(trainer_cpu "$out/baseline.log")
p_cpu=$(trainer_cpu "$out/penguin.log")
same=no
[ "$b_best" = "$p_best" ] && same=yes

{
  echo "| | without Penguin (\`--no-penguin\`) | with Penguin |"
  echo "|---|---|---|"
  echo "| networks evaluated | $(field networks "$out/baseline.log") | $(field networks "$out/penguin.log") |"
  echo "| training epochs, total | $b_ep | $p_ep |"
  echo "| walltime (s) | $b_wall | $p_wall |"
  echo "| trainers' CPU time (s) | $b_cpu | $p_cpu |"
  echo "| best network (observed val_acc %) | $b_best ($(field best_observed "$out/baseline.log")) | $p_best ($(field best_observed "$out/penguin.log") at its stop) |"
  echo
  awk -v be="$b_ep" -v pe="$p_ep" -v bw="$b_wall" -v pw="$p_wall" -v bc="$b_cpu" -v pc="$p_cpu" 'BEGIN {
    printf "Epochs: %.2fx fewer (%.1f %% saved); walltime: %.2fx shorter (%.1f %% saved); trainers\x27 CPU time: %.2fx less.\n",
      be / pe, 100 * (1 - pe / be), bw / pw, 100 * (1 - pw / bw), bc / pc }'
  echo "Same best network: $same. Penguin's best ($p_best) is number $p_best_base_rank of the baseline ranking" \
    "(val_acc $p_best_base_obs at e_pred); the baseline's best ($b_best) is number $b_best_p_rank of Penguin's."
  echo "Decisions at the Penguin rank: $decision; its CPU time during the search: $cpu0 s."
} >"$out/table.md"
cat "$out/table.md"

# The Penguin run's decisions again, in one process, from its curves.
if ! command -v python3 >/dev/null 2>&1; then
  echo "compare.sh: python3 not found: replay check skipped" >&2
  exit 0
fi
replay_args=$(sed -n 's/^# curves: .*; the same decisions: penguin replay //p' "$out/penguin.log")
# shellcheck disable=SC2086
"$penguin" replay $replay_args --no-progress --json "$out/replay.json" >"$out/replay.txt"
python3 - "$out/replay.json" "$out/penguin-results.csv" <<'EOF'
import csv, json, sys
report = json.load(open(sys.argv[1]))
(name, ds), = report["datasets"].items()
replayed = {n["id"]: n for n in ds["per_network"]}
rows = list(csv.DictReader(open(sys.argv[2])))
bad = 0
for r in rows:
    n = replayed[r["model_id"]]
    if (n["stop"], n["stop_epoch"], n["prediction"]) != (r["decision"], float(r["stop_epoch"]), float(r["predicted"])):
        bad += 1
        print("differs:", r["model_id"], r["decision"], r["stop_epoch"], r["predicted"], "replay:",
              n["stop"], n["stop_epoch"], n["prediction"])
print(f"compare.sh: penguin replay of the recorded curves: {len(rows) - bad} of {len(rows)} "
      "networks with the same decision, stop epoch and prediction")
sys.exit(1 if bad or len(rows) != len(replayed) else 0)
EOF
