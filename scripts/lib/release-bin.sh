# Sourced by the benchmark scripts (run from the project's root): release_bin prints the neon-batch
# to benchmark: NEON_BIN if set (e.g. a release build of another commit), else this tree's release
# build, built first (compiler errors go to stderr).
release_bin() {
  if [[ -n ${NEON_BIN:-} ]]; then
    echo "$NEON_BIN"
    return
  fi
  swift build -c release --product neon-batch 2>&1 | grep -E "error" >&2 || true
  echo "$PWD/.build/release/neon-batch"
}
