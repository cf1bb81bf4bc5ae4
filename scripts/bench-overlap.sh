#!/usr/bin/env bash
# Overlap benchmark of neon-batch (figures, not a test; issue 22's target): on P ranks (default 2)
# the I/O-bound job (`neon-batch demo --rows ROWS --features 256 --clusters 10`, beta "auto") and
# the same rows with a K = 300 model (centroids: 300 of the rows), each
#   - overlapped with root reads (the default), overlapped with parallel reads,
#   - overlapped with every transfer collective (NEON_COLLECTIVE_IO=1, the earlier design),
#   - serial (NEON_SERIAL_IO=1: the I/O between the computations),
# in interleaved rounds. Prints medians of the wall time, the K = 300 / K = 10 ratio, and what
# overlap can reach at best: max(the K = 10 job, the K = 300 computation alone), the computation
# taken from the serial runs' `compute` (rank 0's worker time).
# Usage: scripts/bench-overlap.sh [ROWS] [ROUNDS] [P]   (defaults 1000000, 3, 2)
# NEON_BIN=path: use that neon-batch instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${1:-1000000}; rounds=${2:-3}; ranks=${3:-2}
dir=${BENCH_DIR:-/tmp/neon_bench_overlap}/$rows
source scripts/lib/release-bin.sh
bin=$(release_bin)
mkdir -p "$dir"
[[ -f $dir/data.h5 ]] || "$bin" demo "$dir" --rows "$rows" --features 256 --clusters 10 >/dev/null
python3 - "$dir" <<'PY'
import h5py, json, numpy as np, os, sys
d = sys.argv[1]
if not os.path.exists(f"{d}/model300.h5"):
    x = h5py.File(f"{d}/data.h5")["features"]
    idx = np.sort(np.random.default_rng(300).choice(x.shape[0], 300, replace=False))
    with h5py.File(f"{d}/model300.h5", "w") as f:      # docs/file-formats.md, kmeans
        f.attrs["kind"] = "kmeans"
        f["centroids"] = x[idx].astype(np.float64)
for k, model in [(10, "model.h5"), (300, "model300.h5")]:
    for mode in ["root", "parallel"]:
        json.dump({"input": {"file": f"{d}/data.h5", "dataset": "features"}, "model": {"file": f"{d}/{model}"},
                   "output": {"file": f"{d}/out-k{k}-{mode}.h5", "overwrite": True}, "explain": {"beta": "auto"},
                   "execution": {"block_rows": 8192, "read": mode}}, open(f"{d}/k{k}-{mode}.json", "w"))
PY
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; BLAS: $("$bin" "$dir/k10-root.json" | sed -n 's/^ *blas: *//p')"
echo "$rows rows x 256 float32, block_rows 8192, beta auto, $ranks ranks, $rounds rounds; load at start $(cut -d' ' -f1-3 /proc/loadavg)"
log=$dir/runs.txt
: > "$log"
for ((r = 0; r < rounds; r++)); do
  for k in 10 300; do
    for mode in root parallel collective serial; do
      case $mode in
        root|parallel) out=$(scripts/mpirun.sh -n "$ranks" "$bin" "$dir/k$k-$mode.json" 2>/dev/null) ;;
        collective) out=$(NEON_COLLECTIVE_IO=1 scripts/mpirun.sh -n "$ranks" "$bin" "$dir/k$k-root.json" 2>/dev/null) ;;
        serial) out=$(NEON_SERIAL_IO=1 scripts/mpirun.sh -n "$ranks" "$bin" "$dir/k$k-root.json" 2>/dev/null) ;;
      esac
      echo "run $k $mode $(cut -d' ' -f1 /proc/loadavg)" >> "$log"
      echo "$out" >> "$log"
    done
  done
done
python3 - "$log" <<'PY'
import re, statistics, sys
runs, cur = {}, None
for line in open(sys.argv[1]):
    if line.startswith("run "):
        _, k, mode, load = line.split()
        cur = {"load": float(load)}
        runs.setdefault((int(k), mode), []).append(cur)
    elif "explained" in line:
        cur["wall"] = float(re.search(r"in ([0-9.]+) s", line).group(1))
    elif line.startswith("  time:"):
        cur |= {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+) ([0-9.]+) s", line)}
med = lambda k, mode, key: statistics.median([r[key] for r in runs[(k, mode)] if key in r])
print(f"\n{'mode':11} {'K = 10 s':>9} {'K = 300 s':>10} {'ratio':>6} | rank 0 at K = 300: {'compute':>8} {'block - compute':>15} | load")
for mode in ["root", "parallel", "collective", "serial"]:
    a, b = med(10, mode, "wall"), med(300, mode, "wall")
    c, x = med(300, mode, "compute"), statistics.median([r["block"] - r["compute"] for r in runs[(300, mode)]])
    print(f"{mode:11} {a:9.2f} {b:10.2f} {b / a:6.2f} | {'':19}{c:8.2f} {x:15.2f} | {med(300, mode, 'load'):.1f}")
io, comp = med(10, "root", "wall"), med(300, "serial", "compute")
best = max(io, comp)
print(f"\nthe K = 300 computation alone (serial runs, rank 0) {comp:.2f} s; the K = 10 job {io:.2f} s: the computation alone is "
      f"{comp / io:.2f}x the K = 10 job")
for mode in ["root", "parallel"]:
    print(f"overlapped, {mode} reads: K = 300 takes {med(300, mode, 'wall') / best:.2f}x max(K = 10 job, K = 300 computation)")
PY
