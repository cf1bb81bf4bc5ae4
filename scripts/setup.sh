#!/usr/bin/env bash
# Installs what neon-batch needs on Debian 12 (skipping what is present) and builds it in
# release mode. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/debian-packages.sh
ensure_debian_packages setup libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libopenblas-dev libpng-dev pkg-config

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain needed)" >&2; exit 1; }
echo "setup: building neon-batch (release)" >&2
set +e
swift build -c release --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || { echo "setup: build failed" >&2; exit "$rc"; }
