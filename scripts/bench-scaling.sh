#!/usr/bin/env bash
# Scaling benchmark of neon-batch (figures, not a test): for P = 1..PMAX ranks (oversubscribed
# beyond the cores), an I/O-bound k-means job (K = 10), a compute-bound one (K = 1000) and a kernel
# k-means one (K = 10, 10 support vectors per cluster), each with execution.read "root" and
# "parallel" (and the k-means jobs once more with root reads and every transfer collective,
# NEON_COLLECTIVE_IO=1, mode "collective"), in interleaved rounds; prints medians of wall time, samples/s, parallel efficiency
# and per-phase seconds per block on rank 0 and on the slowest rank, and the serial (not
# overlapped) I/O seconds per million samples (NEON_SERIAL_IO=1 runs of the K = 10 job).
# The jobs use a fixed beta (one pass over the input). docs/scaling.md explains the model.
# Usage: scripts/bench-scaling.sh [PMAX] [ROWS] [ROUNDS]   (defaults 4, 200000, 2)
# NEON_BIN=path: use that neon-batch (e.g. a release build of the same commit) instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pmax=${1:-4}; rows=${2:-200000}; rounds=${3:-2}
dir=${BENCH_DIR:-/tmp/neon_bench_scaling}/$rows
deep_rows=${DEEP_ROWS:-4096}
source scripts/lib/release-bin.sh
bin=$(release_bin)
mkdir -p "$dir"
for k in 10 1000; do
  [[ -f $dir/k$k/model.h5 ]] || "$bin" demo "$dir/k$k" --rows "$rows" --features 256 --clusters "$k" >/dev/null
done
if [[ ! -f $dir/kernel/model.h5 ]]; then
  mkdir -p "$dir/kernel"
  cat > "$dir/kernel/fit.json" <<JSON
{"input": {"file": "../k10/data.h5", "dataset": "features"}, "output": {"file": "model.h5", "overwrite": true},
 "fit": {"algorithm": "kernel_kmeans", "clusters": 10, "n_init": 1, "max_iter": 5, "support_vectors": 10, "seed": 1}}
JSON
  scripts/mpirun.sh -n 2 "$bin" fit "$dir/kernel/fit.json" -q
fi
if [[ ! -f $dir/deep$deep_rows/model.h5 ]]; then
  mkdir -p "$dir/deep$deep_rows"
  python3 - "$dir/deep$deep_rows" "$deep_rows" <<'PY'
import sys, h5py, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
C, H, W, K = 64, 14, 14, 10
rng = np.random.default_rng(22)
# non-negative, sparse maps (about half zeros) like ReLU outputs, from 10 groups of channel means
means = np.abs(rng.normal(0, 1, (K, C, 1, 1))).astype(np.float32)
with h5py.File(out + "/data.h5", "w") as f:
    d = f.create_dataset("features", (n, C, H, W), dtype="f4")
    for s in range(0, n, 512):
        m = min(512, n - s)
        d[s:s + m] = np.maximum(means[rng.integers(0, K, m)] + rng.normal(0, 1, (m, C, H, W)).astype(np.float32), 0)
with h5py.File(out + "/model.h5", "w") as f:   # docs/file-formats.md, deep_soft
    f.attrs["kind"] = "deep_soft"
    g = f.create_group("psi")
    def conv(name):
        l = g.create_group(name); l.attrs["type"] = "conv2d"; l.attrs["padding"] = 1
        l["weight"] = rng.normal(0, np.sqrt(2 / (C * 9)), (C, C, 3, 3)).astype(np.float32)
        l["bias"] = rng.normal(0, 0.01, C).astype(np.float32)
    conv("0"); g.create_group("1").attrs["type"] = "relu"
    l = g.create_group("2"); l.attrs["type"] = "maxpool2d"; l.attrs["kernel_size"] = 2
    conv("3"); g.create_group("4").attrs["type"] = "relu"
    g.create_group("5").attrs["type"] = "global_avg_pool"
    f["centroids"] = rng.normal(0, 1, (K, C)).astype(np.float32)
PY
fi
# job NAME DATA MODEL READ [BLOCK_ROWS]
job() {
  cat > "$dir/$1.json" <<JSON
{"input": {"file": "$2", "dataset": "features"}, "model": {"file": "$3"},
 "output": {"file": "$dir/$1.h5", "overwrite": true}, "explain": {"beta": 1},
 "execution": {"block_rows": ${5:-8192}, "read": "$4"}}
JSON
}
for mode in root parallel; do
  job "k10-$mode" "$dir/k10/data.h5" "$dir/k10/model.h5" $mode
  job "k1000-$mode" "$dir/k1000/data.h5" "$dir/k1000/model.h5" $mode
  job "kernel-$mode" "$dir/k10/data.h5" "$dir/kernel/model.h5" $mode
  job "deep-$mode" "$dir/deep$deep_rows/data.h5" "$dir/deep$deep_rows/model.h5" $mode 256
