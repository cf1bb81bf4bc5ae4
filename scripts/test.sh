#!/usr/bin/env bash
# Sets up neon-batch and runs every test (unit tests per module and end-to-end tests under
# mpirun with 1, 2 and 3 ranks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# RenderFigureTests looks at index.html in headless Chromium (skipped where it cannot be installed).
source scripts/lib/debian-packages.sh
ensure_debian_packages test chromium fonts-dejavu-core ||
  echo "test: warning: could not install chromium; RenderFigureTests will be skipped" >&2
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
# One plain closing line: "N passed, N failed, N skipped" from XCTest's last summaries.
total=0 failed=0 skipped=0
count_tests() {   # count_tests LOG: adds the log's last XCTest summary to the totals
  local summary
  summary=$(grep -E "Executed [0-9]+ tests?, with .*[0-9]+ failures?" "$1" | tail -1)
  [[ -n $summary ]] || return 1
  total=$((total + $(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failures? .*/\1/' <<<"$summary")))
  grep -qE "with [0-9]+ tests? skipped" <<<"$summary" &&
    skipped=$((skipped + $(sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/' <<<"$summary")))
  return 0
}
count_tests "$log" || rc=1
rm -f "$log"
# The NeonCore tests again, built against a second BLAS (BLIS; docs/installing.md): the fast paths
# agree with their float64 references within float rounding whichever BLAS computes the GEMMs.
blis_rc=0
if [[ ${NEON_TEST_BLIS:-1} == 1 ]]; then
  blis_log=$(mktemp)
  (
    source scripts/lib/flavour.sh
    neon_flavour openmpi blis && ensure_debian_packages test "${NEON_DEBIAN_PACKAGES[@]}" &&
      swift build --build-tests --scratch-path "$NEON_SCRATCH" "${NEON_LINK_FLAGS[@]}" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' &&
      NEON_EXPECT_BLAS=BLIS swift test --skip-build --scratch-path "$NEON_SCRATCH" --disable-swift-testing --filter NeonCoreTests 2>&1
  ) >"$blis_log" 2>&1 || blis_rc=1
  if [[ $blis_rc -eq 0 ]] && count_tests "$blis_log"; then
    echo "test: NeonCore tests against $(grep -m1 -oE 'linked BLAS: .*' "$blis_log" || echo '?'): $(grep -E 'Executed [0-9]+ tests?, with' "$blis_log" | tail -1 | sed 's/^[[:space:]]*//')"
  else
    blis_rc=1; grep -E "error|failed" "$blis_log" | head -40
    echo "test: NeonCore tests against BLIS failed" >&2
  fi
  rm -f "$blis_log"
fi
# The MPICH flavour (scripts/test-mpich.sh): built against MPICH + hdf5-mpich, run under
# mpiexec.mpich on 1-3 ranks, stopped and resumed, a damaged input, its device filled up during the
# write (root), and bit-identical to the Open MPI build above; its checks count in the closing line.
mpich_rc=0
if [[ ${NEON_TEST_MPICH:-1} == 1 ]]; then
  mpich_log=$(mktemp)
  scripts/test-mpich.sh 2>&1 | tee "$mpich_log" | grep -E '^test-mpich: '
  [[ ${PIPESTATUS[0]} -eq 0 ]] || mpich_rc=1
  count_tests "$mpich_log" || mpich_rc=1
  if [[ $mpich_rc -ne 0 ]]; then
    grep -E "error" "$mpich_log" | grep -v '^test-mpich: ' | head -20
    echo "test: MPICH flavour tests failed" >&2
  fi
  rm -f "$mpich_log"
fi
# The job parser under libFuzzer + AddressSanitizer for a bounded time (Fuzz/README.md).
fuzz_rc=0
if [[ ${NEON_FUZZ_SECONDS:-30} -gt 0 ]]; then
  scripts/fuzz-jobspec.sh "${NEON_FUZZ_SECONDS:-30}" || fuzz_rc=$?
fi
# The Python package (python/, neon_batch) in a virtual environment with pytest (scripts/test-python.sh).
python_rc=0 python_log=$(mktemp)
scripts/test-python.sh 2>&1 | tee "$python_log" || python_rc=${PIPESTATUS[0]}
[[ $python_rc -eq 0 ]] || echo "test: the Python package's tests failed (exit $python_rc)" >&2
# pytest's closing line ("11 passed, 1 skipped in 9.8s") joins the totals
for kind in passed failed skipped; do
  n=$(tail -n 3 "$python_log" | grep -oE "[0-9]+ $kind" | tail -1 | grep -oE '[0-9]+' || true)
  case $kind in passed) total=$((total + ${n:-0})) ;; failed) total=$((total + ${n:-0})); failed=$((failed + ${n:-0})) ;;
                skipped) total=$((total + ${n:-0})); skipped=$((skipped + ${n:-0})) ;; esac
done
rm -f "$python_log"
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
[[ $rc -eq 0 ]] && rc=$fuzz_rc
[[ $rc -eq 0 ]] && rc=$blis_rc
[[ $rc -eq 0 ]] && rc=$python_rc
[[ $rc -eq 0 ]] && rc=$mpich_rc
exit "$rc"
