#!/usr/bin/env bash
# Crash test, full run: SIGKILLs `cmdeploy apply` at KILLS random moments (default 20) and proves
# nothing is lost or duplicated. A generated estate (BOUNDARIES boundaries in BGROUPS groups, HOSTS
# workgroup hosts; defaults 120, 6, 40) is applied over the winrm transport against
# `cmdeploy lab serve --latency-ms LATENCY_MS` (default 20). Each round starts from a fresh lab
# and empty state, starts apply, kills it with SIGKILL after a random delay, then checks:
#   1. state loads (`state list`: state.json plus the journal apply appends to);
#   2. the lab holds no duplicate object (boundaries, boundary groups, accounts);
#   3. apply then converges (plan --detailed-exitcode exits 0);
#   4. the lab matches the manifest exactly: every boundary, group (with its members), the network
#      access account and every host's client once, nothing else; state lists every resource.
# CI runs the reduced form (5 kills) in `cargo test --test faults`; this script is the full run.
#
# Usage: bash tests/crash.sh [KILLS]   (env: LATENCY_MS, BOUNDARIES, BGROUPS, HOSTS, SEED)
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
latency=${LATENCY_MS:-20}
boundaries=${BOUNDARIES:-120}
groups=${BGROUPS:-6}
hosts=${HOSTS:-40}
RANDOM=${SEED:-$$}
cargo build --release --quiet
bin=$PWD/target/release/cmdeploy
dir=$PWD/target/crash/estate
source tests/support/serve_estate.sh
trap serve_stop EXIT

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
"$bin" lab generate --boundaries "$boundaries" --groups "$groups" --hosts "$hosts" "$dir" >/dev/null
"$bin" -C "$dir" lab reset >/dev/null
serve_start "$dir" "$latency"
estate_to_winrm "$dir" "$serve_port"
resources=$("$bin" -C "$dir" validate | sed -E 's/Valid: ([0-9]+) resources.*/\1/')

# check_lab FINAL: duplicates (always) and, when FINAL is 1, an exact match with the manifest.
check_lab() {
  "$bin" -C "$dir" lab show --json >"$dir/lab.json"
  python3 - "$dir" "$1" <<'PY'
import collections, json, pathlib, re, sys
d, final = pathlib.Path(sys.argv[1]), sys.argv[2] == "1"
lab = json.loads((d / "lab.json").read_text())
def dups(names):
    return [n for n, c in collections.Counter(names).items() if c > 1]
problems = []
bnames = [b["name"] for b in lab["boundary"]]
gnames = [g["name"] for g in lab["boundary_group"]]
site = next(s for s in lab["site"] if s["code"] == "FAB")
for what, names in (("boundary", bnames), ("boundary group", gnames),
                    ("network access account", site["network_access_accounts"])):
    for n in dups(names):
        problems.append(f"duplicate {what} {n!r}")
if final:
    text = (d / "boundaries.toml").read_text()
    want_b = re.findall(r'^name = "(Subnet \d+)"', text, re.M)
    want_g = dict(re.findall(r'^name = "(Group \d+)"\nassignment_site = "FAB"\nboundaries = \[([^\]]*)\]', text, re.M))
    if sorted(bnames) != sorted(want_b):
        problems.append(f"boundaries: {len(bnames)} in the lab, {len(want_b)} declared")
    if sorted(gnames) != sorted(want_g):
        problems.append(f"boundary groups: {len(gnames)} in the lab, {len(want_g)} declared")
    by_id = {b["id"]: b["name"] for b in lab["boundary"]}
    for g in lab["boundary_group"]:
        members = want_g.get(g["name"])
        if members is not None and len(g["boundaries"]) != len(members.split(",")):
            problems.append(f"{g['name']}: {len(g['boundaries'])} members, {len(members.split(','))} declared")
    if "FABRIKAM\\svc-naa" not in site["network_access_accounts"]:
        problems.append("the network access account is missing")
    want_h = [l.strip() for l in (d / "hosts.csv").read_text().splitlines()[1:] if l.strip()]
    clients = {h["fqdn"]: h["client"] for h in lab["host"]}
    missing = [h for h in want_h if not (clients.get(h) or {}).get("site_code") == "FAB"]
    if missing:
        problems.append(f"{len(missing)} hosts without a FAB client, e.g. {missing[0]}")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
}

# Calibration: one uninterrupted apply from scratch; kills then land within its duration.
start=$(date +%s%N)
"$bin" -C "$dir" apply --auto-approve --parallelism 8 >"$dir/apply.out" 2>&1 ||
  { echo "the calibration apply failed:"; tail -5 "$dir/apply.out"; exit 1; }
full_ms=$((($(date +%s%N) - start) / 1000000))
window=$((full_ms * 9 / 10))
echo "crash test: a full apply takes ${full_ms} ms; kills land between 50 and $((50 + window)) ms after the start"
echo "crash test: $kills SIGKILLs; estate of $resources resources ($boundaries boundaries, $groups groups, $hosts hosts) over lab serve --latency-ms $latency"
killed_mid=0
for round in $(seq "$kills"); do
  "$bin" -C "$dir" lab reset >/dev/null
  rm -f "$dir/.cmdeploy/state.json" "$dir/.cmdeploy/state.journal"
  delay_ms=$((50 + (RANDOM * 32768 + RANDOM) % window))
  "$bin" -C "$dir" apply --auto-approve --parallelism 8 >"$dir/apply.out" 2>&1 &
  apply_pid=$!
  sleep "$(echo "scale=3; $delay_ms / 1000" | bc)"
  if kill -KILL "$apply_pid" 2>/dev/null; then killed_mid=$((killed_mid + 1)); fi
  wait "$apply_pid" 2>/dev/null || true
  entries=$("$bin" -C "$dir" state list | wc -l) ||
    { echo "round $round: state does not load after SIGKILL at ${delay_ms} ms"; exit 1; }
  journal=$( [ -f "$dir/.cmdeploy/state.journal" ] && wc -l <"$dir/.cmdeploy/state.journal" || echo 0)
  check_lab 0 || { echo "round $round: duplicates after SIGKILL at ${delay_ms} ms"; exit 1; }
  "$bin" -C "$dir" apply --auto-approve --parallelism 8 >"$dir/converge.out" 2>&1 ||
    { echo "round $round: apply after the kill failed:"; tail -5 "$dir/converge.out"; exit 1; }
  "$bin" -C "$dir" plan --detailed-exitcode >/dev/null ||
    { echo "round $round: plan after apply still has changes"; exit 1; }
  check_lab 1 || { echo "round $round: the lab does not match the manifest"; exit 1; }
  listed=$("$bin" -C "$dir" state list | wc -l)
  [ "$listed" = "$resources" ] ||
    { echo "round $round: state lists $listed resources, the manifest declares $resources"; exit 1; }
  printf 'round %2d: SIGKILL at %4d ms: %3d entries in state (%d journal records), converged, nothing lost or duplicated\n' \
    "$round" "$delay_ms" "$entries" "$journal"
done
echo "crash test passed: $kills rounds, $killed_mid killed mid-apply (the others had finished first)"
