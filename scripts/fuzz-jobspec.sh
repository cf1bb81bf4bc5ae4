#!/usr/bin/env bash
# Fuzzes the job-file parser with libFuzzer (coverage-guided) under AddressSanitizer.
# Usage: scripts/fuzz-jobspec.sh [SECONDS]   (default 60; scripts/test.sh runs it for 30)
# A failing input is saved as .build-fuzz/crash-* (or leak-*, timeout-*); replay it with
#   .build-fuzz/jobspec-fuzzer .build-fuzz/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=.build-fuzz
mkdir -p "$out/corpus"
cp Fuzz/corpus/* "$out/corpus/"
# ld.gold warns about every ASan symbol it cannot export; those warnings are noise.
# The settings enums are their own module (imported by the parser's files): a static library first.
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name NeonSettings -emit-module \
  -emit-module-path "$out/NeonSettings.swiftmodule" -emit-library -static -o "$out/libNeonSettings.a" \
  Sources/NeonSettings/*.swift
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name JobSpecFuzz -I "$out" -L "$out" -lNeonSettings \
  Sources/Storage/JSONValue.swift Sources/Storage/JobSections.swift Sources/Storage/FieldReader.swift \
  Sources/Storage/JobSpec.swift Sources/Storage/JobSpec+Parse.swift Sources/Storage/JobFile.swift Sources/Storage/Suggestion.swift \
  Fuzz/JobSpecFuzzer.swift \
  -o "$out/jobspec-fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
# Job files are small; 64 KiB inputs also reach the nesting-depth limit. Without Swift's own
# backtracer, libFuzzer catches a failed precondition and saves the input.
set +e
SWIFT_BACKTRACE=enable=no "$out/jobspec-fuzzer" "$out/corpus" -dict=Fuzz/jobspec.dict -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -artifact_prefix="$out/" -print_final_stats=1 >"$out/log" 2>&1
status=$?
set -e
grep -E "^Done|stat::number_of_executed_units|stat::peak_rss" "$out/log" || true
if [[ $status -ne 0 ]]; then
  grep -E "ERROR|Fatal error|precondition|SUMMARY|artifact" "$out/log" >&2 || tail -20 "$out/log" >&2
  echo "fuzz: the job parser FAILED (input saved in $out/)" >&2
  exit 1
fi
echo "fuzz: the job parser survived ${seconds} s"
