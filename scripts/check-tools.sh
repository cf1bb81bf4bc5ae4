#!/usr/bin/env bash
# Runs only the Python package's tests (python/, import name neon_batch): the same as the Python
# block of scripts/test.sh (scripts/test-python.sh: Debian packages, a virtual environment, pytest).
set -euo pipefail
exec "$(dirname "$0")/test-python.sh" "$@"
