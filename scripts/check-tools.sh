#!/usr/bin/env bash
# Installs what the Python helpers in tools/ need (Debian's python3-h5py, python3-xarray,
# python3-sklearn, python3-h5netcdf for /usr/bin/python3; not part of CI, where their tests are
# skipped unless a python3 already has them) and runs their tests against the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/debian-packages.sh
ensure_debian_packages check-tools python3-h5py python3-xarray python3-sklearn python3-h5netcdf
[[ -x .build/debug/neon-batch ]] || swift build --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
export NEON_BATCH=${NEON_BATCH:-$PWD/.build/debug/neon-batch}
for t in tools/tests/test_*.py; do
  /usr/bin/python3 "$t"
done
