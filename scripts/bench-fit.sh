#!/usr/bin/env bash
# Benchmarks `neon-batch fit` (k-means, Lloyd) against scikit-learn's KMeans(algorithm="lloyd")
# on the same data (N = 200000, d = 256, float32), the same number of iterations and the same
# 2 cores: seconds per Lloyd iteration, REPS interleaved rounds, medians and the ratio (figures,
# not a test; not run by CI). The machine's load average is printed: other work on the same
# cores makes every figure slower.
# Usage: scripts/bench-fit.sh [REPS] [ITER] [K ...]     (default: 3 rounds, 10 iterations, K = 1000 100)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
reps=${1:-3}
iters=${2:-10}
shift 2 || shift $# || true
ks=("$@")
((${#ks[@]})) || ks=(1000 100)
dir=${BENCH_DIR:-/tmp/neon_bench_fit}
mkdir -p "$dir"
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py, threadpoolctl, sklearn" 2>/dev/null || python3 -m pip install -q numpy h5py threadpoolctl scikit-learn
data=$dir/data.h5
[[ -f $data ]] || python3 scripts/bench_fit_peer.py gen "$data" 200000 256 1
bin=$root/.build/release/neon-batch
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.4f}')" "$@"; }
echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in "${ks[@]}"; do
  cat > "$dir/fit$k.json" <<JSON
{"input": {"file": "data.h5", "dataset": "features"},
 "output": {"file": "model$k.h5", "overwrite": true},
 "fit": {"algorithm": "kmeans", "clusters": $k, "n_init": 1, "max_iter": $((iters + 1)), "tol": 0, "seed": 1},
 "execution": {"block_rows": 16384}}
JSON
  a=() b=() s=()
  for ((r = 1; r <= reps; r++)); do
    scripts/mpirun.sh -n 1 --bind-to none "$bin" fit -q "$dir/fit$k.json"
    a+=("$(python3 -c "import h5py; print(h5py.File('$dir/model$k.h5')['/'].attrs['seconds_per_iteration'])")")
    scripts/mpirun.sh -n 2 "$bin" fit -q "$dir/fit$k.json"
    b+=("$(python3 -c "import h5py; print(h5py.File('$dir/model$k.h5')['/'].attrs['seconds_per_iteration'])")")
    sk=$(python3 -W ignore scripts/bench_fit_peer.py sklearn "$data" "$k" "$iters" 2)
    s+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$sk")")
    echo "K=$k round $r: neon-batch 1x2 ${a[-1]} s, 2x1 ${b[-1]} s, scikit-learn ${s[-1]} s per iteration  (load $(cut -d' ' -f1 /proc/loadavg))"
  done
  ma=$(median "${a[@]}") mb=$(median "${b[@]}") ms=$(median "${s[@]}")
  echo "K=$k medians of $reps: scikit-learn $ms s/it; neon-batch 1 rank x 2 threads $ma s/it ($(python3 -c "print(f'{$ms/$ma:.2f}')")x), 2 ranks x 1 thread $mb s/it ($(python3 -c "print(f'{$ms/$mb:.2f}')")x)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(python3 -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
