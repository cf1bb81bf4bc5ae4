#!/usr/bin/env bash
# Installs what the Python helpers in tools/ need (Debian's python3-h5py, python3-xarray,
# python3-sklearn, python3-h5netcdf for /usr/bin/python3; not part of CI, where their tests are
# skipped unless a python3 already has them) and runs their tests against the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(python3-h5py python3-xarray python3-sklearn python3-h5netcdf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "check-tools: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -x .build/debug/neon-batch ]] || swift build --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
export NEON_BATCH=${NEON_BATCH:-$PWD/.build/debug/neon-batch}
for t in tools/tests/test_*.py; do
  /usr/bin/python3 "$t"
done
