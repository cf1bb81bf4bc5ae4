#!/bin/bash
# A large export as a SLURM job array: N tasks each explain their part of the job's rows
# (neon-batch run --part I/N, whole blocks) into their own file, then a dependent job joins the
# parts into output.file (neon-batch join JOB --parts N).
#
#   slurm/export-array.sh [--wait] JOB.json N [sbatch options for the array tasks, e.g. -n 4 -t 2:00:00]
#
# Prints the two job ids ("array ID", "join ID"). With --wait it waits for the join and exits
# with its exit code (1 if the join never ran because a task failed). Each task is a neon-batch.sbatch job (time-limit stop, requeue and resume
# work per task); the join runs only when every task succeeded (afterok) and is cancelled if
# one fails. Set NEON_BATCH to the executable if neon-batch is not on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wait=()
if [[ ${1:-} == --wait ]]; then wait=(--wait); shift; fi
job=${1:?usage: export-array.sh [--wait] JOB.json N [sbatch options]}
n=${2:?usage: export-array.sh [--wait] JOB.json N [sbatch options]}
shift 2
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "export-array.sh: N must be a positive integer, not '$n'" >&2; exit 2; }
[[ -f $job ]] || { echo "export-array.sh: $job: job file does not exist" >&2; exit 2; }
array=$(sbatch --parsable --array="0-$((n - 1))" --output="neon-batch-%A_%a.log" "$@" "$here/neon-batch.sbatch" "$job")
array=${array%%;*}
echo "array $array"
set +e
join=$(sbatch --parsable "${wait[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="neon-join-%j.log" "$here/join.sbatch" "$job" "$n")
rc=$?
set -e
join=${join%%;*}
echo "join $join"
if (( ${#wait[@]} )) && (( rc == 0 )); then
  # sbatch --wait returns 0 for a join that never ran (cancelled: a task failed).
  state=$(scontrol show job "$join" -o 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2 || true)
  if [[ $state != COMPLETED ]]; then
    echo "export-array.sh: the join job $join ended ${state:-unknown} (did an array task fail? see its log neon-batch-${array}_I.log)" >&2
    rc=1
  fi
fi
exit "$rc"
