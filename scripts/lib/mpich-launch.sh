# Sourced by scripts/mpirun.sh: the MPICH side of it (docs/running.md, "MPI launchers and signals").
#   neon_mpi_of ARGS...        prints "mpich" when the program in a launcher's ARGS is built against
#                              MPICH (it lives under .build/mpich*, or ldd shows libmpich), else "openmpi"
#   neon_mpiexec_mpich ARGS... runs MPICH's hydra launcher with ARGS and exits with its exit status
#
# Hydra needs no option to run as root or to oversubscribe, and MPICH's ch4 device passes messages
# between the ranks of one node through shared memory by itself. What it needs is signal handling:
# hydra forwards SIGINT and SIGTERM to the ranks (they stop cleanly with exit 75), but its own exit
# status is then sometimes 0 instead of the ranks' 75 (measured with MPICH 4.0.2: 0 in 1 of 14
# SIGTERMs and 7 of 13 SIGINTs). A SIGTERM sent to the ranks directly leaves hydra out of it, and
# hydra then always returns their 75. So hydra runs in its own session (a Ctrl-C at the terminal
# reaches this script only) and this script sends the signal to the ranks on this node;
# they agree on stopping with the ranks on other nodes. The second signal goes to them too (a
# `timeout` sends it twice), the third kills them (SIGKILL); SIGHUP is passed on as SIGTERM.

neon_mpi_of() {
  local a path
  for a in "$@"; do
    [[ $a == -* ]] && continue
    if [[ $a == */* ]]; then path=$a; else path=$(command -v -- "$a" 2>/dev/null) || continue; fi
    [[ -f $path && -x $path ]] || continue
    case $(realpath -- "$path") in */.build/mpich*/*) echo mpich; return ;; esac
    case $(ldd -- "$path" 2>/dev/null) in
      *libmpich*) echo mpich; return ;;
      *libmpi.so*) echo openmpi; return ;;
    esac
  done
  echo openmpi
}

# neon_children PID: its child processes into NEON_KIDS, read by the shell itself (no pgrep, no
# subshell): a signal to the process group (Ctrl-C, `timeout`) would kill those.
neon_children() {
  NEON_KIDS=()
  if [[ -r /proc/$1/task/$1/children ]]; then
    read -r -a NEON_KIDS </proc/"$1"/task/"$1"/children
  else
    NEON_KIDS=($(pgrep -P "$1"))
  fi
}

neon_mpiexec_mpich() {
  set +e
  local v launcher=${NEON_MPIEXEC:-}
  # A process started by hydra has PMI_* variables; a launch from inside it must not inherit them.
  for v in $(env | grep -oE '^(PMI_|MPI_LOCALNRANKS|MPI_LOCALRANKID)[A-Za-z0-9_]*'); do
    unset "$v"
  done
  if [[ -z $launcher ]]; then
    launcher=mpiexec.mpich
    command -v "$launcher" >/dev/null || launcher=mpiexec   # a site's MPICH module
  fi
  command -v "$launcher" >/dev/null || { echo "mpirun.sh: $launcher not found (install mpich, load the MPICH module, or set NEON_MPIEXEC)" >&2; exit 1; }
  # Hydra in a session of its own (setsid: a background child is no group leader, so setsid
  # does not fork and $! is hydra's pid) and without the terminal: neon-batch reads no input.
  [[ -t 0 ]] && exec </dev/null
  if command -v setsid >/dev/null; then setsid "$launcher" "$@" & else "$launcher" "$@" & fi
  local pid=$!
  local signalled=0
  forward() {   # $1: the signal this script got
    signalled=$((signalled + 1))
    local proxy proxies ranks=()
    neon_children "$pid"; proxies=("${NEON_KIDS[@]}")
    for proxy in "${proxies[@]}"; do neon_children "$proxy"; ranks+=("${NEON_KIDS[@]}"); done
    if ((${#ranks[@]} == 0)); then
      kill -s "$1" "$pid" 2>/dev/null      # no rank on this node (yet): hydra's own forwarding
    elif ((signalled <= 2)); then
      kill -s "$1" "${ranks[@]}" 2>/dev/null
    else
      kill -s KILL "${ranks[@]}" 2>/dev/null
    fi
  }
  trap 'forward INT' INT
  trap 'forward TERM' TERM
  trap 'forward TERM' HUP   # the ranks stop cleanly on SIGTERM and SIGINT only
  local rc
  # `wait` returns early when a trapped signal arrives; wait again until hydra is done.
  while :; do
    wait "$pid"; rc=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  wait "$pid" 2>/dev/null; v=$?
  ((v != 127)) && rc=$v
  exit "$rc"
}
