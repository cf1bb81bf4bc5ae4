#!/usr/bin/env bash
# Installs the Python package (python/, import name neon_batch) into a virtual environment that
# sees Debian's h5py, xarray, scikit-learn and torch (--system-site-packages) and runs pytest on
# python/tests against the built neon-batch (NEON_BATCH, default .build/debug/neon-batch).
# Exit: pytest's status; "no tests collected" (pytest's exit 5) is a failure here too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/debian-packages.sh
ensure_debian_packages test-python python3-venv python3-pytest "${TOOLS_PYTHON_PACKAGES[@]}" ||
  echo "test-python: warning: could not install some of ${TOOLS_PYTHON_PACKAGES[*]}; tests that need them are skipped" >&2
venv=${NEON_PYTHON_VENV:-$PWD/.build/python-venv}
[[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv --system-site-packages "$venv"
# --no-build-isolation: build with the venv's setuptools, without fetching anything; from a copy,
# so that the build leaves nothing (build/, *.egg-info) in the checkout.
src=$(mktemp -d)
cp -r python/. "$src"
rm -rf "$src/build" "$src"/*.egg-info
"$venv/bin/python" -m pip install -q --no-deps --no-build-isolation --disable-pip-version-check "$src"
rm -rf "$src"
[[ -x ${NEON_BATCH:-.build/debug/neon-batch} ]] || swift build --product neon-batch 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
export NEON_BATCH=${NEON_BATCH:-$PWD/.build/debug/neon-batch}
# Outside the checkout, so that the installed package (not python/neon_batch) is what is tested.
cd "$(mktemp -d)"
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/python/tests" "$@"
rc=$?
set -e
[[ $rc -eq 5 ]] && echo "test-python: pytest collected no tests (exit 5)" >&2
exit "$rc"
