#!/usr/bin/env bash
# The main job over the real wire: a copy of examples/contoso whose connections use the `winrm`
# transport (winrm-rs, Basic over HTTP, or HTTPS with --https) against `cmdeploy lab serve` on a
# loopback port, with LATENCY_MS of injected latency per command (default 50). Prints the number
# of Scripts and the wall time of plan and apply.
set -euo pipefail
cd "$(dirname "$0")/.."
latency="${LATENCY_MS:-50}"
cargo build --release --quiet
bin="$PWD/target/release/cmdeploy"
work="$(mktemp -d)"
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r examples/contoso "$work/contoso"
dir="$work/contoso"
"$bin" -C "$dir" lab reset >/dev/null
"$bin" -C "$dir" lab serve --listen 127.0.0.1:0 --latency-ms "$latency" "$@" >"$work/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(head -1 "$work/serve.out" | sed -E 's#.*:([0-9]+)/wsman#\1#')"
tls=""
if grep -q "ca file:" "$work/serve.out"; then
  tls="https = true
ca_file = \"$(sed -n 's/^ca file: //p' "$work/serve.out")\""
fi
common="transport = \"winrm\"
address = \"127.0.0.1\"
port = $port
$tls
auth = \"basic\"
user = 'CONTOSO\\cmadmin'
password = { file = \"lab-secrets/admin.txt\" }"
python3 - "$dir" "$common" <<'PY'
import sys, pathlib
d, common = pathlib.Path(sys.argv[1]), sys.argv[2]
c = d / "cmdeploy.toml"
t = c.read_text()
for h in ("cm01.contoso.com", "dc01.contoso.com"):
    t = t.replace(f'transport = "lab"\nhost = "{h}"', f'{common}\nhost = "{h}"')
t += f'\n[connection.hosts]\n{common}\nhost = "localhost"\n'
c.write_text(t)
for name, old in (("clients.toml", '{{ host }}"'), ("clients.toml", '{{ host }}.{{ var.domain }}"'), ("imaging.toml", 'ref01"')):
    p = d / name
    p.write_text(p.read_text().replace(f'connection = {{ host = "{old} }}', f'connection = {{ host = "{old}, base = "hosts" }}'))
PY
scripts() { "$bin" -C "$dir" lab show | sed -n 's/^scripts run since reset: //p'; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null || [ $? -eq 2 ]; e=$(date +%s.%N); echo "$e - $s" | bc; }
resources="$("$bin" -C "$dir" validate | sed -E 's/Valid: ([0-9]+) resources.*/\1/')"
before=$(scripts); t_plan=$(timed "$bin" -C "$dir" plan --detailed-exitcode); after=$(scripts)
echo "resources: $resources; latency per command: ${latency} ms"
echo "first plan:  $((after - before)) Scripts, ${t_plan} s"
before=$(scripts); t_apply=$(timed "$bin" -C "$dir" apply --auto-approve); after=$(scripts)
echo "apply:       $((after - before)) Scripts, ${t_apply} s"
before=$(scripts); t_plan=$(timed "$bin" -C "$dir" plan --detailed-exitcode); after=$(scripts)
echo "second plan: $((after - before)) Scripts, ${t_plan} s (no changes)"
