#!/usr/bin/env bash
# mpirun with the settings this kind of machine needs: running as root is allowed, more ranks
# than cores are allowed (oversubscription), and a process that inherited MPI variables from an
# MPI parent does not confuse the child launch. Usage: scripts/mpirun.sh -n P PROGRAM ARGS...
#
# Stopping: SIGINT (Ctrl-C) or SIGTERM to this script is passed on to the ranks themselves, which
# finish the block in flight, close the output "incomplete" (resumable with --resume) and exit 75;
# the script then exits with the job's status (75). A second SIGINT/SIGTERM ends the job at once.
# mpirun is not signalled: it answers SIGINT/SIGTERM by killing the ranks after
# odls_base_sigkill_timeout (1 s), too soon for a clean stop, and cannot forward either signal.
# A failed rank ends the job within about a second (mpirun's default kill timeout).
set -uo pipefail

# ---- MPICH: a program built against MPICH runs under its own launcher (hydra's mpiexec.mpich) ----
source "$(dirname "$0")/lib/mpich-launch.sh"
[[ $(neon_mpi_of "$@") == mpich ]] && neon_mpiexec_mpich "$@"

# ---- Open MPI: the launcher, its settings, and how to find its ranks ------------------------
launcher=(mpirun)
for v in $(env | grep -oE '^(OMPI_COMM_WORLD|OMPI_MCA_ess|OMPI_MCA_orte|OMPI_MCA_pmix|PMIX_|OMPI_FILE_LOCATION|OMPI_UNIVERSE|OMPI_APP|OMPI_FIRST|OMPI_NUM_APP|OMPI_ARGV|OMPI_COMMAND|OMPI_MCA_initial|OMPI_MCA_mpi_oversub|OMPI_MCA_shmem|OMPI_MCA_ompi_|OMPI_MCA_hwloc_base_cpu_set)[A-Za-z0-9_]*'); do
  unset "$v"
done
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# On one node, the ob1 messaging layer over shared memory starts in 0.13 s instead of 0.33 s
# (Open MPI otherwise probes network transports); a site may set its own.
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
# Containers without ptrace rights cannot use CMA single-copy between ranks.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# (odls_base_sigkill_timeout stays at its default of 1 s: mpirun waits that long, unconditionally,
# each time it ends a job, so 30 s made every failed run take a minute.)
# The ranks on this node are mpirun's own children (each in its own process group).
ranks_of() { pgrep -P "$1"; }
# ---- end of the Open MPI part ---------------------------------------------------------------

launcher_pid=
pending=            # a signal to pass on once the ranks exist
stops=0
on_signal() {
  stops=$((stops + 1))
  if [[ $stops -gt 1 ]]; then
    [[ -n $launcher_pid ]] && kill -TERM "$launcher_pid" 2>/dev/null
  else
    pending=$1
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# In its own process group (set -m), so that Ctrl-C on a terminal reaches only this script; its
# standard input is not the terminal (a background process group reading it would be stopped).
set -m
"${launcher[@]}" "$@" </dev/null &
launcher_pid=$!
set +m
while kill -0 "$launcher_pid" 2>/dev/null; do
  if [[ -n $pending ]]; then
    ranks=$(ranks_of "$launcher_pid")
    if [[ -n $ranks ]]; then
      # shellcheck disable=SC2086
      kill -s "$pending" $ranks 2>/dev/null
      pending=
    fi
  fi
  sleep 0.1
done
wait "$launcher_pid"
exit $?
