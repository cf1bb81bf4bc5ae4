#!/usr/bin/env bash
# Benchmarks `neon-batch fit` (k-means) against scikit-learn's KMeans on the same data
# (N = 200000, d = 256, float32), the same number of iterations and the same 2 cores: seconds per
# iteration, REPS interleaved rounds, medians and the ratios (figures, not a test; not run by CI).
# neon-batch runs plain Lloyd (fit.kmeans_algorithm "lloyd", 1 rank x 2 threads) and Lloyd with
# Hamerly's bounds ("hamerly", 1 rank x 2 threads and 2 ranks x 1 thread); the share of rows the
# bounds recomputed is printed per iteration. scikit-learn runs its default algorithm "lloyd" and
# its bounded one, "elkan"; scikit-learn-intelex (oneDAL) and faiss-cpu run Lloyd from the same
# initial centroids (pip packages, installed here). The CPU and the BLAS kernel of every program are
# printed first. The machine's load average is printed with every round: other work on
# the same cores makes every figure slower.
# Usage: scripts/bench-fit.sh [REPS] [ITER] [K ...]     (default: 3 rounds, 10 iterations, K = 1000 100)
# Two protocols are reported in BENCHMARKS.md: the first 10 iterations (the default), and as many
# iterations as a default scikit-learn fit needs on the same data (k-means++, tol 1e-4:
# `python3 scripts/bench_fit_peer.py default DATA K 2` prints them; 136 at K = 100 and 56 at
# K = 1000 on the mixture), e.g. scripts/bench-fit.sh 3 136 100.
# DATA=mixture (default: 200 overlapping Gaussians, scripts/bench_fit_peer.py gen) or DATA=blobs
# (1000 separated blobs, bench_fit_peer.py blobs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
reps=${1:-3}
iters=${2:-10}
shift 2 || shift $# || true
ks=("$@")
((${#ks[@]})) || ks=(1000 100)
data_kind=${DATA:-mixture}
dir=${BENCH_DIR:-/tmp/neon_bench_fit}
mkdir -p "$dir"
scripts/setup.sh >/dev/null
python3 -c "import numpy, h5py, threadpoolctl, sklearn, sklearnex, faiss" 2>/dev/null ||
  python3 -m pip install -q numpy h5py threadpoolctl scikit-learn scikit-learn-intelex faiss-cpu
case $data_kind in
  mixture) data=$dir/data.h5; [[ -f $data ]] || python3 scripts/bench_fit_peer.py gen "$data" 200000 256 1 ;;
  blobs) data=$dir/blobs.h5; [[ -f $data ]] || python3 scripts/bench_fit_peer.py blobs "$data" 200000 256 1 ;;
  *) echo "DATA must be mixture or blobs" >&2; exit 2 ;;
