#!/usr/bin/env bash
# Sets up neon-batch, writes a demo dataset, explains it under mpirun with 2 ranks, summarises the
# output (neon-batch inspect) and draws it (neon-batch render: bar charts and index.html).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dir=${1:-demo}
.build/release/neon-batch demo "$dir" --force     # (re-running the demo rewrites its files)
scripts/mpirun.sh -n 2 .build/release/neon-batch "$dir/job.json"
.build/release/neon-batch inspect "$dir/out.h5"
.build/release/neon-batch render "$dir/out.h5" --out "$dir/figures"
echo "demo: the explanations are in $dir/out.h5 (datasets relevance, assignment, logit); charts in $dir/figures/index.html"
