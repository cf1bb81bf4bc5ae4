#!/usr/bin/env bash
# Sets up neon-batch and runs every test (unit tests per module and end-to-end tests under
# mpirun with 1, 2 and 3 ranks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
set +e
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'
rc=${PIPESTATUS[0]}
[[ $rc -eq 0 ]] || { echo "test: build failed" >&2; exit "$rc"; }
# The SLURM tests start a single-node cluster (slurm/cluster/start-slurm.sh, which installs
# slurm-wlm and munge when missing) and stop it; should the test process die first, the daemons
# it started are stopped here (a cluster that was running before is left alone).
slurm_state=${SLURM_STATE_DIR:-/tmp/neon-slurm}
slurm_before=$(cat "$slurm_state"/*.pid 2>/dev/null | sort | tr '\n' ' ')
trap '[[ "$(cat "$slurm_state"/*.pid 2>/dev/null | sort | tr "\n" " ")" == "$slurm_before" ]] || bash slurm/cluster/stop-slurm.sh >&2' EXIT
log=$(mktemp)
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log" | grep -vE "^Test Case '.*' (started|passed)"
rc=${PIPESTATUS[0]}
# One plain closing line: "N passed, N failed, N skipped" from XCTest's last summary.
summary=$(grep -E "Executed [0-9]+ tests?, with .*[0-9]+ failures?" "$log" | tail -1)
total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) failures? .*/\1/' <<<"$summary")
skipped=0
grep -qE "with [0-9]+ tests? skipped" <<<"$summary" && skipped=$(sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/' <<<"$summary")
rm -f "$log"
# The job parser under libFuzzer + AddressSanitizer for a bounded time (Fuzz/README.md).
fuzz_rc=0
if [[ ${NEON_FUZZ_SECONDS:-30} -gt 0 ]]; then
  scripts/fuzz-jobspec.sh "${NEON_FUZZ_SECONDS:-30}" || fuzz_rc=$?
fi
# The Python package (python/, neon_batch) in a virtual environment with pytest (scripts/test-python.sh).
python_rc=0
scripts/test-python.sh || python_rc=$?
[[ $python_rc -eq 0 ]] || echo "test: the Python package's tests failed (exit $python_rc)" >&2
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
[[ $rc -eq 0 ]] && rc=$fuzz_rc
[[ $rc -eq 0 ]] && rc=$python_rc
exit "$rc"
