#!/usr/bin/env bash
# Installs what neon-batch needs on Debian 12 (only what is missing) and builds it in release mode.
# Safe to run again.
#
#   scripts/setup.sh [--mpi openmpi|mpich|wrapper] [--blas openblas|blis|mkl] [--no-install]
#
# The default (Open MPI, OpenBLAS) builds into .build; any other flavour into .build/<flavour>
# (e.g. .build/mpich/release/neon-batch, .build/blis/release/neon-batch). --mpi wrapper takes MPI and
# parallel HDF5 from the compiler wrappers on PATH (mpicc, h5pcc: a site's modules or a Spack
# environment). When pkg-config already finds the libraries, nothing is installed and no root is
# needed; --no-install never installs. NEON_BLAS=... and NEON_MPI=... in the environment work as the
# options do. docs/installing.md has the details and a cluster recipe.
set -euo pipefail
cd "$(dirname "$0")/.."

mpi=${NEON_MPI:-openmpi} blas=${NEON_BLAS:-openblas} install=auto
while (($#)); do
  case $1 in
    --mpi) mpi=${2:?--mpi needs openmpi, mpich or wrapper}; shift 2 ;;
    --blas) blas=${2:?--blas needs openblas, blis or mkl}; shift 2 ;;
    --no-install) install=no; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$1' (see scripts/setup.sh --help)" >&2; exit 64 ;;
  esac
done

source scripts/lib/debian-packages.sh
source scripts/lib/flavour.sh
neon_flavour "$mpi" "$blas" || exit 1
# Installs only when pkg-config misses a library or the launcher is missing (Debian packages, as
# root or with sudo); a site's libraries (modules, Spack) need neither.
if ! neon_have_packages || ! command -v "$NEON_LAUNCHER" >/dev/null; then
  if [[ $install == no ]] || ((${#NEON_DEBIAN_PACKAGES[@]} == 0)); then
    echo "setup: pkg-config does not find $NEON_MPI_PKG, $NEON_HDF5_PKG and the BLAS, or $NEON_LAUNCHER is missing (see docs/installing.md)" >&2
    exit 1
  fi
  ensure_debian_packages setup "${NEON_DEBIAN_PACKAGES[@]}"
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain: see docs/installing.md)" >&2; exit 1; }
echo "setup: building neon-batch (release; MPI $NEON_MPI_PKG, HDF5 $NEON_HDF5_PKG, BLAS $NEON_BLAS) into $NEON_SCRATCH" >&2
set +e
swift build -c release --product neon-batch --scratch-path "$NEON_SCRATCH" "${NEON_LINK_FLAGS[@]}" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || { echo "setup: build failed" >&2; exit "$rc"; }
echo "setup: built $NEON_SCRATCH/release/neon-batch" >&2
