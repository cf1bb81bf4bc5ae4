#!/usr/bin/env bash
# Table-I-style validation of `neon-batch evaluate` on scikit-learn's bundled datasets (iris,
# breast_cancer, digits; standardized, k-means with K by the elbow method, and kernel k-means
# models built from the same clusters): every method's mean
# AUC +- standard error. Not part of CI (needs scikit-learn). Usage:
#   scripts/validate-evaluation.sh [OUTDIR] [RANKS]     (defaults: /tmp/neon_eval_validation, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/neon_eval_validation}
ranks=${2:-2}
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py, sklearn" 2>/dev/null || python3 -m pip install -q numpy h5py scikit-learn
python3 -c "import neon_batch" 2>/dev/null || python3 -m pip install -q ./python     # the neon_batch package (python/)
python3 tools/evaluation_datasets.py "$out" --kernel
names="iris breast_cancer digits iris-kernel breast_cancer-kernel digits-kernel"
for name in $names; do
  echo "== $name"
  scripts/mpirun.sh -n "$ranks" .build/release/neon-batch evaluate "$out/$name/job.json"
done
echo "== summary"
for name in $names; do tail -n 1 "$out/$name/out.evaluation.summary.md"; done
