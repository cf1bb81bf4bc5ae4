#!/usr/bin/env bash
# Sets up neon-batch, writes a demo dataset and explains it under mpirun with 2 ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dir=${1:-demo}
.build/release/neon-batch demo "$dir"
scripts/mpirun.sh -n 2 .build/release/neon-batch "$dir/job.json"
echo "demo: the explanations are in $dir/out.h5 (datasets relevance, assignment, logit); look with: h5ls -v $dir/out.h5"