esac
bin=$root/.build/release/neon-batch
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.4f}')" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
load() { cut -d' ' -f1 /proc/loadavg; }
# CPU seconds used by the whole machine, and by this script's finished children (the runs): their
# difference over a round is what other processes took from the 2 cores meanwhile.
machine_cpu() { awk '/^cpu /{print ($2 + $3 + $4 + $7 + $8 + $9) / 100}' /proc/stat; }
children_cpu() { awk '{print ($16 + $17) / 100}' "/proc/$$/stat"; }
# fit K METHOD RANKS [MPIRUN OPTIONS]: prints seconds per iteration, iterations and, for the timed
# iterations 2.., "R+M/J@S": R % of rows recomputed, M % compared with the J centroids that moved
# most only, S seconds.
fit() {
  local k=$1 method=$2 ranks=$3
  shift 3
  cat > "$dir/fit$k-$method.json" <<JSON
{"input": {"file": "$data", "dataset": "features"},
 "output": {"file": "model$k-$method.h5", "overwrite": true},
 "fit": {"algorithm": "kmeans", "kmeans_algorithm": "$method", "clusters": $k, "n_init": 1, "max_iter": $((iters + 1)), "tol": 0, "seed": 1},
 "execution": {"block_rows": 16384}}
JSON
  local log=$dir/fit$k-$method-$ranks.log
  scripts/mpirun.sh -n "$ranks" "$@" "$bin" fit "$dir/fit$k-$method.json" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  python3 - "$dir/model$k-$method.h5" "$log" <<'PY'
import h5py, re, sys
a = h5py.File(sys.argv[1])['/'].attrs
# per iteration: recomputed % (+ % compared with the J centroids that moved most / J) and seconds
pct = re.findall(r'iteration \d+: .*recomputed ([0-9.]+) % of rows(?: \(\+ ([0-9.]+) % against the (\d+) )?.*?(?:, ([0-9.]+) s)?$',
                 open(sys.argv[2]).read(), re.M)
work = [p[0] + (f'+{p[1]}/{p[2]}' if p[1] else '') + (f'@{p[3]}s' if p[3] else '') for p in pct[1:]]
print(a['seconds_per_iteration'], int(a['iterations']), ' '.join(work))
PY
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); data: $data_kind ($data)"
for k in "${ks[@]}"; do
  lloyd=() ham=() ham2=() skl=() ske=() skx=() fai=()
  for ((r = 1; r <= reps; r++)); do
    l0=$(load) m0=$(machine_cpu) c0=$(children_cpu) w0=$(date +%s.%N)
    read -r t n _ <<< "$(fit "$k" lloyd 1 --bind-to none)"; lloyd+=("$t")
    read -r t n pct <<< "$(fit "$k" hamerly 1 --bind-to none)"; ham+=("$t")
    read -r t _ _ <<< "$(fit "$k" hamerly 2)"; ham2+=("$t")
    sk=$(python3 -W ignore scripts/bench_fit_peer.py sklearn "$data" "$k" "$iters" 2 lloyd)
    skl+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$sk")")
    skn=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['iterations'])" "$sk")
    se=$(python3 -W ignore scripts/bench_fit_peer.py sklearn "$data" "$k" "$iters" 2 elkan)
    ske+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$se")")
    sx=$(python3 -W ignore scripts/bench_fit_peer.py sklearnex "$data" "$k" "$iters" 2)
    skx+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$sx")")
    fa=$(python3 -W ignore scripts/bench_fit_peer.py faiss "$data" "$k" "$iters" 2)
    fai+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds_per_iteration'])" "$fa")")
    if ((r == 1)); then
      for j in "$sk" "$sx" "$fa"; do
        python3 -c "import json,sys; j = json.loads(sys.argv[1]); print(f\"  peer {j.get('library')}: BLAS {j.get('blas')}\")" "$j"
      done
      echo "  neon-batch: $(grep -m1 'blas:' "$dir/fit$k-hamerly-2.log" | sed 's/^neon-batch: //')"
    fi
    others=$(python3 -c "import sys; m0, m1, c0, c1, w0, w1 = map(float, sys.argv[1:]); print(f'{max(0, (m1 - m0) - (c1 - c0)):.1f} CPU-s in {w1 - w0:.0f} s')" \
      "$m0" "$(machine_cpu)" "$c0" "$(children_cpu)" "$w0" "$(date +%s.%N)")
    echo "K=$k round $r (load $l0 -> $(load); other processes: $others): neon-batch lloyd 1x2 ${lloyd[-1]}, hamerly 1x2 ${ham[-1]}, hamerly 2x1 ${ham2[-1]} s/it ($((n - 1)) timed iterations; per iteration: % recomputed+% against movers/movers@seconds: $pct); scikit-learn lloyd ${skl[-1]}, elkan ${ske[-1]} s/it ($skn timed iterations); scikit-learn-intelex ${skx[-1]}, faiss ${fai[-1]} s/it"
  done
  ml=$(median "${lloyd[@]}") mh=$(median "${ham[@]}") mh2=$(median "${ham2[@]}") ms=$(median "${skl[@]}") me=$(median "${ske[@]}")
  mx=$(median "${skx[@]}") mf=$(median "${fai[@]}")
  echo "K=$k medians of $reps: scikit-learn lloyd $ms s/it, elkan $me s/it, scikit-learn-intelex $mx s/it, faiss $mf s/it; neon-batch lloyd 1x2 $ml s/it ($(ratio "$ms" "$ml")x scikit-learn lloyd, $(ratio "$mx" "$ml")x intelex, $(ratio "$mf" "$ml")x faiss), hamerly 1x2 $mh s/it ($(ratio "$ms" "$mh")x lloyd, $(ratio "$me" "$mh")x elkan, $(ratio "$mx" "$mh")x intelex, $(ratio "$mf" "$mh")x faiss), hamerly 2x1 $mh2 s/it ($(ratio "$ms" "$mh2")x)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(python3 -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
