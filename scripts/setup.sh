#!/usr/bin/env bash
# Installs what neon-batch needs on Debian 12 (skipping what is present) and builds it in
# release mode. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libopenblas-dev libpng-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain needed)" >&2; exit 1; }
echo "setup: building neon-batch (release)" >&2
set +e
swift build -c release --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || { echo "setup: build failed" >&2; exit "$rc"; }
