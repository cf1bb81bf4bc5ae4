#!/usr/bin/env bash
# Benchmarks `neon-batch fit` (k-means, Lloyd) against scikit-learn's KMeans(algorithm="lloyd")
# on the same data (N = 200000, d = 256, float32), the same number of iterations and the same
# 2 cores, in one run; prints seconds per Lloyd iteration and the ratio (figures, not a test).
# Usage: scripts/bench-fit.sh [ITER] [K ...]     (default: 10 iterations, K = 1000 100)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
iters=${1:-10}
shift || true
ks=("$@")
((${#ks[@]})) || ks=(1000 100)
dir=${BENCH_DIR:-/tmp/neon_bench_fit}
mkdir -p "$dir"
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py, threadpoolctl, sklearn" 2>/dev/null || python3 -m pip install -q numpy h5py threadpoolctl scikit-learn
data=$dir/data.h5
[[ -f $data ]] || python3 scripts/bench_fit_peer.py gen "$data" 200000 256 1
bin=$root/.build/release/neon-batch
echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in "${ks[@]}"; do
  cat > "$dir/fit$k.json" <<JSON
{"input": {"file": "data.h5", "dataset": "features"},
 "output": {"file": "model$k.h5", "overwrite": true},
 "fit": {"algorithm": "kmeans", "clusters": $k, "n_init": 1, "max_iter": $((iters + 1)), "tol": 0, "seed": 1},
 "execution": {"block_rows": 16384}}
JSON
  for mode in "1 rank x 2 threads:-n 1 --bind-to none" "2 ranks x 1 thread:-n 2"; do
    label=${mode%%:*}
    args=${mode#*:}
    # shellcheck disable=SC2086
    out=$(scripts/mpirun.sh $args "$bin" fit "$dir/fit$k.json" 2>/dev/null)
    spi=$(python3 -c "import h5py; print(h5py.File('$dir/model$k.h5')['/'].attrs['seconds_per_iteration'])")
    echo "K=$k neon-batch ($label): $spi s per Lloyd iteration  [$(grep -o 'inertia [^ ]*' <<<"$out")]"
    eval "ours_${k}_${label%% *}=$spi"
  done
  sk=$(python3 scripts/bench_fit_peer.py sklearn "$data" "$k" "$iters" 2)
  sks=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$sk")
  echo "K=$k scikit-learn ($sk)"
  o1=$(eval echo "\$ours_${k}_1"); o2=$(eval echo "\$ours_${k}_2")
  python3 -c "import sys; s,a,b=map(float,sys.argv[1:4]); print(f'K={int(sys.argv[4])}: sklearn {s:.3f} s/it; neon-batch 1x2 {a:.3f} s/it ({s/a:.2f}x faster), 2x1 {b:.3f} s/it ({s/b:.2f}x faster)')" "$sks" "$o1" "$o2" "$k"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
