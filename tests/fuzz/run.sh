#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (cargo-fuzz, nightly toolchain): each target in turn for
# SECONDS (default 600), from the seed corpus that tests/fuzz_smoke.rs writes, with a memory limit
# (2 GiB) and a per-input timeout (10 s), so an out-of-memory or a hang is a finding like a panic.
# Prints executions and findings per target; exits non-zero on any finding. Findings are in
# tests/fuzz/artifacts/TARGET/: copy one into tests/fuzz/regressions/TARGET/ with the fix.
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-600}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(manifest ccmsetup registry_pol gpreport state wsman)
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
corpus="$PWD/target/fuzz-corpus"
CMDEPLOY_FUZZ_CORPUS="$corpus" cargo test --quiet --test fuzz_smoke >/dev/null
status=0
for t in "${targets[@]}"; do
  log="$PWD/target/fuzz-$t.log"
  mkdir -p "$corpus/$t"
  if cargo +nightly fuzz run --fuzz-dir tests/fuzz "$t" "$corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    result="no findings"
  else
    result="FINDING (see $log)"; status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "$t: ${execs:-?} executions in ${seconds} s, $result"
done
exit $status
