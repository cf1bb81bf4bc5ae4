#!/usr/bin/env bash
# Softmax heads fitted by neon-batch (issue 21) and explained, scored with Algorithm 1 like the
# k-means rows of docs/evaluation-validation.md: scikit-learn's digits (1797 x 64, standardized),
# one head per fit.loss (mutual_information, collision_cross_entropy, iic; K = 10, seed 0), the
# adjusted Rand index of each head against the digit labels, then `neon-batch evaluate` with every
# method that applies (NCA needs centroids: not for heads). Not part of CI. Usage:
#   scripts/validate-softmax.sh [OUTDIR] [RANKS] [K]     (defaults: /tmp/neon_softmax_validation, 2, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/neon_softmax_validation}
ranks=${2:-2}
clusters=${3:-10}
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py, sklearn" 2>/dev/null || python3 -m pip install -q numpy h5py scikit-learn
mkdir -p "$out"
python3 - "$out" <<'PY'
import sys, h5py, numpy as np
from sklearn.datasets import load_digits
d = load_digits()
x = d.data.astype(np.float64)
sd = x.std(axis=0); sd[sd == 0] = 1.0
with h5py.File(f"{sys.argv[1]}/digits.h5", "w") as f:
    f["features"] = (x - x.mean(axis=0)) / sd
    f["labels"] = d.target.astype(np.int64)
PY
bin=.build/release/neon-batch
for loss in mutual_information collision_cross_entropy iic; do
  cat >"$out/fit-$loss.json" <<JSON
{"input": {"file": "digits.h5", "dataset": "features"}, "output": {"file": "head-$loss.h5", "overwrite": true},
 "fit": {"algorithm": "softmax", "clusters": $clusters, "loss": "$loss", "seed": 0}}
JSON
  cat >"$out/eval-$loss.json" <<JSON
{"input": {"file": "digits.h5", "dataset": "features"}, "model": {"file": "head-$loss.h5"},
 "output": {"file": "out-$loss.h5", "overwrite": true}, "explain": {"beta": "auto", "steps": 10, "samples": 10},
 "evaluate": {"repeats": 3, "seed": 0}}
JSON
  echo "== $loss"
  scripts/mpirun.sh -n "$ranks" "$bin" fit "$out/fit-$loss.json"
  scripts/mpirun.sh -n "$ranks" "$bin" evaluate "$out/eval-$loss.json" -q
done
echo "== summary"
python3 - "$out" <<'PY'
import sys, h5py, numpy as np
from sklearn.metrics import adjusted_rand_score
out = sys.argv[1]
with h5py.File(f"{out}/digits.h5") as f:
    x, y = f["features"][...], f["labels"][...]
for loss in ["mutual_information", "collision_cross_entropy", "iic"]:
    with h5py.File(f"{out}/head-{loss}.h5") as m:
        z = x @ m["weight"][...].T + m["bias"][...]
        sizes = np.bincount(z.argmax(1), minlength=z.shape[1])
        print(f"{loss}: ARI vs digit labels {adjusted_rand_score(y, z.argmax(1)):.3f}, cluster sizes {sizes.min()}..{sizes.max()}, objective {m.attrs['objective']:.4f}")
    print(open(f"{out}/out-{loss}.evaluation.summary.md").read().strip().splitlines()[-1])
PY
