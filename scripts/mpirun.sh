#!/usr/bin/env bash
# mpirun with the settings this kind of machine needs: running as root is allowed, more ranks
# than cores are allowed (oversubscription), and a process that inherited MPI variables from an
# MPI parent does not confuse the child launch. Usage: scripts/mpirun.sh -n P PROGRAM ARGS...
set -euo pipefail
# ---- MPICH: a program built against MPICH runs under its own launcher (hydra's mpiexec.mpich) ----
source "$(dirname "$0")/lib/mpich-launch.sh"
[[ $(neon_mpi_of "$@") == mpich ]] && neon_mpiexec_mpich "$@"
# ---- Open MPI ------------------------------------------------------------------------------------
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
# mpirun answers SIGTERM by killing the ranks after 1 s; give them time to stop cleanly (exit 75).
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-30}
# Containers without ptrace rights cannot use CMA single-copy between ranks.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
exec mpirun "$@"
