#!/usr/bin/env bash
# Apply benchmark under the lab's cost model: a generated estate of BOUNDARIES boundaries in
# GROUPS boundary groups (no hosts) applied over `cmdeploy lab serve --script-startup-ms STARTUP_MS
# --cmdlet-ms CMDLET_MS` (defaults 3000 and 200: estimates of a real site's WinRM shell,
# powershell.exe start and ConfigurationManager import per Script, and of one cmdlet) at
# --parallelism PARALLELISM (default 10). It prints the measured wall time beside the ideal and
# their ratio. The ideal is what batching writes per graph level and connection could reach:
#   levels × startup + cmdlets × per-cmdlet ÷ parallelism,
# where cmdlets is what the lab's audit log counted during the apply and levels is the depth of
# the dependency graph (`cmdeploy graph`) plus one for the refresh's reads.
#
# Usage: bash tests/bench_cost.sh [BOUNDARIES] [GROUPS]   (defaults 1000 and 50; with one Script
# per write today the full size takes minutes, smaller sizes run faster)
set -euo pipefail
cd "$(dirname "$0")/.."
boundaries=${1:-1000}
groups=${2:-50}
startup=${STARTUP_MS:-3000}
cmdlet=${CMDLET_MS:-200}
p=${PARALLELISM:-10}
cargo build --release --quiet
bin=$PWD/target/release/cmdeploy
dir=$PWD/target/bench/cost
mkdir -p "$dir"
source tests/support/serve_estate.sh
trap serve_stop EXIT

rm -rf "$dir"
"$bin" lab generate --boundaries "$boundaries" --groups "$groups" --hosts 0 "$dir" >/dev/null
"$bin" -C "$dir" lab reset >/dev/null
serve_start "$dir" 0 --script-startup-ms "$startup" --cmdlet-ms "$cmdlet"
estate_to_winrm "$dir" "$serve_port"
# Graph depth: the longest dependency chain, in resources.
depth=$("$bin" -C "$dir" graph | python3 -c '
import re, sys
from functools import lru_cache
deps = {}
for a, b in re.findall(r"^\s*(\d+) -> (\d+)", sys.stdin.read(), re.M):
    deps.setdefault(b, []).append(a)
    deps.setdefault(a, [])
sys.setrecursionlimit(100000)
@lru_cache(None)
def level(n): return 1 + max((level(d) for d in deps[n]), default=0)
print(max((level(n) for n in deps), default=1))')
levels=$((depth + 1))
s0=$(scripts "$dir")
c0=$(audited_cmdlets "$dir")
start=$(date +%s.%N)
"$bin" -C "$dir" apply --auto-approve --parallelism "$p" >"$dir/apply.out" 2>&1 ||
  { echo "apply failed:"; tail -5 "$dir/apply.out"; exit 1; }
end=$(date +%s.%N)
s=$(($(scripts "$dir") - s0))
c=$(($(audited_cmdlets "$dir") - c0))
"$bin" -C "$dir" plan --detailed-exitcode >/dev/null || { echo "the estate did not converge"; exit 1; }
serve_stop
wall=$(echo "$end - $start" | bc)
ideal=$(echo "scale=2; ($levels * $startup + $c * $cmdlet / $p) / 1000" | bc)
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "apply of $boundaries boundaries in $groups groups over lab serve --script-startup-ms $startup --cmdlet-ms $cmdlet, parallelism $p"
printf '%8s %8s %6s %7s %8s %6s\n' wall ideal ratio levels Scripts cmdlets
printf '%7.1fs %7.1fs %5.1f× %7d %8d %6d\n' "$wall" "$ideal" "$(echo "scale=2; $wall / $ideal" | bc)" \
  "$levels" "$s" "$c"
