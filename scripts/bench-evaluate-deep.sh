#!/usr/bin/env bash
# Cost of `neon-batch evaluate` on a small deep model (channels, zero imputation): input
# 16 x 8 x 8, Psi = conv 3x3 (16 -> 32 channels, padding 1), relu, 2x2 max pooling (a = 32 x 4 x 4,
# D = 512), deep k-means head K = 10 (generated: 10 prototypes + noise, centroids the mean
# activations per prototype); SAMPLES samples (default 200), each method on its own,
# 1 repeat, 1 rank (1 core). Prints wall and CPU seconds per sample (on a busy machine the wall
# time shows contention, the CPU time the work). Figures, not a pass/fail test.
#   scripts/bench-evaluate-deep.sh [SAMPLES] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
samples=${1:-200}
dir=${2:-/tmp/neon_bench_evaluate_deep}
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py" 2>/dev/null || python3 -m pip install -q numpy h5py
mkdir -p "$dir"
python3 - "$dir" "$samples" <<'PY'
import sys, h5py, numpy as np
n, k = int(sys.argv[2]), 10
rng = np.random.default_rng(0)
w = rng.normal(0, 1 / np.sqrt(9 * 16), (32, 16, 3, 3)); b = rng.normal(0, 0.05, 32)
# 10 prototypes + noise, non-negative like activations; centroids: the mean a = Psi(x) per prototype
proto = rng.normal(0.2, 1, (k, 16, 8, 8)); label = rng.integers(0, k, n)
x = np.maximum(proto[label] + rng.normal(0, 0.7, (n, 16, 8, 8)), 0)
def psi(x):
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = sum(np.einsum("oc,nchw->nohw", w[:, :, i, j], p[:, :, i:i + 8, j:j + 8]) for i in range(3) for j in range(3))
    y = np.maximum(y + b[None, :, None, None], 0)
    return y.reshape(len(x), 32, 4, 2, 4, 2).max(axis=(3, 5)).reshape(len(x), -1)
a = psi(x)
centroids = np.stack([a[label == j].mean(0) if (label == j).any() else a[j] for j in range(k)])
with h5py.File(f"{sys.argv[1]}/data.h5", "w") as f: f["features"] = x
with h5py.File(f"{sys.argv[1]}/model.h5", "w") as f:
    f.attrs["kind"] = "deep_kmeans"; f["centroids"] = centroids
    g = f.create_group("psi")
    l = g.create_group("0"); l.attrs["type"] = "conv2d"; l["weight"] = w; l["bias"] = b; l.attrs["padding"] = 1
    g.create_group("1").attrs["type"] = "relu"
    l = g.create_group("2"); l.attrs["type"] = "maxpool2d"; l.attrs["kernel_size"] = 2
PY
bin=$root/.build/release/neon-batch
echo "uptime: $(uptime)"
printf "%-12s %8s %10s %14s %14s %10s\n" method "eval s" "eval cpu" "wall s/sample" "cpu s/sample" "mean AUC"
for m in neon random x2 sensitivity ig pda0; do
  cat > "$dir/job.json" <<JSON
{"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
 "output": {"file": "out.h5", "overwrite": true}, "evaluate": {"methods": ["$m"], "repeats": 1}}
JSON
  scripts/mpirun.sh -n 1 "$bin" evaluate "$dir/job.json" -q
  read -r ev cpu auc < <(python3 -c "import h5py; f = h5py.File('$dir/out.evaluation.h5'); a = f['/'].attrs; print(round(a['evaluate_seconds'], 3), round(a['evaluate_cpu_seconds'], 3), round(float(f['summary/mean'][0]), 2))")
  printf "%-12s %8s %10s %14.5f %14.5f %10s\n" "$m" "$ev" "$cpu" "$(python3 -c "print($ev / $samples)")" "$(python3 -c "print($cpu / $samples)")" "$auc"
done
echo "uptime: $(uptime)"
