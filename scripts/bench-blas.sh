#!/usr/bin/env bash
# The k-means NEON compute (N x 256, K = 1000, float32, 2 threads) with each BLAS neon-batch can be
# built with (OpenBLAS, BLIS, MKL: docs/installing.md), side by side in interleaved rounds, against
# the CPU's FMA peak and every installed BLAS's sgemm (neon-bench's header). Figures, not a test.
# Usage: scripts/bench-blas.sh [ROUNDS] [ROWS]      (default 3 rounds, 50000 rows)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} rows=${2:-50000}
source scripts/lib/debian-packages.sh
source scripts/lib/flavour.sh
declare -A bench
for blas in openblas blis mkl; do
  (
    neon_flavour openmpi "$blas" && ensure_debian_packages bench "${NEON_DEBIAN_PACKAGES[@]}" &&
      swift build -c release --product neon-bench --scratch-path "$NEON_SCRATCH" "${NEON_LINK_FLAGS[@]}" 2>&1 | grep -E "error" || true
  ) >&2
  d=.build; [[ $blas == openblas ]] || d=.build/$blas
  [[ -x $d/release/neon-bench ]] && bench[$blas]=$d/release/neon-bench
done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"${bench[openblas]}" --rows 4096 --repeats 1 | sed -n '1,/^neon-bench: kmeans/p' | grep -v '^neon-bench: kmeans'
declare -A gflops share
for ((r = 1; r <= rounds; r++)); do
  for blas in "${!bench[@]}"; do
    line=$("${bench[$blas]}" --rows "$rows" --repeats 2 | grep -E '^  compute \(8d')
    g=$(grep -oE '[0-9.]+ GFLOP/s' <<<"$line" | head -1 | grep -oE '[0-9.]+')
    p=$(grep -oE '[0-9.]+% of the FMA peak' <<<"$line" | grep -oE '[0-9.]+')
    gflops[$blas]+="$g " share[$blas]+="$p "
    echo "round $r, $blas: $line"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $rounds rounds (k-means compute, 8dK FLOPs per sample):"
for blas in "${!bench[@]}"; do
  echo "  $blas: $(median <<<"${gflops[$blas]}") GFLOP/s = $(median <<<"${share[$blas]}") % of the FMA peak ($("${bench[$blas]}" --rows 256 --repeats 1 | grep -m1 'linked BLAS' | sed 's/^ *//'))"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
