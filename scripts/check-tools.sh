#!/usr/bin/env bash
# Installs what the Python helpers in tools/ need (Debian's python3-h5py, python3-xarray,
# python3-sklearn, python3-h5netcdf, python3-torch for /usr/bin/python3) and runs only their tests against the
# debug build (scripts/test.sh installs the same and runs them with every other test).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/debian-packages.sh
ensure_debian_packages check-tools "${TOOLS_PYTHON_PACKAGES[@]}"
[[ -x .build/debug/neon-batch ]] || swift build --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
export NEON_BATCH=${NEON_BATCH:-$PWD/.build/debug/neon-batch}
for t in tools/tests/test_*.py; do
  /usr/bin/python3 "$t"
done
