#!/usr/bin/env bash
# Benchmarks neon-batch on the k-means benchmark job (N = 100000, d = 256, K = 1000, float32)
# against the numpy, mpi4py and torch (CPU) peers in ../shared/bench, in one run on the same file and cores,
# and prints figures (not a pass/fail test), then kernel k-means with and without pruning on generated
# data (KERNEL_ROWS rows, default 20000). Usage: scripts/bench.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
reps=${1:-3}
peer_dir=${PEER_DIR:-$root/../shared/bench}
bench_dir=${BENCH_DIR:-/tmp/neon_bench}
scripts/setup.sh >/dev/null
swift build -c release --product neon-bench 2>&1 | grep -E "error" || true

# The peers' Python dependencies (pip numpy for the single-process peer, Debian's for the MPI one).
python3 -c "import numpy, h5py, threadpoolctl" 2>/dev/null || python3 -m pip install -q numpy h5py threadpoolctl
/usr/bin/python3 -c "import mpi4py, h5py, torch, threadpoolctl" 2>/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-h5py-mpi python3-mpi4py python3-numpy python3-threadpoolctl python3-torch >/dev/null; }
# The torch peer: PyPI's torch (MKL inside; ~5 GB with its CUDA libraries, into .build/deps/torch-venv
# once), or TORCH_PYTHON; Debian's python3-torch (1.13, Debian's BLAS) if neither can be had.
torch_py=${TORCH_PYTHON:-$root/.build/deps/torch-venv/bin/python}
if ! "$torch_py" -c "import torch, h5py, threadpoolctl" 2>/dev/null; then
  { python3 -m venv "$root/.build/deps/torch-venv" &&
    "$root/.build/deps/torch-venv/bin/pip" install -q torch numpy h5py threadpoolctl; } >&2 || torch_py=/usr/bin/python3
fi
[[ -f $bench_dir/kmeans_stl/data.h5 ]] || python3 "$peer_dir/make_bench_data.py" "$bench_dir" --only kmeans_stl
job=$bench_dir/kmeans_stl/job.json
ours=$bench_dir/kmeans_stl/job_neon.json
sed 's/"file": "out.h5"/"file": "out_neon.h5", "overwrite": true/' "$job" > "$ours"
# The same without keeping the beta pass's scores (execution.cache_mb 0): what the cache saves;
# and with every rank reading its own rows (execution.read "parallel", no scatter).
nocache=$bench_dir/kmeans_stl/job_neon_nocache.json
parallel=$bench_dir/kmeans_stl/job_neon_parallel.json
python3 - "$ours" "$nocache" "$parallel" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
json.dump(job | {"execution": {"read": "parallel"}}, open(sys.argv[3], "w"))
job.setdefault("execution", {})["cache_mb"] = 0
json.dump(job, open(sys.argv[2], "w"))
PY

if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
bin=$root/.build/release/neon-batch

echo "== the CPU and the BLAS kernel of every program"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
python3 -c "import numpy, threadpoolctl; numpy.ones(4) @ numpy.ones(4); print('numpy peer (pip numpy', numpy.__version__ + '):', '; '.join(f\"{i['internal_api']} {i['version']} {i['architecture']}\" for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))"
/usr/bin/python3 -c "import numpy, threadpoolctl; numpy.ones(4) @ numpy.ones(4); print('mpi4py peer (Debian numpy', numpy.__version__ + '):', '; '.join(f\"{i['internal_api']} {i['version']} {i['architecture']}\" for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))"
"$torch_py" -c "import torch, threadpoolctl; torch.ones(4) @ torch.ones(4); print('torch peer (torch', torch.__version__ + '): BLAS', 'MKL' if torch.backends.mkl.is_available() else '?', '; '.join(f\"{i['internal_api']} {i['version']} {i.get('architecture') or i.get('threading_layer') or ''}\" for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))"

echo "== compute: fast path vs sgemm ceilings and the FMA peak, same process (2 threads)"
.build/release/neon-bench "$bench_dir/kmeans_stl/data.h5" "$bench_dir/kmeans_stl/model.h5"

