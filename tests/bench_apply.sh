#!/usr/bin/env bash
# Apply benchmark over the real wire: a generated estate of HOSTS workgroup hosts whose
# connections use the `winrm` transport against `cmdeploy lab serve --latency-ms LATENCY_MS`
# (default 50) on loopback, applied at --parallelism 1, 16 and 64. Each apply is timed and printed
# beside the ideal: hosts × Scripts per host × latency-bearing exchanges per Script × latency ÷
# parallelism. Per host, apply sends 2 Scripts (the refresh's probe, and CCMSetup with the
# read-back in one Script); `lab serve` adds the latency to 2 exchanges of each Script (Command
# and Receive). The site-side objects are applied first, so the timed apply is the hosts'.
#
# Usage: bash tests/bench_apply.sh [HOSTS] [HOSTS_AT_P1]   (defaults 1000 and 100: parallelism 1
# over 1,000 hosts would take minutes, so it runs over a subset unless told otherwise)
# Env: CMDEPLOY_BIN=PATH measures that binary (no build); PARALLELISM="64" runs only those rows.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-1000}
p1_hosts=${2:-100}
latency=${LATENCY_MS:-50}
if [ -z "${CMDEPLOY_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${CMDEPLOY_BIN:-$PWD/target/release/cmdeploy}
root=${BENCH_DIR:-$PWD/target/bench}/apply
mkdir -p "$root"
source tests/support/serve_estate.sh
trap serve_stop EXIT

# run_one PARALLELISM HOSTS: prints one line of the table.
run_one() {
  local p=$1 n=$2 dir start end before after wall ideal
  dir=$root/p$p
  rm -rf "$dir"
  "$bin" lab generate --boundaries 1 --groups 1 --hosts "$n" "$dir" >/dev/null
  "$bin" -C "$dir" lab reset >/dev/null
  serve_start "$dir" "$latency"
  estate_to_winrm "$dir" "$serve_port"
  "$bin" -C "$dir" apply --auto-approve --parallelism 16 --target site.FAB --target account.naa \
    --target boundary.b0 --target boundary_group.g0 >/dev/null
  before=$(scripts "$dir")
  start=$(date +%s.%N)
  "$bin" -C "$dir" apply --auto-approve --parallelism "$p" >"$dir/apply.out" 2>&1 ||
    { echo "apply at parallelism $p failed:"; tail -5 "$dir/apply.out"; exit 1; }
  end=$(date +%s.%N)
  after=$(scripts "$dir")
  "$bin" -C "$dir" plan --detailed-exitcode >/dev/null ||
    { echo "parallelism $p: the estate did not converge"; exit 1; }
  serve_stop
  wall=$(echo "$end - $start" | bc)
  ideal=$(echo "scale=2; $n * 2 * 2 * $latency / 1000 / $p" | bc)
  printf '%-12s %6d hosts %8.2f s %8.2f s  %5.2f×  %6d Scripts (%d per host + %d site-side)\n' \
    "p=$p" "$n" "$wall" "$ideal" "$(echo "scale=2; $wall / $ideal" | bc)" "$((after - before))" 2 \
    "$((after - before - 2 * n))"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "apply over lab serve --latency-ms $latency (winrm, NTLM with message encryption over HTTP on loopback)"
printf '%-12s %12s %10s %10s  %6s\n' parallelism estate wall ideal ratio
for p in ${PARALLELISM:-1 16 64}; do
  if [ "$p" = 1 ]; then run_one 1 "$p1_hosts"; else run_one "$p" "$hosts"; fi
done
