#!/usr/bin/env bash
# Cost of `neon-batch evaluate` (Algorithm 1 with KDE imputation): d = 64, 5000 reference rows,
# K = 10, all 8 methods, 1 repeat, SAMPLES evaluated samples (default 200), on 1 rank (1 core),
# 2 ranks, and 1 rank with 2 threads. Prints wall and CPU time (CPU summed over ranks: on a busy
# machine the wall time shows contention, the CPU time the work). Figures, not a pass/fail test.
#   scripts/bench-evaluate.sh [SAMPLES] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
samples=${1:-200}
dir=${2:-/tmp/neon_bench_evaluate}
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py" 2>/dev/null || python3 -m pip install -q numpy h5py
mkdir -p "$dir"
python3 - "$dir" <<'PY'
import sys, h5py, numpy as np
d, n, k = 64, 5000, 10
rng = np.random.default_rng(0)
centres = rng.normal(0, 1.5, (k, d))
x = centres[rng.integers(0, k, n)] + rng.normal(0, 1, (n, d))
mu, sd = x.mean(0), x.std(0)
x, centres = (x - mu) / sd, (centres - mu) / sd
with h5py.File(f"{sys.argv[1]}/data.h5", "w") as f: f["features"] = x
with h5py.File(f"{sys.argv[1]}/model.h5", "w") as f:
    f.attrs["kind"] = "kmeans"; f["centroids"] = centres
PY
cat > "$dir/job.json" <<JSON
{"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
 "output": {"file": "out.h5", "overwrite": true}, "evaluate": {"samples": $samples, "repeats": 1}}
JSON
bin=$root/.build/release/neon-batch
printf "%-36s %8s %8s %8s %14s %14s\n" configuration "sigma s" "eval s" "eval cpu" "wall s/sample" "cpu s/sample"
for cfg in "1 rank (1 core)|-n 1" "2 ranks|-n 2" "2 ranks (--bind-to none)|-n 2 --bind-to none" "1 rank, 2 threads (--bind-to none)|-n 1 --bind-to none"; do
  name=${cfg%%|*}; args=${cfg#*|}
  log=$(scripts/mpirun.sh $args "$bin" evaluate "$dir/job.json" 2>&1)
  sigma=$(grep -oE 'sigma [0-9.]+ s' <<<"$log" | grep -oE '[0-9.]+' | head -1)
  read -r ev cpu < <(python3 -c "import h5py; a = h5py.File('$dir/out.evaluation.h5')['/'].attrs; print(round(a['evaluate_seconds'], 2), round(a['evaluate_cpu_seconds'], 2))")
  printf "%-36s %8s %8s %8s %14.4f %14.4f\n" "$name" "$sigma" "$ev" "$cpu" "$(python3 -c "print($ev / $samples)")" "$(python3 -c "print($cpu / $samples)")"
done
