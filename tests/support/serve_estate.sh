# Sourced by tests/bench_apply.sh and tests/crash.sh: a generated estate served by `cmdeploy lab
# serve` and reached over the winrm transport. Needs $bin (the cmdeploy binary).

serve_pid=""

# serve_start DIR LATENCY_MS [FLAG...]: starts `lab serve` on a free loopback port for DIR's lab
# (with any further flags, e.g. the cost model's), sets $serve_pid and $serve_port.
serve_start() {
  "$bin" -C "$1" lab serve --listen 127.0.0.1:0 --latency-ms "$2" "${@:3}" >"$1/serve.out" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do grep -q listening "$1/serve.out" 2>/dev/null && break; sleep 0.1; done
  serve_port=$(head -1 "$1/serve.out" | sed -E 's#.*:([0-9]+)/wsman#\1#')
}

serve_stop() {
  [ -n "$serve_pid" ] || return 0
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=""
}

# estate_to_winrm DIR PORT [MAX_OPS]: the site server's and the hosts' connections of a generated
# estate go through `lab serve` on PORT (NTLM with message encryption over HTTP on loopback); with
# MAX_OPS, they declare that `max_concurrent_operations` (the quota of the one service `lab serve`
# is for all of them).
estate_to_winrm() {
  python3 - "$1" "$2" "${3:-}" <<'PY'
import pathlib, sys
d, port, max_ops = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
common = f'''transport = "winrm"
address = "127.0.0.1"
port = {port}
auth = "ntlm"
user = 'FABRIKAM\\cmadmin'
password = {{ file = "lab-secrets/admin.txt" }}
'''
if max_ops:
    common += f"max_concurrent_operations = {max_ops}\n"
c = d / "cmdeploy.toml"
t = c.read_text().replace('transport = "lab"\nhost = "cm01.fabrikam.test"', common + 'host = "cm01.fabrikam.test"')
c.write_text(t + '\n[connection.hosts]\n' + common + 'host = "localhost"\n')
p = d / "clients.toml"
p.write_text(p.read_text().replace('connection = { host = "{{ host }}" }', 'connection = { host = "{{ host }}", base = "hosts" }'))
PY
}

# scripts DIR: Scripts the lab ran since its reset.
scripts() { "$bin" -C "$1" lab show | sed -n 's/^scripts run since reset: //p'; }

# audited_cmdlets DIR: cmdlets run by Scripts since the lab's reset, as its audit log counts them.
audited_cmdlets() { grep -c '"source":"script"' "$1/.cmdeploy/lab/audit.jsonl" 2>/dev/null || echo 0; }
