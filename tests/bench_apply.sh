#!/usr/bin/env bash
# Apply benchmark over the real wire: a generated estate of HOSTS workgroup hosts whose
# connections use the `winrm` transport against `cmdeploy lab serve --latency-ms LATENCY_MS`
# (default 50) on loopback, applied at --parallelism 1, 16 and 64. Each apply is timed and printed
# beside the ideal: hosts × Scripts per host × latency-bearing exchanges per Script × latency ÷
# parallelism. The ideal takes 2 Scripts per host (the refresh's probe, and CCMSetup with the wait
# for the ccmsetup service and the read-back in one Script: the generated lab's install ends when
# the Script that started it would, `ccmsetup_seconds = 0`); `lab serve` adds the latency to 2
# exchanges of each Script (Command and Receive). The site-side objects are applied first, so the
# timed apply is the hosts'. Each row also gives the CPU time of `cmdeploy apply` and of `lab
# serve`, the load average, and what the apply ran per host (from the lab's audit log): client
# state probes, installs and reads of the install's result (each read after the first one
# followed a wait between polls).
#
# `lab serve` stands in for every host's WinRM service on one address, and cmdeploy keeps at most
# `max_concurrent_operations` Scripts in flight per address and user (default 15, the lowest
# MaxConcurrentOperationsPerUser Windows ships). Real hosts are one service each; so that the
# stand-in has the quota of the service it is, the connections declare the one `lab serve`
# enforces (`--max-concurrent-operations-per-user`, default 1500, Windows Server 2012 and later;
# windows-runtime.md §1). MAX_OPS=N declares another (MAX_OPS=15: every host behind one quota).
#
# Usage: bash tests/bench_apply.sh [HOSTS] [HOSTS_AT_P1]   (defaults 1000 and 100: parallelism 1
# over 1,000 hosts would take minutes, so it runs over a subset unless told otherwise)
# Env: CMDEPLOY_BIN=PATH measures that binary (no build); PARALLELISM="64" runs only those rows;
# LATENCY_MS, MAX_OPS as above.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-1000}
p1_hosts=${2:-100}
latency=${LATENCY_MS:-50}
max_ops=${MAX_OPS:-1500}
if [ -z "${CMDEPLOY_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${CMDEPLOY_BIN:-$PWD/target/release/cmdeploy}
root=${BENCH_DIR:-$PWD/target/bench}/apply
mkdir -p "$root"
source tests/support/serve_estate.sh
trap serve_stop EXIT

# serve_cpu: CPU seconds (user + system) `lab serve` has used so far.
serve_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$serve_pid/stat"
}

# per_host DIR FROM N CMDLET: calls of CMDLET per host in the audit log from line FROM on.
per_host() {
  { tail -n +"$2" "$1/.cmdeploy/lab/audit.jsonl" | grep -c "\"cmdlet\":\"$4\"" || true; } |
    awk -v n="$3" '{printf "%.2f", $1 / n}'
}

# run_one PARALLELISM HOSTS: prints one line of the table.
run_one() {
  local p=$1 n=$2 dir start end before after wall ideal cpu0 cpu1 audit0 times load
  dir=$root/p$p
  rm -rf "$dir"
  "$bin" lab generate --boundaries 1 --groups 1 --hosts "$n" "$dir" >/dev/null
  "$bin" -C "$dir" lab reset >/dev/null
  serve_start "$dir" "$latency"
  estate_to_winrm "$dir" "$serve_port" "$max_ops"
  "$bin" -C "$dir" apply --auto-approve --parallelism 16 --target site.FAB --target account.naa \
    --target boundary.b0 --target boundary_group.g0 >/dev/null
  before=$(scripts "$dir")
  audit0=$(($(wc -l <"$dir/.cmdeploy/lab/audit.jsonl") + 1))
  cpu0=$(serve_cpu)
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$dir/apply.time" \
    "$bin" -C "$dir" apply --auto-approve --parallelism "$p" >"$dir/apply.out" 2>&1 ||
    { echo "apply at parallelism $p failed:"; tail -5 "$dir/apply.out"; exit 1; }
  end=$(date +%s.%N)
  cpu1=$(serve_cpu)
  after=$(scripts "$dir")
  "$bin" -C "$dir" plan --detailed-exitcode >/dev/null ||
    { echo "parallelism $p: the estate did not converge"; exit 1; }
  serve_stop
  wall=$(echo "$end - $start" | bc)
  ideal=$(echo "scale=2; $n * 2 * 2 * $latency / 1000 / $p" | bc)
  times=$(awk '{printf "%.2f", $1 + $2}' "$dir/apply.time")
  printf '%-12s %6d hosts %8.2f s %8.2f s  %5.2f×  load %5.2f  CPU %6.2f s apply %6.2f s serve  %6d Scripts  per host: %s probes %s installs %s result reads\n' \
    "p=$p" "$n" "$wall" "$ideal" "$(echo "scale=2; $wall / $ideal" | bc)" "$load" "$times" \
    "$(echo "$cpu1 - $cpu0" | bc)" "$((after - before))" \
    "$(per_host "$dir" "$audit0" "$n" Get-CmdeployClientState)" \
    "$(per_host "$dir" "$audit0" "$n" Install-CmdeployClient)" \
    "$(per_host "$dir" "$audit0" "$n" Get-CmdeployInstallResult)"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "apply over lab serve --latency-ms $latency (winrm, NTLM with message encryption over HTTP on loopback)"
echo "hosts' connections: max_concurrent_operations = $max_ops"
printf '%-12s %12s %10s %10s  %6s\n' parallelism estate wall ideal ratio
for p in ${PARALLELISM:-1 16 64}; do
  if [ "$p" = 1 ]; then run_one 1 "$p1_hosts"; else run_one "$p" "$hosts"; fi
done
