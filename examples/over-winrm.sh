#!/usr/bin/env bash
# The main job over the real wire, with the auth a domain estate uses: DIR (default: a fresh copy
# of examples/contoso) gets its connections switched to the `winrm` transport (winrm-rs through
# cmdeploy's NTLM relay: NTLM with message encryption over HTTP, or NTLM inside HTTPS verified
# with the lab's CA and channel binding with --https) against `cmdeploy lab serve`, which answers
# as a WinRM service configured as Windows ships it (Basic off, AllowUnencrypted off, 30 shells
# per user). Runs on DIR in place and leaves its state and lab there to inspect.
#
#   bash examples/over-winrm.sh [DIR] [--https] [other lab serve options]
#
# Prints the auth used, the number of Scripts and the wall time of plan, apply and the second
# plan; exits non-zero when a step fails or the second plan is not empty. LATENCY_MS (default 50)
# is injected per command.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
dir=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then dir="$1"; shift; fi
if [ -z "$dir" ]; then
  dir="$(mktemp -d)/contoso"
  cp -r examples/contoso "$dir"
fi
dir="$(cd "$dir" && pwd)"
latency="${LATENCY_MS:-50}"
cargo build --release --quiet
bin="$repo/target/release/cmdeploy"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true' EXIT
"$bin" -C "$dir" lab reset >/dev/null
"$bin" -C "$dir" lab serve --listen 127.0.0.1:0 --latency-ms "$latency" --max-shells-per-user 30 "$@" >"$dir/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$dir/serve.out" || { cat "$dir/serve.out" >&2; exit 1; }
port="$(head -1 "$dir/serve.out" | sed -E 's#.*:([0-9]+)/wsman#\1#')"
tls=""
if grep -q "ca file:" "$dir/serve.out"; then
  tls="https = true
ca_file = \"$(sed -n 's/^ca file: //p' "$dir/serve.out")\""
fi
common="transport = \"winrm\"
address = \"127.0.0.1\"
port = $port
$tls
auth = \"ntlm\"
user = 'CONTOSO\\cmadmin'
password = { file = \"lab-secrets/admin.txt\" }"
python3 - "$dir" "$common" <<'PY'
import re, sys, pathlib
d, common = pathlib.Path(sys.argv[1]), sys.argv[2]
# The switched settings sit between markers, so a second run on DIR replaces them (new port).
block = f"# over-winrm.sh: begin\n{common}\n# over-winrm.sh: end\n"
c = d / "cmdeploy.toml"
t = re.sub(r"# over-winrm.sh: begin\n.*?# over-winrm.sh: end\n", lambda m: block, c.read_text(), flags=re.S)
for h in ("cm01.contoso.com", "dc01.contoso.com"):
    t = t.replace(f'transport = "lab"\nhost = "{h}"', f'{block}host = "{h}"')
if "[connection.hosts]" not in t:
    t += f'\n[connection.hosts]\n{block}host = "localhost"\n'
c.write_text(t)
for name, old in (("clients.toml", '{{ host }}"'), ("clients.toml", '{{ host }}.{{ var.domain }}"'), ("imaging.toml", 'ref01"')):
    p = d / name
    if not p.exists():
        continue  # projects other than contoso (examples/upgrade) have no such file
    p.write_text(p.read_text().replace(f'connection = {{ host = "{old} }}', f'connection = {{ host = "{old}, base = "hosts" }}'))
PY
if [ -n "$tls" ]; then wire="HTTPS (private CA, channel binding)"; else wire="HTTP with MS-WSMV message encryption"; fi
echo "auth: NTLM as CONTOSO\\cmadmin over $wire, against lab serve on 127.0.0.1:$port (Windows' WinRM defaults)"
scripts() { "$bin" -C "$dir" lab show | sed -n 's/^scripts run since reset: //p'; }
# step NAME EXPECTED... -- CMD...: runs CMD, fails unless its exit code is one of EXPECTED.
step() {
  local name="$1"; shift; local ok=(); while [ "$1" != "--" ]; do ok+=("$1"); shift; done; shift
  local s e code=0 before after
  before=$(scripts); s=$(date +%s.%N)
  "$@" >"$dir/$name.out" 2>&1 || code=$?
  e=$(date +%s.%N); after=$(scripts)
  if [[ ! " ${ok[*]} " == *" $code "* ]]; then
    echo "$name failed (exit $code):" >&2; tail -20 "$dir/$name.out" >&2; exit 1
  fi
  printf '%-12s %s Scripts, %.2f s\n' "$name:" "$((after - before))" "$(echo "$e - $s" | bc)"
}
echo "resources: $("$bin" -C "$dir" validate | sed -E 's/Valid: ([0-9]+) resources.*/\1/'); latency per command: ${latency} ms"
step first-plan 0 2 -- "$bin" -C "$dir" plan --detailed-exitcode
step apply 0 -- "$bin" -C "$dir" apply --auto-approve
step second-plan 0 -- "$bin" -C "$dir" plan --detailed-exitcode
echo "second plan: no changes. State and lab are in $dir"
