#!/usr/bin/env bash
# The MPICH flavour, as CI checks it (scripts/test.sh runs this; docs/installing.md, docs/running.md).
# Builds neon-batch against MPICH + hdf5-mpich + OpenBLAS (scripts/setup.sh --mpi mpich:
# .build/mpich/release/neon-batch) and runs it under MPICH's launcher (scripts/mpirun.sh, which
# picks mpiexec.mpich for it):
#   - a k-means job on 1, 2 and 3 ranks: complete, and the datasets are bit-identical;
#   - the same job built against Open MPI (NEON_OPENMPI_BATCH, default .build/release/neon-batch,
#     which scripts/test.sh builds first) gives bit-identical datasets;
#   - SIGTERM to the launcher: exit 75 and status incomplete; --resume then completes it, and its
#     datasets equal an uninterrupted run's;
#   - a damaged input file on 3 ranks: exit 1 within the time limit, and the one line
#     "neon-batch: error: FILE: input file is not an HDF5 file" on stderr;
#   - the output's device (a small tmpfs; root only) filled up by another process during the run:
#     the filler gets ENOSPC, the job completes with the uninterrupted run's datasets (the output's
#     space is reserved at creation; without it MPICH's ROMIO could hang the job, docs/running.md).
# Prints "test-mpich: ok|FAIL NAME" per check and closes with an XCTest-style summary line
# ("Executed N tests, with F failures ...") that scripts/test.sh adds to its count. Exit 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
passed=0 failed=0
summary() {
  echo "test-mpich: Executed $((passed + failed)) tests, with $failed failures (0 unexpected) in $((SECONDS - start)) s"
  ((failed == 0))
}
check() {   # check NAME COMMAND...: one test; the command's status decides
  if "${@:2}"; then
    passed=$((passed + 1)); echo "test-mpich: ok   $1"
  else
    failed=$((failed + 1)); echo "test-mpich: FAIL $1"
    [[ -s $work/err ]] && sed 's/^/test-mpich:   stderr: /' "$work/err" | tail -5
  fi
  rm -f "$work/err"
}

build_start=$SECONDS
if ! scripts/setup.sh --mpi mpich; then
  failed=$((failed + 1)); echo "test-mpich: FAIL building the MPICH flavour"
  summary; exit 1