# name|command; each prints its own wall time (job read to status complete).
configs=(
  "neon-batch mpirun -n 2|mpirun -n 2 $bin $ours"
  "neon-batch mpirun -n 2, read parallel|mpirun -n 2 $bin $parallel"
  "neon-batch mpirun -n 1 --bind-to none|mpirun -n 1 --bind-to none $bin $ours"
  "neon-batch mpirun -n 2, cache_mb 0|mpirun -n 2 $bin $nocache"
  "numpy --threads 2 --workers 2|python3 $peer_dir/neon_numpy.py $job --threads 2 --workers 2"
  "numpy --threads 2|python3 $peer_dir/neon_numpy.py $job --threads 2"
  "mpi4py mpirun -n 2|mpirun -n 2 /usr/bin/python3 $peer_dir/neon_mpi4py.py $job"
  "torch --threads 2|$torch_py $peer_dir/neon_torch.py $job --threads 2"
  "torch --threads 2 --cache-mb 256|$torch_py $peer_dir/neon_torch.py $job --threads 2 --cache-mb 256"
)
declare -A wall proc
for ((r = 0; r < reps; r++)); do
  for c in "${configs[@]}"; do
    name=${c%%|*}; cmd=${c#*|}
    t0=$(date +%s.%N)
    out=$($cmd 2>&1)
    t1=$(date +%s.%N)
    w=$(grep -oE '(in|wall) [0-9.]+ s' <<<"$out" | head -1 | grep -oE '[0-9.]+')
    wall[$name]+="$w "
    proc[$name]+="$(echo "$t1 - $t0" | bc) "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== end to end, kmeans_stl, median of $reps (wall: job read to status complete; process: whole command)"
printf "%-40s %8s %10s\n" configuration "wall s" "process s"
best_ours_w=99; best_peer_w=99; best_ours_p=99; best_peer_p=99
for c in "${configs[@]}"; do
  name=${c%%|*}
  w=$(median <<<"${wall[$name]}"); p=$(median <<<"${proc[$name]}")
  printf "%-40s %8.3f %10.3f\n" "$name" "$w" "$p"
  if [[ $name == neon-batch* ]]; then
    (( $(echo "$w < $best_ours_w" | bc) )) && best_ours_w=$w
    (( $(echo "$p < $best_ours_p" | bc) )) && best_ours_p=$p
  else
    (( $(echo "$w < $best_peer_w" | bc) )) && best_peer_w=$w
    (( $(echo "$p < $best_peer_p" | bc) )) && best_peer_p=$p
  fi
done
printf "speed-up of the best neon-batch over the best peer: wall %.2fx, process %.2fx\n" \
  "$(echo "$best_peer_w / $best_ours_w" | bc -l)" "$(echo "$best_peer_p / $best_ours_p" | bc -l)"

echo "== memory per rank vs N (generated blobs, d = 256, K = 1000, mpirun -n 2)"
# With the default execution.cache_mb (256 MiB of kept beta-pass scores per rank at most) and
# with it off: block buffers alone.
for n in 100000 400000 800000; do
  d=$bench_dir/mem_$n
  [[ -f $d/data.h5 ]] || $bin demo "$d" --rows $n --features 256 --clusters 1000 >/dev/null
  python3 - "$d/job.json" "$d/job_nocache.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
job.setdefault("execution", {})["cache_mb"] = 0
json.dump(job, open(sys.argv[2], "w"))
PY
  out=$(mpirun -n 2 $bin "$d/job.json" 2>/dev/null)
  off=$(mpirun -n 2 $bin "$d/job_nocache.json" 2>/dev/null)
  echo "N = $n: $(grep -oE 'peak resident [0-9]+ MB per rank' <<<"$out") (cache_mb 0: $(grep -oE '[0-9]+ MB per rank' <<<"$off"))"
done

echo "== kernel k-means: unpruned vs explain.pruning, generated grouped data (neon-bench --kernel, docs/kernel-pruning.md)"
.build/release/neon-bench --kernel --rows "${KERNEL_ROWS:-20000}" --repeats "$reps"
