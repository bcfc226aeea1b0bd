#!/usr/bin/env bash
# Benchmarks for the README's Performance section. Builds the release binary, generates estates of
# 1k, 10k and 100k resources (`cmdeploy lab generate`) under target/bench, and prints for each:
# validate, fresh plan, apply and converged plan wall time, CPU time and peak RSS (/usr/bin/time), and the Scripts the plan
# sent, site side and per host (the lab counts Scripts; its audit log tells probes apart). Then
# the startup time of `state list` and `plan` with a 100k-entry state, and the apply benchmark
# over `lab serve` (tests/bench_apply.sh). The load average is printed: other builds on the
# machine inflate wall times, CPU time is the steadier figure.
# Usage: bash tests/bench.sh [SIZE...]   (SIZE: 1k 10k 100k apply; default all)
# CMDEPLOY_BIN=PATH measures that binary instead of building this tree's (an older build, to
# print before and after in one run); BENCH_DIR (default target/bench) holds the estates.
# CONVERGE=seed reaches the converged estate without applying it: `lab generate --converged`
# seeds the lab with every declared object and the first apply only adopts them into state (and
# sets the account's password), so the converged plan that follows reads a full state, as after
# a real apply (the 100k apply takes hours). Default: CONVERGE=apply.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "tests/bench.sh needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
if [ -z "${CMDEPLOY_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${CMDEPLOY_BIN:-$PWD/target/release/cmdeploy}
root=${BENCH_DIR:-$PWD/target/bench}
mkdir -p "$root"
sizes=("${@:-1k 10k 100k apply}")
read -r -a sizes <<<"${sizes[*]}"

# name boundaries groups hosts (boundaries + groups + hosts + 1 site = resources)
spec() {
  case $1 in
    1k) echo "600 20 379" ;;
    10k) echo "6000 200 3799" ;;
    100k) echo "60000 2000 37999" ;;
    *) echo "unknown size $1 (1k, 10k, 100k)" >&2; exit 1 ;;
  esac
}

# measure LABEL CMD...: prints "LABEL  wall s  CPU s  peak RSS MB" (and the exit code if not 0)
measure() {
  local label=$1; shift
  local wall rss user sys code=0
  /usr/bin/time -o "$root/time.txt" -f '%e %M %U %S' "$@" >/dev/null 2>"$root/stderr.txt" || code=$?
  read -r wall rss user sys < <(tail -n 1 "$root/time.txt")
  printf '%-44s %8.2f s wall %8.2f s CPU %6.0f MB peak RSS' "$label" "$wall" "$(awk "BEGIN {print $user + $sys}")" "$((rss / 1024))"
  [ "$code" = 0 ] && echo || echo "  (exit $code: $(head -c 200 "$root/stderr.txt"))"
}

scripts() { "$bin" -C "$1" lab show | sed -n 's/.*[Ss]cripts run since reset[^0-9]*\([0-9]*\).*/\1/p' | head -n 1; }