fi
echo "test-mpich: built the MPICH flavour in $((SECONDS - build_start)) s"
batch=$root/.build/mpich/release/neon-batch
openmpi_batch=${NEON_OPENMPI_BATCH:-$root/.build/release/neon-batch}
work=$(mktemp -d)
leftovers() {   # processes of this script's runs still alive (their command line names $work)
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$work/" && echo "${p#/proc/}"
  done
}
trap 'kill -KILL $(leftovers) 2>/dev/null; umount "$work/full" 2>/dev/null; rm -rf "$work"' EXIT
run() {   # run RANKS JOB [ARGS...]: neon-batch under MPICH's launcher, bounded in time; stderr to $work/err
  timeout -k 10 120 scripts/mpirun.sh -n "$1" "$batch" "${@:2}" >"$work/out" 2>"$work/err"
}
status() { local s; s=$("$batch" inspect "$1" 2>/dev/null); grep -m1 -E '^  status: ' <<<"$s"; }   # "  status: complete (N of N blocks done)"
complete() { [[ $(status "$1") =~ ^\ \ status:\ +complete\ \( ]]; }
same_data() {   # same_data A.h5 B.h5: the explanation's datasets bit for bit, both complete
  local d
  complete "$1" && complete "$2" || { echo "test-mpich: $1 or $2 is not complete" >&2; return 1; }
  for d in relevance assignment logit; do   # (sample, feature: dimension scales without data)
    h5dump -d "/$d" -b LE -o "$work/a.bin" "$1" >/dev/null && h5dump -d "/$d" -b LE -o "$work/b.bin" "$2" >/dev/null &&
      [[ -s $work/a.bin ]] && cmp -s "$work/a.bin" "$work/b.bin" ||
      { echo "test-mpich: /$d differs between $1 and $2" >&2; return 1; }
  done
}
ranks_run() {   # ranks_run P: the small job on P ranks, output out-P.h5
  sed "s/out.h5/out-$1.h5/" "$work/small/job.json" >"$work/small/job-$1.json" &&
    run "$1" "$work/small/job-$1.json" && complete "$work/small/out-$1.h5"
}

# The k-means job on 1, 2 and 3 ranks (3 ranks on 2 cores: oversubscribed), and with Open MPI.
"$batch" demo "$work/small" --rows 30000 --features 32 --clusters 100 >/dev/null &&
  sed -i 's/"block_rows": 8192/"block_rows": 2048/' "$work/small/job.json" || { echo "test-mpich: demo failed" >&2; exit 1; }
for p in 1 2 3; do check "k-means job on $p rank(s) under mpiexec.mpich completes" ranks_run "$p"; done
check "1, 2 and 3 ranks give bit-identical outputs" \
  eval 'same_data "$work/small/out-1.h5" "$work/small/out-2.h5" && same_data "$work/small/out-1.h5" "$work/small/out-3.h5"'
openmpi_same() {
  [[ -x $openmpi_batch ]] || { echo "test-mpich: $openmpi_batch is missing (build the Open MPI flavour first: scripts/setup.sh)" >&2; return 1; }
  ldd "$openmpi_batch" | grep -q 'libmpi\.so' || { echo "test-mpich: $openmpi_batch is not built against Open MPI" >&2; return 1; }
  sed "s/out.h5/out-openmpi.h5/" "$work/small/job.json" >"$work/small/job-openmpi.json" &&
    timeout -k 10 120 scripts/mpirun.sh -n 2 "$openmpi_batch" "$work/small/job-openmpi.json" >/dev/null 2>"$work/err" &&
    same_data "$work/small/out-2.h5" "$work/small/out-openmpi.h5"
}
check "Open MPI and MPICH builds give bit-identical outputs (2 ranks each)" openmpi_same

# SIGTERM to the launcher once blocks are done, then --resume; an uninterrupted run to compare.
"$batch" demo "$work/big" --rows 200000 --features 64 --clusters 1000 >/dev/null &&
  sed -i 's/"block_rows": 8192/"block_rows": 2048/' "$work/big/job.json" || { echo "test-mpich: demo failed" >&2; exit 1; }
sed 's/out.h5/out-ref.h5/' "$work/big/job.json" >"$work/big/job-ref.json"
stopped() {
  local pid seen=0 i rc
  timeout -k 10 120 scripts/mpirun.sh -n 2 "$batch" "$work/big/job.json" >"$work/out" 2>"$work/err" &
  pid=$!
  for ((i = 0; i < 600; i++)); do   # until a checkpoint shows done blocks (at most 60 s)
    [[ $(status "$work/big/out.h5") =~ ^\ \ status:\ +incomplete\ \([1-9][0-9]*\ of ]] && { seen=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  ((seen)) || { echo "test-mpich: the job ended before any block was recorded (make it larger)" >&2; wait "$pid"; return 1; }
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  ((rc == 75)) || { echo "test-mpich: exit $rc after SIGTERM, not 75: $(tail -3 "$work/err")" >&2; return 1; }
  grep -q "^neon-batch: stopped by SIGTERM after " "$work/err" || { echo "test-mpich: no stop message: $(tail -3 "$work/err")" >&2; return 1; }
  [[ $(status "$work/big/out.h5") =~ ^\ \ status:\ +incomplete\ \( ]] || { echo "test-mpich: the stopped output is not incomplete" >&2; return 1; }
}
check "SIGTERM to the launcher: exit 75, output incomplete" stopped
check "--resume completes it, bit-identical to an uninterrupted run" \
  eval 'run 2 "$work/big/job.json" --resume && run 2 "$work/big/job-ref.json" && same_data "$work/big/out.h5" "$work/big/out-ref.h5"'

# A damaged input file: every rank ends promptly with one error line and exit 1.
hostile() {
  local rc lines
  mkdir -p "$work/hostile" && cp "$work/small/job.json" "$work/small/model.h5" "$work/hostile/" &&
    head -c 4096 /dev/urandom >"$work/hostile/data.h5" || return 1
  run 3 "$work/hostile/job.json"; rc=$?
  ((rc == 1)) || { echo "test-mpich: exit $rc on a damaged input, not 1" >&2; return 1; }
  lines=$(grep -v '^$' "$work/err")
  [[ $lines == "neon-batch: error: $work/hostile/data.h5: input file is not an HDF5 file" ]] ||
    { echo "test-mpich: stderr is not the one error line: $lines" >&2; return 1; }
}
check "damaged input on 3 ranks: exit 1 and one error line naming the file" hostile

# The device fills up once blocks are written: pause the ranks, fill it, let them go on.
fills_up() {
  local mnt=$work/full pid i seen=0 p rc exe filler ranks=()
  mkdir -p "$mnt" && mount -t tmpfs -o size=58m neon-full "$mnt" || return 1   # the output: 55.5 MB
  sed "s#\"out.h5\"#\"$mnt/out.h5\"#" "$work/big/job.json" >"$work/big/job-full.json"
  timeout -k 10 120 scripts/mpirun.sh -n 2 "$batch" "$work/big/job-full.json" >"$work/out" 2>"$work/err" &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    [[ $(status "$mnt/out.h5") =~ ^\ \ status:\ +incomplete\ \([1-9][0-9]*\ of ]] && { seen=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  ((seen)) || { echo "test-mpich: the job ended before any block was recorded" >&2; wait "$pid"; return 1; }
  exe=$(readlink -f "$batch")
  for p in /proc/[0-9]*; do [[ $(readlink "$p/exe") == "$exe" ]] && ranks+=("${p#/proc/}"); done
  ((${#ranks[@]} == 2)) || { echo "test-mpich: found ${#ranks[@]} ranks, not 2" >&2; wait "$pid"; return 1; }
  kill -STOP "${ranks[@]}"
  filler=$(dd if=/dev/zero of="$mnt/filler" bs=64k 2>&1)
  kill -CONT "${ranks[@]}"
  [[ $filler == *"No space left on device"* ]] || { echo "test-mpich: the filler did not run out of space" >&2; wait "$pid"; return 1; }
  wait "$pid"; rc=$?
  ((rc == 0)) || { echo "test-mpich: exit $rc after the device filled up, not 0" >&2; return 1; }
  same_data "$mnt/out.h5" "$work/big/out-ref.h5"
}
if ((EUID == 0)); then
  check "device filled up during the write: the job completes, bit-identical" fills_up
else
  echo "test-mpich: skip device filled up during the write (mounting a tmpfs needs root)"
fi

summary