done

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; BLAS: $("$bin" "$dir/k10-root.json" | sed -n 's/^ *blas: *//p')"
echo "k10, k1000, kernel: $rows rows x 256 float32, block_rows 8192 ($(( (rows + 8191) / 8192 )) blocks); deep: $deep_rows rows x 64 x 14 x 14 float32, block_rows 256 ($(( (deep_rows + 255) / 256 )) blocks); $rounds rounds; load at start $(cut -d' ' -f1-3 /proc/loadavg)"
log=$dir/runs.txt
: > "$log"
for ((r = 0; r < rounds; r++)); do
  for ((p = 1; p <= pmax; p++)); do
    for name in k10 k1000 kernel deep; do
      for mode in root parallel collective; do
        # collective: root reads with every transfer collective (NEON_COLLECTIVE_IO=1, the design
        # before independent transfers), for the vector k-means jobs only
        if [[ $mode == collective ]]; then
          [[ $name == k10 || $name == k1000 ]] || continue
          out=$(NEON_COLLECTIVE_IO=1 scripts/mpirun.sh -n $p "$bin" "$dir/$name-root.json" 2>/dev/null)
        else
          out=$(scripts/mpirun.sh -n $p "$bin" "$dir/$name-$mode.json" 2>/dev/null)
        fi
        echo "run $name $mode $p $(cut -d' ' -f1 /proc/loadavg)" >> "$log"
        echo "$out" >> "$log"
      done
    done
    out=$(NEON_SERIAL_IO=1 scripts/mpirun.sh -n $p "$bin" "$dir/k10-root.json" 2>/dev/null)
    echo "run k10 serial $p $(cut -d' ' -f1 /proc/loadavg)" >> "$log"
    echo "$out" >> "$log"
  done
done
python3 - "$log" "$rows" "$deep_rows" <<'PY'
import re, statistics, sys
log, vrows, drows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
shape = {n: (vrows, 8192) for n in ["k10", "k1000", "kernel"]} | {"deep": (drows, 256)}
runs, cur = {}, None
def phases(line):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+) ([0-9.]+) s", line.split(":", 1)[1])}
for line in open(log):
    if line.startswith("run "):
        _, name, mode, p, load = line.split()
        cur = {"load": float(load)}
        runs.setdefault((name, mode, int(p)), []).append(cur)
    elif "explained" in line:
        cur["wall"] = float(re.search(r"in ([0-9.]+) s", line).group(1))
    elif line.startswith("  time:"):
        cur["rank0"] = phases(line)
    elif line.startswith("  slowest rank:"):
        cur["slowest"] = phases(line)
    elif line.startswith("  memory:"):
        cur["mb"] = float(re.search(r"peak resident ([0-9.]+) MB", line).group(1))
med = lambda xs: statistics.median(xs) if xs else float("nan")
def per_block(rs, who, keys, blocks):
    return med([sum(r.get(who, r.get("rank0", {})).get(k, 0) for k in keys) / blocks for r in rs])
io = ["read", "scatter", "stats", "write", "progress", "checkpoint", "gather"]
print(f"\n{'job':7} {'read':10} {'P':>2} {'wall s':>7} {'samples/s':>10} {'eff':>5} | rank 0, ms per block: {'read':>5} {'scat':>5} {'comp':>6} {'write':>6} {'exposed':>7} | slowest rank: {'read':>5} {'comp':>6} {'write':>6} | {'MB/rank':>7} load")
for name in ["k10", "k1000", "kernel", "deep"]:
    rows, b = shape[name]
    blocks = (rows + b - 1) // b
    base = med([r["wall"] for r in runs.get((name, "root", 1), []) if "wall" in r])
    for mode in ["root", "parallel", "collective"]:
        for p in sorted({k[2] for k in runs if k[0] == name and k[1] == mode}):
            rs = [r for r in runs[(name, mode, p)] if "wall" in r]
            if not rs: continue
            wall = med([r["wall"] for r in rs])
            ms = lambda who, keys: 1000 * per_block(rs, who, keys, blocks)
            exposed = 1000 * med([(r["rank0"].get("block", 0) - r["rank0"].get("compute", 0)) / blocks for r in rs])
            print(f"{name:7} {mode:10} {p:2} {wall:7.2f} {rows / wall:10.0f} {base / (p * wall):5.2f} | {'':21}{ms('rank0', ['read']):5.1f} {ms('rank0', ['scatter']):5.1f} {ms('rank0', ['compute']):6.1f} {ms('rank0', ['stats', 'write', 'progress', 'checkpoint']):6.1f} {exposed:7.1f} | {'':14}{ms('slowest', ['read']):5.1f} {ms('slowest', ['compute']):6.1f} {ms('slowest', ['stats', 'write', 'progress', 'checkpoint']):6.1f} | {med([r.get('mb', 0) for r in rs]):7.0f} {med([r['load'] for r in rs]):.1f}")
rows = vrows
print("\nserial (NEON_SERIAL_IO=1, K = 10, root reads): rank 0's I/O and collective seconds per million samples")
for p in sorted({k[2] for k in runs if k[1] == "serial"}):
    rs = [r for r in runs[("k10", "serial", p)] if "wall" in r]
    parts = {k: 1e6 / rows * med([r["rank0"].get(k, 0) for r in rs]) for k in io}
    print(f"  P = {p}: " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items() if v > 0) + f"; total {sum(parts.values()):.2f} s; compute {1e6 / rows * med([r['rank0'].get('compute', 0) for r in rs]):.2f} s; wall {1e6 / rows * med([r['wall'] for r in rs]):.2f} s (load {med([r['load'] for r in rs]):.1f})")
PY