# plan_scripts DIR: "TOTAL site-side S, H host probes" for the plan just run (the audit log was
# emptied before it). A probe is one Script holding one Get-CmdeployClientState call.
plan_scripts() {
  local total probes
  total=$(scripts "$1")
  probes=$(grep -c '"cmdlet":"Get-CmdeployClientState"' "$1/.cmdeploy/lab/audit.jsonl" || true)
  echo "$total: site side $((total - probes)), hosts $probes (one probe per host with no healthy record at the site)"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${sizes[@]}"; do
  [ "$size" = apply ] && continue
  read -r b g h <<<"$(spec "$size")"
  dir=$root/$size
  "$bin" lab generate --boundaries "$b" --groups "$g" --hosts "$h" "$dir" >/dev/null
  "$bin" -C "$dir" lab reset >/dev/null
  echo "== $size resources: $b boundaries in $g groups, $h workgroup hosts, 1 site"
  measure "validate" "$bin" -C "$dir" validate
  "$bin" -C "$dir" lab reset >/dev/null
  : >"$dir/.cmdeploy/lab/audit.jsonl"
  measure "plan (fresh estate: all to add)" "$bin" -C "$dir" plan
  kinds=$(cat "$dir"/*.toml | sed -n 's/^\[\([a-z_]*\)\..*/\1/p' | grep -vx connection | sort -u | wc -l)
  echo "Scripts sent by that plan: $(plan_scripts "$dir"); resource kinds × site-side connections = $kinds × 1"
  # A converged estate: apply everything, then plan again (ideal: no slower than the fresh plan,
  # both linear in the resources). NO_CONVERGED=1 leaves it out (an old binary's 100k apply,
  # which rewrote the whole lab estate after each write Script, takes hours).
  if [ -z "${NO_CONVERGED:-}" ] && [ "${CONVERGE:-apply}" = seed ]; then
    "$bin" lab generate --converged --boundaries "$b" --groups "$g" --hosts "$h" "$dir" >/dev/null
    "$bin" -C "$dir" lab reset >/dev/null
    rm -f "$dir/.cmdeploy/state.json" "$dir/.cmdeploy/state.journal"
    measure "apply (seeded estate: adopt all, 1 write)" "$bin" -C "$dir" apply --auto-approve
    before=$(scripts "$dir")
    measure "plan (converged estate: no changes)" "$bin" -C "$dir" plan
    echo "Scripts sent by the converged plan: $(($(scripts "$dir") - before))"
    "$bin" lab generate --boundaries "$b" --groups "$g" --hosts "$h" "$dir" >/dev/null
    "$bin" -C "$dir" lab reset >/dev/null
    rm -f "$dir/.cmdeploy/state.json" "$dir/.cmdeploy/state.journal"
  elif [ -z "${NO_CONVERGED:-}" ]; then
    measure "apply (in-process lab)" "$bin" -C "$dir" apply --auto-approve
    before=$(scripts "$dir")
    measure "plan (converged estate: no changes)" "$bin" -C "$dir" plan
    echo "Scripts sent by the converged plan: $(($(scripts "$dir") - before))"
    "$bin" -C "$dir" lab reset >/dev/null
    rm -f "$dir/.cmdeploy/state.json" "$dir/.cmdeploy/state.journal"
  fi
done

# Startup with a 100k-entry state: a state file of 100,000 boundary entries beside the 100k
# estate's manifests (the entries are what apply would have written).
dir=$root/100k
if [ -d "$dir" ] && [[ " ${sizes[*]} " == *" 100k "* ]]; then
  python3 - "$dir/.cmdeploy/state.json" <<'PY'
import json, sys
conn = {"key": "cm01", "spec": {"transport": "lab", "host": "cm01.fabrikam.test"}}
res = {}
for i in range(100000):
    a, b, c = 10 + i // 65536, (i // 256) % 256, i % 256
    res[f"boundary.b{i}"] = {
        "kind": "boundary", "id": str(16777217 + i),
        "attributes": {"name": f"Subnet {i}", "type": "ip_subnet", "value": f"{a}.{b}.{c}.0", "site": "FAB"},
        "secret_fingerprints": {}, "depends_on": ["site.FAB"], "natural_key": f"ip_subnet:{a}.{b}.{c}.0",
        "meta": {}, "connection": conn, "read_connection": conn, "updated_at": "2025-01-01T00:00:00Z"}
json.dump({"version": 1, "serial": 1, "lineage": "bench", "resources": res}, open(sys.argv[1], "w"), indent=1)
PY
  echo "== 100k-entry state ($(du -h "$dir/.cmdeploy/state.json" | cut -f1))"
  measure "state list (startup: configuration + state)" "$bin" -C "$dir" state list
  "$bin" -C "$dir" lab reset >/dev/null
  measure "plan with a 100k-entry state" "$bin" -C "$dir" plan
  rm -f "$dir/.cmdeploy/state.json"
fi

if [[ " ${sizes[*]} " == *" apply "* ]]; then
  echo "== apply of 1,000 hosts over lab serve (parallelism 1 over 100 hosts)"
  bash tests/bench_apply.sh 1000 100
fi
