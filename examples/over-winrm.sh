#!/usr/bin/env bash
# The main job over the real wire, with the auth a domain estate uses: DIR (default: a fresh copy
# of examples/contoso) gets its connections switched to the `winrm` transport against
# `cmdeploy lab serve`, which answers as a WinRM service configured as Windows ships it (Basic
# off, AllowUnencrypted off, 30 shells per user). The auth is AUTH (kerberos or ntlm); by default
# Kerberos, as a domain uses it, when a KDC is configured (KRB5_CONFIG and the service keytab in
# CMDEPLOY_TEST_KRB5_KEYTAB, as tests/run.sh exports them), else NTLM. AUTH=kerberos without them
# starts a throwaway MIT KDC (tests/support/kdc.sh; installs Debian's krb5-kdc as root when
# missing). With Kerberos, the site server, the domain controller and the domain clients log on
# with Kerberos (lab serve --keytab holds their HTTP/<host> keys) and the workgroup kiosks and
# the reference computer with NTLM (no domain, no Kerberos). Both encrypt every message over
# HTTP; with --https the connection is verified with the lab's private CA and channel-bound.
# Runs on DIR in place and leaves its state and lab there to inspect.
#
#   [AUTH=kerberos|ntlm] bash examples/over-winrm.sh [DIR] [--https] [other lab serve options]
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
auth="${AUTH:-}"
if [ -z "$auth" ]; then
  if [ -n "${KRB5_CONFIG:-}" ] && [ -n "${CMDEPLOY_TEST_KRB5_KEYTAB:-}" ]; then auth=kerberos; else auth=ntlm; fi
fi
serve_auth=()
case "$auth" in
  kerberos)
    if [ -z "${KRB5_CONFIG:-}" ] || [ -z "${CMDEPLOY_TEST_KRB5_KEYTAB:-}" ]; then
      pg_stop() { :; }
      source tests/support/kdc.sh
      kdc_start
    fi
    serve_auth=(--keytab "$CMDEPLOY_TEST_KRB5_KEYTAB") ;;
  ntlm) ;;
  *) echo "AUTH=$auth: use kerberos or ntlm" >&2; exit 2 ;;
esac
cargo build --release --quiet
bin="$repo/target/release/cmdeploy"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true; declare -F kdc_stop >/dev/null && kdc_stop || true' EXIT
"$bin" -C "$dir" lab reset >/dev/null
"$bin" -C "$dir" lab serve --listen 127.0.0.1:0 --latency-ms "$latency" --max-shells-per-user 30 "${serve_auth[@]}" "$@" >"$dir/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$dir/serve.out" || { cat "$dir/serve.out" >&2; exit 1; }
port="$(head -1 "$dir/serve.out" | sed -E 's#.*:([0-9]+)/wsman#\1#')"
tls=""
if grep -q "ca file:" "$dir/serve.out"; then
  tls="https = true
ca_file = \"$(sed -n 's/^ca file: //p' "$dir/serve.out")\""
fi
connection() { # AUTH USER
  printf '%s\n' "transport = \"winrm\"" "address = \"127.0.0.1\"" "port = $port" "$tls" "auth = \"$1\"" \
    "user = '$2'" "password = { file = \"lab-secrets/admin.txt\" }"
}
if [ "$auth" = kerberos ]; then
  # The placeholder host of the base has no domain: its user names the realm.
  site=$(connection kerberos 'CONTOSO\cmadmin'); hosts=$(connection kerberos 'cmadmin@CONTOSO.COM')
else
  site=$(connection ntlm 'CONTOSO\cmadmin'); hosts="$site"
fi
workgroup=$(connection ntlm 'CONTOSO\cmadmin')
python3 - "$dir" "$site" "$hosts" "$workgroup" <<'PY'
import re, sys, pathlib
d, site, hosts, workgroup = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# The switched settings sit between markers, so a second run on DIR replaces them (new port, auth).
def block(tag, text):
    return f"# over-winrm.sh{tag}: begin\n{text}\n# over-winrm.sh{tag}: end\n"
c = d / "cmdeploy.toml"
t = c.read_text()
for tag, text in (("", site), (" hosts", hosts), (" workgroup", workgroup)):
    t = re.sub(rf"# over-winrm.sh{tag}: begin\n.*?# over-winrm.sh{tag}: end\n", lambda m: block(tag, text), t, flags=re.S)
for h in ("cm01.contoso.com", "dc01.contoso.com"):
    t = t.replace(f'transport = "lab"\nhost = "{h}"', f'{block("", site)}host = "{h}"')
if "[connection.hosts]" not in t:
    t += f'\n[connection.hosts]\n{block(" hosts", hosts)}host = "localhost"\n'
if "[connection.workgroup]" not in t:
    t += f'\n[connection.workgroup]\n{block(" workgroup", workgroup)}host = "localhost"\n'
c.write_text(t)
# Domain clients take the `hosts` base; the workgroup kiosks and the reference computer (names
# without a domain) the `workgroup` one.
for name, old, base in (("clients.toml", '{{ host }}"', "workgroup"), ("clients.toml", '{{ host }}.{{ var.domain }}"', "hosts"), ("imaging.toml", 'ref01"', "workgroup")):
    p = d / name
    if not p.exists():
        continue  # projects other than contoso (examples/upgrade) have no such file
    text = p.read_text().replace(f'connection = {{ host = "{old} }}', f'connection = {{ host = "{old}, base = "{base}" }}')
    p.write_text(text.replace(f'connection = {{ host = "{old}, base = "hosts" }}', f'connection = {{ host = "{old}, base = "{base}" }}'))
PY
if [ -n "$tls" ]; then wire="HTTPS (private CA, channel binding)"; else wire="HTTP with MS-WSMV message encryption"; fi
if [ "$auth" = kerberos ]; then
  echo "auth: Kerberos as cmadmin@CONTOSO.COM (KDC of $KRB5_CONFIG) for the site server, the domain controller and the domain clients, NTLM for the workgroup hosts, over $wire, against lab serve on 127.0.0.1:$port (Windows' WinRM defaults)"
else
  echo "auth: NTLM as CONTOSO\\cmadmin over $wire, against lab serve on 127.0.0.1:$port (Windows' WinRM defaults)"
fi
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
